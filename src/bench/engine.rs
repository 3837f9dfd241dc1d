//! The load engine: a pacer hands out transaction indices on the rate
//! controller's schedule; each worker (its own funded account and local
//! nonce, [`super::worker`]) signs them ahead of their send time and sends
//! them open-loop ([`super::pipeline`]: at the scheduled time, several in
//! flight, nonces in order); the observer measures what the chain did.
//! Every loop is bounded by the round's count or duration and a drain
//! deadline. Each round also records its target rate, whether and why it
//! missed it ([`super::shortfall`]) and the driver's CPU time per
//! transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, bail, Context};
use serde_json::json;
use tokio::sync::{mpsc, Notify};

use super::failover::Targets;
use super::fleet::{self, Fleet};
use super::observer::Tracker;
use super::pipeline::{self, Job, SendFigures};
use super::private::PrivateBench;
use super::rate::{Decision, Feedback, Pacer};
use super::resources;
use super::result::{summarize, RoundResult, RoundStats};
use super::scenario::{Length, Rate, Round, Workload};
use super::shortfall::{self, Evidence};
pub use super::worker::Worker;
use super::worker::{failover, pending_nonce, resync, Sender, Shared};
use super::workload::{self, Env};
use crate::contract::{confirm, signing_provider, MedicalRecords};
use crate::rpc::Rpc;

/// Jobs each worker may hold ahead of their send time.
const LOOKAHEAD: usize = 64;
/// How long a draining round may commit nothing before its workers are
/// rechecked.
const STALLED: Duration = Duration::from_secs(3);

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
    /// Most requests one worker keeps in flight (`max_in_flight`).
    pub window: usize,
    /// CPU time of one signature measured at the start of the run, µs.
    pub signature_us: f64,
    /// The network's state when medchain runs it (alarm measurements).
    pub state: Option<crate::state::State>,
    /// The private path's network and store, when the records workloads
    /// run on it (each worker then holds its device, [`Worker::private`]).
    pub private: Option<Arc<PrivateBench>>,
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
    let balance = alloy::providers::Provider::get_balance(&provider, funder.address())
        .await
        .context("reading the funding account's balance")?;
    if let Some(line) = super::funding::shortfall(funder.address(), balance, keys.len()) {
        bail!(line);
    }
    let mut hashes = Vec::new();
    for k in &keys {
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(k.address())
            .value(super::funding::per_account_wei());
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
    let mut top = 0;
    for h in hashes {
        let r = confirm(&provider, h, "a worker setup transaction").await?;
        top = top.max(r.block_number.unwrap_or(0));
    }
    targets_reach(targets, top).await?;
    let mut workers = Vec::new();
    for (index, signer) in keys.into_iter().enumerate() {
        let rpc = Rpc::new(&targets[index % targets.len()])?;
        let nonce: String = rpc
            .call(
                "eth_getTransactionCount",
                json!([signer.address(), "pending"]),
            )
            .await?;
        workers.push(Worker::new(
            index,
            signer.into(),
            crate::rpc::parse_hex_u64(&nonce)?,
            index % targets.len(),
        ));
    }
    Ok(workers)
}

