//! The `device-fleet` workload: N simulated ESP32 devices driven as the
//! firmware drives a real one. Each device has its own key (derived from the
//! network's key source and the run's tag), is registered for its own patient and
//! funded before the first round, and then, independently of the others:
//!
//! - takes a reading every `interval_s × (1 ± jitter)` (seeded), the first
//!   one staggered uniformly over the first interval;
//! - signs `addMedicalRecord` locally with its own nonce, its next sequence
//!   number (1, 2, …: the contract refuses 0) and the reading's timestamp
//!   (ms since the Unix epoch, as the firmware's clock);
//! - keeps one request in flight, over a new HTTP connection each time
//!   ([`FreshHttp`]): a reading whose time comes while the previous request
//!   is still out is sent as soon as it returns, and counted *late*.
//!
//! Latency is measured by the bench's observer from submission to the
//! including head, like every other write round.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use anyhow::{anyhow, Context as _};
use futures::StreamExt;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio::sync::{watch, Notify};

use super::failover::Targets;
use super::fleet_failover::{fail_over, pending_nonce, Recent};
use super::fresh_http::{CallError, FreshHttp};
use super::observer::Tracker;
use super::result::{Cause, FleetFigures};
use super::scenario::Length;
use super::signer::{nonce_error, sign, sign_value, TxSigner};
use super::tracking::unix_ms;
use super::workload::{abnormal_record_input, add_record_input, Call, ADD_RECORD_GAS};
use crate::contract::{confirm, signing_provider, wait_receipt, MedicalRecords, RECEIPT_TIMEOUT};
use crate::keys::KeySource;
use crate::rpc::{parse_hex_u64, Rpc};

/// Ether each simulated device receives (gas for far more readings than
/// an hour-long round sends at the fee cap).
pub(crate) const DEVICE_FUNDS_WEI: u128 = 10_000_000_000_000_000_000;
/// Setup transactions sent before waiting for their receipts: below geth's
/// pool limits and a few blocks' worth of gas.
const SETUP_BATCH: usize = 1000;
/// Gas limit of `registerDevice`.
const REGISTER_GAS: u64 = 200_000;
/// Receipts read at once when checking a setup batch.
const RECEIPT_READS: usize = 16;

/// One simulated device.
#[derive(Debug)]
pub struct FleetDevice {
    /// Index in the fleet.
    pub index: u64,
    /// Its wallet.
    pub signer: TxSigner,
    /// The patient it is registered for.
    pub patient: B256,
    /// Next nonce (tracked locally, as the firmware does).
    pub nonce: u64,
    /// Next sequence number.
    pub sequence: u64,
    /// Node it sends to.
    pub url: String,
    /// Its MQTT connection, in a `transport: mqtt` round (else it sends
    /// over HTTP to `url`).
    pub mqtt: Option<Arc<super::fleet_mqtt::DeviceLink>>,
    /// On a private network: the device of its own synthetic patient,
    /// sealing every reading (see [`super::private`]).
    pub private: Option<super::private::Device>,
    /// What it sent lately, handed over if its node dies.
    pub recent: Recent,
}

/// A round's simulated fleet, set up on chain.
#[derive(Debug)]
pub struct Fleet {
    /// The devices.
    pub devices: Vec<FleetDevice>,
    /// Seed of the devices' reading schedules.
    pub seed: u64,
    /// Seconds the on-chain setup took.
    pub setup_s: f64,
    /// The MQTT bridges of a `transport: mqtt` round.
    pub bridges: Option<super::fleet_mqtt::Bridges>,
}

/// The label a fleet device's key derives from.
pub(crate) fn key_label(tag: u64, round: &str, device: u64) -> String {
    format!("bench/{tag:x}/fleet/{round}/{device}")
}

/// The patient fleet device `device` of round `round` is registered for.
pub fn patient(tag: u64, round: &str, device: u64) -> B256 {
    keccak256(format!("{tag:x}/fleet/{round}/{device}"))
}

/// What fleet setup needs from the run.
pub struct SetupInputs<'a> {
    /// Account that funds and registers (the contract's admin).
    pub funder: &'a PrivateKeySigner,
    /// Its endpoint.
    pub funder_rpc: &'a str,
    /// Chain id for signing.
    pub chain_id: u64,
    /// MedicalRecords.
    pub medical: Address,
    /// Nodes devices send to (device `i` → `targets[i % len]`).
    pub targets: &'a [String],
    /// Where the network's keys derive from.
    pub keys: &'a KeySource,
    /// The run's tag.
    pub tag: u64,
    /// The private path, when the fleet writes to PrivateRecords.
    pub private: Option<&'a super::private::PrivateBench>,
}

