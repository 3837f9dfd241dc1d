//! `medchain status`: what every node reports right now — up or down,
//! block, head, peers, txpool — and whether nodes disagree on the block
//! hash at a common height.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::control;
use crate::plan::{NodePlan, Role};
use crate::rpc::parse_hex_u64;
use crate::runtime::{AnyRuntime, Handle, Runtime};
use crate::state::State;
use crate::table::Table;

/// One node's live status (`status --json` → `nodes[]`).
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// Node name.
    pub name: String,
    /// Hospital.
    pub hospital: String,
    /// `sealer` or `member`.
    pub role: Role,
    /// HTTP JSON-RPC endpoint for clients; null on a sealer, which opens
    /// no RPC port (medchain reads it over IPC).
    pub rpc: Option<String>,
    /// WebSocket endpoint for clients; null on a sealer.
    pub ws: Option<String>,
    /// geth's Prometheus endpoint (every node, loopback).
    pub metrics: Option<String>,
    /// enode URL.
    pub enode: String,
    /// Head block number (null when down).
    pub block: Option<u64>,
    /// Head block hash.
    pub head: Option<String>,
    /// Connected peers.
    pub peers: Option<u64>,
    /// Pending transactions in the pool.
    pub txpool_pending: Option<u64>,
    /// Queued (future-nonce) transactions in the pool.
    pub txpool_queued: Option<u64>,
    /// Process alive and RPC answering.
    pub up: bool,
    /// Process id, when running (process runtime).
    pub pid: Option<u32>,
    /// Container name, when running (docker runtime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// This node's hash at the common height differs from the majority.
    pub disagrees: bool,
}

/// The whole network (`status --json`).
#[derive(Debug, Clone, Serialize)]
pub struct NetworkStatus {
    /// Network name.
    pub network: String,
    /// `clique` or `ethash`.
    pub consensus: String,
    /// Runtime that runs the nodes.
    pub runtime: String,
    /// Chain id.
    pub chain_id: u64,
    /// Per-node status.
    pub nodes: Vec<NodeStatus>,
    /// Deployed contracts (`medical_records`, `simple`), null when absent.
    pub contracts: BTreeMap<String, Option<String>>,
    /// Lowest head among nodes that are up: where hashes are compared.
    pub common_height: Option<u64>,
    /// Whether every node that is up has the same hash at `common_height`.
    pub agree: bool,
    /// The network's Prometheus (`medchain monitor start`), null when
    /// it does not run.
    pub monitor: Option<crate::monitor::server::Running>,
    /// The network's MQTT broker (`medchain broker start`), null when it
    /// does not run.
    pub broker: Option<crate::broker::server::Running>,
}

/// Queries every node of `state`. On Docker, an engine that does not
/// answer shows every node as down (with a warning).
pub async fn status(state: &State) -> NetworkStatus {
    let rt = match state.connect_runtime().await {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("warning: {e:#}");
            None
        }
    };
    let alive = match &rt {
        Some(rt) => liveness(rt, state).await,
        None => vec![false; state.plan.nodes.len()],
    };
    // Nodes are asked in parallel: on Docker each IPC call is an exec.
    let mut nodes = futures::future::join_all(
        state
            .plan
            .nodes
            .iter()
            .zip(alive)
            .map(|(n, alive)| node_status(state, rt.as_ref(), n, alive)),
    )
    .await;
    let common = nodes.iter().filter_map(|n| n.block).min();
    let agree = match (common, &rt) {
        (Some(h), Some(rt)) => {
            let hashes = hashes_at(rt, state, &nodes, h).await;
            mark_disagreements(&mut nodes, &hashes)
        }
        _ => true,
    };
    NetworkStatus {
        network: state.plan.topology.network.clone(),
        consensus: state.plan.topology.consensus.to_string(),
        runtime: state.runtime.to_string(),
        chain_id: state.plan.topology.chain_id,
        nodes,
        contracts: contracts(state),
        common_height: common,
        agree,
        monitor: crate::monitor::server::running(&state.plan.dir),
        broker: crate::broker::server::running(&state.plan.dir),
    }
}

