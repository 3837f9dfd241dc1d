//! `medchain logs <node> [-f]`: print a node's geth log, optionally
//! following it as it grows (until Ctrl-C), from wherever its runtime keeps
//! it.

use crate::error::InputError;
use crate::runtime::Runtime;
use crate::state::State;

/// Prints the log of `node`; with `follow`, keeps printing new lines until
/// Ctrl-C.
pub async fn logs(state: &State, node: &str, follow: bool) -> anyhow::Result<()> {
    let Some(n) = state.plan.nodes.iter().find(|n| n.name == node) else {
        let names: Vec<_> = state.plan.nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(InputError::new(format!(
            "no node {node:?} in network {}; nodes: {}",
            state.plan.topology.network,
            names.join(", ")
        ))
        .into());
    };
    let rt = state.connect_runtime().await?;
    rt.print_log(&state.plan, n, follow).await
}
