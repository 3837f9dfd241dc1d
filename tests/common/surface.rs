//! The client-endpoint checks the security tests share: a member's HTTP
//! JSON-RPC endpoint serves only `eth,net,web3`, holds no account and
//! refuses a foreign `Host` header — whichever runtime (or the compose
//! export) started it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

/// Methods a client endpoint must refuse, with their parameters.
pub fn forbidden() -> Vec<(&'static str, Value)> {
    let addr = "0x0000000000000000000000000000000000000001";
    vec![
        ("admin_nodeInfo", json!([])),
        (
            "admin_addPeer",
            json!(["enode://0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000@127.0.0.1:1"]),
        ),
        ("debug_writeMemProfile", json!(["/tmp/medchain-endpoints-test.prof"])),
        ("personal_listAccounts", json!([])),
        ("miner_stop", json!([])),
        ("clique_propose", json!([addr, true])),
        ("txpool_content", json!([])),
        ("eth_sign", json!([addr, "0x00"])),
        (
            "eth_sendTransaction",
            json!([{"from": addr, "to": addr, "value": "0x1"}]),
        ),
    ]
}

/// One JSON-RPC exchange over HTTP with the given `Host` header: (HTTP
/// status, body).
pub fn http_post(port: u16, host: &str, method: &str, params: &Value) -> (u16, String) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(port, &req)
}

/// Sends `req` to 127.0.0.1:`port`, returns (status, body).
pub fn raw(port: u16, req: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

/// Asserts a JSON-RPC answer (`body`) is an error; for every method but
/// the two `eth_` account methods, that the method is not served at all.
pub fn assert_refused(what: &str, method: &str, error: Option<&Value>) {
    let Some(e) = error else {
        panic!("{what}: {method} was served");
    };
    if !method.starts_with("eth_") {
        assert_eq!(e["code"], -32601, "{what}: {method}: {e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("does not exist/is not available"),
            "{what}: {method}: {e}"
        );
    }
}

/// Every check on one member's HTTP endpoint.
pub fn check_http(name: &str, port: u16) {
    for (method, params) in forbidden() {
        let (status, body) = http_post(port, "localhost", method, &params);
        assert_eq!(status, 200, "{name}: {method}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_refused(&format!("{name} http"), method, v.get("error"));
    }
    let (_, body) = http_post(port, "localhost", "eth_accounts", &json!([]));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["result"], json!([]), "{name}: {body}");
    let (status, body) = http_post(port, "127.0.0.1", "eth_blockNumber", &json!([]));
    assert_eq!(status, 200, "{name}: clients use the endpoint: {body}");
    let (status, body) = http_post(port, "evil.example", "eth_blockNumber", &json!([]));
    assert_eq!(status, 403, "{name}: foreign Host header: {body}");
    assert!(!body.contains("result"), "{name}: {body}");
}
