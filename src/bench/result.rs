//! What a benchmark run produces: per-round figures in Caliper's columns
//! plus percentiles and on-chain figures, per-node resource use, and the
//! time series the HTML report charts. Serialised as the `bench --json`
//! contract (schema 1); fields may be added, never renamed or removed.
//!
//! Also the raw figures the observer collects while a round runs
//! ([`RoundStats`]) and [`summarize`], which turns them into the round's
//! report row: the figures live next to the row they become, so neither
//! the engine nor the observer has to know how the other computes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::scenario::Round;

/// Schema version of the bench JSON.
pub(crate) const SCHEMA: u32 = 1;

/// Why transactions failed, by class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    /// Refused at submission: the node answered with a JSON-RPC error
    /// (nonce, pool full, …).
    pub rejected: u64,
    /// Mined with status 0, or a read that reverted.
    pub reverted: u64,
    /// Not mined before the round's deadline.
    pub timed_out: u64,
    /// The node did not answer (connection refused or reset, no answer in
    /// time, node gone), and the transaction is not on chain: its send
    /// never reached a node, or it vanished with a dead node's pool and its
    /// one resubmission failed too.
    #[serde(default)]
    pub unreachable: u64,
}

/// The class of one failure (see [`Failures`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The node did not answer.
    Unreachable,
    /// The node answered with a JSON-RPC error.
    Rejected,
    /// Status 0, or a read that reverted.
    Reverted,
    /// Sent, not mined before the round's deadline.
    TimedOut,
}

impl Failures {
    /// All failures.
    pub fn total(&self) -> u64 {
        self.rejected + self.reverted + self.timed_out + self.unreachable
    }

    /// The counter of `cause`.
    pub fn of(&mut self, cause: Cause) -> &mut u64 {
        match cause {
            Cause::Unreachable => &mut self.unreachable,
            Cause::Rejected => &mut self.rejected,
            Cause::Reverted => &mut self.reverted,
            Cause::TimedOut => &mut self.timed_out,
        }
    }
}

/// What the chain itself did during a round.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChainFigures {
    /// First block of the round's window.
    pub first_block: u64,
    /// Last block of the round's window.
    pub last_block: u64,
    /// Blocks in the window.
    pub blocks: u64,
    /// All transactions included in the window (ours and others').
    pub transactions: u64,
    /// Mean transactions per block.
    pub txs_per_block: f64,
    /// Mean gas used per block.
    pub gas_used_avg: f64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Mean gas used ÷ gas limit, 0–1.
    pub gas_utilization: f64,
    /// Mean seconds between blocks.
    pub block_interval_avg_s: f64,
    /// Uncles referenced in the window (ethash only; 0 on Clique).
    pub uncles: u64,
}

/// One point of a round's time series (one per second).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePoint {
    /// Seconds since the round started.
    pub t_s: f64,
    /// Transactions submitted in this second.
    pub submitted: u64,
    /// Transactions committed (included with enough confirmations) in this second.
    pub committed: u64,
    /// Mean latency of those committed in this second, seconds.
    pub avg_latency_s: f64,
}

/// One bucket of the latency distribution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Upper bound of the bucket, seconds.
    pub le_s: f64,
    /// Transactions in the bucket.
    pub count: u64,
}

