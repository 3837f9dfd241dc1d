//! What a benchmark run produces: per-round figures in Caliper's columns
//! plus percentiles and on-chain figures, per-node resource use, and the
//! time series the HTML report charts. Serialised as the `bench --json`
//! contract (schema 1); fields may be added, never renamed or removed.

use serde::{Deserialize, Serialize};

/// Schema version of the bench JSON.
pub const SCHEMA: u32 = 1;

/// Why transactions failed, by class.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Failures {
    /// Refused at submission (RPC error, nonce, pool full, …).
    pub rejected: u64,
    /// Mined with status 0, or a read that reverted.
    pub reverted: u64,
    /// Not mined before the round's deadline.
    pub timed_out: u64,
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
    /// On-chain figures.
    pub chain: ChainFigures,
    /// `maximum-rate`: the send rate after which throughput stopped rising.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knee_tps: Option<f64>,
    /// Per-second series for charts.
    #[serde(default)]
    pub timeline: Vec<TimePoint>,
    /// Latency distribution for charts.
    #[serde(default)]
    pub latency_histogram: Vec<LatencyBucket>,
    /// `device-fleet` rounds: what the simulated fleet did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetFigures>,
    /// Real devices the round tracked (`track_devices`), in the listed order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracked_devices: Vec<TrackedDevice>,
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
    /// Rounds in order.
    pub rounds: Vec<RoundResult>,
    /// Per-node resource use.
    pub resources: Vec<ResourceUsage>,
    /// The driver's own resource use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<ResourceUsage>,
    /// Whether the run was cut short (Ctrl-C); the rounds hold what ran.
    #[serde(default)]
    pub partial: bool,
}
