//! `medchain gateway` end to end on real geth, real TLS and the real
//! firmware core: a hospital's devices are provisioned against the gateway
//! (token and pinned CA in their configs), `esp32-host` lands its readings
//! through it over HTTPS, and everything else a client might try is refused
//! with the documented HTTP status or JSON-RPC error.
//!
//! `esp32-host` must have been built (`firmware/test.sh`; FIRMWARE_BUILD_DIR
//! selects the build directory); without it the end-to-end test fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::esp32::esp32_host;
use common::{rpc, TestNet};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};

const TOPO: &str = "\
network: gateway-e2e
privacy: clear
chain_id: 48160
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

/// A running gateway, killed on drop.
struct Gateway {
    _process: common::Spawned,
    url: String,
}

/// Starts `medchain gateway` with `args` and waits for its listening line.
fn start_gateway(net: &TestNet, args: &[&str]) -> Gateway {
    let process = common::Spawned::medchain(net, &[&["gateway"], args].concat());
    let first = process
        .lines
        .recv_timeout(Duration::from_secs(30))
        .expect("the gateway prints where it listens");
    let url = first
        .split(" listening on ")
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    Gateway {
        _process: process,
        url,
    }
}

/// An HTTPS client trusting only `ca_pem`.
fn client(ca_pem: &str) -> reqwest_tls::Client {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest_tls::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .build()
        .unwrap()
}

/// One POST: status, Retry-After, body as JSON (Null if not JSON).
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