/// One round's results (Caliper's table row and more).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundResult {
    /// Round label (Caliper's "Name").
    pub label: String,
    /// Workload op, e.g. `transfer`.
    pub op: String,
    /// Successful transactions.
    pub succ: u64,
    /// Failed transactions.
    pub fail: u64,
    /// Submitted per second over the submission window.
    pub send_rate_tps: f64,
    /// Largest latency, seconds.
    pub max_latency_s: f64,
    /// Smallest latency, seconds.
    pub min_latency_s: f64,
    /// Mean latency, seconds.
    pub avg_latency_s: f64,
    /// Median latency, seconds.
    pub p50_latency_s: f64,
    /// 95th percentile latency, seconds.
    pub p95_latency_s: f64,
    /// 99th percentile latency, seconds.
    pub p99_latency_s: f64,
    /// Successful transactions per second, first submission → last commit.
    pub throughput_tps: f64,
    /// Our transactions counted in the chain's blocks per second over the
    /// same window (the chain's own view of throughput).
    pub onchain_tps: f64,
    /// Round wall time, seconds.
    pub duration_s: f64,
    /// Failure classes.
    pub failures: Failures,
    /// Transactions that vanished with a dead node's pool and were
    /// resubmitted (once, same nonce and hash) to a live target; each
    /// counts once, as a success or a failure, whatever node saw it.
    #[serde(default)]
    pub retries: u64,
    /// Failed ÷ (succeeded + failed), percent (0 when nothing ran): what
    /// the scenario's `max_fail_pct` bounds.
    #[serde(default)]
    pub fail_pct: f64,
    /// On-chain figures.
    pub chain: ChainFigures,
    /// `maximum-rate`: the send rate after which throughput stopped rising.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee_tps: Option<f64>,
    /// The send rate the round's controller asked for: its scheduled sends
    /// over their scheduled span (`null` for `fixed-load` and device
    /// fleets, which have no rate).
    #[serde(default)]
    pub target_tps: Option<f64>,
    /// Set when the achieved send rate is more than 5 % below
    /// `target_tps`: by how much and why (`null` otherwise).
    #[serde(default)]
    pub send_shortfall: Option<super::shortfall::Shortfall>,
    /// What the workers measured while sending: how late requests left
    /// and where that time went, round trips, in-flight peak (`null` for
    /// device fleets).
    #[serde(default)]
    pub send_figures: Option<super::shortfall::Evidence>,
    /// The driver's CPU time (user + system, from `/proc/self/stat`) from
    /// the round's start to the end of its drain, per success,
    /// microseconds (0 when nothing succeeded).
    #[serde(default)]
    pub driver_cpu_per_tx_us: f64,
    /// CPU time of one secp256k1 signature, measured by the same binary
    /// on the same machine at the start of the run, microseconds.
    #[serde(default)]
    pub signature_us: f64,
    /// Per-second series for charts.
    #[serde(default)]
    pub timeline: Vec<TimePoint>,
    /// Latency distribution for charts.
    #[serde(default)]
    pub latency_histogram: Vec<LatencyBucket>,
    /// `device-fleet` rounds: what the simulated fleet did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetFigures>,
    /// `device-fleet` rounds with `abnormal_share`: how the alarms of the
    /// abnormal readings reached a subscriber.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<super::alarms::AlarmFigures>,
    /// Real devices the round tracked (`track_devices`), in the listed order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracked_devices: Vec<TrackedDevice>,
    /// Rounds with `faults:`: what each fault did and how the network
    /// recovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<crate::fault::recovery::Recovery>,
    /// Rounds with `monitors: prometheus:`: each query's figures over the
    /// round's window, and what could not be queried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<super::prom_queries::PromResults>,
    /// When the round started (for fault times; not reported).
    #[serde(skip)]
    pub(crate) started: Option<Instant>,
    /// (commit time since the start, latency) of every success, seconds,
    /// when the round has faults (not reported: the recovery windows are).
    #[serde(skip)]
    pub(crate) commits: Vec<(f64, f64)>,
}

/// What a simulated ESP32 fleet did in one round. A reading is *due* when
/// its scheduled time falls inside the round's sending window, *sent* when
/// its device submitted it, and *late* when its device could not send it on
/// schedule because the device's previous request was still in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetFigures {
    /// Simulated devices.
    pub devices: u64,
    /// Seconds between one device's readings.
    pub interval_s: f64,
    /// Jitter, a fraction of the interval.
    pub jitter: f64,
    /// The rate the fleet is due to send: devices ÷ interval, readings per second.
    pub due_rate_tps: f64,
    /// Readings scheduled inside the sending window.
    pub readings_due: u64,
    /// Readings submitted.
    pub readings_sent: u64,
    /// Readings sent after their scheduled time because the device's
    /// previous request was still in flight.
    pub readings_late: u64,
    /// Due readings never sent (the device was still behind when the window closed).
    pub readings_unsent: u64,
    /// Median delay from a reading's scheduled time to its submission, seconds.
    pub send_lag_p50_s: f64,
    /// 99th percentile of that delay, seconds.
    pub send_lag_p99_s: f64,
    /// Largest delay, seconds.
    pub send_lag_max_s: f64,
    /// HTTP connections the devices opened (one per request).
    pub connections: u64,
    /// Seconds spent funding and registering the devices before the round.
    pub setup_s: f64,
}

