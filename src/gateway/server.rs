//! The gateway's HTTP(S) server: accepts at most `--max-connections`
//! connections, speaks TLS (rustls) unless plaintext was allowed, and
//! answers `POST /` JSON-RPC bodies:
//!
//! 1. no `Authorization: Bearer <token>` of this hospital → HTTP 401;
//! 2. a body over `--max-body-kib` → HTTP 413;
//! 3. not JSON / not a call / a batch over 100 calls → HTTP 400;
//! 4. more than the client's rate allows → HTTP 429 with `Retry-After`;
//! 5. each call outside the allow-list, an unbounded `eth_getLogs`, or a
//!    raw transaction not signed by the token's device → a JSON-RPC error
//!    for that call (HTTP 200, as geth answers an unknown method); the
//!    others are forwarded to the member node and their answers merged
//!    back in order;
//! 6. the member not answering → HTTP 502.
//!
//! On a private network it also answers `PUT /store/<cid>` (a device's
//! sealed reading, see [`store_put`]) after the same token and rate
//! checks.
//!
//! Every request is written to the access log.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::access_log::{AccessLog, Entry};
use super::allow::{self, RpcError, INVALID_REQUEST};
use super::options::{Options, Tls};
use super::rate::{retry_after_secs, RateLimiter};
use super::tokens::{self, Accepted, Client};
use super::upstream::Upstream;
use super::{binding, mqtt, store_put, tls};
use crate::privacy::store::{BlobStore, FileStore};

/// Time for a TLS handshake and for a request's headers.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for a request's body.
const BODY_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest a connection stays open (keep-alive included).
const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// Most bytes of a too-large body read (and discarded) before answering 413.
const DRAIN_MAX: usize = 1024 * 1024;
/// Requests per second, and at once, one address may make without a
/// valid token before it gets 429 instead of 401.
const STRANGER_RATE: f64 = 2.0;
const STRANGER_BURST: u32 = 20;
/// JSON-RPC code of whole-request refusals (auth, limits).
const REFUSED: i64 = -32001;
/// JSON-RPC code when the member does not answer.
const UPSTREAM_ERROR: i64 = -32603;

/// The token store file's inode, modification time and length when last
/// read (it is replaced by a rename on every change, so the inode alone
/// tells a rewrite of the same length within one clock tick).
type Stamp = Option<(u64, SystemTime, u64)>;

/// The token store, re-read when the file changes (so `device provision`
/// and `gateway token add` take effect without a restart).
struct TokenCache {
    path: PathBuf,
    hospital: String,
    current: Mutex<(Stamp, Arc<Accepted>)>,
}

impl TokenCache {
    fn accepted(&self) -> Arc<Accepted> {
        use std::os::unix::fs::MetadataExt;
        let stamp = std::fs::metadata(&self.path).ok().map(|m| {
            (
                m.ino(),
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                m.len(),
            )
        });
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.0 != stamp || stamp.is_none() && !cur.1.is_empty() {
            match tokens::load(&self.path) {
                Ok(file) => {
                    *cur = (
                        stamp,
                        Arc::new(Accepted::for_hospital(&file, &self.hospital)),
                    )
                }
                Err(e) => eprintln!("medchain gateway: keeping the previous tokens: {e:#}"),
            }
        }
        cur.1.clone()
    }
}

/// What every connection shares.
struct Shared {
    tokens: TokenCache,
    limiter: RateLimiter,
    /// Per peer address, for requests without a valid token.
    strangers: RateLimiter,
    log: Arc<AccessLog>,
    upstream: Upstream,
    max_body: usize,
    /// The network's store of sealed readings, on a private network.
    store: Option<FileStore>,
}

/// A bound gateway, not yet serving.
pub struct Gateway {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    max_connections: usize,
    /// The MQTT bridge, with `--mqtt`.
    bridge: Option<mqtt::Bridge>,
    /// What it serves, for the operator.
    pub ready: Ready,
}

/// What the operator is told once the gateway listens.
#[derive(Debug, Clone)]
pub struct Ready {
    /// `https://addr` (or `http://` for plaintext).
    pub url: String,
    /// The member fronted and its endpoint.
    pub node: String,
    /// The member's endpoint.
    pub upstream: String,
    /// The certificate served, when TLS.
    pub served: Option<tls::Served>,
    /// The token store.
    pub tokens: PathBuf,
    /// Clients of this hospital in it now.
    pub clients: usize,
    /// The access log.
    pub access_log: PathBuf,
    /// With `--mqtt`: the broker's URL and the topics subscribed to.
    pub mqtt: Option<(String, String)>,
}

