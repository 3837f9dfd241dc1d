//! The member node behind the gateway: the allowed calls of a request are
//! sent to it (one call as it came, or a batch of the allowed ones) and
//! every call is answered in order, refused ones with their error. Both
//! the HTTPS front ([`super::server`]) and the MQTT bridge
//! ([`super::mqtt`]) forward through it.

use std::time::Duration;

use hyper::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::allow;

/// Time the member node has to answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest answer taken from the member node.
const MAX_UPSTREAM_BYTES: usize = 32 * 1024 * 1024;

/// An HTTP JSON-RPC client of one member node.
#[derive(Clone)]
pub struct Upstream {
    client: reqwest::Client,
    url: String,
}

impl Upstream {
    /// A client of the node at `url` (no proxy, bounded in time).
    pub fn new(url: &str) -> anyhow::Result<Upstream> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(UPSTREAM_TIMEOUT)
            .build()?;
        Ok(Upstream {
            client,
            url: url.to_string(),
        })
    }

    /// The node's endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the allowed calls of `r` and answers every call, in order: the
    /// response body (an array for a batch), or why the node did not
    /// answer.
    pub async fn forward(&self, r: &allow::Request) -> Result<Vec<u8>, String> {
        let allowed: Vec<&Value> = r
            .calls
            .iter()
            .filter(|c| c.verdict.is_ok())
            .map(|c| &c.raw)
            .collect();
        let answers: Vec<Value> = if allowed.is_empty() {
            Vec::new()
        } else if !r.batch {
            return self.post(allowed[0]).await;
        } else {
            let body = self.post(&json!(allowed)).await?;
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Array(a)) if a.len() == allowed.len() => a,
                _ => return Err(
                    "the member node answered the batch with something else than one answer per call"
                        .into(),
                ),
            }
        };
        let mut answers = answers.into_iter();
        let out: Vec<Value> = r
            .calls
            .iter()
            .map(|c| match &c.verdict {
                Ok(()) => answers.next().unwrap_or(Value::Null),
                Err(e) => e.response(&c.id),
            })
            .collect();
        Ok(if r.batch {
            json!(out)
        } else {
            out.into_iter().next().unwrap_or(Value::Null)
        }
        .to_string()
        .into_bytes())
    }

    /// One POST to the member node; its body, bounded.
    pub async fn post(&self, body: &Value) -> Result<Vec<u8>, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("member node {} did not answer: {e}", self.url);
        let mut resp = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE.as_str(), "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| fail(&e))?;
        if !resp.status().is_success() {
            return Err(fail(&format!("HTTP {}", resp.status())));
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(&e))? {
            out.extend_from_slice(&chunk);
            if out.len() > MAX_UPSTREAM_BYTES {
                return Err(format!(
                    "the member node's answer is over {} MiB",
                    MAX_UPSTREAM_BYTES >> 20
                ));
            }
        }
        Ok(out)
    }
}
