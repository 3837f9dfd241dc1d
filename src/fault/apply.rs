//! Doing a fault on a running network: signals, stop and start through
//! the network's [`Runtime`], peer links over IPC ([`peers`]). A node
//! started again is recorded in the state file at once, so `status` and
//! `down` find it.

use std::time::{Duration, Instant};

use anyhow::anyhow;

use super::{links, peers, resume, select, Action, Fault};
use crate::runtime::{AnyRuntime, NodeSignal, Runtime};
use crate::state::State;

/// How long a graceful stop may take before the node is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What a fault did, for the terminal and the report.
#[derive(Debug, Clone)]
pub struct Done {
    /// The nodes it acted on, by plan index.
    pub nodes: Vec<usize>,
    /// One line: what was done.
    pub detail: String,
    /// How long it took.
    pub took: Duration,
}

/// Does `fault` on the network of `state` (run by `rt`); a node started
/// again gets its new handle recorded and saved.
pub async fn apply(rt: &AnyRuntime, state: &mut State, fault: &Fault) -> anyhow::Result<Done> {
    let started = Instant::now();
    let nodes = select::check(&state.plan, fault).map_err(|e| anyhow!(e))?;
    let names: Vec<String> = nodes
        .iter()
        .map(|i| state.plan.nodes[*i].name.clone())
        .collect();
    let detail = match fault.action {
        Action::Kill => signal_all(rt, state, &nodes, NodeSignal::Kill).await?,
        Action::Pause => signal_all(rt, state, &nodes, NodeSignal::Pause).await?,
        Action::Unpause => signal_all(rt, state, &nodes, NodeSignal::Unpause).await?,
        Action::Stop => stop_all(rt, state, &nodes).await?,
        Action::Resume => resume::resume_all(rt, state, &nodes).await?,
        Action::Restart => {
            stop_all(rt, state, &nodes).await?;
            resume::resume_all(rt, state, &nodes).await?
        }
        Action::Partition => {
            let cut = peers::cut(rt, &state.plan, &nodes).await?;
            format!("{cut} planned links cut")
        }
        Action::Heal => heal(rt, state).await?,
        Action::Delay { .. } | Action::Bandwidth { .. } => {
            let n = links::shape(rt, &state.plan, &nodes, fault.action).await?;
            let what = fault.action.settings().unwrap_or_default();
            format!("{n} planned links through toxiproxy, {what}")
        }
    };
    let detail = match fault.action {
        Action::Partition => format!(
            "{} ({}) apart from the rest: {detail}",
            fault.who,
            names.join(", ")
        ),
        Action::Heal => detail,
        _ => format!("{}: {detail}", names.join(", ")),
    };
    Ok(Done {
        nodes,
        detail,
        took: started.elapsed(),
    })
}

/// Takes shaped links off their proxies, then restores every planned link
/// between running nodes, direct.
async fn heal(rt: &AnyRuntime, state: &State) -> anyhow::Result<String> {
    let shaped = links::unshape(rt, &state.plan).await?;
    let up = peers::heal(rt, &state.plan, &shaped).await?;
    Ok(match shaped.len() {
        0 => format!("{up} planned links between running nodes connected"),
        n => format!(
            "{up} planned links between running nodes connected, direct ({n} taken off toxiproxy)"
        ),
    })
}

/// Sends `sig` to each node.
async fn signal_all(
    rt: &AnyRuntime,
    state: &State,
    nodes: &[usize],
    sig: NodeSignal,
) -> anyhow::Result<String> {
    for i in nodes {
        let node = &state.plan.nodes[*i];
        let handle = state
            .handle(&node.name)
            .ok_or_else(|| anyhow!("{}: never started", node.name))?;
        rt.signal(node, &handle, sig).await?;
    }
    Ok(match sig {
        NodeSignal::Kill => "killed",
        NodeSignal::Pause => "paused",
        NodeSignal::Unpause => "unpaused",
    }
    .into())
}

/// Stops each running node gracefully (killed after [`STOP_GRACE`]).
async fn stop_all(rt: &AnyRuntime, state: &State, nodes: &[usize]) -> anyhow::Result<String> {
    let mut stopped = 0;
    for i in nodes {
        let node = &state.plan.nodes[*i];
        let Some(handle) = state.handle(&node.name) else {
            continue;
        };
        if rt.is_running(node, &handle).await {
            rt.stop(node, &handle, STOP_GRACE).await?;
            stopped += 1;
        }
    }
    Ok(format!("stopped ({stopped} were running)"))
}
