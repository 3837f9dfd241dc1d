//! The load engine: workers with their own funded accounts and local nonces
//! sign EIP-1559 transactions ahead of their send time and submit them raw;
//! a pacer hands out indices on the rate controller's schedule; the
//! observer measures what the chain did. Every loop is bounded by the
//! round's count or duration and a drain deadline.
//!
//! A worker whose node stops answering moves to the next target
//! ([`super::failover::Targets`]), reads its pending nonce there and
//! resubmits once what vanished with the dead node's pool; a nonce the node
//! disputes is read again, so no gap stalls a worker for the rest of the
//! run.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use super::failover::Targets;
use super::fleet::{self, Fleet};
use super::observer::Tracker;
use super::rate::{Decision, Feedback, Pacer};
use super::result::{summarize, Cause, RoundResult, RoundStats};
use super::scenario::{Length, Round, Workload};
use super::signer::{sign, TxSigner};
use super::workload::{self, Env};
use crate::contract::{confirm, signing_provider, MedicalRecords};
use crate::rpc::Rpc;

/// Ether each worker receives.
pub(crate) const WORKER_FUNDS_ETH: u64 = 10_000;
/// Jobs each worker may hold ahead of their send time.
const LOOKAHEAD: usize = 64;
/// How long a draining round may commit nothing before its workers are
/// rechecked.
const STALLED: Duration = Duration::from_secs(3);
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
    /// Next nonce (tracked locally).
    pub nonce: u64,
    /// Next device sequence number (`add-record`).
    pub sequence: u64,
    /// The target (index in the run's targets) it sends to; it moves to
    /// the next one when its node stops answering.
    pub target: usize,
    /// What it sent lately, oldest first (at most [`SENT_LOG`]).
    sent: VecDeque<Sent>,
}

impl Worker {
    /// The node took (or may have taken) `raw`, signed with the current
    /// nonce: the nonce and sequence move on and it is remembered.
    fn accepted(&mut self, hash: B256, raw: Vec<u8>, workload: &Workload) {
        if self.sent.len() >= SENT_LOG {
            self.sent.pop_front();
        }
        self.sent.push_back(Sent {
            nonce: self.nonce,
            hash,
            raw,
            resent: false,
        });
        self.nonce += 1;
        if matches!(workload, Workload::AddRecord) {
            self.sequence += 1;
        }
    }
}

/// Everything rounds share.
pub struct Engine {
    /// Chain id for signing.
    pub chain_id: u64,
    /// Workers (taken by a round's tasks and returned after it).
    pub workers: Vec<Worker>,
    /// Shared with the observer.
    pub tracker: Arc<Tracker>,
    /// The nodes workers send to.
    pub targets: Arc<Targets>,
    /// What calls depend on.
    pub env: Env,
    /// Seconds a round may wait for its last transactions after sending.
    pub drain: Duration,
    /// Ctrl-C.
    pub cancel: Arc<Notify>,
    /// Set once cancelled.
    pub cancelled: Arc<std::sync::atomic::AtomicBool>,
    /// Simulated fleets of `device-fleet` rounds, by round label, set up
    /// before the first round.
    pub fleets: std::collections::HashMap<String, Fleet>,
}

/// Creates `n` worker keys, funds them from `funder` and, for medical
/// scenarios, registers each as hospital, authorized reader and device.
pub(crate) async fn setup_workers(
    funder: &PrivateKeySigner,
    funder_rpc: &str,
    targets: &[String],
    keys: Vec<PrivateKeySigner>,
    medical: Option<(Address, &Env)>,
) -> anyhow::Result<Vec<Worker>> {
    let provider = signing_provider(funder_rpc, funder)?;
    let mut hashes = Vec::new();
    for k in &keys {
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(k.address())
            .value(U256::from(WORKER_FUNDS_ETH) * U256::from(10u64).pow(U256::from(18u64)));
        let p = alloy::providers::Provider::send_transaction(&provider, tx)
            .await
            .context("funding a worker")?;
        hashes.push(*p.tx_hash());
    }
    if let Some((mr, env)) = medical {
        let c = MedicalRecords::new(mr, provider.clone());
        for (w, k) in keys.iter().enumerate() {
            let a = k.address();
            let calls = [
                c.addHospital(a, format!("bench-worker-{w}"))
                    .clear_decoder(),
                c.authorizeUser(a).clear_decoder(),
                c.registerDevice(a, env.device_patient(w)).clear_decoder(),
            ];
            for call in calls {
                let p = call.send().await.map_err(|e| {
                    anyhow!(
                        "registering worker {w}: {}",
                        crate::contract::revert_reason(&e).unwrap_or(e.to_string())
                    )
                })?;
                hashes.push(*p.tx_hash());
            }
        }
    }
    for h in hashes {
        confirm(&provider, h, "a worker setup transaction").await?;
    }
    let mut workers = Vec::new();
    for (index, signer) in keys.into_iter().enumerate() {
        let rpc = Rpc::new(&targets[index % targets.len()])?;
        let nonce: String = rpc
            .call(
                "eth_getTransactionCount",
                json!([signer.address(), "pending"]),
            )
            .await?;
        workers.push(Worker {
            index,
            nonce: crate::rpc::parse_hex_u64(&nonce)?,
            sequence: 1,
            signer: signer.into(),
            target: index % targets.len(),
            sent: VecDeque::new(),
        });
    }
    Ok(workers)
}

