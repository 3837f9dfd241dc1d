//! What every handler of the console shares: the live snapshot, the
//! endpoint, the sign-in state (nonces and sessions, server-side), and the
//! chain the signed-in views read — plus the one shape of an error answer.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::address_index::Index;
use super::chain::ChainRef;
use super::live::Feed;
use super::nonces::Nonces;
use super::session::Sessions;

/// The handlers' shared state.
#[derive(Clone)]
pub struct App {
    /// The live snapshot.
    pub feed: Feed,
    /// The network's client JSON-RPC endpoint.
    pub rpc_url: String,
    /// Sign-in nonces and sessions.
    pub auth: Arc<Auth>,
    /// The records contract and the network's directory; `None` when the
    /// network has no records contract deployed (only the public views work).
    pub chain: Option<ChainRef>,
    /// Served over TLS: `https` origins, `Secure` cookies.
    pub secure: bool,
    /// `Host` names besides loopback this console answers to.
    pub hosts: Vec<String>,
    /// The Explorer's index of transactions by address.
    pub history: Arc<tokio::sync::Mutex<Index>>,
}

/// Sign-in state, held by the server only.
#[derive(Debug)]
pub struct Auth {
    /// Issued nonces.
    pub nonces: Mutex<Nonces>,
    /// Live sessions.
    pub sessions: Mutex<Sessions>,
}

/// A JSON error answer: `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

impl App {
    /// `https` with TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.secure {
            "https"
        } else {
            "http"
        }
    }

    /// The chain, or the 503 saying why the signed-in views cannot work.
    #[allow(clippy::result_large_err)]
    pub fn chain(&self) -> Result<&ChainRef, Response> {
        self.chain.as_ref().ok_or_else(|| {
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "this network has no records contract, so there are no roles to sign in with; run `medchain deploy`, then restart the console",
            )
        })
    }
}
