//! The load engine: workers with their own funded accounts and local nonces
//! sign EIP-1559 transactions ahead of their send time and submit them raw;
//! a pacer hands out indices on the rate controller's schedule; the
//! observer measures what the chain did. Every loop is bounded by the
//! round's count or duration and a drain deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use super::fleet::{self, Fleet};
use super::observer::Tracker;
use super::rate::{Decision, Feedback, Pacer};
use super::result::{summarize, RoundResult, RoundStats};
use super::scenario::{Length, Round, Workload};
use super::signer::{nonce_error, sign, TxSigner};
use super::workload::{self, Env};
use crate::contract::{confirm, signing_provider, MedicalRecords};
use crate::rpc::Rpc;

/// Ether each worker receives.
pub(crate) const WORKER_FUNDS_ETH: u64 = 10_000;
/// Jobs each worker may hold ahead of their send time.
const LOOKAHEAD: usize = 64;

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
    /// Endpoint it sends to.
    pub rpc: Rpc,
}

/// Everything rounds share.
pub struct Engine {
    /// Chain id for signing.
    pub chain_id: u64,
    /// Workers (taken by a round's tasks and returned after it).
    pub workers: Vec<Worker>,
    /// Shared with the observer.
    pub tracker: Arc<Tracker>,
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
            rpc,
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

async fn worker_task(
    mut w: Worker,
    mut rx: mpsc::Receiver<(u64, Instant)>,
    workload: Workload,
    env: Arc<Env>,
    chain_id: u64,
    tracker: Arc<Tracker>,
) -> Worker {
    while let Some((index, at)) = rx.recv().await {
        let call = workload::call(&workload, index, w.index, &env, w.sequence);
        if call.read {
            if !send_time(at).await {
                break;
            }
            let start = Instant::now();
            let r = w
                .rpc
                .call::<serde_json::Value>(
                    "eth_call",
                    json!([{"from": w.signer.address(), "to": call.to, "data": call.input, "gas": format!("{:#x}", call.gas)}, "latest"]),
                )
                .await;
            tracker.read_done(start, r.is_ok());
            continue;
        }
        // Signed before the send time: signing stays off the send path.
        let Ok((hash, raw)) = sign(&w.signer, chain_id, w.nonce, &call) else {
            continue;
        };
        if !send_time(at).await {
            break;
        }
        tracker.submit(hash, Instant::now());
        match w
            .rpc
            .call::<String>(
                "eth_sendRawTransaction",
                json!([format!("0x{}", hex::encode(&raw))]),
            )
            .await
        {
            Ok(_) => {
                w.nonce += 1;
                if matches!(workload, Workload::AddRecord) {
                    w.sequence += 1;
                }
            }
            Err(e) => {
                tracker.reject(hash);
                if nonce_error(&e) {
                    if let Ok(n) = w
                        .rpc
                        .call::<String>(
                            "eth_getTransactionCount",
                            json!([w.signer.address(), "pending"]),
                        )
                        .await
                    {
                        w.nonce = crate::rpc::parse_hex_u64(&n).unwrap_or(w.nonce);
                    }
                }
            }
        }
    }
    w
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
        let (total, _) = bounds(round.length);
        on_progress(index, total.unwrap_or(index));
        let stats = self.drain_and_end().await;
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
        for w in self.workers.drain(..) {
            let (tx, rx) = mpsc::channel(LOOKAHEAD);
            senders.push(tx);
            handles.push(tokio::spawn(worker_task(
                w,
                rx,
                workload.clone(),
                env.clone(),
                self.chain_id,
                self.tracker.clone(),
            )));
        }
        (senders, handles)
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
        let stats = self.drain_and_end().await;
        let mut r = summarize(round, &stats, None);
        r.fleet = Some(figures);
        Ok(r)
    }

    /// Waits (bounded by the drain deadline) for everything sent to be
    /// committed, then ends the round's figures.
    async fn drain_and_end(&mut self) -> RoundStats {
        let deadline = Instant::now() + self.drain;
        while Instant::now() < deadline {
            let (_, _, in_flight) = self.tracker.counts();
            if in_flight == 0 || self.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                break;
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
