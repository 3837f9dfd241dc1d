//! The round's target nodes as the bench's workers see them: one pooled
//! HTTP JSON-RPC client for all of them, each call's failure classed by
//! cause ([`CallError`]: the node did not answer, or answered with an
//! error), and the choice of the next target when one stops answering
//! (round-robin over the targets, skipping those seen down).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::result::Cause;

/// Longest one call may take (connect, send, answer).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a connection may take to open: a live node on loopback accepts
/// at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// [`Cause::Unreachable`] (no answer) or [`Cause::Rejected`] (a
    /// JSON-RPC error, or an answer that is not JSON-RPC).
    pub cause: Cause,
    /// Whether the request may have reached the node: false only when the
    /// connection was never made (refused, or no connection in time).
    pub delivered: bool,
    /// What went wrong, as the client or the node said it.
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.cause, self.message)
    }
}

impl CallError {
    /// Whether the node said the transaction is already in its pool (then
    /// it was accepted, earlier).
    pub(crate) fn already_known(&self) -> bool {
        self.cause == Cause::Rejected && self.message.contains("already known")
    }

    /// Whether the node ran the call and it reverted.
    pub(crate) fn reverted(&self) -> bool {
        self.cause == Cause::Rejected && self.message.contains("revert")
    }
}

/// Classes a client error: every transport failure means the node did not
/// answer; only a connection that was never made proves the request did
/// not reach it.
pub(crate) fn classify(e: &reqwest::Error) -> CallError {
    CallError {
        cause: Cause::Unreachable,
        delivered: !e.is_connect(),
        message: format!("{e}{}", source_chain(e)),
    }
}

/// The causes under an error, each after `: `.
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut s = e.source();
    // Bounded: error chains are a few levels deep.
    for _ in 0..8 {
        let Some(c) = s else { break };
        out.push_str(": ");
        out.push_str(&c.to_string());
        s = c.source();
    }
    out
}

/// The round's target nodes.
#[derive(Debug)]
pub struct Targets {
    urls: Vec<String>,
    down: Vec<AtomicBool>,
    client: reqwest::Client,
}

impl Targets {
    /// Clients for `urls` (HTTP JSON-RPC), all taken to be up.
    pub fn new(urls: &[String]) -> anyhow::Result<Self> {
        anyhow::ensure!(!urls.is_empty(), "a bench needs at least one target");
        let client = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        Ok(Self {
            urls: urls.to_vec(),
            down: urls.iter().map(|_| AtomicBool::new(false)).collect(),
            client,
        })
    }

    /// How many targets.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// Whether there are none (never: [`Targets::new`] refuses).
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// The pooled client the targets are called with.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Target `i`'s URL.
    pub fn url(&self, i: usize) -> &str {
        &self.urls[i % self.urls.len()]
    }

    /// The target after `from` for a worker whose node stopped answering:
    /// the next one round-robin that has not been seen down, else simply
    /// the next one.
    pub fn next(&self, from: usize) -> usize {
        let down: Vec<bool> = self
            .down
            .iter()
            .map(|d| d.load(Ordering::Relaxed))
            .collect();
        next_live(&down, from)
    }

    /// Calls `method` on target `i`. A node that does not answer is marked
    /// down (so other workers skip it when they fail over), one that
    /// answers is marked up again.
    pub async fn call<T: DeserializeOwned>(
        &self,
        i: usize,
        method: &str,
        params: Value,
    ) -> Result<T, CallError> {
        let i = i % self.urls.len();
        let r = rpc_call(&self.client, &self.urls[i], method, params).await;
        let unreachable = matches!(&r, Err(e) if e.cause == Cause::Unreachable);
        self.down[i].store(unreachable, Ordering::Relaxed);
        let v = r?;
        serde_json::from_value(v).map_err(|e| CallError {
            cause: Cause::Rejected,
            delivered: true,
            message: format!("{method}: unexpected answer: {e}"),
        })
    }
}

