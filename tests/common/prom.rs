//! Asking a test's real Prometheus: instant queries, and every PromQL
//! expression of a shipped Grafana dashboard.

use std::time::{Duration, Instant};

use serde_json::Value;

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

/// Every PromQL expression of `monitoring/dashboards/<file>`, with
/// `$network` set, gives a non-empty result within `limit` (rates need a
/// few scrapes).
pub fn dashboard_has_data(url: &str, file: &str, network: &str, limit: Duration) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
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