/// What the observer saw of one real device (`track_devices`) in a round.
/// Latency runs from the reading's device timestamp (ms since the Unix
/// epoch, the device's clock) to the arrival of the head that included it
/// (the driver's clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackedDevice {
    /// Device wallet address (0x, lower case).
    pub address: String,
    /// Readings stored (successful `addMedicalRecord`, each sequence once).
    pub readings: u64,
    /// Lowest sequence number seen (0 when none).
    pub first_sequence: u64,
    /// Highest sequence number seen (0 when none).
    pub last_sequence: u64,
    /// Sequence numbers missing between the first and the last seen.
    pub lost: u64,
    /// The first missing sequence numbers (at most 20).
    pub lost_sequences: Vec<u64>,
    /// Transactions carrying a sequence number already seen.
    pub duplicates: u64,
    /// Readings whose transaction reverted (not a duplicate).
    pub reverted: u64,
    /// Mean latency, device timestamp → inclusion observed, seconds.
    pub avg_latency_s: f64,
    /// Median latency, seconds.
    pub p50_latency_s: f64,
    /// 95th percentile latency, seconds.
    pub p95_latency_s: f64,
    /// Largest latency, seconds.
    pub max_latency_s: f64,
}

/// Resource use of one monitored process (a node, or the driver itself).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// Node name (or `medchain (driver)`).
    pub node: String,
    /// Highest CPU use over a sample interval, percent of one core.
    pub cpu_max_pct: f64,
    /// Mean CPU use, percent of one core.
    pub cpu_avg_pct: f64,
    /// Highest resident memory, MB.
    pub mem_max_mb: f64,
    /// Mean resident memory, MB.
    pub mem_avg_mb: f64,
    /// Bytes read from storage during the run, MB.
    #[serde(default)]
    pub disk_read_mb: f64,
    /// Bytes written to storage during the run, MB.
    #[serde(default)]
    pub disk_write_mb: f64,
    /// Network received during the run, MB (whole network namespace for processes).
    #[serde(default)]
    pub net_rx_mb: f64,
    /// Network sent during the run, MB.
    #[serde(default)]
    pub net_tx_mb: f64,
}

/// A whole benchmark run (`bench --json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Always [`SCHEMA`].
    pub schema: u32,
    /// Network benchmarked.
    pub network: String,
    /// Scenario name.
    pub scenario: String,
    /// Consensus of the network (`clique`, `ethash`, or `external` with --rpc).
    #[serde(default)]
    pub consensus: String,
    /// Runtime of the network's nodes (`process`, `docker`; empty with --rpc).
    #[serde(default)]
    pub runtime: String,
    /// The records layout the records workloads measured: `private`
    /// (PrivateRecords, readings sealed off-chain) or `clear` (the
    /// published MedicalRecords, readings public); absent for a scenario
    /// that drives Simple.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_layout: Option<String>,
    /// Rounds in order.
    pub rounds: Vec<RoundResult>,
    /// Per-node resource use.
    pub resources: Vec<ResourceUsage>,
    /// The driver's own resource use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<ResourceUsage>,
    /// Whether the run was cut short (Ctrl-C, or a round failed after
    /// others completed); the rounds hold what ran.
    #[serde(default)]
    pub partial: bool,
    /// Why the run stopped early, when a round failed (the completed rounds
    /// are still reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// What did not work but did not fail the run (the metrics exporter or
    /// a Pushgateway push, say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A block as the observer saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockInfo {
    /// Number.
    pub number: u64,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// Transactions in the block.
    pub txs: u64,
    /// Of which ours (submitted in the current round).
    pub ours: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Uncles referenced.
    pub uncles: u64,
    /// When the observer first saw the block (its head announcement, or
    /// when it read it after missing the announcement).
    pub arrived: Option<Instant>,
}

