//! Serving `watch`'s metrics ([`super::metrics`]) while it runs: on a
//! loopback port reserved for this process in the machine-wide port
//! registry, announced to the network's monitor by a target file
//! (`<network dir>/monitor/targets/watch-<pid>.json`, job `watch`), which
//! [`Exporter::finish`] withdraws.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::metrics::WatchMetrics;
use crate::monitor::config::{target_file, watch_target_file};
use crate::ports::ServicePort;

/// First port tried for a watch exporter.
pub const PORT_BASE: u16 = 9480;

/// A running exporter.
pub struct Exporter {
    /// `http://127.0.0.1:<port>/metrics`.
    pub url: String,
    _port: ServicePort,
    target: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl Exporter {
    /// Serves `metrics` and announces them for the network in
    /// `network_dir`.
    pub async fn start(
        metrics: Arc<WatchMetrics>,
        network_dir: &Path,
        network: &str,
    ) -> anyhow::Result<Exporter> {
        let crate::metrics_http::Served {
            port,
            address,
            task: server,
        } = crate::metrics_http::start("watch", PORT_BASE, Arc::new(move || metrics.encode()))
            .await?;
        let target = watch_target_file(network_dir, std::process::id());
        if let Some(dir) = target.parent() {
            crate::private_fs::create_dir(dir)?;
        }
        let body = target_file(&address, &[("network", network), ("role", "watch")]);
        crate::private_fs::write(&target, body.as_bytes())?;
        Ok(Exporter {
            url: format!("http://{address}/metrics"),
            _port: port,
            target,
            server,
        })
    }

    /// Stops serving and withdraws the target file.
    pub fn finish(self) {
        self.server.abort();
        let _ = std::fs::remove_file(&self.target);
    }
}
