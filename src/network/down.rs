//! `medchain down`: stop every node gracefully and keep the chain data so
//! `up` resumes the same chain; `--purge` removes the network's directory
//! too (and, on Docker, its volumes).

use std::fs;

use anyhow::Context;

use super::lifecycle::stop_all;
use crate::runtime::Runtime;
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
    } else {
        state.save()?;
    }
    Ok(was)
}
