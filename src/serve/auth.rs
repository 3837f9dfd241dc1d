//! The sign-in routes and what the role views use to know who asks.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /api/siwe/nonce` | a fresh nonce with what the message must say (domain, URI, chain id) |
//! | `POST /api/siwe/verify` | `{message, signature}`: 200 with the address and its on-chain roles and a session cookie; 400 unreadable; 401 refused (wrong signature, nonce used / expired / unknown, another domain or chain) |
//! | `POST /api/siwe/logout` | ends the session |
//! | `GET /api/session` | the session (`signed_in: true`), or `{"signed_in": false}` |
//!
//! [`Signed`] extracts the caller's session (401 without one) and
//! [`require`] turns a missing role into a 403 that names it.

use std::time::Instant;

use axum::extract::{FromRequestParts, State as AxState};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::app::{error, App};
use super::roles::{self, Role};
use super::session::{self, Session};
use super::signin::{self, Expect, Failure};

/// The sign-in routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/siwe/nonce", get(nonce))
        .route("/api/siwe/verify", post(verify))
        .route("/api/siwe/logout", post(logout))
        .route("/api/session", get(current))
}

/// The request's `Host` (already checked to be loopback by the guard).
fn host(h: &HeaderMap) -> String {
    h.get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

async fn nonce(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut nonces = app.auth.nonces.lock().expect("nonce table");
    let n = nonces.issue(Instant::now());
    let host = host(&headers);
    Json(json!({
        "nonce": n,
        "expires_in": nonces.ttl().as_secs(),
        "domain": host,
        "uri": format!("{}://{host}/", app.scheme()),
        "chain_id": chain.chain_id,
    }))
    .into_response()
}

/// A sign-in attempt.
#[derive(Debug, Deserialize)]
struct Attempt {
    /// The EIP-4361 message, exactly as signed.
    message: String,
    /// Its EIP-191 signature, 0x and 65 bytes.
    signature: String,
}

async fn verify(
    AxState(app): AxState<App>,
    headers: HeaderMap,
    Json(a): Json<Attempt>,
) -> Response {
    let chain = match app.chain() {
        Ok(c) => c.clone(),
        Err(r) => return r,
    };
    let host = host(&headers);
    let expect = Expect {
        host: &host,
        chain_id: chain.chain_id,
        scheme: app.scheme(),
    };
    let checked = {
        let mut nonces = app.auth.nonces.lock().expect("nonce table");
        let now = (Instant::now(), signin::wall_now());
        signin::check(&a.message, &a.signature, expect, &mut nonces, now)
    };
    let address = match checked {
        Ok(a) => a,
        Err(Failure::Malformed(m)) => return error(StatusCode::BAD_REQUEST, m),
        Err(Failure::Refused(m)) => return error(StatusCode::UNAUTHORIZED, m),
    };
    let roles = match roles::read(&chain, address).await {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_GATEWAY,
                format!("cannot read {address}'s roles from the chain: {e:#}"),
            )
        }
    };
    let mut sessions = app.auth.sessions.lock().expect("session table");
    let id = sessions.start(address, roles.clone(), Instant::now());
    let ttl = sessions.ttl();
    let body = json!({
        "address": address.to_checksum(None),
        "roles": roles,
        "role_names": roles.names(),
        "expires_in": ttl.as_secs(),
        "contract": chain.records.to_checksum(None),
        "chain_id": chain.chain_id,
    });
    (
        [(
            header::SET_COOKIE,
            session::set_cookie(&id, ttl, app.secure),
        )],
        Json(body),
    )
        .into_response()
}

/// The session id the request's cookie carries.
fn session_id(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    session::cookie(cookies, session::COOKIE).map(str::to_string)
}

async fn logout(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    let ended = session_id(&headers)
        .map(|id| app.auth.sessions.lock().expect("session table").end(&id))
        .unwrap_or(false);
    (
        [(header::SET_COOKIE, session::clear_cookie())],
        Json(json!({ "signed_out": ended })),
    )
        .into_response()
}

/// The live session the request's cookie names, if any.
fn lookup(app: &App, headers: &HeaderMap) -> Option<Session> {
    let id = session_id(headers)?;
    let mut sessions = app.auth.sessions.lock().expect("session table");
    sessions.get(&id, Instant::now())
}

/// Who is signed in: a 200 either way, so a page open to the public
/// views only does not log a failed request on every load.
async fn current(AxState(app): AxState<App>, headers: HeaderMap) -> Response {
    let Some(s) = lookup(&app, &headers) else {
        return Json(json!({ "signed_in": false })).into_response();
    };
    let names = s.roles.names();
    let mut v = serde_json::to_value(&s).unwrap_or_default();
    v["signed_in"] = json!(true);
    v["role_names"] = json!(names);
    v["address"] = json!(s.address.to_checksum(None));
    if let Some(c) = &app.chain {
        v["contract"] = json!(c.records.to_checksum(None));
        v["chain_id"] = json!(c.chain_id);
    }
    Json(v).into_response()
}

/// The caller's live session; a request without one is answered 401.
pub struct Signed(pub Session);

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        lookup(app, &parts.headers)
            .map(Signed).ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "sign in first: this view needs a signed-in address (Sign-In with Ethereum), and there is no live session (none yet, signed out, or expired)",
            )
        })
    }
}

/// Ok when the session holds one of `roles`, else the 403 naming them.
#[allow(clippy::result_large_err)]
pub fn require(s: &Session, roles: &[Role]) -> Result<(), Response> {
    if roles.iter().any(|r| s.roles.has(*r)) {
        return Ok(());
    }
    let want: Vec<&str> = roles.iter().map(|r| r.name()).collect();
    let has = s.roles.names();
    Err(error(
        StatusCode::FORBIDDEN,
        format!(
            "this view needs the {} role; {} has {} on chain",
            want.join(" or "),
            s.address,
            if has.is_empty() {
                "no role".to_string()
            } else {
                format!("only: {}", has.join(", "))
            }
        ),
    ))
}
