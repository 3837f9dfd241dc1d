//! Bringing planned nodes to a running, peered, advancing network on a
//! runtime: initialise chains, start every node, wait for their RPC, add
//! the planned peers, start sealing and wait until every node agrees on a
//! growing chain.
//!
//! Order matters: every node starts with sealing configured but stopped, the
//! planned edges are added with `admin_addPeer` and confirmed in
//! `admin_peers`, and only then do sealers start (`miner_start`), so no
//! Clique signer seals a lonely fork it cannot leave.
//!
//! Every call here goes over the node's IPC socket
//! ([`Runtime::admin_call`], through [`control`](super::control)): sealers
//! have no RPC port, and members' client endpoints serve no admin, miner
//! or txpool method.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::{control, dial_log};
use crate::plan::{Edge, Plan, Role};
use crate::progress::Progress;
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
    dial_log::reset(&plan);

    progress.step("waiting for every node's IPC");
    wait_ready(rt, &plan, state).await?;
    wait_unlocked(rt, &plan).await?;
    let start_height = max_height(rt, &plan).await;

    progress.step(format!(
        "peering: {} edges ({})",
        plan.edges.len(),
        plan.topology.peering
    ));
    trust_members_peers(rt, &plan).await?;
    let (first, members) = peering_phases(&plan);
    peer(rt, &plan, &first).await?;
    start_sealing(rt, &plan, start_height, progress).await?;
    if !members.is_empty() {
        wait_sealed(rt, &plan, start_height).await?;
        peer(rt, &plan, &members).await?;
    }

    if start_height > 0 {
        rebroadcast_pending(rt, &plan).await;
    }

    progress.step("waiting for the chain to advance and every node to agree");
    let height = wait_agreement(rt, &plan, start_height).await?;
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

