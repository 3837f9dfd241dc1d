//! The page's way to the node for the writes it signs itself: `POST
//! /api/rpc` relays one JSON-RPC request to the network's client endpoint
//! when its method is one of [`ALLOWED`] — what a wallet needs to prepare,
//! send and follow a transaction it signed (nonce, chain id, gas, fees, a
//! dry run for the revert reason, the raw transaction, its receipt) — and
//! refuses every other method (403), so the console is never a way to the
//! node's `admin_`, `personal_`, `debug_`, `miner_`, `clique_` or `txpool_`
//! namespaces, nor to `eth_sendTransaction` (which would ask the node to
//! sign with a key it holds). A raw transaction passes only when the
//! signed-in address signed it. Only for a signed-in session: the public
//! views need none of it. The node's answer (result or error, with the
//! revert data) is passed back as it is.

use alloy::primitives::Address;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::app::{error, App};
use super::auth::Signed;
use crate::gateway::binding::sender;

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

async fn relay(AxState(app): AxState<App>, Signed(s): Signed, Json(req): Json<Value>) -> Response {
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
    if let Err(refused) = own_transaction(method, req.get("params"), s.address) {
        return refused;
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

/// A raw transaction is relayed only when the signed-in address signed it:
/// the console passes on a session's own writes, not anyone's.
#[allow(clippy::result_large_err)]
fn own_transaction(method: &str, params: Option<&Value>, me: Address) -> Result<(), Response> {
    if method != "eth_sendRawTransaction" {
        return Ok(());
    }
    let raw = params
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(Value::as_str)
        .unwrap_or("");
    match sender(raw) {
        Ok(from) if from == me => Ok(()),
        Ok(from) => Err(error(
            StatusCode::FORBIDDEN,
            format!("the console relays only transactions signed by the signed-in address {me:#x}, and this one is signed by {from:#x}"),
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            format!("eth_sendRawTransaction: {e}"),
        )),
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
