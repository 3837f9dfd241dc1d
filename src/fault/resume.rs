//! Starting stopped or killed nodes again (`resume`, the second half of
//! `restart`): each is started, recorded in the state file, rejoined to
//! its planned peers, and a sealer seals again.
//!
//! A sealer is started twice. geth v1.13 starts a sync only once it has
//! `min(5, maxpeers)` peers, or on a forced cycle 10 s after start; a
//! signer that comes back behind the chain (with two signers, always: the
//! other one seals one more block after the stop) would seal nothing for
//! those 10 s. So it first runs with `--maxpeers 1` (its planned peers are
//! trusted, so the limit turns none away) until it holds its peers' head,
//! then is stopped and started with its planned arguments, at the head,
//! and its miner started.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::peers;
use crate::network::control;
use crate::plan::{NodePlan, Plan, Role};
use crate::runtime::{AnyRuntime, Runtime};
use crate::state::State;

/// How long a resumed sealer may take to catch up with its peers.
const CATCH_UP: Duration = Duration::from_secs(15);
/// How long a catch-up run may take to stop.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Starts each node of `nodes` that does not run; what was done.
pub(super) async fn resume_all(
    rt: &AnyRuntime,
    state: &mut State,
    nodes: &[usize],
) -> anyhow::Result<String> {
    let plan = state.plan.clone();
    let mut started = 0;
    for i in nodes.iter().copied() {
        let node = &plan.nodes[i];
        if let Some(h) = state.handle(&node.name) {
            if rt.is_running(node, &h).await {
                continue;
            }
        }
        if started == 0 {
            // What `up` prepares (on Docker: the image, networks and
            // volumes the node's container needs); all of it exists.
            rt.prepare(&plan, &state.geth_path).await?;
        }
        if node.role == Role::Sealer {
            start_one(rt, state, i, &catching_up(node)).await?;
            catch_up(rt, &plan, i).await;
            if let Some(h) = state.handle(&node.name) {
                rt.stop(node, &h, STOP_GRACE).await?;
            }
        }
        start_one(rt, state, i, node).await?;
        if node.role == Role::Sealer {
            rt.admin_call(&plan, node, "miner_start", plan.geth.miner_start_params())
                .await
                .with_context(|| format!("{}: miner_start", node.name))?;
        }
        started += 1;
    }
    Ok(format!("started and rejoined ({started} were not running)"))
}

/// Starts node `i` as `run` (its plan, or a variant), records it, waits
/// until it answers and rejoins it to its planned peers.
async fn start_one(
    rt: &AnyRuntime,
    state: &mut State,
    i: usize,
    run: &NodePlan,
) -> anyhow::Result<()> {
    let plan = state.plan.clone();
    let handle = rt.start(&state.geth_path, &plan, run).await?;
    state.set_handle(&run.name, handle);
    state.save()?;
    wait_answering(rt, state, i).await?;
    peers::rejoin(rt, &plan, i).await
}

/// A sealer as its catch-up run starts it: `--maxpeers 1`.
fn catching_up(node: &NodePlan) -> NodePlan {
    let mut n = node.clone();
    n.max_peers = Some(1);
    n.args.extend(["--maxpeers".to_string(), "1".to_string()]);
    n
}

/// Waits up to [`CATCH_UP`] until node `i` holds the highest head of the
/// other nodes that answer; whether it did.
async fn catch_up(rt: &AnyRuntime, plan: &Plan, i: usize) -> bool {
    let deadline = Instant::now() + CATCH_UP;
    while Instant::now() < deadline {
        let heads = futures::future::join_all(
            (0..plan.nodes.len()).map(|j| control::block_number(rt, plan, &plan.nodes[j])),
        )
        .await;
        let mine = heads[i].as_ref().ok().copied().unwrap_or(0);
        let best = heads
            .iter()
            .filter_map(|h| h.as_ref().ok())
            .copied()
            .max()
            .unwrap_or(0);
        if mine >= best {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Waits up to 60 s until node `i` answers over IPC and, for a sealer, its
/// account is unlocked (a miner started before that never seals).
async fn wait_answering(rt: &AnyRuntime, state: &State, i: usize) -> anyhow::Result<()> {
    let plan = &state.plan;
    let node = &plan.nodes[i];
    let deadline = Instant::now() + Duration::from_secs(60);
    let account = format!("{:#x}", node.account.address);
    loop {
        let ready = match node.password_file {
            Some(_) => {
                control::call::<String>(rt, plan, node, "eth_sign", json!([account, "0x00"]))
                    .await
                    .is_ok()
            }
            None => peers::answers(rt, plan, i).await,
        };
        if ready {
            return Ok(());
        }
        let running = match state.handle(&node.name) {
            Some(h) => rt.is_running(node, &h).await,
            None => false,
        };
        if !running || Instant::now() > deadline {
            bail!(
                "{}: did not come back within 60 s; its last lines:\n{}",
                node.name,
                rt.log_tail(plan, node, 15).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
