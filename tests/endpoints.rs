//! The RPC surface by role, end to end on real geth: every endpoint a
//! network publishes (members' HTTP and WS) serves only `eth,net,web3`,
//! holds no account and refuses foreign Host headers and browser origins;
//! sealers publish no RPC at all (process runtime: no TCP listener besides
//! devp2p, geth's JWT-guarded engine API and its metrics on loopback;
//! Docker: only the metrics port, on the host's loopback), and `status`
//! reads them over IPC. The metrics port serves metrics only: no JSON-RPC,
//! no profiler.

mod common;

use std::net::TcpStream;
use std::time::Duration;

use alloy::providers::{Provider, ProviderBuilder, WsConnect};
use common::surface::{assert_refused, check_http, forbidden, http_post, raw};
use common::TestNet;
use serde_json::{json, Value};

const TOPO: &str = "\
network: surface
block_period: 1
peering: mesh
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 1, members: 1}
";

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Every check on one member's WebSocket endpoint: the same refusals, no
/// account, and a browser page from another origin turned away.
fn check_ws(name: &str, port: u16) {
    block_on(async {
        let url = format!("ws://127.0.0.1:{port}");
        let ws = ProviderBuilder::new()
            .connect_ws(WsConnect::new(url))
            .await
            .unwrap_or_else(|e| panic!("{name}: ws: {e}"));
        for (method, params) in forbidden() {
            let r = ws.raw_request::<_, Value>(method.into(), params).await;
            let e = r.err().map(|e| {
                let p = e.as_error_resp().expect("a JSON-RPC error");
                json!({"code": p.code, "message": p.message})
            });
            assert_refused(&format!("{name} ws"), method, e.as_ref());
        }
        let accounts: Value = ws
            .raw_request("eth_accounts".into(), json!([]))
            .await
            .unwrap();
        assert_eq!(accounts, json!([]), "{name}");
    });
    let upgrade = |origin: &str| {
        format!(
            "GET / HTTP/1.1\r\nHost: localhost\r\nOrigin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
    };
    let (status, _) = raw(port, &upgrade("http://evil.example"));
    assert_eq!(status, 403, "{name}: a foreign origin's page");
    let (status, _) = raw(port, &upgrade("http://localhost"));
    assert_eq!(status, 101, "{name}: localhost's page");
}

/// Whether anything accepts TCP on 127.0.0.1:`port`.
fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// Ports `pid` listens on over TCP (its sockets' inodes, matched in
/// /proc/net/tcp and tcp6), with the address each is bound to.
fn listening_ports(pid: u64) -> Vec<(String, u16)> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).unwrap();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f[3] != "0A" || !inodes.iter().any(|i| i == f[9]) {
                continue;
            }
            let (addr, port) = f[1].split_once(':').unwrap();
            out.push((addr.to_string(), u16::from_str_radix(port, 16).unwrap()));
        }
    }
    out
}

