//! A tokio task that lives as long as its owner: aborted when the handle
//! is dropped, so a background loop (an MQTT connection's event loop, the
//! gateway's MQTT bridge) never outlives what it serves.

/// A spawned task, aborted on drop.
pub struct Owned(tokio::task::JoinHandle<()>);

impl Owned {
    /// Spawns `f` on the current runtime.
    pub fn spawn(f: impl std::future::Future<Output = ()> + Send + 'static) -> Owned {
        Owned(tokio::spawn(f))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.abort();
    }
}