/// One JSON-RPC call over `client`.
pub(crate) async fn rpc_call(
    client: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, CallError> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| classify(&e))?;
    let bytes = resp.bytes().await.map_err(|e| classify(&e))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| CallError {
        cause: Cause::Rejected,
        delivered: true,
        message: format!("{method}: the answer is not JSON-RPC: {e}"),
    })?;
    if let Some(err) = v.get("error") {
        let msg = err["message"]
            .as_str()
            .map_or_else(|| err.to_string(), str::to_string);
        return Err(CallError {
            cause: Cause::Rejected,
            delivered: true,
            message: msg,
        });
    }
    Ok(v.get("result").cloned().unwrap_or(Value::Null))
}

/// The index after `from` (round-robin) whose entry in `down` is false;
/// the plain next index when every other one is down.
pub(crate) fn next_live(down: &[bool], from: usize) -> usize {
    let n = down.len().max(1);
    (1..=n)
        .map(|k| (from + k) % n)
        .find(|&i| !down.get(i).copied().unwrap_or(false))
        .unwrap_or((from + 1) % n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback port nothing listens on (bound, then released).
    fn closed_port() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        url
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_and_undelivered() {
        let url = closed_port();
        let t = Targets::new(&[url.clone(), url]).unwrap();
        let e = t
            .call::<String>(0, "eth_blockNumber", json!([]))
            .await
            .unwrap_err();
        assert_eq!(e.cause, Cause::Unreachable, "{e}");
        assert!(!e.delivered, "refused: the request never left: {e}");
        assert!(e.message.to_lowercase().contains("refused"), "{e}");
        // Target 0 is now down: a worker there fails over to target 1.
        assert_eq!(t.next(0), 1);
        assert_eq!(t.next(1), 1, "0 is down, so 1 stays the choice");
    }

    #[tokio::test]
    async fn a_connection_reset_mid_request_is_unreachable_and_maybe_delivered() {
        // A real listener that accepts, reads the request and drops the
        // connection without answering: what a node killed mid-call does.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            if let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
            }
        });
        let t = Targets::new(&[url]).unwrap();
        let e = t
            .call::<String>(0, "eth_sendRawTransaction", json!(["0x00"]))
            .await
            .unwrap_err();
        assert_eq!(e.cause, Cause::Unreachable, "{e}");
        assert!(
            e.delivered,
            "the request was written before the node went: {e}"
        );
    }

    #[tokio::test]
    async fn a_json_rpc_error_is_rejected() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            if let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nonce too low: next nonce 5, tx nonce 4"}}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        });
        let t = Targets::new(&[url]).unwrap();
        let e = t
            .call::<String>(0, "eth_sendRawTransaction", json!(["0x00"]))
            .await
            .unwrap_err();
        assert_eq!(e.cause, Cause::Rejected, "{e}");
        assert!(
            e.message.contains("nonce too low") && !e.already_known() && !e.reverted(),
            "{e}"
        );
    }

    #[test]
    fn failover_goes_round_robin_to_the_next_live_target() {
        assert_eq!(next_live(&[false, false, false], 0), 1);
        assert_eq!(next_live(&[false, false, false], 2), 0);
        assert_eq!(next_live(&[true, true, false], 0), 2);
        assert_eq!(next_live(&[false, true, false], 0), 2);
        assert_eq!(next_live(&[false, true, true], 1), 0);
        // Everyone else down: the next one anyway (it may be back).
        assert_eq!(next_live(&[true, true, true], 0), 1);
        // One target: it stays.
        assert_eq!(next_live(&[true], 0), 0);
        assert_eq!(next_live(&[false], 0), 0);
    }

    #[test]
    fn node_errors_are_told_apart() {
        let e = |m: &str| CallError {
            cause: Cause::Rejected,
            delivered: true,
            message: m.into(),
        };
        assert!(e("already known").already_known());
        assert!(e("execution reverted").reverted());
        let down = CallError {
            cause: Cause::Unreachable,
            ..e("already known")
        };
        assert!(!down.already_known(), "only a node's answer says so");
    }
}