/// Raw figures of the round under way, as the observer collects them.
#[derive(Debug)]
pub struct RoundStats {
    /// Round start.
    pub start: Instant,
    /// Latencies of successes, microseconds.
    pub hist: Histogram<u64>,
    /// Successes.
    pub succ: u64,
    /// Failures by class.
    pub failures: Failures,
    /// Resubmissions of vanished transactions.
    pub retries: u64,
    /// Submitted.
    pub sent: u64,
    /// First submission.
    pub first_submit: Option<Instant>,
    /// Last submission.
    pub last_submit: Option<Instant>,
    /// Last commit (or read completion).
    pub last_commit: Option<Instant>,
    /// Per-second series: submitted, committed, latency sum.
    pub timeline: Vec<(u64, u64, f64)>,
    /// Blocks seen while the round ran.
    pub blocks: Vec<BlockInfo>,
    /// Timestamps of every block seen (and of a few before the round).
    pub timestamps: BTreeMap<u64, u64>,
    /// When the observer first saw each block (and a few before the round),
    /// by number: the chain's window runs on these.
    pub arrivals: BTreeMap<u64, Instant>,
    /// The head when the round began: the chain's window opens there.
    pub start_head: u64,
    /// Tracked real devices (`track_devices`), in the listed order.
    pub tracked: Vec<TrackedDevice>,
    /// (commit time since the start, latency) of every success, seconds,
    /// when kept (rounds with faults; at most [`MAX_COMMITS`]).
    pub commits: Option<Vec<(f64, f64)>>,
}

/// Most per-transaction commits a round keeps for its fault windows.
const MAX_COMMITS: usize = 2_000_000;

impl RoundStats {
    /// Empty figures of a round that started at `start`.
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            hist: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds"),
            succ: 0,
            failures: Failures::default(),
            retries: 0,
            sent: 0,
            first_submit: None,
            last_submit: None,
            last_commit: None,
            timeline: Vec::new(),
            blocks: Vec::new(),
            timestamps: BTreeMap::new(),
            arrivals: BTreeMap::new(),
            start_head: 0,
            tracked: Vec::new(),
            commits: None,
        }
    }

    fn slot(&mut self, at: Instant) -> &mut (u64, u64, f64) {
        let i = at.saturating_duration_since(self.start).as_secs() as usize;
        // Bounded: a round lasts at most an hour plus its drain deadline.
        let i = i.min(7200);
        if self.timeline.len() <= i {
            self.timeline.resize(i + 1, (0, 0, 0.0));
        }
        &mut self.timeline[i]
    }

    /// Records a submission at `at` (a transaction sent, or a read started).
    pub(crate) fn submitted(&mut self, at: Instant) {
        self.sent += 1;
        self.first_submit.get_or_insert(at);
        self.last_submit = Some(at);
        self.slot(at).0 += 1;
    }

    /// Records a success with `latency`, finished at `at`.
    pub fn success(&mut self, latency: Duration, at: Instant) {
        self.succ += 1;
        let _ = self.hist.record((latency.as_micros() as u64).max(1));
        self.last_commit = Some(self.last_commit.map_or(at, |l| l.max(at)));
        let since = at.saturating_duration_since(self.start).as_secs_f64();
        if let Some(c) = self.commits.as_mut().filter(|c| c.len() < MAX_COMMITS) {
            c.push((since, latency.as_secs_f64()));
        }
        let s = self.slot(at);
        s.1 += 1;
        s.2 += latency.as_secs_f64();
    }

    /// The per-second series.
    pub(crate) fn time_points(&self) -> Vec<TimePoint> {
        self.timeline
            .iter()
            .enumerate()
            .map(|(i, (sub, com, lat))| TimePoint {
                t_s: i as f64,
                submitted: *sub,
                committed: *com,
                avg_latency_s: if *com > 0 { lat / *com as f64 } else { 0.0 },
            })
            .collect()
    }
}

