//! `medchain down`: stop every node gracefully and keep the chain data so
//! `up` resumes the same chain; `--purge` removes the network's directory
//! too (and, on Docker, its volumes).

use std::fs;

use anyhow::Context;

use super::up::stop_all;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::process::ProcessRuntime;
use crate::runtime::{Kind, Runtime};
use crate::state::State;

/// Stops the network and, with `purge`, deletes its data. Returns the
/// number of nodes that were started.
pub async fn down(state: State, purge: bool) -> anyhow::Result<usize> {
    match state.kind() {
        Kind::Process => down_on(&ProcessRuntime, state, purge).await,
        Kind::Docker => {
            let rt = DockerRuntime::connect(&state.plan.topology).await?;
            down_on(&rt, state, purge).await
        }
    }
}

async fn down_on(rt: &impl Runtime, mut state: State, purge: bool) -> anyhow::Result<usize> {
    let was = state.started();
    stop_all(rt, &mut state).await;
    rt.teardown(&state.plan, purge).await?;
    if purge {
        fs::remove_dir_all(&state.plan.dir)
            .with_context(|| format!("removing {}", state.plan.dir.display()))?;
    } else {
        state.save()?;
    }
    Ok(was)
}
