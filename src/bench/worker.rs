//! One bench worker: its account (key, local nonce, device sequence), the
//! node it sends to, and what it does with each request and answer as the
//! open-loop scheduler ([`super::pipeline`]) drives it.
//!
//! Failover and nonce semantics: a worker whose node stops answering moves
//! to the next target ([`Targets`]), reads its pending nonce there and
//! resubmits once what vanished with the dead node's pool; a transaction
//! the node refuses leaves its nonce as a hole, so the worker reads its
//! nonce again and refills the hole before sending new nonces, skipping
//! those the node still holds. Both happen with nothing in flight.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use alloy::primitives::B256;
use serde_json::{json, Value};

use super::failover::{CallError, Targets};
use super::observer::Tracker;
use super::pipeline::{Job, Work};
use super::private::{self, PrivateBench};
use super::result::Cause;
use super::scenario::Workload;
use super::signer::{sign, TxSigner};
use super::transport::{Answer, Link};
use super::workload::{self, Env};

/// Transactions each worker remembers after sending them, so that those
/// that vanish with a dead node's pool can be resubmitted.
const SENT_LOG: usize = 4096;

/// A transaction a worker sent (or may have: the node went while it was
/// being sent).
#[derive(Debug, Clone)]
struct Sent {
    nonce: u64,
    hash: B256,
    raw: Vec<u8>,
    /// Resubmitted once already.
    resent: bool,
}

/// One sender.
#[derive(Debug)]
pub struct Worker {
    /// Index.
    pub index: usize,
    /// Key (libsecp256k1: the hot path signs with it).
    pub signer: TxSigner,
    /// Next new nonce (tracked locally).
    pub nonce: u64,
    /// Next device sequence number (`add-record`).
    pub sequence: u64,
    /// The target (index in the run's targets) it sends to; it moves to
    /// the next one when its node stops answering.
    pub target: usize,
    /// What it sent lately, oldest first (at most [`SENT_LOG`]).
    sent: VecDeque<Sent>,
    /// Nonces above a hole that the node holds already: skipped once the
    /// hole is refilled.
    skip: BTreeSet<u64>,
    /// On the private path: the account as a device of its own synthetic
    /// patient (records workloads seal to that patient's key).
    pub private: Option<super::private::Device>,
}

impl Worker {
    /// A worker whose next nonce is `nonce`, sending to `target`.
    pub(crate) fn new(index: usize, signer: TxSigner, nonce: u64, target: usize) -> Self {
        Self {
            index,
            signer,
            nonce,
            sequence: 1,
            target,
            sent: VecDeque::new(),
            skip: BTreeSet::new(),
            private: None,
        }
    }

    /// The nonce the next transaction gets: the local one, moved past
    /// those the node already holds.
    fn next_nonce(&mut self) -> u64 {
        while let Some(&n) = self.skip.first() {
            if n > self.nonce {
                break;
            }
            if n == self.nonce {
                self.nonce += 1;
            }
            self.skip.pop_first();
        }
        self.nonce
    }

    /// Remembers a transaction the node took (or may have taken).
    fn log(&mut self, nonce: u64, hash: B256, raw: Vec<u8>) {
        if self.sent.len() >= SENT_LOG {
            self.sent.pop_front();
        }
        self.sent.push_back(Sent {
            nonce,
            hash,
            raw,
            resent: false,
        });
    }
}

/// What a round's worker tasks share.
pub(crate) struct Shared {
    /// The round's workload.
    pub workload: Workload,
    /// What calls depend on.
    pub env: Arc<Env>,
    /// Chain id for signing.
    pub chain_id: u64,
    /// Shared with the observer.
    pub tracker: Arc<Tracker>,
    /// The nodes workers send to.
    pub targets: Arc<Targets>,
    /// Most requests one worker keeps in flight.
    pub window: usize,
    /// The private path's network and store, when records workloads run
    /// on it.
    pub private: Option<Arc<PrivateBench>>,
}

/// A request ready to go.
pub(crate) enum Req {
    /// A signed transaction.
    Tx {
        nonce: u64,
        hash: B256,
        raw: Vec<u8>,
    },
    /// A read, and when it left.
    Read {
        call: workload::Call,
        started: Instant,
    },
}