/// Seconds from `a` to `b`; 0 unless both are known and `b` is later.
fn span_s(a: Option<Instant>, b: Option<Instant>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if b > a => (b - a).as_secs_f64(),
        _ => 0.0,
    }
}

/// Turns a round's raw figures into its report row.
pub(crate) fn summarize(round: &Round, s: &RoundStats, knee: Option<f64>) -> RoundResult {
    let fail = s.failures.total();
    let send_span = span_s(s.first_submit, s.last_submit);
    let span = span_s(s.first_submit, s.last_commit);
    let lat = |q: f64| {
        if s.succ > 0 {
            s.hist.value_at_quantile(q) as f64 / 1e6
        } else {
            0.0
        }
    };
    let read = round.workload.is_read();
    let window = chain_window(s, read);
    let (chain, onchain_tps) = chain_figures(&window, s, read);

    RoundResult {
        label: round.label.clone(),
        op: round.workload.op().to_string(),
        succ: s.succ,
        fail,
        send_rate_tps: if send_span > 0.0 {
            (s.sent as f64 - 1.0).max(0.0) / send_span
        } else {
            0.0
        },
        max_latency_s: if s.succ > 0 {
            s.hist.max() as f64 / 1e6
        } else {
            0.0
        },
        min_latency_s: if s.succ > 0 {
            s.hist.min() as f64 / 1e6
        } else {
            0.0
        },
        avg_latency_s: if s.succ > 0 { s.hist.mean() / 1e6 } else { 0.0 },
        p50_latency_s: lat(0.50),
        p95_latency_s: lat(0.95),
        p99_latency_s: lat(0.99),
        throughput_tps: if span > 0.0 {
            s.succ as f64 / span
        } else {
            0.0
        },
        onchain_tps,
        duration_s: (s
            .last_commit
            .unwrap_or(s.start)
            .max(s.last_submit.unwrap_or(s.start))
            - s.start)
            .as_secs_f64(),
        failures: s.failures.clone(),
        retries: s.retries,
        fail_pct: fail_pct(s.succ, fail),
        chain,
        knee_tps: knee,
        target_tps: None,
        send_shortfall: None,
        send_figures: None,
        driver_cpu_per_tx_us: 0.0,
        signature_us: 0.0,
        timeline: s.time_points(),
        latency_histogram: latency_histogram(s),
        fleet: None,
        alarms: None,
        tracked_devices: s.tracked.clone(),
        recovery: None,
        prometheus: None,
        started: Some(s.start),
        commits: s.commits.clone().unwrap_or_default(),
    }
}

/// Failed ÷ (succeeded + failed), percent; 0 when nothing ran.
pub(crate) fn fail_pct(succ: u64, fail: u64) -> f64 {
    if succ + fail == 0 {
        0.0
    } else {
        100.0 * fail as f64 / (succ + fail) as f64
    }
}

/// One line per round whose failure ratio exceeds its `max_fail_pct`
/// (rounds matched by label; a round the scenario does not list is not
/// checked).
pub fn fail_breaches(report: &BenchReport, rounds: &[Round]) -> Vec<String> {
    report
        .rounds
        .iter()
        .filter_map(|r| {
            let limit = rounds.iter().find(|x| x.label == r.label)?.max_fail_pct;
            let pct = fail_pct(r.succ, r.fail);
            (pct > limit).then(|| {
                format!(
                    "round {}: {pct:.2}% of its transactions failed ({} of {}), above max_fail_pct {limit}",
                    r.label,
                    r.fail,
                    r.succ + r.fail
                )
            })
        })
        .collect()
}

/// The blocks a round's chain figures cover. A read round puts nothing on
/// chain, so it covers every block seen; a write round covers the first
/// block after the round began to the last block holding one of ours (none
/// when no block held one).
fn chain_window(s: &RoundStats, read: bool) -> Vec<BlockInfo> {
    if read {
        return s.blocks.clone();
    }
    let last = s.blocks.iter().rposition(|b| b.ours > 0);
    match last {
        Some(l) => s.blocks[..=l]
            .iter()
            .filter(|b| b.number > s.start_head)
            .cloned()
            .collect(),
        None => Vec::new(),
    }
}