fn post(
    rt: &tokio::runtime::Runtime,
    c: &reqwest_tls::Client,
    url: &str,
    token: Option<&str>,
    body: String,
) -> Answer {
    rt.block_on(async {
        let mut req = c
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("the gateway answers");
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        Answer {
            status,
            retry_after,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    })
}

fn call(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string()
}

fn config(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn plaintext_off_loopback_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for listen in ["0.0.0.0:0", "192.0.2.1:8600"] {
        let r = common::medchain(
            dir.path(),
            &home,
            &[
                "gateway",
                "--hospital",
                "ward",
                "--listen",
                listen,
                "--insecure-plaintext",
            ],
        );
        assert_eq!(r.code, 2, "{listen}: {}", r.stderr);
        assert!(r.stderr.contains("--insecure-plaintext"), "{}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
    }
    assert!(!home.exists(), "nothing was created");
    let r = common::medchain(
        dir.path(),
        &home,
        &["gateway", "--hospital", "ward", "--listen", "nope"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--listen \"nope\""), "{}", r.stderr);
}

#[test]
fn esp32_host_lands_readings_through_the_gateway_and_the_rest_is_refused() {
    let host_bin = esp32_host();
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "41", "--quiet"]);
    let gw = start_gateway(
        &net,
        &[
            "--hospital",
            "ward",
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "5",
            "--burst",
            "40",
            "-q",
        ],
    );
    assert!(gw.url.starts_with("https://127.0.0.1:"), "{}", gw.url);

    // Two devices pointed at the gateway: token and the gateway's CA in
    // their configs, only the token's hash in the store.
    let out: Value = serde_json::from_str(
        &net.ok(&[
            "device",
            "provision",
            "--hospital",
            "ward",
            "--count",
            "2",
            "--json",
            "--gateway",
            &gw.url,
        ])
        .stdout,
    )
    .unwrap();
    let cfg_path = |i: usize| PathBuf::from(out["devices"][i]["config"].as_str().unwrap());
    let (cfg1, cfg2) = (config(&cfg_path(0)), config(&cfg_path(1)));
    assert_eq!(cfg1["rpc_url"], gw.url.as_str());
    let (t1, t2) = (
        cfg1["rpc_token"].as_str().unwrap(),
        cfg2["rpc_token"].as_str().unwrap(),
    );
    assert!(t1.starts_with("mcg_") && t1 != t2);
    let ca = cfg1["tls_ca"].as_str().unwrap().to_string();
    let store =
        std::fs::read_to_string(net.home().join("gateway-e2e/gateway/tokens.json")).unwrap();
    assert!(
        !store.contains(&t1[4..]) && store.contains("ward-device-1"),
        "{store}"
    );

    // Re-provisioning keeps a current token; a revoked one is replaced.
    net.ok(&["gateway", "token", "revoke", "ward-device-2"]);
    net.ok(&[
        "device",
        "provision",
        "--hospital",
        "ward",
        "--count",
        "2",
        "--gateway",
        &gw.url,
    ]);
    assert_eq!(config(&cfg_path(0))["rpc_token"], t1, "kept");
    let t2 = config(&cfg_path(1))["rpc_token"]
        .as_str()
        .unwrap()
        .to_string();
    let t2 = t2.as_str();
    assert_ne!(t2, cfg2["rpc_token"].as_str().unwrap(), "rotated");

    // The firmware core: three readings through the gateway over TLS.
    let run = Command::new(&host_bin)
        .arg("--config")
        .arg(cfg_path(0))
        .arg("--outbox")
        .arg(net.dir.path().join("outbox"))
        .args([
            "--ssn",
            "000-00-0001",
            "--readings",
            "3",
            "--interval-ms",
            "200",
            "--timeout-ms",
            "90000",
        ])
        .output()
        .expect("esp32-host runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        run.status.code(),
        Some(0),
        "esp32-host through the gateway:\n{stderr}"
    );
    let confirmed: Vec<Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        confirmed
            .iter()
            .map(|c| c["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let state = medchain::state::State::load(&net.home(), "gateway-e2e").unwrap();
    let member = state
        .plan
        .nodes
        .iter()
        .find(|n| n.name == "ward-member-0")
        .unwrap()
        .rpc_url()
        .expect("members serve RPC");
    let tx = confirmed[0]["tx"].as_str().unwrap();
    assert_eq!(
        rpc(&member, "eth_getTransactionReceipt", json!([tx]))["status"],
        "0x1",
        "on chain"
    );
    let raw1 = rpc(&member, "eth_getRawTransactionByHash", json!([tx]));

    // The firmware trusts only the CA its config pins: with another CA it
    // never talks to the gateway (its reading stays queued).
    let mut wrong = cfg1.clone();
    wrong["tls_ca"] = json!(include_str!("gateway_other_ca.pem"));
    let wrong_path = net.dir.path().join("wrong-ca.json");
    std::fs::write(&wrong_path, wrong.to_string()).unwrap();
    let run = Command::new(&host_bin)
        .arg("--config")
        .arg(&wrong_path)
        .arg("--outbox")
        .arg(net.dir.path().join("outbox-wrong"))
        .args(["--ssn", "000-00-0001", "--timeout-ms", "3000"])
        .output()
        .expect("esp32-host runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("TLS handshake") && stderr.contains("certificate"),
        "{stderr}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client(&ca);
    refusals(&rt, &c, &gw.url, t1, t2, &raw1);
    limits(&rt, &c, &gw.url, &net, t1);

    // A client that does not trust the gateway's CA gets no answer at all.
    let untrusting = client(include_str!("gateway_other_ca.pem"));
    let r = rt.block_on(
        untrusting
            .post(&gw.url)
            .body(call("eth_chainId", json!([])))
            .send(),
    );
    assert!(r.is_err(), "TLS to an unpinned CA must fail");

    operator_certificate(&rt, &net, t1);

    // Without a valid token an address gets 401 until it has made too many
    // such requests, then 429.
    let strangers: Vec<u16> = (0..40)
        .map(|_| {
            post(
                &rt,
                &c,
                &gw.url,
                Some("mcg_guess"),
                call("eth_chainId", json!([])),
            )
            .status
        })
        .collect();
    assert_eq!(strangers[0], 401, "{strangers:?}");
    assert!(strangers.contains(&429), "{strangers:?}");

    let log =
        std::fs::read_to_string(net.home().join("gateway-e2e/gateway/access-ward.log")).unwrap();
    assert!(
        log.contains(" ward-device-1 eth_sendRawTransaction 200 "),
        "{log}"
    );
    assert!(log.contains(" - - 401 "), "{log}");
    assert!(!log.contains(t1), "no tokens in the access log");
}

/// Auth, allow-list, batches, bounded logs and the device binding.
fn refusals(
    rt: &tokio::runtime::Runtime,
    c: &reqwest_tls::Client,
    url: &str,
    t1: &str,
    t2: &str,
    raw1: &Value,
) {
    let chain_id = call("eth_chainId", json!([]));
    let a = post(rt, c, url, None, chain_id.clone());
    assert_eq!(a.status, 401, "no token");
    assert_eq!(a.body["error"]["code"], -32001);
    assert_eq!(
        post(rt, c, url, Some("mcg_wrong"), chain_id.clone()).status,
        401
    );
    let ok = post(rt, c, url, Some(t1), chain_id.clone());
    assert_eq!(
        (ok.status, ok.body["result"].clone()),
        (200, json!("0xbc20"))
    );

    for (m, p) in [
        ("admin_peers", json!([])),
        ("admin_nodeInfo", json!([])),
        ("debug_writeMemProfile", json!(["/tmp/x"])),
        (
            "eth_sendTransaction",
            json!([{"to": "0x0000000000000000000000000000000000000000"}]),
        ),
        ("eth_accounts", json!([])),
        ("personal_listAccounts", json!([])),
        ("txpool_content", json!([])),
    ] {
        let a = post(rt, c, url, Some(t1), call(m, p));
        assert_eq!(a.status, 200, "{m}");
        assert_eq!(a.body["error"]["code"], -32601, "{m}: {}", a.body);
        assert!(
            a.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("method not allowed"),
            "{m}"
        );
    }
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "admin_peers", "params": []},
        {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber", "params": []},
    ]);
    let a = post(rt, c, url, Some(t1), batch.to_string());
    let answers = a.body.as_array().expect("a batch answer");
    assert_eq!(answers[0]["result"], "0xbc20");
    assert_eq!(answers[1]["error"]["code"], -32601);
    assert_eq!(answers[1]["id"], 2);
    assert!(answers[2]["result"].as_str().unwrap().starts_with("0x"));

    let logs =
        |from: &str, to: &str| call("eth_getLogs", json!([{"fromBlock": from, "toBlock": to}]));
    assert!(post(rt, c, url, Some(t1), logs("0x1", "0x3e8")).body["result"].is_array());
    for (from, to) in [("0x0", "0x7d0"), ("0x0", "latest")] {
        let a = post(rt, c, url, Some(t1), logs(from, to));
        assert_eq!(a.body["error"]["code"], -32602, "{from}..{to}: {}", a.body);
    }

    // Device 2's token cannot send device 1's transaction; device 1's can
    // (geth then says it already has it).
    let send = call("eth_sendRawTransaction", json!([raw1]));
    let a = post(rt, c, url, Some(t2), send.clone());
    assert_eq!(a.body["error"]["code"], -32003, "{}", a.body);
    let a = post(rt, c, url, Some(t1), send);
    assert_ne!(a.body["error"]["code"], -32003, "{}", a.body);
    assert!(
        a.body["error"]["message"].is_string(),
        "geth's own answer: {}",
        a.body
    );
}

/// A gateway serving the operator's own certificate (here issued by
/// another CA), and devices provisioned to pin that CA.
fn operator_certificate(rt: &tokio::runtime::Runtime, net: &TestNet, t1: &str) {
    let own = net.dir.path().join("own-pki");
    let names = ["127.0.0.1".to_string()];
    let served = medchain::gateway::tls::issue_server_cert(&own, "own", "pki", &names).unwrap();
    let dir = medchain::gateway::tls::dir(&own, "pki");
    let (cert, key, ca) = (
        dir.join("cert.pem"),
        dir.join("cert.key"),
        dir.join("ca.pem"),
    );
    let gw = start_gateway(
        net,
        &[
            "--hospital",
            "ward",
            "--listen",
            "127.0.0.1:0",
            "-q",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    let a = post(
        rt,
        &client(&ca_pem),
        &gw.url,
        Some(t1),
        call("eth_chainId", json!([])),
    );
    assert_eq!((a.status, a.body["result"].clone()), (200, json!("0xbc20")));
    assert!(!served.cert_pem.is_empty());
    let out: Value = serde_json::from_str(
        &net.ok(&[
            "device",
            "provision",
            "--hospital",
            "ward",
            "--count",
            "1",
            "--json",
            "--gateway",
            &gw.url,
            "--gateway-ca",
            ca.to_str().unwrap(),
        ])
        .stdout,
    )
    .unwrap();
    let cfg = config(Path::new(out["devices"][0]["config"].as_str().unwrap()));
    assert_eq!(cfg["tls_ca"], ca_pem.as_str());
    assert_eq!(cfg["rpc_token"], t1, "still the same device token");
}

/// Body size and rate limits, with an operator-minted token.
fn limits(
    rt: &tokio::runtime::Runtime,
    c: &reqwest_tls::Client,
    url: &str,
    net: &TestNet,
    t1: &str,
) {
    let minted = net.ok(&["gateway", "token", "add", "loadtest", "--hospital", "ward"]);
    let op = minted.stdout.trim().to_string();
    assert!(op.starts_with("mcg_"), "{}", minted.stdout);
    let listed = net.ok(&["gateway", "token", "list"]).stdout;
    assert!(
        listed.contains("loadtest") && !listed.contains(&op),
        "{listed}"
    );

    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    let a = post(rt, c, url, Some(&op), big);
    assert_eq!(a.status, 413, "{}", a.body);

    // 5/s with a burst of 40: back-to-back calls soon exceed it.
    let mut limited = None;
    for _ in 0..200 {
        let a = post(rt, c, url, Some(&op), call("eth_blockNumber", json!([])));
        if a.status == 429 {
            limited = Some(a);
            break;
        }
        assert_eq!(a.status, 200);
    }
    let a = limited.expect("the rate limit answered 429");
    assert!(a
        .retry_after
        .is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    assert_eq!(a.body["error"]["code"], -32001);
    // Another client's bucket is untouched.
    assert_eq!(
        post(rt, c, url, Some(t1), call("eth_chainId", json!([]))).status,
        200
    );

    net.ok(&["gateway", "token", "revoke", "loadtest"]);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        post(rt, c, url, Some(&op), call("eth_chainId", json!([]))).status,
        401,
        "revoked"
    );
}