/// Waits until every node answers over IPC; a node that exits is reported
/// with the end of its log.
async fn wait_ready(rt: &AnyRuntime, plan: &Plan, state: &State) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pending: Vec<usize> = (0..plan.nodes.len()).collect();
    while !pending.is_empty() {
        let answers = futures::future::join_all(
            pending
                .iter()
                .map(|i| control::block_number(rt, plan, &plan.nodes[*i])),
        )
        .await;
        let mut still = Vec::new();
        for (i, answer) in pending.into_iter().zip(answers) {
            let n = &plan.nodes[i];
            if answer.is_ok() {
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
                "IPC did not answer within 60 s on: {}; see their logs (medchain logs <node>)",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until every sealer with a keystore has unlocked its account
/// (`eth_sign` over IPC succeeds). geth unlocks only after its IPC is up,
/// and a miner started before that fails to seal and does not retry.
async fn wait_unlocked(rt: &AnyRuntime, plan: &Plan) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in plan.nodes.iter().filter(|n| n.password_file.is_some()) {
        let account = format!("{:#x}", n.account.address);
        loop {
            let signed =
                control::call::<String>(rt, plan, n, "eth_sign", json!([account, "0x00"])).await;
            if signed.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: account {account} was not unlocked within 30 s ({}); see its log (medchain logs {})",
                    n.name,
                    signed.err().map(|e| e.to_string()).unwrap_or_default(),
                    n.name
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
async fn rebroadcast_pending(rt: &AnyRuntime, plan: &Plan) {
    let sealers: Vec<_> = plan
        .nodes
        .iter()
        .filter(|n| n.role == Role::Sealer)
        .collect();
    for node in &plan.nodes {
        let Ok(content) =
            control::call::<serde_json::Value>(rt, plan, node, "txpool_content", json!([])).await
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
            let Ok(raw) =
                control::call::<String>(rt, plan, node, "eth_getRawTransactionByHash", json!([h]))
                    .await
            else {
                continue;
            };
            for s in &sealers {
                let _ = rt
                    .admin_call(plan, s, "eth_sendRawTransaction", json!([raw]))
                    .await;
            }
        }
    }
}

/// The highest head among the nodes (0 for a node that does not answer).
async fn max_height(rt: &AnyRuntime, plan: &Plan) -> u64 {
    let heights = futures::future::join_all(
        plan.nodes
            .iter()
            .map(|n| control::block_number(rt, plan, n)),
    )
    .await;
    heights
        .into_iter()
        .map(|h| h.unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// Marks every member's planned peers trusted over IPC: a member with few
/// peers runs with `--maxpeers` equal to their number, and geth's inbound
/// share of that would turn some away.
async fn trust_members_peers(rt: &AnyRuntime, plan: &Plan) -> anyhow::Result<()> {
    for (i, n) in plan.nodes.iter().enumerate() {
        if n.role != Role::Member {
            continue;
        }
        for e in plan.edges.iter().filter(|e| e.from == i || e.to == i) {
            let other = if e.from == i { e.to } else { e.from };
            let enode = rt.enode(plan, i, other).await?;
            rt.admin_call(plan, n, "admin_addTrustedPeer", json!([enode]))
                .await?;
        }
    }
    Ok(())
}

/// The planned edges in two phases: on Clique, the edges between sealers
/// first and the members' after the first block is sealed. geth v1.13
/// drops propagated blocks until its first sync, and a member syncs as
/// soon as its planned peers are connected and one of them is ahead — so
/// members peered once a block exists sync at the handshake instead of at
/// the next block. On ethash (geth v1.11 imports propagated blocks at
/// once) every edge is in the first phase.
fn peering_phases(plan: &Plan) -> (Vec<Edge>, Vec<Edge>) {
    let member = |i: usize| plan.nodes[i].role == Role::Member;
    plan.edges.iter().partition(|e| {
        plan.topology.consensus != Consensus::Clique || !(member(e.from) || member(e.to))
    })
}

/// Waits until a sealer's head is past `start`: the first block exists.
async fn wait_sealed(rt: &AnyRuntime, plan: &Plan, start: u64) -> anyhow::Result<()> {
    let limit = advance_timeout(plan);
    let deadline = Instant::now() + limit;
    let sealers: Vec<_> = plan
        .nodes
        .iter()
        .filter(|n| n.role == Role::Sealer)
        .collect();
    loop {
        for n in &sealers {
            if control::block_number(rt, plan, n).await? > start {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "no sealer sealed a block within {} s of starting; check sealer logs (medchain logs <node>)",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Adds `edges` (`admin_addPeer` over IPC from each edge's `from`) and
/// waits until each appears in `admin_peers` on both ends.
async fn peer(rt: &AnyRuntime, plan: &Plan, edges: &[Edge]) -> anyhow::Result<()> {
    for e in edges {
        let enode = rt.enode(plan, e.from, e.to).await?;
        let from = &plan.nodes[e.from];
        let added: bool = control::call(rt, plan, from, "admin_addPeer", json!([enode]))
            .await
            .with_context(|| format!("{}: admin_addPeer", from.name))?;
        if !added {
            bail!(
                "{}: admin_addPeer refused {}",
                from.name,
                plan.nodes[e.to].name
            );
        }
    }
    let dialled: Vec<(usize, usize)> = edges.iter().map(|e| (e.from, e.to)).collect();
    dial_log::record(plan, &dialled);
    wait_peered(rt, plan, edges).await
}

/// How long every planned link may take to appear. geth keeps a node it
/// failed to dial (or lost during the handshake) in its dial history for
/// 35 s and only then dials it again, so a first dial that fails on a busy
/// machine needs longer than that: 30 s failed `up` whenever it happened.
const PEERING_LIMIT: Duration = Duration::from_secs(50);

/// Waits up to [`PEERING_LIMIT`] until every edge of `edges` is in
/// `admin_peers` on both of its ends; otherwise fails naming the missing
/// links, with the end of the logs of the nodes that lack them.
async fn wait_peered(rt: &AnyRuntime, plan: &Plan, edges: &[Edge]) -> anyhow::Result<()> {
    let deadline = Instant::now() + PEERING_LIMIT;
    loop {
        let all =
            futures::future::join_all(plan.nodes.iter().map(|n| control::peer_keys(rt, plan, n)))
                .await;
        let mut missing = Vec::new();
        for (i, keys) in all.into_iter().enumerate() {
            let keys: BTreeSet<String> = keys?.into_iter().collect();
            for e in edges.iter().filter(|e| e.from == i || e.to == i) {
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
            bail!(peering_report(rt, plan, &missing).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The failure of [`wait_peered`]: the missing links on one line, then
/// the last log lines of each node that lacks one (a container's log is
/// gone once `up` removes it).
async fn peering_report(rt: &AnyRuntime, plan: &Plan, missing: &[(usize, usize)]) -> String {
    let lines: Vec<String> = missing
        .iter()
        .map(|(a, b)| format!("{} lacks peer {}", plan.nodes[*a].name, plan.nodes[*b].name))
        .collect();
    let mut report = format!(
        "peering incomplete after {} s: {}; check the nodes' logs (medchain logs <node>)",
        PEERING_LIMIT.as_secs(),
        lines.join("; ")
    );
    let nodes: BTreeSet<usize> = missing.iter().map(|(a, _)| *a).collect();
    for i in nodes {
        let n = &plan.nodes[i];
        report.push_str(&format!(
            "\n--- {} (last lines)\n{}",
            n.name,
            rt.log_tail(plan, n, 10).await
        ));
    }
    report
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
async fn wait_agreement(rt: &AnyRuntime, plan: &Plan, start: u64) -> anyhow::Result<u64> {
    let limit = advance_timeout(plan);
    let deadline = Instant::now() + limit;
    let mut last;
    loop {
        let heights = futures::future::join_all(
            plan.nodes
                .iter()
                .map(|n| control::block_number(rt, plan, n)),
        )
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<u64>>>()?;
        let common = *heights.iter().min().unwrap_or(&0);
        if common > start {
            let hashes = futures::future::join_all(
                plan.nodes
                    .iter()
                    .map(|n| control::block_hash(rt, plan, n, common)),
            )
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
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

/// Starts every sealer's miner over IPC. Members hold no account and need
/// no miner: they mark themselves synced on their first sync (see
/// `plan::geth_args`). On Clique the signer in turn for the next block
/// starts last: the others, already sealing (which marks them synced, so
/// they accept propagated blocks), hold their out-of-turn block back for a
/// random delay, and the in-turn block, sealed at once, wins without a
/// race; started first, it would be dropped by sealers not yet synced,
/// which would then seal competing blocks.
async fn start_sealing(
    rt: &AnyRuntime,
    plan: &Plan,
    height: u64,
    progress: &Progress,
) -> anyhow::Result<()> {
    progress.step("starting sealers");
    let order = sealing_order(plan, height);
    let (last, first) = match order.split_last() {
        Some((l, f)) => (Some(*l), f.to_vec()),
        None => (None, Vec::new()),
    };
    let miner_start = |i: usize| async move {
        let n = &plan.nodes[i];
        rt.admin_call(plan, n, "miner_start", plan.geth.miner_start_params())
            .await
            .with_context(|| format!("{}: miner_start", n.name))
    };
    for r in futures::future::join_all(first.into_iter().map(miner_start)).await {
        r?;
    }
    if let Some(i) = last {
        miner_start(i).await?;
    }
    Ok(())
}

/// Sealers in the order they start: on Clique the signer in turn for block
/// `height + 1` (signers sorted by address, in turn at `number % count`)
/// last; on ethash, plan order.
fn sealing_order(plan: &Plan, height: u64) -> Vec<usize> {
    let mut sealers: Vec<usize> = (0..plan.nodes.len())
        .filter(|i| plan.nodes[*i].role == Role::Sealer)
        .collect();
    if plan.topology.consensus == Consensus::Clique && !sealers.is_empty() {
        sealers.sort_by_key(|i| plan.nodes[*i].account.address);
        let in_turn = ((height + 1) % sealers.len() as u64) as usize;
        let signer = sealers.remove(in_turn);
        sealers.push(signer);
    }
    sealers
}
