//! Asking a test's real Prometheus: instant queries, every node's target
//! and figures against the node itself, and every PromQL expression of a
//! shipped Grafana dashboard. Runtime-agnostic: nodes are known from
//! `status --json` and the recorded plan, so process and Docker networks
//! are checked by the same code.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::TestNet;

/// An instant query against Prometheus' HTTP API: its result vector.
pub fn query(url: &str, q: &str) -> Vec<Value> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let v: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{url}/api/v1/query"))
            .query(&[("query", q)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(v["status"], "success", "{q}: {v}");
    v["data"]["result"].as_array().unwrap().clone()
}

/// Waits until `q` returns at least `n` series (at most `limit`); the
/// last result.
pub fn wait_for(url: &str, q: &str, n: usize, limit: Duration) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let r = query(url, q);
        if r.len() >= n || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Waits until Prometheus reports `up == 1` in job `geth` for every node
/// of `st` (a `status --json`), then checks each target's labels
/// (network, hospital, role, node) and that its instance is the node's
/// own metrics address from `status` (for containers: the port published
/// on the host's loopback).
pub fn every_node_up(url: &str, st: &Value, limit: Duration) {
    let network = st["network"].as_str().unwrap();
    let nodes = st["nodes"].as_array().unwrap();
    let q = format!("up{{job=\"geth\",network=\"{network}\"}} == 1");
    let ups = wait_for(url, &q, nodes.len(), limit);
    assert_eq!(ups.len(), nodes.len(), "every node scraped and up: {ups:?}");
    let mut got: Vec<[String; 4]> = ups
        .iter()
        .map(|s| {
            let m = &s["metric"];
            ["node", "hospital", "role", "instance"].map(|k| m[k].as_str().unwrap().to_string())
        })
        .collect();
    let mut want: Vec<[String; 4]> = nodes
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or_else(|| panic!("{k}: {n}"));
            let instance = s("metrics").trim_start_matches("http://").split('/').next();
            [s("name"), s("hospital"), s("role"), instance.unwrap()].map(str::to_string)
        })
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "targets and their labels");
}

/// The peers the recorded plan gives each node of `network`: the edges it
/// is an end of (`admin_addPeer` from either side makes one peer).
fn planned_peers(net: &TestNet, network: &str) -> BTreeMap<String, u64> {
    let plan = &net.state(network)["plan"];
    let edges = plan["edges"].as_array().unwrap();
    let nodes = plan["nodes"].as_array().unwrap();
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let ends = |e: &&Value| e["from"] == i || e["to"] == i;
            let count = edges.iter().filter(ends).count() as u64;
            (n["name"].as_str().unwrap().to_string(), count)
        })
        .collect()
}

/// One value per node (label `node`) of an instant query.
fn by_node(url: &str, q: &str) -> BTreeMap<String, f64> {
    query(url, q)
        .iter()
        .map(|s| {
            let node = s["metric"]["node"].as_str().unwrap_or("?").to_string();
            (node, s["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

/// Prometheus agrees with the nodes of `network` (issue 16's check): for
/// each node, its scraped `chain_head_block` is within 1 of the
/// `eth_blockNumber` the node itself answers (`status --json` asks it,
/// over IPC for sealers, after the query), allowing one more block per
/// block period since the scrape (Prometheus's own sample timestamp: a
/// scrape is up to one interval, 5 s, old while blocks keep coming), and
/// its `p2p_peers` equals the peers the plan gives it. Each node is
/// compared again until it has matched once, within `limit`; the last
/// mismatch of a node that never did is shown.
pub fn heads_and_peers_match(url: &str, net: &TestNet, network: &str, limit: Duration) {
    let planned = planned_peers(net, network);
    let mut pending: BTreeMap<String, String> = planned
        .keys()
        .map(|n| (n.clone(), "never compared".to_string()))
        .collect();
    let sel = format!("{{job=\"geth\",network=\"{network}\"}}");
    let deadline = Instant::now() + limit;
    let period = net.state(network)["plan"]["topology"]["block_period"]
        .as_f64()
        .unwrap_or(1.0)
        .max(1.0);
    while !pending.is_empty() && Instant::now() < deadline {
        let heads = by_node(url, &format!("chain_head_block{sel}"));
        // How old each scraped head is: the node may have sealed or
        // imported one block per period since.
        let ages = by_node(url, &format!("time() - timestamp(chain_head_block{sel})"));
        let peers = by_node(url, &format!("p2p_peers{sel}"));
        let st = net.status();
        let blocks: BTreeMap<&str, Option<u64>> = st["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name"].as_str().unwrap(), n["block"].as_u64()))
            .collect();
        pending.retain(|node, why| {
            let (head, peers) = (heads.get(node), peers.get(node));
            let block = blocks.get(node.as_str()).copied().flatten();
            let since = ages.get(node).map_or(0.0, |a| (a / period).ceil());
            let matched = match (head, block) {
                (Some(h), Some(b)) => b as f64 >= *h - 1.0 && b as f64 - *h <= 1.0 + since,
                _ => false,
            } && peers == Some(&(planned[node] as f64));
            *why = format!(
                "chain_head_block {head:?} vs eth_blockNumber {block:?}, p2p_peers {peers:?} vs planned {}",
                planned[node]
            );
            !matched
        });
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    assert!(
        pending.is_empty(),
        "Prometheus disagrees with the nodes: {pending:#?}"
    );
}

/// Every PromQL expression of `monitoring/dashboards/<file>`, with
/// `$network` set, gives a non-empty result within `limit` (rates need a
/// few scrapes).
pub fn dashboard_has_data(url: &str, file: &str, network: &str, limit: Duration) {
    let path = std::path::Path::new(
        &std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
    .join("monitoring/dashboards")
    .join(file);
    let d: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut exprs = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap().replace("$network", network);
            exprs.push((format!("{file}: {}", p["title"]), expr));
        }
    }
    assert!(exprs.len() >= 8, "{exprs:?}");
    let deadline = Instant::now() + limit;
    let empty = loop {
        let empty: Vec<_> = exprs
            .iter()
            .filter(|(_, e)| query(url, e).is_empty())
            .collect();
        if empty.is_empty() || Instant::now() > deadline {
            break empty;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(empty.is_empty(), "dashboard panels without data: {empty:?}");
}