/// The chain's own figures over `window`, and our transactions per second
/// by the chain's clock (0 for reads). The chain's window opens at the
/// parent of the first block (the head when the round began) and closes
/// at the last block, each taken at the time the observer first saw it
/// (`s.arrivals`): on ethash a header's timestamp is when its miner
/// started on it, not when the block existed, so header times would
/// stretch or shrink the window by up to a block. Header timestamps are
/// the fallback for blocks whose arrival is unknown.
fn chain_figures(window: &[BlockInfo], s: &RoundStats, read: bool) -> (ChainFigures, f64) {
    let mut chain = ChainFigures::default();
    let mut onchain_tps = 0.0;
    let (Some(first), Some(last)) = (window.first(), window.last()) else {
        return (chain, onchain_tps);
    };
    let n = window.len() as f64;
    chain.first_block = first.number;
    chain.last_block = last.number;
    chain.blocks = window.len() as u64;
    chain.transactions = window.iter().map(|b| b.txs).sum();
    chain.txs_per_block = chain.transactions as f64 / n;
    chain.gas_used_avg = window.iter().map(|b| b.gas_used as f64).sum::<f64>() / n;
    chain.gas_limit = last.gas_limit;
    chain.gas_utilization = if last.gas_limit > 0 {
        chain.gas_used_avg / last.gas_limit as f64
    } else {
        0.0
    };
    chain.uncles = window.iter().map(|b| b.uncles).sum();
    let chain_span = chain_span_s(first, last, s);
    if chain.blocks > 0 {
        chain.block_interval_avg_s = chain_span / chain.blocks as f64;
    }
    let ours: u64 = window.iter().map(|b| b.ours).sum();
    if !read && chain_span > 0.0 {
        onchain_tps = ours as f64 / chain_span;
    }
    (chain, onchain_tps)
}

/// Seconds from the parent of `first` (or `first` itself when its parent
/// is unknown) to `last`: by arrival times when both are known, else by
/// header timestamps.
fn chain_span_s(first: &BlockInfo, last: &BlockInfo, s: &RoundStats) -> f64 {
    let parent = first.number.saturating_sub(1);
    let arrived = |b: &BlockInfo| b.arrived.or_else(|| s.arrivals.get(&b.number).copied());
    let opened = s.arrivals.get(&parent).copied().or_else(|| arrived(first));
    if let (Some(a), Some(b)) = (opened, arrived(last)) {
        return b.saturating_duration_since(a).as_secs_f64();
    }
    let parent_ts = s
        .timestamps
        .get(&parent)
        .copied()
        .unwrap_or(first.timestamp);
    last.timestamp.saturating_sub(parent_ts) as f64
}