/// Checks the member answers, prepares TLS, the token store and the access
/// log, and binds the listening socket.
pub async fn start(o: Options) -> anyhow::Result<Gateway> {
    let rpc = crate::rpc::Rpc::new(&o.upstream)?;
    rpc.call::<Value>("eth_chainId", json!([]))
        .await
        .with_context(|| {
            format!(
            "node {} ({}) does not answer; is network {} running? (medchain status, medchain up)",
            o.node, o.upstream, o.network
        )
        })?;
    let served = match &o.req.tls {
        Tls::Plaintext => None,
        Tls::Provided { cert, key } => Some(tls::provided(cert, key)?),
        Tls::Generate(names) => Some(tls::issue_server_cert(
            &o.net_dir,
            &o.network,
            &o.req.hospital,
            names,
        )?),
    };
    let acceptor = match &served {
        Some(s) => Some(tokio_rustls::TlsAcceptor::from(tls::server_config(s)?)),
        None => None,
    };
    let token_path = tokens::store_path(&o.net_dir);
    let cache = TokenCache {
        path: token_path.clone(),
        hospital: o.req.hospital.clone(),
        current: Mutex::new((None, Arc::new(Accepted::default()))),
    };
    let clients = cache.accepted().len();
    let log = Arc::new(AccessLog::open(&o.access_log, !o.req.quiet)?);
    let upstream = Upstream::new(&o.upstream)?;
    let bridge = mqtt_bridge(&o, &upstream, &log).await?;
    let listener = TcpListener::bind(o.req.listen).await.with_context(|| {
        format!(
            "--listen {}: cannot listen there (in use, or not an address of this host)",
            o.req.listen
        )
    })?;
    let local = listener.local_addr()?;
    let scheme = if served.is_some() { "https" } else { "http" };
    Ok(Gateway {
        listener,
        tls: acceptor,
        max_connections: o.req.max_connections,
        ready: Ready {
            url: format!("{scheme}://{local}"),
            node: o.node,
            upstream: o.upstream,
            served,
            tokens: token_path,
            clients,
            access_log: o.access_log,
            mqtt: bridge.as_ref().map(|b| (b.url.clone(), b.filter.clone())),
        },
        bridge,
        shared: Arc::new(Shared {
            tokens: cache,
            limiter: RateLimiter::new(o.req.rate, o.req.burst),
            strangers: RateLimiter::new(STRANGER_RATE, STRANGER_BURST),
            log,
            upstream,
            max_body: o.req.max_body,
            store: o.private.then(|| FileStore::open(&o.net_dir)).transpose()?,
        }),
    })
}

/// With `--mqtt`, the bridge to the network's broker, connected and
/// subscribed.
async fn mqtt_bridge(
    o: &Options,
    upstream: &Upstream,
    log: &Arc<AccessLog>,
) -> anyhow::Result<Option<mqtt::Bridge>> {
    if !o.req.mqtt {
        return Ok(None);
    }
    let bridge = mqtt::connect(mqtt::BridgeConfig {
        network: o.network.clone(),
        hospital: o.req.hospital.clone(),
        net_dir: o.net_dir.clone(),
        upstream: upstream.clone(),
        limiter: RateLimiter::new(o.req.rate, o.req.burst),
        log: log.clone(),
    })
    .await?;
    Ok(Some(bridge))
}

impl Gateway {
    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let slots = Arc::new(Semaphore::new(self.max_connections));
        // Ends with this function (aborted on drop).
        let _bridge = self.bridge.map(|b| crate::task::Owned::spawn(b.run()));
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => p?,
                () = &mut shutdown => return Ok(()),
            };
            let (stream, peer) = tokio::select! {
                a = self.listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait, don't spin.
                        eprintln!("medchain gateway: accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => return Ok(()),
            };
            let (tls, shared) = (self.tls.clone(), self.shared.clone());
            tokio::spawn(async move {
                connection(stream, peer, tls, shared).await;
                drop(permit);
            });
        }
    }
}