/// One node's status. A node the runtime reports running (`alive`) is
/// asked over its IPC socket; it counts as up once it answers with its
/// block number, and a later query that fails only leaves that field
/// empty.
async fn node_status(
    state: &State,
    rt: Option<&AnyRuntime>,
    n: &NodePlan,
    alive: bool,
) -> NodeStatus {
    let pid = match state.handle(&n.name) {
        Some(Handle::Pid(p)) => Some(p),
        _ => None,
    };
    let container = rt
        .filter(|_| alive)
        .and_then(|rt| rt.container_name(&state.plan, n));
    let mut s = NodeStatus {
        name: n.name.clone(),
        hospital: n.hospital.clone(),
        role: n.role,
        rpc: n.rpc_url(),
        ws: n.ws_url(),
        metrics: n.metrics_url(),
        enode: n.enode(),
        block: None,
        head: None,
        peers: None,
        txpool_pending: None,
        txpool_queued: None,
        up: false,
        pid: if alive { pid } else { None },
        container,
        disagrees: false,
    };
    if let (true, Some(rt)) = (alive, rt) {
        query(&mut s, rt, state, n).await;
    }
    s
}

/// Fills `s` from the node's IPC: block, head, peers and txpool, marking
/// it up when it reports its block number.
async fn query(s: &mut NodeStatus, rt: &AnyRuntime, state: &State, n: &NodePlan) {
    let plan = &state.plan;
    let Ok(b) = control::block_number(rt, plan, n).await else {
        return;
    };
    s.up = true;
    s.block = Some(b);
    let (head, peers, pool) = tokio::join!(
        control::block_hash(rt, plan, n, b),
        control::call::<String>(rt, plan, n, "net_peerCount", Value::Array(vec![])),
        control::call::<Value>(rt, plan, n, "txpool_status", Value::Array(vec![])),
    );
    s.head = head.ok().flatten();
    s.peers = peers.ok().and_then(|h| parse_hex_u64(&h).ok());
    if let Ok(pool) = pool {
        s.txpool_pending = pool["pending"].as_str().and_then(|h| parse_hex_u64(h).ok());
        s.txpool_queued = pool["queued"].as_str().and_then(|h| parse_hex_u64(h).ok());
    }
}

/// Each node's block hash at `height`, in node order; `None` for a node
/// that is down or does not answer.
async fn hashes_at(
    rt: &AnyRuntime,
    state: &State,
    nodes: &[NodeStatus],
    height: u64,
) -> Vec<Option<String>> {
    let ask = nodes
        .iter()
        .zip(&state.plan.nodes)
        .map(|(s, n)| async move {
            match s.up {
                true => control::block_hash(rt, &state.plan, n, height)
                    .await
                    .ok()
                    .flatten(),
                false => None,
            }
        });
    futures::future::join_all(ask).await
}

/// Marks every up node whose hash (`hashes`, in node order) is not the
/// majority's as disagreeing; returns whether none does. On a tie the
/// greatest hash counts as the majority; an up node without a hash
/// disagrees unless no node has one.
fn mark_disagreements(nodes: &mut [NodeStatus], hashes: &[Option<String>]) -> bool {
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for x in hashes.iter().flatten() {
        *counts.entry(x).or_default() += 1;
    }
    let majority = counts
        .iter()
        .max_by_key(|(_, c)| **c)
        .map(|(h, _)| (*h).clone());
    let mut agree = true;
    for (n, hash) in nodes.iter_mut().zip(hashes) {
        if n.up && hash.as_ref() != majority.as_ref() {
            n.disagrees = true;
            agree = false;
        }
    }
    agree
}

/// The deployed contracts' addresses by name, `None` when not deployed.
fn contracts(state: &State) -> BTreeMap<String, Option<String>> {
    let mut contracts = BTreeMap::new();
    for key in ["medical_records", "simple"] {
        contracts.insert(
            key.to_string(),
            state.contracts.get(key).map(|a| format!("{a:#x}")),
        );
    }
    contracts
}

/// Whether each node of `state` runs, in plan order, asked of the runtime
/// that runs it; an error when that is a Docker engine that does not answer.
pub async fn alive(state: &State) -> anyhow::Result<Vec<bool>> {
    Ok(liveness(&state.connect_runtime().await?, state).await)
}

/// Whether each node of `state` runs on `rt`, in plan order.
pub(crate) async fn liveness(rt: &AnyRuntime, state: &State) -> Vec<bool> {
    let mut out = Vec::new();
    for n in &state.plan.nodes {
        out.push(match state.handle(&n.name) {
            Some(h) => rt.is_running(n, &h).await,
            None => false,
        });
    }
    out
}