/// Device `d` of round `round`, before setup: its key, its patient, and
/// its node round-robin over the targets (HTTP unless given MQTT later).
fn new_device(inp: &SetupInputs<'_>, round: &str, d: u64) -> FleetDevice {
    FleetDevice {
        index: d,
        signer: inp
            .keys
            .derive(&key_label(inp.tag, round, d))
            .signer()
            .into(),
        patient: patient(inp.tag, round, d),
        nonce: 0,
        sequence: 1,
        url: inp.targets[(d as usize) % inp.targets.len()].clone(),
        mqtt: None,
        private: None,
        recent: Recent::default(),
    }
}

/// Creates `n` devices for round `round`, funds each and registers it for
/// its own patient: every transaction of a batch is signed locally and sent
/// at once, then the batch's receipts are checked.
pub(crate) async fn setup(inp: &SetupInputs<'_>, round: &str, n: u64) -> anyhow::Result<Fleet> {
    let began = Instant::now();
    if inp.targets.is_empty() {
        return Err(anyhow!("no node to send the fleet's readings to"));
    }
    let mut devices: Vec<FleetDevice> = (0..n).map(|d| new_device(inp, round, d)).collect();
    let rpc = Rpc::new(inp.funder_rpc)?;
    let provider = signing_provider(inp.funder_rpc, inp.funder)?;
    let from = inp.funder.address();
    let funder = TxSigner::from(inp.funder);
    let mut nonce = parse_hex_u64(
        &rpc.call::<String>("eth_getTransactionCount", json!([from, "pending"]))
            .await?,
    )?;
    for batch in devices.chunks(SETUP_BATCH / 2) {
        let mut hashes = Vec::with_capacity(batch.len() * 2);
        for d in batch {
            let a = d.signer.address();
            let fund = Call {
                to: a,
                input: Default::default(),
                gas: 21_000,
                read: false,
            };
            let register = Call {
                to: inp.medical,
                input: MedicalRecords::registerDeviceCall {
                    device: a,
                    patient: d.patient,
                }
                .abi_encode()
                .into(),
                gas: REGISTER_GAS,
                read: false,
            };
            let calls = [(fund, U256::from(DEVICE_FUNDS_WEI)), (register, U256::ZERO)];
            // On the private path the device is registered below instead.
            for (call, value) in &calls[..if inp.private.is_some() { 1 } else { 2 }] {
                let (call, value) = (call, *value);
                let (hash, raw) = sign_value(&funder, inp.chain_id, nonce, call, value)?;
                rpc.call::<String>(
                    "eth_sendRawTransaction",
                    json!([format!("0x{}", hex::encode(&raw))]),
                )
                .await
                .with_context(|| format!("setting up fleet device {} of round {round}", d.index))?;
                nonce += 1;
                hashes.push(hash);
            }
        }
        check_receipts(&provider, &hashes).await.with_context(|| {
            format!("setting up the device fleet of round {round} from {from:#x}")
        })?;
    }
    if let Some(pb) = inp.private {
        let addresses: Vec<Address> = devices.iter().map(|d| d.signer.address()).collect();
        let label = format!("{round}-");
        let private = pb.setup(&addresses, inp.tag, &label).await?;
        for (d, p) in devices.iter_mut().zip(private) {
            d.private = Some(p);
        }
    }
    let seed = u64::from_be_bytes(
        keccak256(format!(
            "{}/{:x}/fleet/{round}",
            schedule_base(inp.keys),
            inp.tag
        ))[..8]
            .try_into()
            .unwrap_or_default(),
    );
    Ok(Fleet {
        devices,
        seed,
        setup_s: began.elapsed().as_secs_f64(),
        bridges: None,
    })
}

/// What a fleet's reading schedules are drawn from: the test seed (so a
/// seeded run repeats), else a value derived from the network's secret.
fn schedule_base(keys: &KeySource) -> String {
    match keys.seed() {
        Some(s) => s.to_string(),
        None => hex::encode(keys.derive("bench/fleet-schedule").secret),
    }
}

