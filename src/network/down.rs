//! `medchain down`: stop every node gracefully (SIGINT, wait, SIGKILL) and
//! keep the data so `up` resumes the same chain; `--purge` removes the
//! network's directory too.

use std::fs;

use anyhow::Context;

use super::up::stop_all;
use crate::runtime::process::ProcessRuntime;
use crate::state::State;

/// Stops the network and, with `purge`, deletes its directory. Returns the
/// number of nodes that were running.
pub fn down(mut state: State, purge: bool) -> anyhow::Result<usize> {
    let was = state.pids.len();
    stop_all(&ProcessRuntime, &mut state);
    if purge {
        fs::remove_dir_all(&state.plan.dir)
            .with_context(|| format!("removing {}", state.plan.dir.display()))?;
    } else {
        state.save()?;
    }
    Ok(was)
}