/// The latency distribution for the report's chart: buckets doubling from
/// 10 ms, the empty ones between filled ones kept, at most 41 buckets;
/// none without a success.
fn latency_histogram(s: &RoundStats) -> Vec<LatencyBucket> {
    let mut histogram = Vec::new();
    if s.succ == 0 {
        return histogram;
    }
    let mut prev = 0u64;
    for v in s.hist.iter_log(10_000, 2.0) {
        let upper = v.value_iterated_to();
        let count = v.count_since_last_iteration();
        if count > 0 || upper > prev {
            histogram.push(LatencyBucket {
                le_s: upper as f64 / 1e6,
                count,
            });
        }
        prev = upper;
        if histogram.len() > 40 {
            break;
        }
    }
    histogram
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::scenario::{Length, Rate, Workload};

    fn round(workload: Workload) -> Round {
        Round {
            label: "r1".into(),
            length: Length::Count(101),
            rate: Rate::FixedRate { tps: 50.0 },
            workload,
            track_devices: Vec::new(),
            monitors: None,
            max_fail_pct: 0.0,
            faults: Vec::new(),
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn block(number: u64, txs: u64, ours: u64, gas_used: u64, uncles: u64) -> BlockInfo {
        BlockInfo {
            number,
            timestamp: 1000 + 2 * (number - 10),
            txs,
            ours,
            gas_used,
            gas_limit: 10_000_000,
            uncles,
            arrived: None,
        }
    }

    /// 101 sends 20 ms apart from 0.5 s after the start (a 2 s send
    /// window); 100 successes with latencies 10 ms, 20 ms, …, 1000 ms, the
    /// last committed 5 s after the start; 6 failures; blocks 10 (the head at the start) to 13, ours in
    /// 11 and 12.
    fn write_round_stats(start: Instant) -> RoundStats {
        let mut s = RoundStats::new(start);
        for i in 0..=100 {
            s.submitted(start + ms(500 + 20 * i));
        }
        for i in 1..=100 {
            s.success(ms(10 * i), start + ms(4000 + 10 * i));
        }
        s.failures = Failures {
            rejected: 1,
            reverted: 2,
            timed_out: 3,
            unreachable: 4,
        };
        s.start_head = 10;
        s.blocks = vec![
            block(10, 7, 0, 500_000, 0),
            block(11, 50, 40, 1_000_000, 0),
            block(12, 60, 60, 3_000_000, 1),
            block(13, 5, 0, 100_000, 0),
        ];
        s.timestamps = s.blocks.iter().map(|b| (b.number, b.timestamp)).collect();
        s
    }

    fn close(got: f64, want: f64, what: &str) {
        // Histogram values are exact to 3 significant digits.
        assert!(
            (got - want).abs() <= want.abs() * 2e-3 + 1e-9,
            "{what}: got {got}, want {want}"
        );
    }

    #[test]
    fn a_write_round_is_summarized_from_its_raw_figures() {
        let start = Instant::now();
        let r = summarize(
            &round(Workload::Transfer { amount: 1 }),
            &write_round_stats(start),
            Some(42.0),
        );
        assert_eq!((r.label.as_str(), r.op.as_str()), ("r1", "transfer"));
        assert_eq!((r.succ, r.fail), (100, 10));
        close(r.fail_pct, 100.0 * 10.0 / 110.0, "fail pct");
        // 100 gaps over the 2 s from first to last send.
        close(r.send_rate_tps, 50.0, "send rate");
        // 100 successes over the 4.5 s from first send to last commit.
        close(r.throughput_tps, 100.0 / 4.5, "throughput");
        close(r.duration_s, 5.0, "duration");
        close(r.min_latency_s, 0.010, "min");
        close(r.max_latency_s, 1.000, "max");
        close(r.avg_latency_s, 0.505, "avg");
        close(r.p50_latency_s, 0.500, "p50");
        close(r.p95_latency_s, 0.950, "p95");
        close(r.p99_latency_s, 0.990, "p99");
        assert_eq!(r.knee_tps, Some(42.0));
        assert_eq!(r.failures.timed_out, 3);
        assert_eq!(r.failures.unreachable, 4);
        assert_eq!(r.fleet, None);
    }

    #[test]
    fn rounds_above_their_max_fail_pct_are_named() {
        let report = |fails: &[(u64, u64)]| BenchReport {
            rounds: fails
                .iter()
                .enumerate()
                .map(|(i, (succ, fail))| RoundResult {
                    label: format!("r{i}"),
                    succ: *succ,
                    fail: *fail,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let mut rounds = vec![
            round(Workload::Query),
            round(Workload::Transfer { amount: 1 }),
        ];
        rounds[0].label = "r0".into();
        rounds[1].label = "r1".into();
        rounds[1].max_fail_pct = 5.0;
        // r0: 0 allowed, none failed; r1: 5% allowed, 5% failed.
        assert!(fail_breaches(&report(&[(10, 0), (95, 5)]), &rounds).is_empty());
        assert!(fail_breaches(&report(&[(0, 0), (0, 0)]), &rounds).is_empty());
        let lines = fail_breaches(&report(&[(99, 1), (94, 6)]), &rounds);
        assert_eq!(
            lines,
            [
                "round r0: 1.00% of its transactions failed (1 of 100), above max_fail_pct 0",
                "round r1: 6.00% of its transactions failed (6 of 100), above max_fail_pct 5"
            ]
        );
    }

    #[test]
    fn a_write_rounds_chain_window_runs_from_after_the_start_head_to_our_last_block() {
        let r = summarize(
            &round(Workload::Transfer { amount: 1 }),
            &write_round_stats(Instant::now()),
            None,
        );
        let c = &r.chain;
        assert_eq!((c.first_block, c.last_block, c.blocks), (11, 12, 2));
        assert_eq!(c.transactions, 110);
        close(c.txs_per_block, 55.0, "txs per block");
        close(c.gas_used_avg, 2_000_000.0, "gas used");
        assert_eq!(c.gas_limit, 10_000_000);
        close(c.gas_utilization, 0.2, "gas utilization");
        assert_eq!(c.uncles, 1);
        // From block 10's timestamp (1000, the parent of the first) to
        // block 12's (1004): 4 s for 2 blocks and our 100 transactions.
        close(c.block_interval_avg_s, 2.0, "block interval");
        close(r.onchain_tps, 25.0, "on-chain tps");
    }

    #[test]
    fn a_read_round_covers_every_block_and_has_no_on_chain_rate() {
        let r = summarize(
            &round(Workload::Query),
            &write_round_stats(Instant::now()),
            None,
        );
        assert_eq!(r.op, "query");
        let c = &r.chain;
        assert_eq!((c.first_block, c.last_block, c.blocks), (10, 13, 4));
        assert_eq!(c.transactions, 122);
        // Block 9 is unknown: the window opens at block 10's own timestamp.
        close(c.block_interval_avg_s, 6.0 / 4.0, "block interval");
        assert_eq!(r.onchain_tps, 0.0);
    }

    #[test]
    fn the_latency_histogram_holds_every_success_in_doubling_buckets() {
        let r = summarize(
            &round(Workload::Transfer { amount: 1 }),
            &write_round_stats(Instant::now()),
            None,
        );
        let h = &r.latency_histogram;
        assert_eq!(h.iter().map(|b| b.count).sum::<u64>(), 100);
        // Bounds 10 ms × 2^k (less 1 µs); a latency on a bound falls in
        // the bucket above it: 10 ms in the second, 20 ms and 30 ms in the
        // third, …, 640 ms to 1000 ms in the last.
        close(h[0].le_s, 0.01, "first bucket");
        let counts: Vec<u64> = h.iter().map(|b| b.count).collect();
        assert_eq!(counts, [0, 1, 2, 4, 8, 16, 32, 37]);
        for w in h.windows(2) {
            close(w[1].le_s, 2.0 * w[0].le_s, "bucket bound");
        }
        assert_eq!(r.timeline.iter().map(|p| p.submitted).sum::<u64>(), 101);
        assert_eq!(r.timeline.iter().map(|p| p.committed).sum::<u64>(), 100);
    }

    #[test]
    fn a_round_without_successes_or_blocks_reports_zeros() {
        let start = Instant::now();
        let mut s = RoundStats::new(start);
        s.submitted(start + ms(300));
        s.failures.rejected = 1;
        let r = summarize(&round(Workload::Transfer { amount: 1 }), &s, None);
        assert_eq!((r.succ, r.fail), (0, 1));
        assert_eq!(r.send_rate_tps, 0.0, "one send spans no time");
        assert_eq!(r.throughput_tps, 0.0);
        for l in [
            r.min_latency_s,
            r.max_latency_s,
            r.avg_latency_s,
            r.p50_latency_s,
            r.p95_latency_s,
            r.p99_latency_s,
        ] {
            assert_eq!(l, 0.0);
        }
        assert!(r.latency_histogram.is_empty());
        assert_eq!(r.chain, ChainFigures::default());
        assert_eq!(r.onchain_tps, 0.0);
        close(r.duration_s, 0.3, "duration runs to the last send");
    }
}