/// What a worker must do before it sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Recovery {
    /// Read its nonce again (a refused transaction left a hole).
    Resync,
    /// Move to another target (its node did not answer).
    Failover,
}

/// A worker as the scheduler drives it during one round.
pub(crate) struct Sender<'a> {
    w: &'a mut Worker,
    sh: &'a Shared,
    link: Link,
    recovery: Option<Recovery>,
    /// The tracker's revert count when this device last read its key.
    reverts_seen: u64,
    /// Re-read the private patient's key before sealing again.
    refresh_key: bool,
}

impl<'a> Sender<'a> {
    /// `w` sending over a fresh link to its target.
    pub(crate) fn new(w: &'a mut Worker, sh: &'a Shared) -> Self {
        let link = Link::new(sh.targets.url(w.target), sh.targets.client());
        let reverts_seen = sh.tracker.reverts();
        Self {
            w,
            sh,
            link,
            recovery: None,
            reverts_seen,
            refresh_key: false,
        }
    }

    /// The call for `index`: the private path's for a records workload
    /// when the worker is a private device, else the workload's own.
    fn call(&self, index: u64) -> Option<workload::Call> {
        let w = &*self.w;
        match (&self.sh.private, &w.private, &self.sh.workload) {
            (Some(pb), Some(d), Workload::AddRecord) => {
                private::add_record(pb, d, w.signer.address(), (index, w.sequence), false)
            }
            (Some(pb), Some(d), Workload::GetRecords { limit }) => {
                Some(private::get_records(pb, d, *limit))
            }
            _ => Some(workload::call(
                &self.sh.workload,
                index,
                w.index,
                &self.sh.env,
                w.sequence,
            )),
        }
    }

    /// A private read's answer: the page's blobs fetched and opened (what
    /// a reader gets); a blob that does not open fails the read.
    fn opened(&self, a: &Result<Value, CallError>) -> Option<Cause> {
        let (Some(pb), Some(d), Ok(v)) = (&self.sh.private, &self.w.private, a) else {
            return None;
        };
        private::open_page(pb, d, v).err().map(|_| Cause::Rejected)
    }

    /// Whether a transaction reverted on chain since this private device
    /// last read its key (a revoke may have retired it): then it reads the
    /// key again before sealing the next reading.
    fn key_may_be_retired(&mut self) -> bool {
        let now = self.sh.tracker.reverts();
        if self.w.private.is_none() || now == self.reverts_seen {
            return false;
        }
        self.reverts_seen = now;
        self.refresh_key = true;
        true
    }

    fn needs(&mut self, r: Recovery) -> bool {
        self.recovery = self.recovery.max(Some(r));
        true
    }

    /// A transaction's answer: taken, or failed (and what to recover).
    fn tx_answered(
        &mut self,
        nonce: u64,
        hash: B256,
        raw: Vec<u8>,
        a: Result<Value, CallError>,
    ) -> bool {
        match a {
            Ok(_) => self.w.log(nonce, hash, raw),
            Err(e) if e.already_known() => self.w.log(nonce, hash, raw),
            Err(e) if e.cause == Cause::Unreachable => {
                if e.delivered {
                    self.w.log(nonce, hash, raw);
                } else {
                    self.sh.tracker.fail(hash, Cause::Unreachable);
                }
                return self.needs(Recovery::Failover);
            }
            Err(_) => {
                // Its nonce is now a hole the next transaction refills.
                self.sh.tracker.fail(hash, Cause::Rejected);
                return self.needs(Recovery::Resync);
            }
        }
        false
    }
}