/// Waits until `at`; false when Ctrl-C came first: the worker then drops
/// the jobs it holds instead of sending them over the next seconds.
async fn send_time(at: Instant) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(at.into()) => !crate::interrupt::requested(),
        _ = crate::interrupt::wait() => false,
    }
}

/// What a round's worker tasks share.
struct Shared {
    workload: Workload,
    env: Arc<Env>,
    chain_id: u64,
    tracker: Arc<Tracker>,
    targets: Arc<Targets>,
}

async fn worker_task(
    mut w: Worker,
    mut rx: mpsc::Receiver<(u64, Instant)>,
    sh: Arc<Shared>,
) -> Worker {
    while let Some((index, at)) = rx.recv().await {
        let call = workload::call(&sh.workload, index, w.index, &sh.env, w.sequence);
        if call.read {
            if !send_time(at).await {
                break;
            }
            read(&mut w, &call, &sh).await;
            continue;
        }
        // Signed before the send time: signing stays off the send path.
        let Ok((hash, raw)) = sign(&w.signer, sh.chain_id, w.nonce, &call) else {
            continue;
        };
        if !send_time(at).await {
            break;
        }
        sh.tracker.submit(hash, Instant::now());
        send(&mut w, hash, raw, &sh).await;
    }
    w
}

/// One read (eth_call), timed as a round trip; a node that does not
/// answer fails it as unreachable and moves the worker to another target.
async fn read(w: &mut Worker, call: &workload::Call, sh: &Shared) {
    let start = Instant::now();
    let r = sh
        .targets
        .call::<serde_json::Value>(
            w.target,
            "eth_call",
            json!([{"from": w.signer.address(), "to": call.to, "data": call.input, "gas": format!("{:#x}", call.gas)}, "latest"]),
        )
        .await;
    let failed = match &r {
        Ok(_) => None,
        Err(e) if e.cause == Cause::Unreachable => Some(Cause::Unreachable),
        Err(e) if e.reverted() => Some(Cause::Reverted),
        Err(_) => Some(Cause::Rejected),
    };
    sh.tracker.read_done(start, failed);
    if failed == Some(Cause::Unreachable) {
        failover(w, sh).await;
    }
}

/// Submits a signed transaction. A node that does not answer: the
/// transaction fails as unreachable if it cannot have reached the node,
/// else it stays in flight (the chain may hold it; if it vanished it is
/// resubmitted), and the worker moves to another target. A node's refusal
/// fails it as rejected, and a nonce the node disputes is read again.
async fn send(w: &mut Worker, hash: B256, raw: Vec<u8>, sh: &Shared) {
    let r = sh
        .targets
        .call::<serde_json::Value>(
            w.target,
            "eth_sendRawTransaction",
            json!([format!("0x{}", hex::encode(&raw))]),
        )
        .await;
    match r {
        Ok(_) => w.accepted(hash, raw, &sh.workload),
        Err(e) if e.already_known() => w.accepted(hash, raw, &sh.workload),
        Err(e) if e.cause == Cause::Unreachable => {
            if e.delivered {
                w.accepted(hash, raw, &sh.workload);
            } else {
                sh.tracker.fail(hash, Cause::Unreachable);
            }
            failover(w, sh).await;
        }
        Err(e) => {
            sh.tracker.fail(hash, Cause::Rejected);
            if e.nonce_gap() {
                resync(w, sh).await;
            }
        }
    }
}

/// Moves `w` to the next target (round-robin, skipping targets seen down)
/// and resynchronises it there; tries each target at most once.
async fn failover(w: &mut Worker, sh: &Shared) {
    for _ in 0..sh.targets.len() {
        w.target = sh.targets.next(w.target);
        if resync(w, sh).await {
            return;
        }
    }
}

