//! End to end on real geth v1.13.15: three hospitals × (1 sealer + 1 member)
//! with gateway peering come up peered and advancing, every planned edge is
//! present, all nodes agree; `down` leaves no process; `up` resumes the same
//! chain.

mod common;

use common::{alive, ipc, rpc, TestNet};
use serde_json::json;

const TOPO: &str = "\
network: clique-e2e
block_period: 1
peering: gateway
hospitals:
  - name: guadalajara
  - name: cairo
  - name: lagos
";

#[test]
fn clique_three_hospitals_gateway_up_status_down_resume() {
    let net = TestNet::new(TOPO);
    let up = net.ok(&["up", "--seed", "7"]);
    assert!(up.stdout.contains("peered and advancing"), "{}", up.stdout);
    secrets_are_private(&net.home().join("clique-e2e"));

    // Every planned edge is present in admin_peers on both ends.
    let state = net.state("clique-e2e");
    let nodes = state["plan"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 6);
    let edges = state["plan"]["edges"].as_array().unwrap();
    assert_eq!(
        edges.len(),
        3 + 3,
        "gateway: one edge inside each hospital + 3 between gateways"
    );
    for e in edges {
        let (a, b) = (
            e["from"].as_u64().unwrap() as usize,
            e["to"].as_u64().unwrap() as usize,
        );
        for (x, y) in [(a, b), (b, a)] {
            let peers = ipc(&nodes[x], "admin_peers", json!([]));
            let want = nodes[y]["node_key"]["public_hex"].as_str().unwrap();
            assert!(
                peers
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["enode"].as_str().unwrap().contains(want)),
                "{} lacks peer {}",
                nodes[x]["name"],
                nodes[y]["name"]
            );
        }
    }
    // Members of different hospitals are not peered directly under gateway.
    assert_eq!(
        ipc(&nodes[1], "admin_peers", json!([]))
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // At least 3 blocks, same hash at a common height everywhere.
    let mut st = net.status();
    for _ in 0..60 {
        if st["common_height"].as_u64().unwrap_or(0) >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        st = net.status();
    }
    assert!(st["common_height"].as_u64().unwrap() >= 3, "{st}");
    assert_eq!(st["agree"], true, "{st}");
    assert_eq!(st["consensus"], "clique");
    assert_eq!(st["runtime"], "process");
    for n in st["nodes"].as_array().unwrap() {
        assert_eq!(n["up"], true, "{n}");
        // Sealers open no RPC port (null), members serve clients.
        match n["role"].as_str().unwrap() {
            "sealer" => assert!(n["rpc"].is_null(), "{n}"),
            _ => assert!(n["rpc"].as_str().unwrap().starts_with("http://127.0.0.1:")),
        }
        assert_eq!(n["disagrees"], false);
        // Every node serves geth's Prometheus metrics on loopback, with
        // its chain head among them (a flag geth ignored would serve none).
        let url = n["metrics"].as_str().expect("metrics URL");
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let text = http_get(url);
        assert!(
            text.contains("chain_head_block "),
            "{url}: {}",
            &text[..text.len().min(300)]
        );
    }
    let h = st["common_height"].as_u64().unwrap();
    let url0 = st["nodes"][1]["rpc"].as_str().unwrap().to_string();
    let hash_before = rpc(
        &url0,
        "eth_getBlockByNumber",
        json!([format!("{h:#x}"), false]),
    )["hash"]
        .clone();
    let pids: Vec<u64> = state["pids"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 6);

    // RPC only on loopback: the ports are not reachable on another address.
    let member_pid = state["pids"][nodes[1]["name"].as_str().unwrap()]
        .as_u64()
        .unwrap();
    let text = std::fs::read_to_string(format!("/proc/{member_pid}/cmdline")).unwrap();
    assert!(text.contains("127.0.0.1"));

    // down: every process gone, data kept.
    net.ok(&["down"]);
    for p in &pids {
        assert!(!alive(*p), "geth {p} still running after down");
    }
    let st = net.status();
    assert!(st["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["up"] == false));

    // up again: the same chain continues (same block hash at h, higher
    // head); a second `up` meanwhile is refused at once, naming the first.
    let second = up_while_another_up_runs(&net);
    assert_eq!(second.code, 1, "{}", second.stderr);
    let line = second.stderr.trim_end();
    assert!(
        line.starts_with("error: network clique-e2e is busy: `medchain up --quiet` (pid ")
            && !line.contains('\n'),
        "{line}"
    );
    let st = net.status();
    let url0 = st["nodes"][1]["rpc"].as_str().unwrap().to_string();
    let hash_after = rpc(
        &url0,
        "eth_getBlockByNumber",
        json!([format!("{h:#x}"), false]),
    )["hash"]
        .clone();
    assert_eq!(
        hash_before, hash_after,
        "resumed chain differs at block {h}"
    );
    assert!(st["common_height"].as_u64().unwrap() > h);
    assert_eq!(st["agree"], true);
}

/// Runs `medchain up` in the background, and once it holds the network's
/// lock a second `up`; returns the second's outcome after the first ended
/// (successfully).
fn up_while_another_up_runs(net: &TestNet) -> common::Run {
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(net.dir.path())
        .env("MEDCHAIN_HOME", net.home())
        .env("MEDCHAIN_RUNTIME", "process")
        .args(["up", "--quiet"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("medchain binary runs");
    let lock = net.home().join("clique-e2e").join("lock");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("\"pid\""))
        && start.elapsed() < std::time::Duration::from_secs(30)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = net.run(&["up"]);
    assert!(first.wait().unwrap().success(), "the first up failed");
    second
}

/// The network's directories are 0700 and its secrets 0600.
fn secrets_are_private(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut dirs = vec![dir.to_path_buf(), dir.join("nodes")];
    let mut files = vec![
        dir.join("keys.json"),
        dir.join("state.json"),
        dir.join("lock"),
    ];
    for e in std::fs::read_dir(dir.join("nodes")).unwrap() {
        let node = e.unwrap().path();
        let data = node.join("data");
        dirs.extend([node.clone(), data.clone()]);
        files.push(data.join("geth").join("nodekey"));
        // Only sealers hold a keystore; members hold no account.
        if !node.join("password").exists() {
            let keys = std::fs::read_dir(data.join("keystore")).map_or(0, |d| d.count());
            assert_eq!(keys, 0, "{}", node.display());
            continue;
        }
        dirs.push(data.join("keystore"));
        files.push(node.join("password"));
        for k in std::fs::read_dir(data.join("keystore")).unwrap() {
            files.push(k.unwrap().path());
        }
    }
    for d in &dirs {
        assert_eq!(mode(d), 0o700, "{}", d.display());
    }
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
}

#[test]
fn accounts_are_prefunded_and_listed_with_keys() {
    let net = TestNet::new(
        "network: acct-e2e\nblock_period: 1\naccounts: 3\nhospitals:\n  - {name: a, members: 1}\n",
    );
    // No deployment: the first account would pay its gas.
    net.ok(&["up", "--seed", "11", "--quiet", "--no-deploy"]);
    let accounts: serde_json::Value =
        serde_json::from_str(&net.ok(&["accounts", "--json"]).stdout).unwrap();
    let list = accounts["accounts"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    let url = accounts["rpc"][0].as_str().unwrap();
    for a in list {
        let bal = rpc(url, "eth_getBalance", json!([a["address"], "latest"]));
        assert_eq!(bal, "0xd3c21bcecceda1000000", "1,000,000 ETH");
        // The listed key really controls the address.
        let key: alloy::primitives::B256 = a["private_key"].as_str().unwrap().parse().unwrap();
        let signer = alloy::signers::local::PrivateKeySigner::from_bytes(&key).unwrap();
        assert_eq!(
            format!("{:#x}", signer.address()),
            a["address"].as_str().unwrap()
        );
    }
    // Same seed, same keys: deterministic experiments, labelled as such.
    let text = net.ok(&["accounts"]).stdout;
    assert!(text.contains("Private Keys"));
    assert!(text.contains(list[0]["private_key"].as_str().unwrap()));
    assert!(text.contains("deterministic TEST keys"), "{text}");
    assert_eq!(accounts["deterministic_test_keys"], json!(true));
}

/// Without a seed, a network's keys come from a 256-bit secret drawn from
/// the OS random generator: the state records it (0600) and no command's
/// output shows it.
#[test]
fn unseeded_network_has_os_random_keys_never_printed() {
    let net = TestNet::new("network: rand-e2e\nblock_period: 1\nhospitals:\n  - {name: a}\n");
    let up = net.ok(&["up", "--quiet", "--no-deploy"]);
    let accounts: serde_json::Value =
        serde_json::from_str(&net.ok(&["accounts", "--json"]).stdout).unwrap();
    assert_eq!(accounts["deterministic_test_keys"], json!(false));
    let text = net.ok(&["accounts"]).stdout;
    assert!(text.contains("from the OS random generator"), "{text}");
    let state_path = net.home().join("rand-e2e/state.json");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let secret = state["plan"]["key_source"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 66, "a 32-byte secret, not a seed: {secret}");
    let status = net.ok(&["status", "--json"]).stdout;
    for out in [&up.stdout, &up.stderr, &text, &status] {
        assert!(!out.contains(&secret[2..]), "the secret was printed");
    }
}

/// The body of a plain HTTP GET.
fn http_get(url: &str) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        reqwest::get(url)
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
            .text()
            .await
            .unwrap()
    })
}
