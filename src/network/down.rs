//! `medchain down`: stop every node gracefully and keep the chain data so
//! `up` resumes the same chain; `--purge` removes the network's directory
//! too (and, on Docker, its volumes).

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::lock::LOCK_FILE;
use super::orphans;
use crate::ports;
use crate::runtime::{AnyRuntime, Runtime};
use crate::state::State;

/// Stops the network and, with `purge`, deletes its data. Returns the
/// number of nodes that were started (recorded, or found running without
/// a record). The caller holds the network's lock.
pub async fn down(mut state: State, purge: bool) -> anyhow::Result<usize> {
    stop_services(&state.plan.dir).await;
    let rt = state.connect_runtime().await?;
    let mut was = state.started();
    stop_all(&rt, &mut state).await;
    // Nodes the state does not record (an interrupted `up` had started
    // them): found by datadir or label.
    let (network, dir) = (&state.plan.topology.network, &state.plan.dir);
    for what in orphans::stop_strays(&rt, network, dir, orphans::GRACE).await {
        eprintln!("  stopped {what}, which the state did not record");
        was += 1;
    }
    rt.teardown(&state.plan, purge).await?;
    if let Some(dag) = &state.plan.dag_dir {
        let n = crate::geth::remove_partial_datasets(dag, std::time::Duration::from_secs(60));
        if n > 0 {
            eprintln!(
                "  removed {n} partial ethash dataset(s) left in {}",
                dag.display()
            );
        }
    }
    if purge {
        remove_network_dir(&state.plan.dir)?;
        ports::Registry::machine().release(&state.plan.dir);
    } else {
        state.save()?;
    }
    Ok(was)
}

/// Stops the network's Prometheus, MQTT broker and toxiproxy (shaped peer
/// links), if they run (a failure is a warning: the nodes are stopped all
/// the same).
async fn stop_services(dir: &Path) {
    match crate::monitor::server::stop(dir).await {
        Ok(Some(pid)) => eprintln!("  stopped the monitor's prometheus (pid {pid})"),
        Ok(None) => {}
        Err(e) => eprintln!("warning: stopping the monitor: {e:#}"),
    }
    match crate::broker::server::stop(dir).await {
        Ok(Some(pid)) => eprintln!("  stopped the broker's mosquitto (pid {pid})"),
        Ok(None) => {}
        Err(e) => eprintln!("warning: stopping the broker: {e:#}"),
    }
    match crate::toxiproxy::server::stop(dir).await {
        Ok(Some(pid)) => eprintln!("  stopped the shaped links' toxiproxy (pid {pid})"),
        Ok(None) => {}
        Err(e) => eprintln!("warning: stopping toxiproxy: {e:#}"),
    }
}

/// `down` for a network whose `state.json` cannot be read: stops every
/// geth process with a datadir in the network's directory and, when the
/// local Docker engine answers, every container labelled with the network
/// (on the engines the topology file names too, when it describes this
/// network); removes the network's Docker objects; with `purge` deletes the
/// directory and releases its ports. Returns how many nodes were stopped.
/// The caller holds the network's lock.
pub async fn down_without_state(
    home: &Path,
    network: &str,
    purge: bool,
    file: &Path,
) -> anyhow::Result<usize> {
    let dir = home.join(network);
    stop_services(&dir).await;
    let mut stopped = 0;
    for rt in orphans::runtimes(network, file).await {
        let found = orphans::stop_strays(&rt, network, &dir, orphans::GRACE).await;
        for what in &found {
            eprintln!("  stopped {what}");
        }
        stopped += found.len();
        rt.teardown_labelled(network, purge).await?;
    }
    if purge {
        remove_network_dir(&dir)?;
        ports::Registry::machine().release(&dir);
    }
    Ok(stopped)
}

/// Deletes a network's directory, its lock file last: until then the lock
/// the caller holds keeps other writers out. A writer that starts on the
/// name in the meantime keeps its new directory.
fn remove_network_dir(dir: &Path) -> anyhow::Result<()> {
    let ctx = || format!("removing {}", dir.display());
    for e in fs::read_dir(dir).with_context(ctx)? {
        let e = e.with_context(ctx)?;
        if e.file_name() == LOCK_FILE {
            continue;
        }
        let p = e.path();
        let removed = match e.file_type().with_context(ctx)?.is_dir() {
            true => fs::remove_dir_all(&p),
            false => fs::remove_file(&p),
        };
        removed.with_context(|| format!("removing {}", p.display()))?;
    }
    let _ = fs::remove_file(dir.join(LOCK_FILE));
    match fs::remove_dir(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::DirectoryNotEmpty => Err(e).with_context(ctx),
        _ => Ok(()),
    }
}

/// Stops every node recorded in `state`, all at once, and forgets their
/// handles.
pub(crate) async fn stop_all(rt: &AnyRuntime, state: &mut State) {
    let stops = state.plan.nodes.iter().filter_map(|n| {
        state.handle(&n.name).map(|h| async move {
            if let Err(e) = rt.stop(n, &h, Duration::from_secs(20)).await {
                eprintln!("warning: {e:#}");
            }
        })
    });
    futures::future::join_all(stops).await;
    state.clear_handles();
}
