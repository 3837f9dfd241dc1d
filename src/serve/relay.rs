//! The page's way to the node for the writes it signs itself: `POST
//! /api/rpc` relays one JSON-RPC request to the network's client endpoint
//! when its method is one of [`ALLOWED`] — what a wallet needs to prepare,
//! send and follow a transaction it signed (nonce, chain id, gas, fees, a
//! dry run for the revert reason, the raw transaction, its receipt) — and
//! refuses every other method (403), so the console is never a way to the
//! node's `admin_`, `personal_`, `debug_`, `miner_`, `clique_` or `txpool_`
//! namespaces, nor to `eth_sendTransaction` (which would ask the node to
//! sign with a key it holds). Only for a signed-in session: the public
//! views need none of it. The node's answer (result or error, with the
//! revert data) is passed back as it is.

use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::app::{error, App};
use super::auth::Signed;

/// The methods the relay passes on; everything else is refused.
pub const ALLOWED: &[&str] = &[
    "eth_chainId",
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getTransactionCount",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_estimateGas",
    "eth_call",
    "eth_sendRawTransaction",
    "eth_getTransactionReceipt",
];

/// The relay's route.
pub fn routes() -> Router<App> {
    Router::new().route("/api/rpc", post(relay))
}

/// Whether the relay passes `method` on.
pub fn allowed(method: &str) -> bool {
    ALLOWED.contains(&method)
}

async fn relay(AxState(app): AxState<App>, Signed(_): Signed, Json(req): Json<Value>) -> Response {
    let method = req["method"].as_str().unwrap_or("");
    if !allowed(method) {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "the console relays only {} to the node, not {method:?}",
                ALLOWED.join(", ")
            ),
        );
    }
    let body = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": req.get("params").cloned().unwrap_or(json!([])),
    });
    let sent = async {
        let client = crate::rpc_timeout::http_client(&app.rpc_url)?;
        let r = client
            .post(&app.rpc_url)
            .timeout(std::time::Duration::from_secs(10))
            .json(&body)
            .send()
            .await?;
        anyhow::Ok(r.json::<Value>().await?)
    };
    match sent.await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the node did not answer {method}: {e:#}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_wallet_needs_is_relayed() {
        for ok in [
            "eth_call",
            "eth_sendRawTransaction",
            "eth_getTransactionReceipt",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "eth_sendTransaction",
            "personal_unlockAccount",
            "admin_addPeer",
            "debug_traceTransaction",
            "miner_start",
            "clique_propose",
            "eth_sign",
            "",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }
}