/// Waits for the last of `hashes` (one sender, consecutive nonces: the
/// others are mined by then) and requires every receipt's success.
async fn check_receipts(
    provider: &alloy::providers::DynProvider,
    hashes: &[B256],
) -> anyhow::Result<()> {
    let Some(last) = hashes.last() else {
        return Ok(());
    };
    wait_receipt(provider, *last, RECEIPT_TIMEOUT).await?;
    let mut receipts = futures::stream::iter(hashes)
        .map(|h| confirm(provider, *h, "a fleet setup transaction"))
        .buffer_unordered(RECEIPT_READS);
    while let Some(r) = receipts.next().await {
        r?;
    }
    Ok(())
}

/// When one device takes its readings: staggered start, then gaps of
/// `interval × (1 ± jitter)`, all drawn from a seed. Pure.
#[derive(Debug, Clone)]
pub struct DeviceClock {
    next: Duration,
    interval: f64,
    jitter: f64,
    rng: ChaCha8Rng,
}

impl DeviceClock {
    /// Device `device`'s clock: its first reading falls uniformly in the
    /// first interval.
    pub fn new(seed: u64, device: u64, interval: Duration, jitter: f64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ device.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let interval = interval.as_secs_f64();
        let first = interval * rng.gen::<f64>();
        Self {
            next: Duration::from_secs_f64(first),
            interval,
            jitter: jitter.clamp(0.0, 0.5),
            rng,
        }
    }

    /// Time of the next reading, from the round's start.
    pub fn next(&self) -> Duration {
        self.next
    }

    /// Moves to the reading after.
    pub fn advance(&mut self) {
        let u: f64 = self.rng.gen_range(-1.0..=1.0);
        self.next += Duration::from_secs_f64(self.interval * (1.0 + self.jitter * u));
    }

    /// Readings due before `end` from here on (advancing past them), at
    /// most `max`.
    pub(crate) fn due_before(&mut self, end: Duration, max: u64) -> u64 {
        let mut n = 0;
        while self.next < end && n < max {
            n += 1;
            self.advance();
        }
        n
    }
}

/// How a fleet round sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Mean gap between one device's readings.
    pub interval: Duration,
    /// Jitter, a fraction of the interval.
    pub jitter: f64,
    /// `tx_duration` (the sending window) or `tx_number` (readings in all).
    pub length: Length,
}

/// What the devices share with the engine.
pub struct Context {
    /// Chain id for signing.
    pub chain_id: u64,
    /// MedicalRecords.
    pub medical: Address,
    /// The private path (devices then seal to their patient's key and
    /// write to PrivateRecords).
    pub private: Option<Arc<super::private::PrivateBench>>,
    /// The observer's tracker.
    pub tracker: Arc<Tracker>,
    /// Ctrl-C.
    pub cancel: Arc<Notify>,
    /// Set once cancelled.
    pub cancelled: Arc<AtomicBool>,
    /// The share of readings sent abnormal, and the alarm measurement
    /// that expects them (see [`super::alarms`]).
    pub abnormal: Option<(f64, Arc<super::alarms::Probe>)>,
    /// The round's targets: where a device whose node died goes next.
    pub targets: Arc<Targets>,
}

/// Whether reading `sequence` of the device with `address` is abnormal:
/// a fraction drawn from both (so a run repeats its choice) below `share`.
fn is_abnormal(address: Address, sequence: u64, share: f64) -> bool {
    let mut buf = address.to_vec();
    buf.extend_from_slice(&sequence.to_be_bytes());
    let h = keccak256(&buf);
    let draw = u64::from_be_bytes(h[..8].try_into().unwrap_or_default());
    (draw as f64 / u64::MAX as f64) < share
}

/// Counters shared by a fleet's device tasks.
struct Shared {
    ctx: Context,
    http: FreshHttp,
    start: Instant,
    start_unix_ms: u64,
    end: Instant,
    budget: Option<AtomicU64>,
    stop: watch::Sender<bool>,
    stopped_at: Mutex<Option<Instant>>,
    due: AtomicU64,
    sent: AtomicU64,
    late: AtomicU64,
    lag_ms: Mutex<Histogram<u64>>,
}