impl Work for Sender<'_> {
    type Req = Req;

    fn prepare(&mut self, (index, _): Job) -> Option<Req> {
        let call = self.call(index)?;
        let w = &mut *self.w;
        if call.read {
            return Some(Req::Read {
                call,
                started: Instant::now(),
            });
        }
        let nonce = w.next_nonce();
        let (hash, raw) = sign(&w.signer, self.sh.chain_id, nonce, &call).ok()?;
        Some(Req::Tx { nonce, hash, raw })
    }

    async fn start(&mut self, req: &mut Req) -> Answer {
        match req {
            Req::Tx { nonce, hash, raw } => {
                self.sh.tracker.submit(*hash, Instant::now());
                self.w.nonce = *nonce + 1;
                if matches!(self.sh.workload, Workload::AddRecord) {
                    self.w.sequence += 1;
                }
                let raw = alloy::hex::encode_prefixed(raw);
                self.link
                    .start("eth_sendRawTransaction", json!([raw]), true)
                    .await
            }
            Req::Read { call, started } => {
                *started = Instant::now();
                let params = json!([{"from": self.w.signer.address(), "to": call.to, "data": call.input, "gas": format!("{:#x}", call.gas)}, "latest"]);
                self.link.start("eth_call", params, false).await
            }
        }
    }

    fn answered(&mut self, req: Req, a: Result<Value, CallError>) -> bool {
        match req {
            Req::Tx { nonce, hash, raw } => {
                let recover = self.tx_answered(nonce, hash, raw, a);
                self.key_may_be_retired() || recover
            }
            Req::Read { started, .. } => {
                let failed = match &a {
                    Ok(_) => self.opened(&a),
                    Err(e) if e.cause == Cause::Unreachable => Some(Cause::Unreachable),
                    Err(e) if e.reverted() => Some(Cause::Reverted),
                    Err(_) => Some(Cause::Rejected),
                };
                self.sh.tracker.read_done(started, failed);
                failed == Some(Cause::Unreachable) && self.needs(Recovery::Failover)
            }
        }
    }

    async fn recover(&mut self) {
        if std::mem::take(&mut self.refresh_key) {
            if let (Some(pb), Some(d)) = (&self.sh.private, self.w.private.as_mut()) {
                // A failed read keeps the cached key: its transactions
                // revert, and the next revert tries again.
                let _ = pb.refresh(d).await;
            }
        }
        let before = self.w.target;
        match self.recovery.take() {
            Some(Recovery::Resync) if resync(self.w, self.sh).await => {}
            Some(Recovery::Resync | Recovery::Failover) => failover(self.w, self.sh).await,
            None => {}
        }
        if self.w.target != before {
            self.link = Link::new(self.sh.targets.url(self.w.target), self.sh.targets.client());
        }
    }
}

/// Moves `w` to the next target (round-robin, skipping targets seen down)
/// and resynchronises it there; tries each target at most once.
pub(crate) async fn failover(w: &mut Worker, sh: &Shared) {
    for _ in 0..sh.targets.len() {
        w.target = sh.targets.next(w.target);
        if resync(w, sh).await {
            return;
        }
    }
}

/// The worker's pending nonce on its target (`None`: no answer).
pub(crate) async fn pending_nonce(w: &Worker, sh: &Shared) -> Option<u64> {
    let n: String = sh
        .targets
        .call(
            w.target,
            "eth_getTransactionCount",
            json!([w.signer.address(), "pending"]),
        )
        .await
        .ok()?;
    crate::rpc::parse_hex_u64(&n).ok()
}

/// Resynchronises `w` with its target: every remembered transaction at or
/// above the node's pending nonce is neither in the chain nor pending in
/// that node's pool; it is resubmitted, same nonce and hash (a retry when
/// the node did not hold it: it vanished with a dead node's pool; one that
/// vanished again fails as unreachable). The local nonce is then the
/// node's, and the nonces above a hole that the node holds are skipped,
/// so no gap stalls the worker. False when the node does not answer.
pub(crate) async fn resync(w: &mut Worker, sh: &Shared) -> bool {
    let Some(n) = pending_nonce(w, sh).await else {
        return false;
    };
    let target = w.target;
    let mut held = BTreeSet::new();
    for s in w.sent.iter_mut().filter(|s| s.nonce >= n) {
        if s.resent {
            sh.tracker.fail(s.hash, Cause::Unreachable);
            continue;
        }
        let raw = alloy::hex::encode_prefixed(&s.raw);
        match sh
            .targets
            .call::<serde_json::Value>(target, "eth_sendRawTransaction", json!([raw]))
            .await
        {
            Ok(_) => {
                s.resent = true;
                sh.tracker.retry(s.hash);
                held.insert(s.nonce);
            }
            Err(e) if e.already_known() => {
                held.insert(s.nonce);
            }
            Err(e) => {
                s.resent = true;
                sh.tracker.fail(s.hash, e.cause);
            }
        }
    }
    match pending_nonce(w, sh).await {
        Some(n) => {
            w.nonce = n;
            w.skip = held.split_off(&n);
            true
        }
        None => false,
    }
}
