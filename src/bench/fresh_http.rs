//! JSON-RPC over a new HTTP connection per request, as an ESP32 sends it:
//! the firmware opens a socket, posts one request, reads the answer and
//! closes. The client keeps no idle connections (`pool_max_idle_per_host(0)`)
//! and asks the node to close (`Connection: close`), so every call pays a
//! TCP handshake — the load a fleet of real devices puts on a node.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

/// Longest one request may take (connect, send, answer).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The node answered with a JSON-RPC error (the request was seen).
    Node(String),
    /// No answer: connection refused, reset or timed out (the node may or
    /// may not have acted on it).
    Transport(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Node(m) => write!(f, "node error: {m}"),
            CallError::Transport(m) => write!(f, "transport error: {m}"),
        }
    }
}

/// A JSON-RPC client that opens a new connection for every call and counts them.
#[derive(Debug)]
pub struct FreshHttp {
    client: reqwest::Client,
    connections: AtomicU64,
}

impl FreshHttp {
    /// A client without a connection pool.
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            client,
            connections: AtomicU64::new(0),
        })
    }

    /// Connections opened so far (one per call).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Calls `method` on `url` over a new connection.
    pub async fn call(&self, url: &str, method: &str, params: Value) -> Result<Value, CallError> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONNECTION, "close")
            .json(&body)
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let v: Value = resp
            .json()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        if let Some(err) = v.get("error") {
            let msg = err["message"]
                .as_str()
                .map_or_else(|| err.to_string(), str::to_string);
            return Err(CallError::Node(msg));
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A keep-alive HTTP server on loopback that answers every request
    /// with a JSON-RPC result and counts the connections it accepted.
    async fn server() -> (String, Arc<AtomicU64>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicU64::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Bounded: the test sends a handful of small requests.
                    for _ in 0..64 {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        let Some(end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() < end + 4 + len {
                            continue;
                        }
                        buf.drain(..end + 4 + len);
                        let body = r#"{"jsonrpc":"2.0","id":1,"result":"0x2a"}"#;
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if sock.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[tokio::test]
    async fn every_call_opens_a_new_connection() {
        let (url, accepted) = server().await;
        let http = FreshHttp::new().unwrap();
        for _ in 0..3 {
            let v = http.call(&url, "eth_chainId", json!([])).await.unwrap();
            assert_eq!(v, json!("0x2a"));
        }
        assert_eq!(accepted.load(Ordering::Relaxed), 3);
        assert_eq!(http.connections(), 3);

        // The server keeps connections alive: a pooled client would reuse one.
        let (url, accepted) = server().await;
        let pooled = reqwest::Client::new();
        for _ in 0..3 {
            pooled
                .post(&url)
                .json(&json!({"jsonrpc":"2.0","id":1,"method":"x","params":[]}))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        assert_eq!(accepted.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn refused_connections_are_transport_errors() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let http = FreshHttp::new().unwrap();
        let e = http.call(&url, "eth_chainId", json!([])).await.unwrap_err();
        assert!(matches!(e, CallError::Transport(_)), "{e}");
    }
}
