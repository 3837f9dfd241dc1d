//! `medchain serve` (issue 17, its first views) on a real network and in a
//! real headless Chromium (Debian's, driven by playwright-core from
//! tools/console-check): every node listed under its hospital and up, the
//! head advancing in the page without a reload, the Explorer decoding a
//! transaction medchain sent and listing its sender's transactions, and
//! the public API holding nothing beyond
//! what a node's RPC shows. Without Chromium or `npm ci` in
//! tools/console-check the test fails, saying how to install them.
//!
//! `MEDCHAIN_SCREENSHOTS=docs/screenshots cargo test --test serve` also
//! refreshes the committed screenshots.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{Spawned, TestNet};
use serde_json::Value;

const TOPO: &str = "\
network: console-e2e
chain_id: 48175
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 0, members: 1}
";

fn get(url: &str, host: Option<&str>) -> (u16, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        if let Some(h) = host {
            req = req.header("host", h);
        }
        let r = req.send().await.expect("the console answers");
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

fn console_check() -> PathBuf {
    common::console_script("check.mjs")
}

#[test]
fn listen_off_loopback_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for listen in ["0.0.0.0:0", "192.0.2.1:8700", "nope"] {
        let r = common::medchain(dir.path(), &home, &["serve", "--listen", listen]);
        assert_eq!(r.code, 2, "{listen}: {}", r.stderr);
        assert!(r.stderr.contains("--listen"), "{}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
    }
    assert!(!home.exists(), "nothing was created");
}

#[test]
fn the_console_shows_the_network_live_and_decodes_transactions_in_chromium() {
    let check = console_check();
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "45", "--quiet"]);
    net.ok(&[
        "patient",
        "register",
        "--ssn",
        "555-01-0001",
        "--hospital",
        "north",
    ]);
    let added: Value = serde_json::from_str(
        &net.ok(&[
            "records",
            "add",
            "--json",
            "--ssn",
            "555-01-0001",
            "--heart-rate",
            "72",
            "--spo2",
            "98",
        ])
        .stdout,
    )
    .unwrap();
    let tx = added["tx"].as_str().unwrap().to_string();

    let console = Spawned::medchain(&net, &["serve", "--listen", "127.0.0.1:0"]);
    let first = console.wait_for(" listening on ", Duration::from_secs(30));
    let url = first.split(" listening on ").nth(1).unwrap().to_string();

    // The public API: every node, nothing a node's RPC would not show.
    let (status, body) = get(&format!("{url}/api/network"), None);
    assert_eq!(status, 200, "{body}");
    let snap: Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = snap["network"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["north-sealer-0", "north-member-0", "south-member-0"]
    );
    for secret in ["enode", "\"pid\"", "\"rpc\"", "metrics", "private_key"] {
        assert!(
            !body.contains(secret),
            "{secret} in the public view: {body}"
        );
    }
    let (status, _) = get(&format!("{url}/api/network"), Some("evil.example"));
    assert_eq!(
        status, 421,
        "a non-loopback Host is refused (DNS rebinding)"
    );
    let (status, body) = get(&format!("{url}/api/tx/0x12"), None);
    assert_eq!(status, 400, "{body}");
    let (status, body) = get(&format!("{url}/api/address/0x12"), None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("40 hex digits"), "{body}");

    // The page, in Chromium.
    let shots = std::env::var("MEDCHAIN_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| net.home().join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(&check)
        .args([&url, &tx, shots.to_str().unwrap()])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "console check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(String, String, String)> = seen["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap().to_string();
            (s("name"), s("hospital"), s("state"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("north-sealer-0".into(), "north".into(), "up".into()),
            ("north-member-0".into(), "north".into(), "up".into()),
            ("south-member-0".into(), "south".into(), "up".into()),
        ],
        "{seen}"
    );
    assert!(seen["live_update_ms"].as_u64().unwrap() < 5000, "{seen}");
    assert!(seen["bars"].as_u64().unwrap() > 0, "{seen}");
    let call = seen["decoded_call"].as_str().unwrap();
    assert!(
        call.starts_with("PrivateRecords.addRecord(patient="),
        "{call}"
    );
    assert!(
        seen["bad_query_message"]
            .as_str()
            .unwrap()
            .contains("block number"),
        "{seen}"
    );
    // One click on the sender: its history, newest first, holding the
    // transaction, decoded, as one it sent.
    let history = &seen["history"];
    let row = history["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tx"] == tx.as_str())
        .unwrap_or_else(|| panic!("{tx} not in the sender's history: {history}"));
    assert_eq!(row["dir"], "out", "{history}");
    assert_eq!(row["status"], "success", "{history}");
    assert!(
        row["call"]
            .as_str()
            .unwrap()
            .starts_with("PrivateRecords.addRecord(patient="),
        "{history}"
    );
    assert!(
        history["summary"].as_str().unwrap().contains(" sent · "),
        "{history}"
    );
    assert_eq!(seen["page_errors"], serde_json::json!([]), "{seen}");
    assert!(shots.join("serve-network.png").is_file());
    eprintln!(
        "console: first render {} ms, live update {} ms",
        seen["first_render_ms"], seen["live_update_ms"]
    );
}
