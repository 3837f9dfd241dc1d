//! A JSON-RPC handle to one client endpoint (a member's `eth,net,web3`, or
//! an endpoint given with `bench --rpc`); orchestration talks to nodes over
//! IPC instead (`Runtime::admin_call`). Built on alloy's RPC client; every call
//! carries a timeout so no loop that talks to a node can hang.

use std::borrow::Cow;
use std::time::Duration;

use alloy::rpc::client::RpcClient;
use alloy::rpc::json_rpc::RpcRecv;
use anyhow::{anyhow, Context};
use serde_json::Value;

/// Default time one call may take.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A JSON-RPC endpoint.
#[derive(Clone, Debug)]
pub struct Rpc {
    url: String,
    client: RpcClient,
}

impl Rpc {
    /// A client for an HTTP endpoint such as `http://127.0.0.1:8545`.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let parsed = url
            .parse()
            .with_context(|| format!("{url:?} is not a URL"))?;
        // No system CA store for a plain-HTTP node (see `http_client`).
        let http = alloy::transports::http::Http::with_client(
            crate::rpc_timeout::http_client(url)?,
            parsed,
        );
        let local = http.guess_local();
        Ok(Self {
            url: url.to_string(),
            client: RpcClient::new(http, local),
        })
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params`, failing after [`CALL_TIMEOUT`] (or the
    /// shorter limit of `MEDCHAIN_RPC_TIMEOUT_SECS`).
    ///
    /// The answer is deserialised straight into `T` (no intermediate JSON
    /// value), which matters for the bench's observer: it reads every
    /// block and every receipt of a run.
    pub async fn call<T: RpcRecv>(&self, method: &'static str, params: Value) -> anyhow::Result<T> {
        let fut = self
            .client
            .request::<Value, T>(Cow::Borrowed(method), params);
        // MEDCHAIN_RPC_TIMEOUT_SECS may only shorten it.
        let limit = CALL_TIMEOUT.min(crate::rpc_timeout::call_timeout());
        tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| anyhow!("{method} on {} timed out after {limit:?}", self.url))?
            .map_err(|e| anyhow!("{method} on {}: {e}", self.url))
    }
}

/// The public key part of `enode://<key>@host:port`.
pub(crate) fn enode_key(enode: &str) -> Option<String> {
    let rest = enode.strip_prefix("enode://")?;
    Some(rest.split('@').next()?.to_ascii_lowercase())
}

/// Parses a JSON-RPC quantity such as `0x1a`.
pub(crate) fn parse_hex_u64(s: &str) -> anyhow::Result<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16)
        .with_context(|| format!("{s:?} is not a hex quantity"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_quantities_parse() {
        assert_eq!(parse_hex_u64("0x1a").unwrap(), 26);
        assert_eq!(parse_hex_u64("0x0").unwrap(), 0);
        assert!(parse_hex_u64("zz").is_err());
        assert_eq!(
            enode_key("enode://AbC@127.0.0.1:30303?discport=0").as_deref(),
            Some("abc")
        );
    }
}
