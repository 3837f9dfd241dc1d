//! A time limit on every HTTP JSON-RPC call the CLI commands make through
//! alloy (deploy, records, device, authorize, tx): a node that accepts the
//! connection and never answers fails the call with an error naming the
//! call and the node's endpoint, instead of hanging the command.
//!
//! The limit is [`HTTP_TIMEOUT`] per call (connecting: [`CONNECT_TIMEOUT`]);
//! [`TIMEOUT_ENV`] sets another number of seconds (tests use a short one).

use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use alloy::rpc::client::RpcClient;
use alloy::rpc::json_rpc::{RequestPacket, ResponsePacket};
use alloy::transports::http::{reqwest, Http};
use alloy::transports::{TransportError, TransportErrorKind, TransportFut};
use anyhow::Context;
use tower::Service;

/// How long one JSON-RPC call may take, unless [`TIMEOUT_ENV`] says
/// otherwise.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting to a node may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Environment variable with the per-call limit in seconds (a positive
/// integer; anything else is ignored).
pub const TIMEOUT_ENV: &str = "MEDCHAIN_RPC_TIMEOUT_SECS";

/// The per-call limit: [`TIMEOUT_ENV`] when it holds a positive number of
/// seconds, else [`HTTP_TIMEOUT`].
/// Read once per process.
pub fn call_timeout() -> Duration {
    static LIMIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(HTTP_TIMEOUT)
    })
}

/// An HTTP client (alloy's reqwest) for the JSON-RPC endpoint `url`.
///
/// For a plain `http://` endpoint (every node medchain starts) it is built
/// with an empty TLS root store: building a client with the default one
/// loads the system's CA certificates (rustls-platform-verifier), tens of
/// milliseconds of CPU each time, and the bench built one per worker and
/// per observer (docs/performance.md, "Driver CPU per transaction").
/// `https://` endpoints keep the system's roots.
pub(crate) fn http_client(url: &str) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
    let builder = if url.starts_with("http://") {
        builder.tls_certs_only(std::iter::empty())
    } else {
        builder
    };
    builder.build().context("building the HTTP client")
}

/// An alloy RPC client for `url` whose every call ends after
/// [`call_timeout`].
pub fn client(url: &str) -> anyhow::Result<RpcClient> {
    client_with(url, call_timeout())
}

/// An alloy RPC client for `url` whose every call ends after `limit`.
fn client_with(url: &str, limit: Duration) -> anyhow::Result<RpcClient> {
    let parsed: reqwest::Url = url
        .parse()
        .with_context(|| format!("{url:?} is not a URL"))?;
    let inner = Http::with_client(http_client(url)?, parsed);
    let is_local = inner.guess_local();
    let timed = Timed {
        inner,
        url: url.to_string(),
        limit,
    };
    Ok(RpcClient::new(timed, is_local))
}

/// The HTTP transport with a time limit and the call named in its errors.
#[derive(Clone, Debug)]
struct Timed {
    inner: Http<reqwest::Client>,
    url: String,
    limit: Duration,
}

impl Service<RequestPacket> for Timed {
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: RequestPacket) -> Self::Future {
        let calls = req.method_names().collect::<Vec<_>>().join(", ");
        let (url, limit) = (self.url.clone(), self.limit);
        let answer = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(limit, answer).await {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(e)) => Err(TransportErrorKind::custom_str(&format!(
                    "{calls} on {url}: {e}"
                ))),
                Err(_) => Err(TransportErrorKind::custom_str(&format!(
                    "{calls} on {url}: no answer within {} s (is the node stalled? {TIMEOUT_ENV} sets the limit)",
                    limit.as_secs()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::providers::{Provider, ProviderBuilder};
    use std::net::TcpListener;

    #[tokio::test]
    async fn a_node_that_never_answers_fails_the_call_naming_it() {
        // A real socket that accepts connections and never answers.
        let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", stalled.local_addr().unwrap());
        let limit = Duration::from_secs(1);
        let provider = ProviderBuilder::new().connect_client(client_with(&url, limit).unwrap());
        let started = std::time::Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(30), provider.get_block_number())
            .await
            .expect("the call ends by itself")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("eth_blockNumber on http://127.0.0.1:"),
            "{err}"
        );
        assert!(err.contains("no answer within"), "{err}");
        assert!(started.elapsed() < limit + Duration::from_secs(3));
    }
}