/// The checks every runtime shares: members' endpoints refuse everything
/// but eth/net/web3 and serve no account; sealers have no RPC port open
/// and show `rpc: null` in `status --json`, read over IPC.
fn check_network(net: &TestNet, network: &str) {
    let st = net.status();
    let state = net.state(network);
    let nodes = state["plan"]["nodes"].as_array().unwrap();
    for (n, s) in nodes.iter().zip(st["nodes"].as_array().unwrap()) {
        let name = n["name"].as_str().unwrap();
        let http = n["ports"]["http"].as_u64().unwrap() as u16;
        let ws = n["ports"]["ws"].as_u64().unwrap() as u16;
        assert_eq!(s["up"], true, "{name}: {st}");
        assert!(s["block"].as_u64().is_some(), "{name}: read over IPC: {st}");
        if n["role"] == "sealer" {
            assert_eq!(s["rpc"], Value::Null, "{name}");
            assert_eq!(s["ws"], Value::Null, "{name}");
            assert!(!listening(http) && !listening(ws), "{name} listens for RPC");
        } else {
            assert_eq!(s["rpc"], format!("http://127.0.0.1:{http}").as_str());
            check_http(name, http);
            check_ws(name, ws);
        }
        let args: Vec<&str> = n["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(!args.contains(&"--allow-insecure-unlock"), "{name}");
    }
    assert_eq!(st["agree"], true, "{st}");
}

#[test]
fn process_endpoints_serve_clients_only_and_sealers_have_no_rpc() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "11", "--no-deploy"]);
    check_network(&net, "surface");
    // A sealer listens on devp2p and on geth's engine API (loopback, JWT)
    // only — no HTTP/WS; its IPC socket sits in its 0700 directory.
    let state = net.state("surface");
    for n in state["plan"]["nodes"].as_array().unwrap() {
        let name = n["name"].as_str().unwrap();
        let pid = state["pids"][name].as_u64().unwrap();
        let p2p = n["ports"]["p2p"].as_u64().unwrap() as u16;
        let auth = n["ports"]["authrpc"].as_u64().unwrap() as u16;
        let metrics = n["ports"]["metrics"].as_u64().unwrap() as u16;
        metrics_only(name, metrics);
        let mut ports: Vec<u16> = listening_ports(pid).iter().map(|(_, p)| *p).collect();
        ports.sort();
        ports.dedup();
        let mut want = vec![p2p, auth, metrics];
        if n["role"] == "member" {
            want.extend([
                n["ports"]["http"].as_u64().unwrap() as u16,
                n["ports"]["ws"].as_u64().unwrap() as u16,
            ]);
        }
        want.sort();
        assert_eq!(ports, want, "{name} listens on");
        let (status, _) = http_post(auth, "localhost", "eth_blockNumber", &json!([]));
        assert_eq!(status, 401, "{name}: the engine API wants its JWT");
        let datadir = std::path::Path::new(n["datadir"].as_str().unwrap());
        assert!(datadir.join("geth.ipc").exists(), "{name}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(datadir.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{name}");
    }
}

#[test]
fn docker_endpoints_serve_clients_only_and_sealers_publish_nothing() {
    let net = TestNet::new(&TOPO.replace("surface", "surfdock"));
    net.ok(&["image", "build", "--version", "1.13.15"]);
    net.ok(&["up", "--runtime", "docker", "--seed", "11", "--no-deploy"]);
    check_network(&net, "surfdock");
    let st = net.status();
    let d = block_on(async {
        bollard::Docker::connect_with_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .unwrap()
    });
    for n in st["nodes"].as_array().unwrap() {
        let name = n["container"].as_str().unwrap().to_string();
        let c = block_on(d.inspect_container(&name, None)).unwrap();
        let published = c
            .host_config
            .and_then(|h| h.port_bindings)
            .unwrap_or_default();
        // Metrics on every node, RPC on members; all on host loopback.
        let want = if n["role"] == "sealer" { 1 } else { 3 };
        assert_eq!(published.len(), want, "{name}: {published:?}");
        for b in published.values().flatten().flatten() {
            assert_eq!(
                b.host_ip.as_deref(),
                Some("127.0.0.1"),
                "{name}: {published:?}"
            );
        }
        let url = n["metrics"].as_str().unwrap();
        let port: u16 = url
            .split(':')
            .nth(2)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        metrics_only(&name, port);
        let args = c.config.and_then(|c| c.cmd).unwrap();
        assert!(
            args.iter().any(|a| a == "--netrestrict"),
            "{name}: {args:?}"
        );
    }
    net.ok(&["down", "--purge"]);
}

/// The metrics port serves Prometheus text and nothing else: no JSON-RPC
/// (a POST gets no result), no Go profiler.
fn metrics_only(name: &str, port: u16) {
    let get = |path: &str| {
        raw(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
    };
    let (status, body) = get("/debug/metrics/prometheus");
    assert_eq!(status, 200, "{name}: metrics on {port}");
    assert!(
        body.contains("chain_head_block"),
        "{name}: {}",
        &body[..body.len().min(200)]
    );
    assert_eq!(
        get("/debug/pprof/").0,
        404,
        "{name}: a profiler on the metrics port"
    );
    let (_, body) = http_post(port, "localhost", "eth_blockNumber", &json!([]));
    assert!(
        !body.contains("\"result\""),
        "{name}: JSON-RPC on the metrics port: {body}"
    );
}
