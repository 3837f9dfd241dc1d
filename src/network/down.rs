//! `medchain down`: stop every node gracefully and keep the chain data so
//! `up` resumes the same chain; `--purge` removes the network's directory
//! too (and, on Docker, its volumes).

use std::fs;
use std::time::Duration;

use anyhow::Context;

use crate::ports;
use crate::runtime::{AnyRuntime, Runtime};
use crate::state::State;

/// Stops the network and, with `purge`, deletes its data. Returns the
/// number of nodes that were started.
pub async fn down(mut state: State, purge: bool) -> anyhow::Result<usize> {
    let rt = state.connect_runtime().await?;
    let was = state.started();
    stop_all(&rt, &mut state).await;
    rt.teardown(&state.plan, purge).await?;
    if purge {
        fs::remove_dir_all(&state.plan.dir)
            .with_context(|| format!("removing {}", state.plan.dir.display()))?;
        ports::Registry::machine().release(&state.plan.dir);
    } else {
        state.save()?;
    }
    Ok(was)
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
