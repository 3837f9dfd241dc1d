//! Alarms from `medchain watch` in the Doctor view, live.
//!
//! The mechanism is `watch`'s own journal: it writes every notice, before
//! any sink delivers it, to `<network dir>/watch/journal.jsonl` (clear
//! networks) or `<network dir>/watch/reader-<address>/journal.jsonl`
//! (private networks, one per reader). The console tails every such file
//! (polling every [`POLL`]) and streams each notice as a Server-Sent Event
//! `alarm` to a signed-in doctor — only when the contract lets that doctor
//! read the notice's patient (`canRead`, asked for each notice), so a
//! doctor sees alarms of their patients only. Notices seen through two
//! readers' journals are sent once (by `key`).
//!
//! | route | who | answer |
//! | --- | --- | --- |
//! | `GET /api/alarms` | doctor | the alarms so far, each with `acknowledged` |
//! | `GET /api/alarms/events` | doctor | the same, then each new one, as SSE `alarm` |
//! | `POST /api/alarms/ack` | doctor | `{key}`: acknowledged by this address ([`super::acks`]) |

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{Address, B256};
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};

use super::acks;
use super::app::{error, App};
use super::auth::{require, Signed};
use super::chain::ChainRef;
use super::roles::Role;

/// How often the journals are read for new notices.
pub const POLL: Duration = Duration::from_millis(250);

/// The routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/alarms", get(list))
        .route("/api/alarms/events", get(events))
        .route("/api/alarms/ack", post(ack))
}

/// Every journal `watch` may have written for the network.
pub fn journals(net_dir: &Path) -> Vec<PathBuf> {
    let w = net_dir.join("watch");
    let mut out = vec![w.join("journal.jsonl")];
    if let Ok(dir) = std::fs::read_dir(&w) {
        let mut readers: Vec<PathBuf> = dir
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("reader-"))
            .map(|e| e.path().join("journal.jsonl"))
            .collect();
        readers.sort();
        out.extend(readers);
    }
    out
}

/// A reader of the journals that remembers how far it read each one and
/// which notices it already gave out.
#[derive(Debug, Default)]
pub struct Tail {
    offsets: HashMap<PathBuf, usize>,
    seen: HashSet<String>,
}

impl Tail {
    /// The notices written since the last call (all of them the first time).
    pub fn next(&mut self, net_dir: &Path) -> Vec<Value> {
        let mut out = Vec::new();
        for j in journals(net_dir) {
            let Ok(text) = std::fs::read_to_string(&j) else {
                continue;
            };
            let from = self.offsets.get(&j).copied().unwrap_or(0).min(text.len());
            // Only whole lines: a line being written is read next time.
            let upto = text[from..].rfind('\n').map_or(from, |i| from + i + 1);
            for line in text[from..upto].lines() {
                let Ok(v) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                let key = format!(
                    "{}/{}",
                    v["kind"].as_str().unwrap_or(""),
                    v["key"].as_str().unwrap_or("")
                );
                if self.seen.insert(key) {
                    out.push(v);
                }
            }
            self.offsets.insert(j, upto);
        }
        out
    }
}

/// Whether `who` may read the notice's patient, by the contract.
async fn may_read(chain: &ChainRef, who: Address, notice: &Value) -> bool {
    let Some(patient) = notice["patient"]
        .as_str()
        .and_then(|p| p.parse::<B256>().ok())
    else {
        return false;
    };
    super::records::can_read(chain, patient, who)
        .await
        .unwrap_or(false)
}

/// The notices of `batch` `who` may see, each marked acknowledged or not.
async fn visible(chain: &ChainRef, who: Address, batch: Vec<Value>) -> Vec<Value> {
    let acked = acks::read(&chain.dir, who);
    let mut out = Vec::new();
    for mut n in batch {
        if may_read(chain, who, &n).await {
            let key = n["key"].as_str().unwrap_or("").to_string();
            n["acknowledged"] = json!(acked.contains(&key));
            out.push(n);
        }
    }
    out
}

async fn list(AxState(app): AxState<App>, Signed(s): Signed) -> Response {
    if let Err(r) = require(&s, &[Role::Doctor]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let all = Tail::default().next(&chain.dir);
    Json(json!({ "alarms": visible(chain, s.address, all).await })).into_response()
}

async fn events(AxState(app): AxState<App>, Signed(s): Signed) -> Response {
    if let Err(r) = require(&s, &[Role::Doctor]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c.clone(),
        Err(r) => return r,
    };
    Sse::new(stream(chain, s.address))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The SSE stream of one doctor: every notice it may see, as it arrives.
fn stream(chain: ChainRef, who: Address) -> impl Stream<Item = Result<Event, Infallible>> {
    let start = (Tail::default(), VecDeque::<Value>::new());
    futures::stream::unfold(start, move |(mut tail, mut queue)| {
        let chain = chain.clone();
        // Ends when the page goes away (axum drops the stream).
        async move {
            while queue.is_empty() {
                let batch = tail.next(&chain.dir);
                queue.extend(visible(&chain, who, batch).await);
                if queue.is_empty() {
                    tokio::time::sleep(POLL).await;
                }
            }
            let n = queue.pop_front()?;
            let ev = Event::default().event("alarm").data(n.to_string());
            Some((Ok(ev), (tail, queue)))
        }
    })
}

/// An acknowledgement.
#[derive(Debug, Deserialize)]
struct Ack {
    key: String,
}

async fn ack(AxState(app): AxState<App>, Signed(s): Signed, Json(a): Json<Ack>) -> Response {
    if let Err(r) = require(&s, &[Role::Doctor]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let all = Tail::default().next(&chain.dir);
    let known = visible(chain, s.address, all).await;
    if !known.iter().any(|n| n["key"] == a.key.as_str()) {
        return error(
            StatusCode::NOT_FOUND,
            format!("no alarm {:?} among this doctor's patients", a.key),
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match acks::add(&chain.dir, s.address, &a.key, now) {
        Ok(()) => Json(json!({ "key": a.key, "acknowledged": true })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}