impl Shared {
    /// Counters for a round that started at `start` and sends for
    /// `window`, or until `budget` readings are claimed (`tx_number`).
    fn new(
        ctx: Context,
        start: Instant,
        window: Duration,
        budget: Option<u64>,
    ) -> anyhow::Result<Arc<Self>> {
        let (stop, _) = watch::channel(false);
        let http = FreshHttp::new()?;
        Ok(Arc::new(Self {
            ctx,
            http,
            start,
            start_unix_ms: unix_ms(),
            end: start + window,
            budget: budget.map(AtomicU64::new),
            stop,
            stopped_at: Mutex::new(None),
            due: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            late: AtomicU64::new(0),
            lag_ms: Mutex::new(
                Histogram::new_with_bounds(1, 3_600_000, 2).expect("valid histogram bounds"),
            ),
        }))
    }

    /// Stops every device; readings due from `at` on are not due.
    fn halt(&self, at: Instant) {
        let mut s = self.stopped_at.lock().unwrap_or_else(|p| p.into_inner());
        s.get_or_insert(at);
        let _ = self.stop.send(true);
    }

    /// Claims one reading of a `tx_number` round; false once all are taken.
    fn claim(&self) -> bool {
        match &self.budget {
            None => true,
            Some(b) => b
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// A device task's result: the device (nonce, sequence) and its clock.
type DeviceHandle = tokio::task::JoinHandle<(FleetDevice, DeviceClock)>;

/// Runs the fleet for one round (from `start`, which the caller gave the
/// tracker) and returns its figures. Bounded by the round's length (an
/// hour at most for `tx_number`), Ctrl-C, and each request's timeout.
pub(crate) async fn drive(
    fleet: &mut Fleet,
    spec: &Schedule,
    start: Instant,
    ctx: Context,
    on_progress: &(dyn Fn(u64, u64) + Sync),
) -> anyhow::Result<FleetFigures> {
    let (window, budget) = match spec.length {
        Length::Seconds(d) => (Duration::from_secs_f64(d), None),
        Length::Count(n) => (Duration::from_secs(3600), Some(n)),
    };
    let shared = Shared::new(ctx, start, window, budget)?;
    let handles: Vec<_> = std::mem::take(&mut fleet.devices)
        .into_iter()
        .map(|d| {
            let clock = DeviceClock::new(fleet.seed, d.index, spec.interval, spec.jitter);
            tokio::spawn(device_task(d, clock, shared.clone()))
        })
        .collect();
    let total = budget.unwrap_or(0);
    let results = supervise(&shared, handles, total, on_progress).await;
    let stopped = shared
        .stopped_at
        .lock()
        .map(|s| *s)
        .unwrap_or(None)
        .map_or(window, |s| s.saturating_duration_since(start).min(window));
    let per_device_max = (window.as_secs_f64() / spec.interval.as_secs_f64() * 2.0) as u64 + 2;
    let mut unsent = 0;
    for (d, mut clock) in results.into_iter().flatten() {
        unsent += clock.due_before(stopped, per_device_max);
        fleet.devices.push(d);
    }
    fleet.devices.sort_by_key(|d| d.index);
    let sent = shared.sent.load(Ordering::Relaxed);
    on_progress(sent, total.max(sent));
    Ok(figures(fleet, spec, &shared, unsent))
}

/// Waits for every device task, reporting progress each second and
/// stopping the fleet on Ctrl-C. Bounded: the devices stop at the window's
/// end (or when told); the last request times out after REQUEST_TIMEOUT.
async fn supervise(
    shared: &Shared,
    handles: Vec<DeviceHandle>,
    total: u64,
    on_progress: &(dyn Fn(u64, u64) + Sync),
) -> Vec<Result<(FleetDevice, DeviceClock), tokio::task::JoinError>> {
    let mut all = futures::future::join_all(handles);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            r = &mut all => break r,
            _ = shared.ctx.cancel.notified() => shared.halt(Instant::now()),
            _ = tick.tick() => {
                on_progress(shared.sent.load(Ordering::Relaxed), total);
                if shared.ctx.cancelled.load(Ordering::Relaxed) {
                    shared.halt(Instant::now());
                }
            }
        }
    }
}

/// The round's fleet figures from the devices' counters; `unsent` is the
/// readings that fell due before the fleet stopped but were never sent.
fn figures(fleet: &Fleet, spec: &Schedule, shared: &Shared, unsent: u64) -> FleetFigures {
    let lag = shared.lag_ms.lock().map(|h| h.clone()).ok();
    let q = |p: f64| {
        lag.as_ref()
            .map_or(0.0, |h| h.value_at_quantile(p) as f64 / 1e3)
    };
    FleetFigures {
        devices: fleet.devices.len() as u64,
        interval_s: spec.interval.as_secs_f64(),
        jitter: spec.jitter,
        due_rate_tps: fleet.devices.len() as f64 / spec.interval.as_secs_f64(),
        readings_due: shared.due.load(Ordering::Relaxed) + unsent,
        readings_sent: shared.sent.load(Ordering::Relaxed),
        readings_late: shared.late.load(Ordering::Relaxed),
        readings_unsent: unsent,
        send_lag_p50_s: q(0.5),
        send_lag_p99_s: q(0.99),
        send_lag_max_s: lag.as_ref().map_or(0.0, |h| h.max() as f64 / 1e3),
        connections: shared.http.connections(),
        setup_s: fleet.setup_s,
    }
}

/// One device: reading after reading until the window closes or the fleet
/// is stopped; returns the device (nonce, sequence) and its clock.
async fn device_task(
    mut d: FleetDevice,
    mut clock: DeviceClock,
    sh: Arc<Shared>,
) -> (FleetDevice, DeviceClock) {
    let mut stop = sh.stop.subscribe();
    // When the device's previous request returned.
    let mut returned: Option<Instant> = None;
    loop {
        let due = sh.start + clock.next();
        // A device still behind when the window closes leaves its backlog
        // unsent (counted by the caller), as the round ends there.
        if due >= sh.end || Instant::now() >= sh.end || *stop.borrow() {
            break;
        }
        // Its time came while the previous request was still out.
        let late = returned.is_some_and(|r| r > due);
        tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => {}
            _ = stop.changed() => break,
        }
        if !sh.claim() {
            // The fleet's tx_number is spent: this reading is past the end.
            sh.halt(due);
            break;
        }
        clock.advance();
        sh.due.fetch_add(1, Ordering::Relaxed);
        if late {
            sh.late.fetch_add(1, Ordering::Relaxed);
        }
        let lag = Instant::now().saturating_duration_since(due);
        if let Ok(mut h) = sh.lag_ms.lock() {
            let _ = h.record((lag.as_millis() as u64).max(1));
        }
        let taken_ms =
            sh.start_unix_ms + due.saturating_duration_since(sh.start).as_millis() as u64;
        let probe = sh
            .ctx
            .abnormal
            .as_ref()
            .filter(|(share, _)| is_abnormal(d.signer.address(), d.sequence, *share));
        let Some(call) = reading_call(&d, probe.is_some(), taken_ms, &sh.ctx) else {
            continue;
        };
        let Ok((hash, raw)) = sign(&d.signer, sh.ctx.chain_id, d.nonce, &call) else {
            continue;
        };
        let now = Instant::now();
        sh.ctx.tracker.submit(hash, now);
        if let Some((_, p)) = probe {
            p.expect(hash, now);
        }
        sh.sent.fetch_add(1, Ordering::Relaxed);
        match send_reading(&mut d, &raw, &sh).await {
            Ok(()) => {
                d.recent.keep(d.nonce, raw);
                d.nonce += 1;
                d.sequence += 1;
            }
            Err(cause) => sh.ctx.tracker.fail(hash, cause),
        }
        returned = Some(Instant::now());
    }
    (d, clock)
}