/// One node's row of the status table; a node whose hash differs at the
/// common height is flagged after its RPC endpoint.
fn node_row(n: &NodeStatus) -> Vec<String> {
    let dash = || "-".to_string();
    vec![
        n.name.clone(),
        n.hospital.clone(),
        n.role.to_string(),
        if n.up { "up" } else { "down" }.to_string(),
        n.block.map(|b| b.to_string()).unwrap_or_else(dash),
        n.head
            .as_deref()
            .map(|h| format!("{}…", &h[..h.len().min(12)]))
            .unwrap_or_else(dash),
        n.peers.map(|b| b.to_string()).unwrap_or_else(dash),
        match (n.txpool_pending, n.txpool_queued) {
            (Some(p), Some(q)) => format!("{p}/{q}"),
            _ => dash(),
        },
        format!(
            "{}{}",
            n.rpc.as_deref().unwrap_or("- (sealer: IPC only)"),
            if n.disagrees {
                "  ← different hash at the common height"
            } else {
                ""
            }
        ),
    ]
}

/// The status table printed without `--json`.
pub fn table(s: &NetworkStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let up = s.nodes.iter().filter(|n| n.up).count();
    let _ = writeln!(
        out,
        "network {} ({}, {} runtime, chain id {}): {up}/{} nodes up{}",
        s.network,
        s.consensus,
        s.runtime,
        s.chain_id,
        s.nodes.len(),
        match (s.common_height, s.agree) {
            (Some(h), true) => format!(", all agree at block {h}"),
            (Some(h), false) => format!(", DISAGREEMENT at block {h}"),
            (None, _) => String::new(),
        }
    );
    let nodes = Table {
        title: String::new(),
        headers: [
            "NODE", "HOSPITAL", "ROLE", "STATE", "BLOCK", "HEAD", "PEERS", "TXPOOL", "RPC",
        ]
        .map(String::from)
        .to_vec(),
        rows: s.nodes.iter().map(node_row).collect(),
        note: None,
    };
    out.push_str(&nodes.render_plain(&[4, 6, 7]));
    for (k, v) in &s.contracts {
        if let Some(a) = v {
            let _ = writeln!(out, "contract {k}: {a}");
        }
    }
    if let Some(b) = &s.broker {
        let _ = writeln!(out, "broker: mosquitto on {} (pid {})", b.url, b.pid);
    }
    if let Some(m) = &s.monitor {
        let _ = writeln!(out, "monitor: prometheus on {} (pid {})", m.url, m.pid);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, up: bool) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            hospital: "h".into(),
            role: Role::Member,
            rpc: None,
            ws: None,
            metrics: None,
            enode: String::new(),
            block: None,
            head: None,
            peers: None,
            txpool_pending: None,
            txpool_queued: None,
            up,
            pid: None,
            container: None,
            disagrees: false,
        }
    }

    fn hashes(h: &[Option<&str>]) -> Vec<Option<String>> {
        h.iter().map(|h| h.map(str::to_string)).collect()
    }

    fn disagreeing(nodes: &[NodeStatus]) -> Vec<&str> {
        nodes
            .iter()
            .filter(|n| n.disagrees)
            .map(|n| n.name.as_str())
            .collect()
    }

    #[test]
    fn the_minority_hash_and_an_up_node_without_one_disagree() {
        let mut nodes = vec![
            node("a", true),
            node("b", true),
            node("c", true),
            node("d", true),
        ];
        let h = hashes(&[Some("0x1"), Some("0x2"), Some("0x1"), None]);
        assert!(!mark_disagreements(&mut nodes, &h));
        assert_eq!(disagreeing(&nodes), ["b", "d"]);
    }

    #[test]
    fn a_tie_goes_to_the_greatest_hash_and_down_nodes_never_disagree() {
        let mut nodes = vec![node("a", true), node("b", true), node("c", false)];
        let h = hashes(&[Some("0x1"), Some("0x2"), None]);
        assert!(!mark_disagreements(&mut nodes, &h));
        assert_eq!(disagreeing(&nodes), ["a"]);
    }

    #[test]
    fn agreement_when_all_match_or_none_has_a_hash() {
        let mut nodes = vec![node("a", true), node("b", true)];
        assert!(mark_disagreements(
            &mut nodes,
            &hashes(&[Some("0x1"), Some("0x1")])
        ));
        assert!(mark_disagreements(&mut nodes, &hashes(&[None, None])));
        assert!(disagreeing(&nodes).is_empty());
    }
}
