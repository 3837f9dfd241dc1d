//! Bringing planned nodes to a running, peered, advancing network on a
//! runtime: initialise chains, start every node, wait for their RPC, add
//! the planned peers, start sealing and wait until every node agrees on a
//! growing chain.
//!
//! Order matters: every node starts with sealing configured but stopped, the
//! planned edges are added with `admin_addPeer` and confirmed in
//! `admin_peers`, and only then do sealers start (`miner_start`), so no
//! Clique signer seals a lonely fork it cannot leave.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use crate::plan::{Plan, Role};
use crate::progress::Progress;
use crate::rpc::Rpc;
use crate::runtime::{AnyRuntime, Runtime};
use crate::state::State;
use crate::topology::Consensus;

/// Prepares the runtime, initialises the chains, starts nodes, peers them,
/// starts sealing and waits until the chain advances with all nodes
/// agreeing. Returns the agreed height.
pub(super) async fn prepare_start_and_converge(
    rt: &AnyRuntime,
    geth: &Path,
    state: &mut State,
    progress: &Progress,
) -> anyhow::Result<u64> {
    rt.prepare(&state.plan, geth).await?;
    progress.step("initialising chains from genesis");
    init_all(rt, geth, &state.plan).await?;
    progress.step(format!(
        "starting {} geth nodes ({})",
        state.plan.nodes.len(),
        rt.name()
    ));
    start_all(rt, geth, state).await?;
    let plan = state.plan.clone();
    let rpcs: Vec<Rpc> = plan
        .nodes
        .iter()
        .map(|n| Rpc::new(&n.rpc_url()))
        .collect::<anyhow::Result<_>>()?;

    progress.step("waiting for every node's RPC");
    wait_ready(rt, &plan, state, &rpcs).await?;
    wait_unlocked(&plan, &rpcs).await?;
    let start_height = max_height(&rpcs).await;

    progress.step(format!(
        "peering: {} edges ({})",
        plan.edges.len(),
        plan.topology.peering
    ));
    peer(rt, &plan, &rpcs).await?;

    start_sealing(&plan, &rpcs, progress).await?;

    if start_height > 0 {
        rebroadcast_pending(&plan, &rpcs).await;
    }

    progress.step("waiting for the chain to advance and every node to agree");
    let height = wait_agreement(&plan, &rpcs, start_height).await?;
    progress.step(format!(
        "peered and advancing at block {height} after {:.1} s",
        progress.elapsed().as_secs_f64()
    ));
    Ok(height)
}

/// Initialises every node's chain, in parallel.
async fn init_all(rt: &AnyRuntime, geth: &Path, plan: &Plan) -> anyhow::Result<()> {
    let inits = plan.nodes.iter().map(|n| rt.init(geth, plan, n));
    for r in futures::future::join_all(inits).await {
        r?;
    }
    Ok(())
}