/// Waits (at most [`REACH_LIMIT`]) until every target node's head is at
/// block `n`: the funding and registrations were confirmed on the funder's
/// node, and a worker sending to a node that has not imported them yet
/// would be refused ("insufficient funds").
async fn targets_reach(targets: &[String], n: u64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + REACH_LIMIT;
    for url in targets {
        let rpc = Rpc::new(url)?;
        loop {
            let head: String = rpc.call("eth_blockNumber", json!([])).await?;
            if crate::rpc::parse_hex_u64(&head)? >= n {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "{url} did not reach block {n}, which holds the workers' funding, within {} s",
                    REACH_LIMIT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// How long the targets may take to import the workers' setup block.
const REACH_LIMIT: Duration = Duration::from_secs(60);

/// Runs one worker's round: its jobs sent open-loop until the queue
/// closes (or Ctrl-C); gives the worker back with its sending figures.
async fn worker_task(
    mut w: Worker,
    mut rx: mpsc::Receiver<Job>,
    sh: Arc<Shared>,
) -> (Worker, SendFigures) {
    let mut sender = Sender::new(&mut w, &sh);
    let figures = pipeline::run(&mut sender, &mut rx, sh.window, crate::interrupt::wait()).await;
    drop(sender);
    (w, figures)
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
type Jobs = mpsc::Sender<Job>;

/// What the pacer handed out: how many, and the span of their scheduled
/// times (for controllers with a schedule; `fixed-load` has none).
struct Paced {
    handed_out: u64,
    scheduled: bool,
    first: Option<Duration>,
    last: Duration,
}

impl Paced {
    fn new(rate: &Rate) -> Self {
        Self {
            handed_out: 0,
            scheduled: !matches!(rate, Rate::FixedLoad { .. }),
            first: None,
            last: Duration::ZERO,
        }
    }

    /// One more handed out, due `t` after the round's start.
    fn scheduled(&mut self, t: Duration) {
        self.handed_out += 1;
        self.first.get_or_insert(t);
        self.last = self.last.max(t);
    }

    /// The rate the schedule asked for: the gaps between the scheduled
    /// sends over their span (as the achieved send rate is measured).
    fn target_tps(&self) -> Option<f64> {
        let span = (self.last - self.first?).as_secs_f64();
        (self.scheduled && span > 0.0).then(|| (self.handed_out - 1) as f64 / span)
    }
}

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
        self.refresh_private_keys(&round.workload).await?;
        let is_read = round.workload.is_read();
        if !is_read {
            // Start right after a block, so the driver's window and the
            // chain's window begin together.
            let _ = tokio::time::timeout(Duration::from_secs(30), self.tracker.new_head.notified())
                .await;
        }
        let cpu_before = resources::self_cpu_s();
        let start = Instant::now();
        self.tracker.begin_round(start);
        let env = Arc::new(self.env.clone());
        let (senders, handles) = self.spawn_workers(round, &env);
        let mut pacer = Pacer::new(&round.rate, round.length);
        let paced = self
            .pace(round, &mut pacer, start, &senders, &env, on_progress)
            .await;
        // Closing the queues lets each worker finish what it holds.
        drop(senders);
        let mut figures = SendFigures::default();
        for h in handles {
            let (w, f) = h.await.map_err(|e| anyhow!("worker task failed: {e}"))?;
            figures.add(&f);
            self.workers.push(w);
        }
        self.workers.sort_by_key(|w| w.index);
        self.recheck_workers(&round.workload, &env).await;
        let (total, _) = bounds(round.length);
        on_progress(paced.handed_out, total.unwrap_or(paced.handed_out));
        let stats = self.drain_and_end(Some((&round.workload, &env))).await;
        let cpu_s = cpu_before
            .zip(resources::self_cpu_s())
            .map_or(0.0, |(a, b)| (b - a).max(0.0));
        workload::after_round(&round.workload, paced.handed_out, &mut self.env);
        let mut r = summarize(round, &stats, pacer.knee());
        self.send_figures(&mut r, (!is_read, paced.target_tps()), &figures, cpu_s);
        Ok(r)
    }

    /// Adds to `r` (a write round or not) its target rate, its shortfall
    /// (when it missed the target, with the cause from `f`), the driver's
    /// CPU time per success (`cpu_s` over the round) and the signature's
    /// cost.
    fn send_figures(
        &self,
        r: &mut RoundResult,
        (write, target): (bool, Option<f64>),
        f: &SendFigures,
        cpu_s: f64,
    ) {
        r.target_tps = target;
        r.signature_us = self.signature_us;
        if r.succ > 0 {
            r.driver_cpu_per_tx_us = cpu_s * 1e6 / r.succ as f64;
        }
        let wall = r.duration_s.max(1e-3);
        let evidence = Evidence {
            target_tps: target.unwrap_or(0.0),
            achieved_tps: r.send_rate_tps,
            write,
            gas_utilization: r.chain.gas_utilization,
            behind_s: f.behind_s,
            window_wait_s: f.window_wait_s,
            write_s: f.write_s,
            workers: self.workers.len() as u64,
            window: f.window,
            rtt_min_s: f.rtt_min_s,
            rtt_avg_s: f.rtt_avg_s(),
            driver_cpu_pct: cpu_s / wall * 100.0,
            max_in_flight: f.max_in_flight,
        };
        r.send_shortfall = shortfall::classify(&evidence);
        r.send_figures = Some(evidence);
    }

    /// Hands every worker to its own task, fed through a bounded queue
    /// (signing ahead of the send time at most [`LOOKAHEAD`] jobs); the
    /// tasks give the workers back, with their sending figures, when their
    /// queues close.
    fn spawn_workers(
        &mut self,
        round: &Round,
        env: &Arc<Env>,
    ) -> (
        Vec<Jobs>,
        Vec<tokio::task::JoinHandle<(Worker, SendFigures)>>,
    ) {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        let mut shared = self.shared(&round.workload, env);
        // fixed-load keeps its count in flight whatever the window.
        if let Rate::FixedLoad { in_flight } = round.rate {
            shared.window = shared.window.max(in_flight as usize);
        }
        let shared = Arc::new(shared);
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
            window: self.window,
            private: self.private.clone(),
        }
    }

    /// Before a private records round: every device reads its patient's
    /// current key and the data secrets it may need to open a page, off
    /// the round's clock.
    async fn refresh_private_keys(&mut self, workload: &Workload) -> anyhow::Result<()> {
        let Some(pb) = self.private.clone() else {
            return Ok(());
        };
        if !matches!(workload, Workload::AddRecord | Workload::GetRecords { .. }) {
            return Ok(());
        }
        for w in &mut self.workers {
            if let Some(d) = w.private.as_mut() {
                pb.refresh(d).await?;
            }
        }
        Ok(())
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
    /// stops, or on Ctrl-C. Returns how many were handed out and their
    /// schedule.
    async fn pace(
        &self,
        round: &Round,
        pacer: &mut Pacer,
        start: Instant,
        senders: &[Jobs],
        env: &Env,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Paced {
        let (total, limit) = bounds(round.length);
        let mut paced = Paced::new(&round.rate);
        'pace: while total.is_none_or(|n| paced.handed_out < n)
            && !self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
        {
            let index = paced.handed_out;
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
                    paced.scheduled(t);
                    if paced.handed_out.is_multiple_of(100) {
                        on_progress(paced.handed_out, total.unwrap_or(0));
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
        paced
    }

    /// A `device-fleet` round: the round's fleet (set up before the first
    /// round) sends on its own schedule; the observer measures as usual.
    async fn run_fleet_round(
        &mut self,
        round: &Round,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> anyhow::Result<RoundResult> {
        let Workload::DeviceFleet {
            interval_s,
            jitter,
            abnormal_share,
            ..
        } = round.workload
        else {
            return Err(anyhow!("round {} is not a device-fleet round", round.label));
        };
        let probe = self.alarm_probe(&round.label, abnormal_share).await?;
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
                private: self.private.clone(),
                tracker: self.tracker.clone(),
                cancel: self.cancel.clone(),
                cancelled: self.cancelled.clone(),
                abnormal: probe.clone().map(|p| (abnormal_share, p)),
                targets: self.targets.clone(),
            },
            on_progress,
        )
        .await?;
        let stats = self.drain_and_end(None).await;
        let mut r = summarize(round, &stats, None);
        r.fleet = Some(figures);
        if let Some(p) = probe {
            let p = Arc::into_inner(p)
                .ok_or_else(|| anyhow!("round {}: the alarm probe is still shared", round.label))?;
            r.alarms = Some(p.finish().await?);
        }
        Ok(r)
    }

    /// The alarm measurement of a fleet round with abnormal readings
    /// (`None` without); it needs a network medchain runs.
    async fn alarm_probe(
        &self,
        label: &str,
        share: f64,
    ) -> anyhow::Result<Option<Arc<super::alarms::Probe>>> {
        if share <= 0.0 {
            return Ok(None);
        }
        let state = self.state.as_ref().ok_or_else(|| {
            anyhow!("round {label}: abnormal_share measures alarms with `watch` and the network's broker, which need a network medchain started")
        })?;
        // On the private path one `watch` per hospital opens its patients'
        // sealed readings.
        let hospitals: Vec<String> = (self.private.iter())
            .flat_map(|pb| pb.hospital_names())
            .collect();
        Ok(Some(Arc::new(
            super::alarms::Probe::start(state, label, share, &hospitals).await?,
        )))
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