/// One connection: TLS handshake, then HTTP/1.1 requests, all bounded in
/// time.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let _ = stream.set_nodelay(true);
    let svc = hyper::service::service_fn(move |req| {
        let s = shared.clone();
        async move { Ok::<_, Infallible>(handle(req, peer, &s).await) }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .max_buf_size(64 * 1024);
    match tls {
        Some(acceptor) => {
            let Ok(Ok(s)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let conn = http.serve_connection(TokioIo::new(s), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        }
        None => {
            let conn = http.serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        }
    }
}

/// What the access log records about a request besides its status.
#[derive(Default)]
struct Seen {
    client: Option<String>,
    methods: Option<String>,
    note: Option<String>,
}

async fn handle(req: Request<Incoming>, peer: SocketAddr, s: &Shared) -> Response<Full<Bytes>> {
    let start = Instant::now();
    let mut seen = Seen::default();
    let resp = respond(req, peer, s, &mut seen).await;
    s.log.write(&Entry {
        peer,
        client: seen.client.as_deref(),
        methods: seen.methods.as_deref(),
        status: resp.status().as_u16(),
        latency: start.elapsed(),
        note: seen.note.as_deref(),
    });
    resp
}

/// A response with a JSON body.
fn reply(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// A whole-request refusal: `status` with a JSON-RPC error (id null).
fn refuse(status: StatusCode, code: i64, message: &str, seen: &mut Seen) -> Response<Full<Bytes>> {
    seen.note = Some(message.to_string());
    let body = RpcError::new(code, message).response(&Value::Null);
    reply(status, body.to_string().into_bytes())
}

/// The client a request's bearer token belongs to.
fn authenticate(req: &Request<Incoming>, s: &Shared) -> Option<Client> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    s.tokens.accepted().verify(token.trim())
}

async fn respond(
    req: Request<Incoming>,
    peer: SocketAddr,
    s: &Shared,
    seen: &mut Seen,
) -> Response<Full<Bytes>> {
    let put = req.method() == Method::PUT && req.uri().path().starts_with(store_put::PREFIX);
    if req.method() != Method::POST && !put {
        let mut r = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            REFUSED,
            "only POST (and PUT /store/<cid>) is served",
            seen,
        );
        r.headers_mut()
            .insert("allow", HeaderValue::from_static("POST, PUT"));
        return r;
    }
    if !put && req.uri().path() != "/" {
        return refuse(StatusCode::NOT_FOUND, REFUSED, "only / is served", seen);
    }
    let client = match authorized(&req, peer, s, seen) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if put {
        return store(req, s, &client, seen).await;
    }
    seen.client = Some(client.name.clone());
    let body = match read_body(req, s.max_body).await {
        Ok(b) => b,
        Err((status, msg)) => return refuse(status, REFUSED, &msg, seen),
    };
    let mut parsed = match allow::parse(&body) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.code, &e.message, seen),
    };
    seen.methods = Some(allow::methods(&parsed));
    if let Some(r) = rate_limit(s, &client, parsed.calls.len(), seen) {
        return r;
    }
    for c in parsed.calls.iter_mut().filter(|c| c.verdict.is_ok()) {
        c.verdict = binding::check(client.device, &c.method, c.raw.get("params"));
    }
    let refused: Vec<String> = parsed
        .calls
        .iter()
        .filter_map(|c| {
            c.verdict
                .as_ref()
                .err()
                .map(|e| format!("{}: {}", c.method, e.message))
        })
        .collect();
    if !refused.is_empty() {
        seen.note = Some(format!("refused {}", refused.join("; ")));
    }
    match s.upstream.forward(&parsed).await {
        Ok(body) => reply(StatusCode::OK, body),
        Err(msg) => refuse(StatusCode::BAD_GATEWAY, UPSTREAM_ERROR, &msg, seen),
    }
}

/// The client of a request with a valid token of this hospital, else the
/// 401 (or 429 for an address sending too many requests without one).
#[allow(clippy::result_large_err)]
fn authorized(
    req: &Request<Incoming>,
    peer: SocketAddr,
    s: &Shared,
    seen: &mut Seen,
) -> Result<Client, Response<Full<Bytes>>> {
    let Some(client) = authenticate(req, s) else {
        let now = Instant::now();
        if let Err(wait) = s.strangers.check(&peer.ip().to_string(), 1, now) {
            let secs = retry_after_secs(wait);
            let msg = format!(
                "too many requests without a valid token from {}; retry after {secs} s",
                peer.ip()
            );
            let mut r = refuse(StatusCode::TOO_MANY_REQUESTS, REFUSED, &msg, seen);
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            return Err(r);
        }
        let mut r = refuse(
            StatusCode::UNAUTHORIZED,
            REFUSED,
            "unauthorized: send Authorization: Bearer <token> with a token of this hospital's gateway",
            seen,
        );
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=\"medchain\""),
        );
        return Err(r);
    };
    Ok(client)
}