/// The transaction of device `d`'s next reading (abnormal or not) taken at
/// `taken_ms`: `addMedicalRecord` in the clear layout, or, on the private
/// path, the reading sealed, stored and recorded by its CID digest.
fn reading_call(d: &FleetDevice, abnormal: bool, taken_ms: u64, ctx: &Context) -> Option<Call> {
    if let (Some(pb), Some(p)) = (&ctx.private, &d.private) {
        let at = (d.sequence, d.sequence);
        return super::private::add_record(pb, p, d.signer.address(), at, abnormal);
    }
    let input = match abnormal {
        true => abnormal_record_input(d.patient, taken_ms, d.sequence),
        false => add_record_input(d.patient, d.sequence, taken_ms, d.sequence),
    };
    Some(Call {
        to: ctx.medical,
        input: input.into(),
        gas: ADD_RECORD_GAS,
        read: false,
    })
}

/// Sends a signed reading over a new connection (or the device's MQTT
/// connection); `Ok` when the node took it, else why not (the node
/// refused it, or did not answer). On a nonce error the device resyncs its
/// nonce from the node; when no answer came, the node took it if the
/// device's pending nonce moved past it, and a node that does not answer
/// that either is dead: the device fails over ([`fail_over`]).
async fn send_reading(d: &mut FleetDevice, raw: &[u8], sh: &Shared) -> Result<(), Cause> {
    let address = d.signer.address();
    let sent = match &d.mqtt {
        Some(link) => link.send(raw).await,
        None => sh
            .http
            .call(
                &d.url,
                "eth_sendRawTransaction",
                json!([format!("0x{}", hex::encode(raw))]),
            )
            .await
            .map(|_| ()),
    };
    match sent {
        Ok(_) => Ok(()),
        Err(CallError::Node(m)) => {
            if nonce_error(&anyhow!(m)) {
                if let Some(n) = pending_nonce(&sh.http, &d.url, address).await {
                    d.nonce = n;
                }
            }
            Err(Cause::Rejected)
        }
        Err(CallError::Transport(_)) => match pending_nonce(&sh.http, &d.url, address).await {
            // No answer: the node took it if our pending nonce moved past it.
            Some(n) => (n > d.nonce).then_some(()).ok_or(Cause::Unreachable),
            None if d.mqtt.is_none() => {
                let at = (&mut d.url, &mut d.nonce);
                fail_over(&sh.http, &sh.ctx.targets, at, address, &d.recent, raw).await
            }
            None => Err(Cause::Unreachable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_stagger_over_the_first_interval_and_jitter_within_bounds() {
        let i = Duration::from_secs(5);
        let firsts: Vec<f64> = (0..200)
            .map(|d| DeviceClock::new(7, d, i, 0.1).next().as_secs_f64())
            .collect();
        assert!(firsts.iter().all(|t| (0.0..5.0).contains(t)));
        // Spread over the interval, not bunched.
        assert!(firsts.iter().any(|t| *t < 1.0) && firsts.iter().any(|t| *t > 4.0));
        let mut c = DeviceClock::new(7, 3, i, 0.1);
        for _ in 0..100 {
            let before = c.next();
            c.advance();
            let gap = (c.next() - before).as_secs_f64();
            assert!((4.5..=5.5).contains(&gap), "{gap}");
        }
        // Deterministic per seed and device.
        let a = DeviceClock::new(7, 3, i, 0.1).next();
        assert_eq!(a, DeviceClock::new(7, 3, i, 0.1).next());
        assert_ne!(a, DeviceClock::new(8, 3, i, 0.1).next());
    }

    #[test]
    fn due_readings_over_a_window_match_the_interval() {
        let i = Duration::from_secs(2);
        let total: u64 = (0..100)
            .map(|d| DeviceClock::new(1, d, i, 0.2).due_before(Duration::from_secs(60), 1000))
            .sum();
        // 100 devices × 60 s ÷ 2 s = 3000, give or take the jitter.
        assert!((2900..=3100).contains(&total), "{total}");
        let mut c = DeviceClock::new(1, 0, i, 0.0);
        assert_eq!(c.due_before(Duration::from_secs(3600), 5), 5, "bounded");
    }

    #[test]
    fn abnormal_readings_come_at_about_their_share_and_repeat() {
        let a = Address::repeat_byte(7);
        let n = (1..=2000).filter(|s| is_abnormal(a, *s, 0.1)).count();
        assert!((150..=250).contains(&n), "{n} of 2000 at a share of 0.1");
        assert!((1..=100).all(|s| is_abnormal(a, s, 0.1) == is_abnormal(a, s, 0.1)));
        assert!(!(1..=100).any(|s| is_abnormal(a, s, 0.0)));
    }

    #[test]
    fn device_keys_and_patients_are_distinct_and_reproducible() {
        let k = |d| crate::keys::derive(9, &key_label(0xabc, "fleet", d)).address;
        assert_eq!(k(1), k(1));
        assert_ne!(k(1), k(2));
        assert_ne!(
            crate::keys::derive(9, &key_label(0xabc, "other", 1)).address,
            k(1)
        );
        assert_ne!(patient(0xabc, "fleet", 1), patient(0xabc, "fleet", 2));
    }
}
