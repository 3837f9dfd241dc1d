//! The console's HTTP surface: the page and its assets, the public JSON
//! API and the live event stream.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /`, `/app.js`, `/views.js`, `/wallet.js`, `/app.css` | the front end (compiled in); `/favicon.ico`: 204 |
//! | `GET /api/network` | the latest [`Snapshot`] |
//! | `GET /api/events` | every new snapshot, as Server-Sent Events `snapshot` |
//! | `GET /api/block/{number}` | one block's summary and transaction hashes |
//! | `GET /api/tx/{hash}` | the transaction decoded (calls and events of medchain's contracts) |
//! | `GET /api/address/{address}?page=N` | the address's transactions, newest first ([`super::history`]) |
//!
//! Sign-in ([`super::auth`]), the patient and doctor views
//! ([`super::records`]) and the benchmark reports ([`super::reports`])
//! add their own routes.
//!
//! Every answer carries a strict Content-Security-Policy (no script or
//! style from anywhere but the console itself), and a request whose `Host`
//! is not a loopback name is refused (421), so a web page elsewhere cannot
//! reach the console through DNS rebinding. A request that changes state
//! (any method but GET and HEAD) from a page of another origin is refused
//! (403): with the SameSite=Strict session cookie, that closes cross-site
//! request forgery.

use std::convert::Infallible;
use std::sync::Arc;

use alloy::primitives::B256;
use axum::extract::{Path, Request, State as AxState};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use serde_json::{json, Value};

use tokio_stream::wrappers::WatchStream;
use tokio_stream::StreamExt;

use super::app::error;
pub use super::app::App;
use super::live::Snapshot;
use super::view::BlockSummary;
use super::{alarms, assets, auth, consent_inputs, history, records, relay, reports};
use crate::rpc::Rpc;

/// The console's router.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/", get(|| async { assets::page(assets::INDEX) }))
        .route("/app.js", get(|| async { assets::page(assets::APP_JS) }))
        .route("/app.css", get(|| async { assets::page(assets::APP_CSS) }))
        .route(
            "/wallet.js",
            get(|| async { assets::page(assets::WALLET_JS) }),
        )
        .route(
            "/views.js",
            get(|| async { assets::page(assets::VIEWS_JS) }),
        )
        .route(
            "/writes.js",
            get(|| async { assets::page(assets::WRITES_JS) }),
        )
        .route(
            "/alarms.js",
            get(|| async { assets::page(assets::ALARMS_JS) }),
        )
        // No icon: an empty answer rather than a 404 in every page's log.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/network", get(network))
        .route("/api/events", get(events))
        .route("/api/block/{number}", get(block))
        .route("/api/tx/{hash}", get(tx))
        .merge(auth::routes())
        .merge(records::routes())
        .merge(reports::routes())
        .merge(relay::routes())
        .merge(consent_inputs::routes())
        .merge(alarms::routes())
        .merge(history::routes())
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Refuses `Host` headers that are neither loopback nor one of the
/// console's `--tls-name`s; adds the security headers.
async fn guard(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) && !named_host(host, &app.hosts) {
        return error(
            StatusCode::MISDIRECTED_REQUEST,
            format!("Host {host:?} is not this console's loopback address"),
        );
    }
    if let Some(refused) = foreign_origin(&req, host, app.scheme()) {
        return refused;
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A report served under its own, stricter policy keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// The 403 for a state-changing request whose `Origin` is not this
/// console (`<scheme>://<Host>`). GET and HEAD pass (they change nothing), and
/// so does a request without `Origin`: browsers send one with every
/// cross-origin POST, so only non-browser clients omit it.
fn foreign_origin(req: &Request, host: &str, scheme: &str) -> Option<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return None;
    }
    let origin = req.headers().get(header::ORIGIN)?.to_str().unwrap_or("");
    (origin != format!("{scheme}://{host}")).then(|| {
        error(
            StatusCode::FORBIDDEN,
            format!("a request from origin {origin:?} may not change this console's state"),
        )
    })
}

/// `127.0.0.1[:port]`, `localhost[:port]` or `[::1][:port]`.
pub fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// `host` (with or without a port) is one of `names`.
fn named_host(host: &str, names: &[String]) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

async fn network(AxState(app): AxState<App>) -> Json<Snapshot> {
    Json((**app.feed.borrow()).clone())
}

async fn events(AxState(app): AxState<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = WatchStream::new(app.feed.clone()).map(|s: Arc<Snapshot>| {
        let data = serde_json::to_string(&*s).unwrap_or_else(|_| "{}".into());
        Ok(Event::default().event("snapshot").data(data))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn block(AxState(app): AxState<App>, Path(number): Path<String>) -> Response {
    let Ok(n) = number.parse::<u64>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("block {number:?}: expected a block number, e.g. 12"),
        );
    };
    let got: anyhow::Result<Value> = async {
        Rpc::new(&app.rpc_url)?
            .call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
            .await
    }
    .await;
    match got {
        Ok(v) if v.is_null() => error(
            StatusCode::NOT_FOUND,
            format!("block {n} does not exist yet"),
        ),
        Ok(v) => match BlockSummary::of(&v, None) {
            Some(b) => Json(b).into_response(),
            None => error(
                StatusCode::BAD_GATEWAY,
                format!("block {n}: the node's answer is not a block"),
            ),
        },
        Err(e) => error(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

async fn tx(AxState(app): AxState<App>, Path(hash): Path<String>) -> Response {
    let Ok(h) = hash.parse::<B256>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("transaction {hash:?}: expected a 0x-prefixed 32-byte hash"),
        );
    };
    match crate::txinfo::explain(&app.rpc_url, h).await {
        Ok(info) => Json(info).into_response(),
        Err(e) if e.to_string().starts_with("no transaction") => {
            error(StatusCode::NOT_FOUND, format!("{e:#}"))
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_pass() {
        for ok in [
            "127.0.0.1:8700",
            "localhost:1",
            "[::1]:8700",
            "127.0.0.1",
            "localhost",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8700",
            "127.0.0.1.evil.example",
            "",
            "[::2]:1",
            "10.0.0.1:8700",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