/// `PUT /store/<cid>` ([`store_put`]): a sealed reading into the
/// network's store, for a client of this hospital within its rate.
async fn store(
    req: Request<Incoming>,
    s: &Shared,
    client: &Client,
    seen: &mut Seen,
) -> Response<Full<Bytes>> {
    seen.client = Some(client.name.clone());
    seen.methods = Some("PUT /store".to_string());
    let Some(store) = &s.store else {
        let msg = "this network keeps records in clear (privacy: clear): it has no store";
        return refuse(StatusCode::NOT_FOUND, REFUSED, msg, seen);
    };
    if let Some(r) = rate_limit(s, client, 1, seen) {
        return r;
    }
    let path = req.uri().path().to_string();
    let body = match read_body(req, s.max_body).await {
        Ok(b) => b,
        Err((status, msg)) => return refuse(status, REFUSED, &msg, seen),
    };
    if let Err((status, msg)) = store_put::check(&path, &body) {
        return refuse(status, REFUSED, &msg, seen);
    }
    match store.put(&body).await {
        Ok(cid) => {
            seen.note = Some(format!("stored {cid}"));
            let body = json!({ "cid": cid.to_string() }).to_string();
            reply(StatusCode::CREATED, body.into_bytes())
        }
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            UPSTREAM_ERROR,
            &format!("{e:#}"),
            seen,
        ),
    }
}

/// The body, at most `max` bytes, within [`BODY_TIMEOUT`]. A larger body
/// is read on and discarded up to [`DRAIN_MAX`] bytes before the 413, so
/// the client is not cut off while still sending and gets the answer.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, (StatusCode, String)> {
    let too_big = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body over {} KiB", max / 1024),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_MAX as u64) {
        return Err(too_big());
    }
    let mut body = req.into_body();
    let read = async {
        let (mut buf, mut seen) = (Vec::new(), 0usize);
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| (StatusCode::BAD_REQUEST, format!("reading the body: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            seen += data.len();
            if seen > DRAIN_MAX {
                break;
            }
            if seen <= max {
                buf.extend_from_slice(&data);
            }
        }
        if seen > max {
            Err(too_big())
        } else {
            Ok(Bytes::from(buf))
        }
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| {
            Err((
                StatusCode::REQUEST_TIMEOUT,
                "request body too slow".to_string(),
            ))
        })
}

/// The 429 (or 400 for a batch larger than the burst) when the client is
/// over its rate.
fn rate_limit(
    s: &Shared,
    client: &Client,
    cost: usize,
    seen: &mut Seen,
) -> Option<Response<Full<Bytes>>> {
    let burst = s.limiter.burst() as usize;
    if cost > burst {
        let msg = format!("batch of {cost} calls is larger than the gateway's --burst {burst}");
        return Some(refuse(StatusCode::BAD_REQUEST, INVALID_REQUEST, &msg, seen));
    }
    let wait = s
        .limiter
        .check(&client.name, cost as u32, Instant::now())
        .err()?;
    let secs = retry_after_secs(wait);
    let msg = format!(
        "rate limit: {} over its request rate; retry after {secs} s",
        client.name
    );
    let mut r = refuse(StatusCode::TOO_MANY_REQUESTS, REFUSED, &msg, seen);
    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::tokens::NewClient;

    #[test]
    fn the_token_cache_follows_every_rewrite_of_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = tokens::store_path(dir.path());
        let cache = TokenCache {
            path: path.clone(),
            hospital: "h".into(),
            current: Mutex::new((None, Arc::new(Accepted::default()))),
        };
        assert!(cache.accepted().is_empty(), "no store yet");
        let client = |n: &str| NewClient {
            name: n.into(),
            hospital: "h".into(),
            device: None,
        };
        let first = tokens::issue(&path, &[client("a")]).unwrap();
        assert!(cache.accepted().verify(&first[0]).is_some());
        // Re-issued at once: same length, maybe the same mtime tick.
        let second = tokens::issue(&path, &[client("a")]).unwrap();
        let now = cache.accepted();
        assert!(now.verify(&first[0]).is_none(), "the old token is gone");
        assert!(now.verify(&second[0]).is_some());
        std::fs::remove_file(&path).unwrap();
        assert!(
            cache.accepted().is_empty(),
            "a deleted store accepts no one"
        );
    }
}