/// The worker's pending nonce on its target (`None`: no answer).
async fn pending_nonce(w: &Worker, sh: &Shared) -> Option<u64> {
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
/// above the node's pending nonce vanished (it is neither in the chain nor
/// in that node's pool) and is resubmitted once, same nonce and hash (a
/// retry); one that vanished again fails as unreachable. The local nonce
/// is then the node's, so no gap stalls the worker. False when the node
/// does not answer.
async fn resync(w: &mut Worker, sh: &Shared) -> bool {
    let Some(n) = pending_nonce(w, sh).await else {
        return false;
    };
    let target = w.target;
    for s in w.sent.iter_mut().filter(|s| s.nonce >= n) {
        if s.resent {
            sh.tracker.fail(s.hash, Cause::Unreachable);
            continue;
        }
        s.resent = true;
        let raw = format!("0x{}", hex::encode(&s.raw));
        match sh
            .targets
            .call::<serde_json::Value>(target, "eth_sendRawTransaction", json!([raw]))
            .await
        {
            Ok(_) => sh.tracker.retry(s.hash),
            Err(e) if e.already_known() => {}
            Err(e) => sh.tracker.fail(s.hash, e.cause),
        }
    }
    match pending_nonce(w, sh).await {
        Some(n) => {
            w.nonce = n;
            true
        }
        None => false,
    }
}

/// A round's bounds: its transaction count (none for a timed round) and
/// how long it may send (a count-bounded round still stops after an hour).
fn bounds(length: Length) -> (Option<u64>, Duration) {
    let total = match length {
        Length::Count(n) => Some(n),
        Length::Seconds(_) => None,
    };
    let limit = match length {
        Length::Seconds(d) => Duration::from_secs_f64(d),
        Length::Count(_) => Duration::from_secs(3600),
    };
    (total, limit)
}

/// A worker's queue: transaction indices with their send times.
type Jobs = mpsc::Sender<(u64, Instant)>;

impl Engine {
    /// Runs one round to completion (or Ctrl-C) and returns its figures.
    pub(crate) async fn run_round(
        &mut self,
        round: &Round,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> anyhow::Result<RoundResult> {
        self.tracker.track(&round.track_devices, self.env.medical);
        if matches!(round.workload, Workload::DeviceFleet { .. }) {
            return self.run_fleet_round(round, on_progress).await;
        }
        let is_read = round.workload.is_read();
        if !is_read {
            // Start right after a block, so the driver's window and the
            // chain's window begin together.
            let _ = tokio::time::timeout(Duration::from_secs(30), self.tracker.new_head.notified())
                .await;
        }
        let start = Instant::now();
        self.tracker.begin_round(start);
        let env = Arc::new(self.env.clone());
        let (senders, handles) = self.spawn_workers(&round.workload, &env);
        let mut pacer = Pacer::new(&round.rate, round.length);
        let index = self
            .pace(round, &mut pacer, start, &senders, &env, on_progress)
            .await;
        // Closing the queues lets each worker finish what it holds.
        drop(senders);
        for h in handles {
            self.workers
                .push(h.await.map_err(|e| anyhow!("worker task failed: {e}"))?);
        }
        self.workers.sort_by_key(|w| w.index);
        self.recheck_workers(&round.workload, &env).await;
        let (total, _) = bounds(round.length);
        on_progress(index, total.unwrap_or(index));
        let stats = self.drain_and_end(Some((&round.workload, &env))).await;
        workload::after_round(&round.workload, index, &mut self.env);
        Ok(summarize(round, &stats, pacer.knee()))
    }

    /// Hands every worker to its own task, fed through a bounded queue
    /// (signing ahead of the send time at most [`LOOKAHEAD`] jobs); the
    /// tasks give the workers back when their queues close.
    fn spawn_workers(
        &mut self,
        workload: &Workload,
        env: &Arc<Env>,
    ) -> (Vec<Jobs>, Vec<tokio::task::JoinHandle<Worker>>) {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        let shared = Arc::new(self.shared(workload, env));
        for w in self.workers.drain(..) {
            let (tx, rx) = mpsc::channel(LOOKAHEAD);
            senders.push(tx);
            handles.push(tokio::spawn(worker_task(w, rx, shared.clone())));
        }
        (senders, handles)
    }

    fn shared(&self, workload: &Workload, env: &Arc<Env>) -> Shared {
        Shared {
            workload: workload.clone(),
            env: env.clone(),
            chain_id: self.chain_id,
            tracker: self.tracker.clone(),
            targets: self.targets.clone(),
        }
    }

    /// After the last send: a worker whose node stopped answering since
    /// (or left a nonce gap there) fails over or resynchronises, so what
    /// vanished with a dead pool is resubmitted while the round drains.
    async fn recheck_workers(&mut self, workload: &Workload, env: &Arc<Env>) {
        let sh = self.shared(workload, env);
        let checks = self.workers.iter_mut().map(|w| {
            let sh = &sh;
            async move {
                match pending_nonce(w, sh).await {
                    None => failover(w, sh).await,
                    Some(n) if n < w.nonce => {
                        resync(w, sh).await;
                    }
                    Some(_) => {}
                }
            }
        });
        futures::future::join_all(checks).await;
    }

    /// Hands out transaction indices, each with its send time, to the
    /// workers that must send them, as `pacer` decides from the tracker's
    /// counts; stops at the round's count or duration, when the pacer
    /// stops, or on Ctrl-C. Returns how many were handed out.
    async fn pace(
        &self,
        round: &Round,
        pacer: &mut Pacer,
        start: Instant,
        senders: &[Jobs],
        env: &Env,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> u64 {
        let (total, limit) = bounds(round.length);
        let mut index = 0u64;
        'pace: while total.is_none_or(|n| index < n)
            && !self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
        {
            let (submitted, committed, in_flight) = self.tracker.counts();
            let elapsed = start.elapsed();
            if elapsed >= limit {
                break;
            }
            let fb = Feedback {
                elapsed,
                sent: index,
                committed,
                in_flight: in_flight + index.saturating_sub(submitted),
            };
            match pacer.next(&fb) {
                Decision::SendAt(t) => {
                    if t >= limit {
                        break;
                    }
                    let w = workload::worker_for(&round.workload, index, env);
                    tokio::select! {
                        r = senders[w].send((index, start + t)) => if r.is_err() { break 'pace; },
                        _ = self.cancel.notified() => break 'pace,
                    }
                    index += 1;
                    if index.is_multiple_of(100) {
                        on_progress(index, total.unwrap_or(0));
                    }
                }
                Decision::WaitForCompletion => {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(50),
                        self.tracker.completed.notified(),
                    )
                    .await;
                }
                Decision::Stop => break,
            }
        }
        index
    }

    /// A `device-fleet` round: the round's fleet (set up before the first
    /// round) sends on its own schedule; the observer measures as usual.
    async fn run_fleet_round(
        &mut self,
        round: &Round,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> anyhow::Result<RoundResult> {
        let Workload::DeviceFleet {
            interval_s, jitter, ..
        } = round.workload
        else {
            return Err(anyhow!("round {} is not a device-fleet round", round.label));
        };
        let fleet = self
            .fleets
            .get_mut(&round.label)
            .ok_or_else(|| anyhow!("round {}: its device fleet was not set up", round.label))?;
        let _ =
            tokio::time::timeout(Duration::from_secs(30), self.tracker.new_head.notified()).await;
        let start = Instant::now();
        self.tracker.begin_round(start);
        let spec = fleet::Schedule {
            interval: Duration::from_secs_f64(interval_s),
            jitter,
            length: round.length,
        };
        let figures = fleet::drive(
            fleet,
            &spec,
            start,
            fleet::Context {
                chain_id: self.chain_id,
                medical: self.env.medical,
                tracker: self.tracker.clone(),
                cancel: self.cancel.clone(),
                cancelled: self.cancelled.clone(),
            },
            on_progress,
        )
        .await?;
        let stats = self.drain_and_end(None).await;
        let mut r = summarize(round, &stats, None);
        r.fleet = Some(figures);
        Ok(r)
    }

    /// Waits (bounded by the drain deadline) for everything sent to be
    /// committed, then ends the round's figures. With the round's workers
    /// (`recheck`), nothing committed for [`STALLED`] rechecks them, so a
    /// node that died while the round drained has what vanished with it
    /// resubmitted.
    async fn drain_and_end(&mut self, recheck: Option<(&Workload, &Arc<Env>)>) -> RoundStats {
        let deadline = Instant::now() + self.drain;
        let mut last = (u64::MAX, Instant::now());
        while Instant::now() < deadline {
            let (_, _, in_flight) = self.tracker.counts();
            if in_flight == 0 || self.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            if in_flight != last.0 {
                last = (in_flight, Instant::now());
            } else if let Some((workload, env)) = recheck.filter(|_| last.1.elapsed() >= STALLED) {
                self.recheck_workers(workload, env).await;
                last.1 = Instant::now();
            }
            let _ = tokio::time::timeout(
                Duration::from_millis(200),
                self.tracker.completed.notified(),
            )
            .await;
        }
        self.tracker.end_round()
    }
}
