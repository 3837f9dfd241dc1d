//! Nodes a network's state does not record: found by their datadir (local
//! processes) or labels (containers) through
//! [`Runtime::orphans`](crate::runtime::Runtime::orphans).
//!
//! `down` stops them after the recorded ones (a node started by an `up`
//! that was interrupted before recording it), an interrupted `up` stops
//! them with the rest, and `down` works from them alone when `state.json`
//! is missing or corrupt ([`down_without_state`](super::down::down_without_state)).

use std::path::Path;
use std::time::Duration;

use crate::error::InputError;
use crate::runtime::{self, AnyRuntime, Runtime};
use crate::topology::{self, Topology};

use super::files::load_topology;

/// How long a found node may take to stop before it is killed.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// Stops every node of network `network` (files under `dir`) that `rt`
/// finds running, all at once; returns what was stopped. Failures are
/// warnings: the rest is still stopped.
pub(crate) async fn stop_strays(
    rt: &AnyRuntime,
    network: &str,
    dir: &Path,
    grace: Duration,
) -> Vec<String> {
    let found = match rt.orphans(network, dir).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("warning: looking for {network}'s unrecorded nodes: {e:#}");
            return Vec::new();
        }
    };
    let stops = found.iter().map(|o| async move {
        match rt.stop_orphan(o, dir, grace).await {
            Ok(()) => Some(o.what.clone()),
            Err(e) => {
                eprintln!("warning: stopping {}: {e:#}", o.what);
                None
            }
        }
    });
    futures::future::join_all(stops)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The network `down` acts on: the one [`select`](super::select) picks,
/// else (no state file to pick it by) the one the topology file names when
/// its directory exists.
pub(crate) fn select_for_down(
    home: &Path,
    explicit: Option<&str>,
    file: &Path,
) -> Result<String, InputError> {
    let err = match super::select(home, explicit, file) {
        Ok(n) => return Ok(n),
        Err(e) => e,
    };
    match load_topology(file) {
        Ok(t) if home.join(&t.network).is_dir() => Ok(t.network),
        _ => Err(err),
    }
}

/// The runtimes a network without state may run on (see
/// [`runtime::available`]), with the topology file's engines when it
/// describes this network.
pub(super) async fn runtimes(network: &str, file: &Path) -> Vec<AnyRuntime> {
    let bare = bare_topology(network);
    match load_topology(file) {
        Ok(t) if t.network == network => runtime::available(&t, &bare).await,
        _ => runtime::available(&bare, &bare).await,
    }
}

/// A topology with only the network's name (one local hospital), to
/// connect a runtime when no topology file describes the network.
fn bare_topology(network: &str) -> Topology {
    let yaml = format!("network: {network}\nhospitals:\n  - {{name: h}}\n");
    topology::parse(&yaml, "(no topology file)").expect("a valid network name makes a topology")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_topology_names_only_the_network() {
        let t = bare_topology("lost-net");
        assert_eq!(t.network, "lost-net");
        assert!(t.hospitals.iter().all(|h| h.docker_host.is_none()));
    }

    #[test]
    fn down_finds_a_network_without_state_through_the_topology_file() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        let file = t.path().join("medchain.yaml");
        std::fs::write(&file, "network: lost\nhospitals:\n  - {name: a}\n").unwrap();
        assert!(select_for_down(&home, None, &file).is_err());
        std::fs::create_dir_all(home.join("lost/nodes")).unwrap();
        assert_eq!(select_for_down(&home, None, &file).unwrap(), "lost");
    }
}