/// Waits until every node answers JSON-RPC; a node that exits is reported
/// with the end of its log.
async fn wait_ready(
    rt: &AnyRuntime,
    plan: &Plan,
    state: &State,
    rpcs: &[Rpc],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pending: Vec<usize> = (0..plan.nodes.len()).collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for i in pending {
            let n = &plan.nodes[i];
            if rpcs[i].block_number().await.is_ok() {
                continue;
            }
            let running = match state.handle(&n.name) {
                Some(h) => rt.is_running(n, &h).await,
                None => false,
            };
            if !running {
                bail!(
                    "{}: geth exited during start-up; its last lines:\n{}",
                    n.name,
                    rt.log_tail(plan, n, 15).await
                );
            }
            still.push(i);
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let names: Vec<_> = pending
                .iter()
                .map(|i| plan.nodes[*i].name.as_str())
                .collect();
            bail!(
                "RPC did not answer within 60 s on: {}; see their logs (medchain logs <node>)",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until every node with a keystore has unlocked its account. geth
/// unlocks only after its RPC is up, and a miner started before that fails
/// to seal and does not retry.
async fn wait_unlocked(plan: &Plan, rpcs: &[Rpc]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for (n, rpc) in plan.nodes.iter().zip(rpcs) {
        if n.password_file.is_none() {
            continue;
        }
        let account = format!("{:#x}", n.account.address);
        loop {
            let signed = rpc
                .call::<String>("eth_sign", json!([account, "0x00"]))
                .await;
            if signed.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: account {account} was not unlocked within 30 s ({}); see {}",
                    n.name,
                    signed.err().map(|e| e.to_string()).unwrap_or_default(),
                    n.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// On resume, nodes reload their pending transactions from disk and
/// announce them when peering — before the sealers' miners run, when
/// sealers ignore transactions from peers — and nothing announces them
/// again. Re-sending each node's pending transactions to the sealers once
/// sealing runs lets them be mined. Bounded to 10,000 per node; failures
/// (already known, nonce too low) are expected and ignored.
async fn rebroadcast_pending(plan: &Plan, rpcs: &[Rpc]) {
    let sealers: Vec<&Rpc> = plan
        .nodes
        .iter()
        .zip(rpcs)
        .filter(|(n, _)| n.role == Role::Sealer)
        .map(|(_, r)| r)
        .collect();
    for rpc in rpcs {
        let Ok(content) = rpc
            .call::<serde_json::Value>("txpool_content", json!([]))
            .await
        else {
            continue;
        };
        let hashes: Vec<String> = content["pending"]
            .as_object()
            .into_iter()
            .flat_map(|by_sender| by_sender.values())
            .filter_map(|by_nonce| by_nonce.as_object())
            .flat_map(|m| m.values())
            .filter_map(|tx| tx["hash"].as_str().map(str::to_string))
            .take(10_000)
            .collect();
        for h in hashes {
            let Ok(raw) = rpc
                .call::<String>("eth_getRawTransactionByHash", json!([h]))
                .await
            else {
                continue;
            };
            for s in &sealers {
                let _ = s
                    .call::<String>("eth_sendRawTransaction", json!([raw]))
                    .await;
            }
        }
    }
}

async fn max_height(rpcs: &[Rpc]) -> u64 {
    let mut h = 0;
    for r in rpcs {
        h = h.max(r.block_number().await.unwrap_or(0));
    }
    h
}

/// Adds every planned edge and waits until each appears in `admin_peers`.
async fn peer(rt: &AnyRuntime, plan: &Plan, rpcs: &[Rpc]) -> anyhow::Result<()> {
    for e in &plan.edges {
        let enode = rt.enode(plan, e.from, e.to).await?;
        let added: bool = rpcs[e.from]
            .call("admin_addPeer", json!([enode]))
            .await
            .with_context(|| format!("{}: admin_addPeer", plan.nodes[e.from].name))?;
        if !added {
            bail!(
                "{}: admin_addPeer refused {}",
                plan.nodes[e.from].name,
                plan.nodes[e.to].name
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut missing = Vec::new();
        for (i, rpc) in rpcs.iter().enumerate() {
            let keys: BTreeSet<String> = rpc.peer_keys().await?.into_iter().collect();
            for e in plan.edges.iter().filter(|e| e.from == i || e.to == i) {
                let other = if e.from == i { e.to } else { e.from };
                if !keys.contains(&plan.nodes[other].node_key.public_hex) {
                    missing.push((i, other));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let lines: Vec<String> = missing
                .iter()
                .map(|(a, b)| format!("{} lacks peer {}", plan.nodes[*a].name, plan.nodes[*b].name))
                .collect();
            bail!(
                "peering incomplete after 30 s: {}; check the nodes' logs (medchain logs <node>)",
                lines.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long the chain may take to advance once sealing starts.
fn advance_timeout(plan: &Plan) -> Duration {
    match plan.topology.consensus {
        Consensus::Clique => Duration::from_secs(30 + 4 * plan.topology.block_period),
        Consensus::Ethash => Duration::from_secs(300),
    }
}

/// Waits until every node is past `start` and all report the same hash at
/// the lowest head among them.
async fn wait_agreement(plan: &Plan, rpcs: &[Rpc], start: u64) -> anyhow::Result<u64> {
    let limit = advance_timeout(plan);
    let deadline = Instant::now() + limit;
    let mut last;
    loop {
        let mut heights = Vec::new();
        for r in rpcs {
            heights.push(r.block_number().await?);
        }
        let common = *heights.iter().min().unwrap_or(&0);
        if common > start {
            let mut hashes = Vec::new();
            for r in rpcs {
                hashes.push(r.block_hash(common).await?);
            }
            if hashes.iter().all(|h| h.is_some() && *h == hashes[0]) {
                return Ok(common);
            }
            last = format!("nodes disagree on block {common}");
        } else {
            let behind: Vec<String> = plan
                .nodes
                .iter()
                .zip(&heights)
                .filter(|(_, h)| **h <= start)
                .map(|(n, h)| format!("{} at {h}", n.name))
                .collect();
            last = format!("not past block {start}: {}", behind.join(", "));
        }
        if Instant::now() > deadline {
            bail!(
                "the chain did not advance with all nodes agreeing within {} s ({last}); check sealer logs (medchain logs <node>)",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts every node at once (containers take a moment each); every node
/// that did start is recorded and saved before any error surfaces, so it is
/// stopped again.
async fn start_all(rt: &AnyRuntime, geth: &Path, state: &mut State) -> anyhow::Result<()> {
    let plan = state.plan.clone();
    let started =
        futures::future::join_all(plan.nodes.iter().map(|n| rt.start(geth, &plan, n))).await;
    let mut first_error = None;
    for (n, r) in plan.nodes.iter().zip(started) {
        match r {
            Ok(h) => state.set_handle(&n.name, h),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    state.save()?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Marks members synced, then starts every sealer.
async fn start_sealing(plan: &Plan, rpcs: &[Rpc], progress: &Progress) -> anyhow::Result<()> {
    // Members first: on geth v1.13 a node only accepts propagated blocks
    // once marked synced; marked before any block exists, members import
    // every competing first block and follow the heaviest chain.
    for (n, rpc) in plan.nodes.iter().zip(rpcs) {
        if n.role == Role::Member && plan.geth.members_start_miner_once() {
            rpc.call::<serde_json::Value>("miner_start", plan.geth.miner_start_params())
                .await
                .with_context(|| format!("{}: miner_start", n.name))?;
            rpc.call::<serde_json::Value>("miner_stop", json!([]))
                .await
                .with_context(|| format!("{}: miner_stop", n.name))?;
        }
    }
    let sealers: Vec<usize> = (0..plan.nodes.len())
        .filter(|i| plan.nodes[*i].role == Role::Sealer)
        .collect();
    // Sealers start together; they are marked synced by their own
    // miner_start (a sealer held back would discard the first blocks).
    progress.step("starting sealers");
    for i in &sealers {
        rpcs[*i]
            .call::<serde_json::Value>("miner_start", plan.geth.miner_start_params())
            .await
            .with_context(|| format!("{}: miner_start", plan.nodes[*i].name))?;
    }

    Ok(())
}
