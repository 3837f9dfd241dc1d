//! Scenario files (`scenarios/*.yaml`): Caliper's round model — rounds of a
//! rate controller × a workload — with our names. Every key but `rounds`
//! defaults. Parsing is pure and refuses malformed scenarios with one line
//! naming the file and the field (exit 2).

use std::fmt;

use serde::{Deserialize, Serialize};

use alloy::primitives::Address;

use super::prom_queries::{self, RawMonitors};
use crate::error::{InputError, Problems};

/// Which deployed contract the scenario drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractKind {
    /// Caliper's simple contract.
    Simple,
    /// MedicalRecords.
    Medical,
}

/// How the round's length is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Length {
    /// Exactly this many transactions.
    Count(u64),
    /// Send for this many seconds.
    Seconds(f64),
}

/// A rate controller, as in Caliper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rate {
    /// A constant send rate.
    FixedRate {
        /// Transactions per second.
        tps: f64,
    },
    /// A rate that moves linearly from `start_tps` to `end_tps` over the round.
    LinearRate {
        /// Rate at the start.
        start_tps: f64,
        /// Rate at the end.
        end_tps: f64,
    },
    /// Keep this many transactions unconfirmed at all times.
    FixedLoad {
        /// Transactions in flight.
        in_flight: u64,
    },
    /// Step the rate up until throughput stops rising; report the knee.
    MaximumRate {
        /// First step's rate.
        start_tps: f64,
        /// Increase per step.
        step_tps: f64,
        /// Seconds per step.
        step_s: f64,
    },
}

/// What each transaction of a round does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Workload {
    /// Simple: open accounts with an initial amount.
    Open {
        /// Distinct accounts opened (then reused round-robin).
        #[serde(default = "default_accounts")]
        accounts: u64,
        /// Balance each account opens with.
        #[serde(default = "default_initial_amount")]
        initial_amount: i64,
    },
    /// Simple: read an opened account's balance (eth_call).
    Query,
    /// Simple: move an amount between opened accounts.
    Transfer {
        /// Amount per transfer.
        #[serde(default = "default_amount")]
        amount: i64,
    },
    /// MedicalRecords: open an EMR (a fresh patient per transaction).
    OpenEmr,
    /// MedicalRecords: read an opened EMR (eth_call).
    QueryEmr,
    /// MedicalRecords: move an opened EMR's custody to another hospital.
    TransferEmr,
    /// MedicalRecords: a device stores a reading.
    AddRecord,
    /// MedicalRecords: read a page of a patient's records (eth_call).
    GetRecords {
        /// Records per page.
        #[serde(default = "default_page")]
        limit: u64,
    },
    /// MedicalRecords: a simulated ESP32 fleet. Each device has its own key
    /// and patient, keeps one request in flight, opens a new connection per
    /// request and takes a reading every `interval_s` (± `jitter`); the
    /// round's rate is implied (`devices / interval_s` readings per second).
    DeviceFleet {
        /// Simulated devices.
        #[serde(default = "default_devices")]
        devices: u64,
        /// Seconds between one device's readings.
        #[serde(default = "default_interval")]
        interval_s: f64,
        /// Each gap between readings is `interval_s × (1 ± jitter)`,
        /// uniformly drawn from the run's seed; a fraction, 0 to 0.5.
        #[serde(default = "default_jitter")]
        jitter: f64,
        /// The share of readings sent abnormal (heart rate 150 /min), from
        /// 0 to 1. Above 0 the round also measures alarm latency: `watch`
        /// and an alarm subscriber run beside the fleet (bench/alarms.rs).
        #[serde(default)]
        abnormal_share: f64,
        /// How the devices send: straight to the node over HTTP, or
        /// through the network's broker and an MQTT bridge to the gateway.
        #[serde(default)]
        transport: FleetTransport,
    },
}

/// How a `device-fleet` round's devices send their readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FleetTransport {
    /// `eth_sendRawTransaction` to the target node, a new HTTP connection
    /// per reading (as the firmware's HTTP transport).
    #[default]
    Http,
    /// `{"id","raw"}` on the device's MQTT topic, answered by the
    /// gateway's MQTT bridge (one TLS connection per device, as the
    /// firmware's MQTT transport); needs `medchain broker start`.
    Mqtt,
}

impl Workload {
    /// The op's name as written in scenario files.
    pub fn op(&self) -> &'static str {
        match self {
            Workload::Open { .. } => "open",
            Workload::Query => "query",
            Workload::Transfer { .. } => "transfer",
            Workload::OpenEmr => "open-emr",
            Workload::QueryEmr => "query-emr",
            Workload::TransferEmr => "transfer-emr",
            Workload::AddRecord => "add-record",
            Workload::GetRecords { .. } => "get-records",
            Workload::DeviceFleet { .. } => "device-fleet",
        }
    }

    /// Whether the op runs on a private network's PrivateRecords (sealed
    /// readings off-chain): the records workloads and device fleets (over
    /// HTTP or MQTT, with abnormal readings or not); not the EMR ops, which
    /// drive the clear layout's EMR functions.
    pub(crate) fn has_private_path(&self) -> bool {
        matches!(
            self,
            Workload::AddRecord | Workload::GetRecords { .. } | Workload::DeviceFleet { .. }
        )
    }

    /// Whether the op is a read (timed as a round trip, nothing on chain).
    pub(crate) fn is_read(&self) -> bool {
        matches!(
            self,
            Workload::Query | Workload::QueryEmr | Workload::GetRecords { .. }
        )
    }

    /// The contract the op runs on.
    pub fn contract(&self) -> ContractKind {
        match self {
            Workload::Open { .. } | Workload::Query | Workload::Transfer { .. } => {
                ContractKind::Simple
            }
            _ => ContractKind::Medical,
        }
    }
}

/// Which nodes receive load. Only members serve clients (sealers open no
/// RPC port), so `sealers` and `all` are refused when the file is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Every member node.
    Members,
    /// One member by name.
    Node(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Members => f.write_str("members"),
            Target::Node(n) => f.write_str(n),
        }
    }
}

/// One round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Label (Caliper's "Name").
    pub label: String,
    /// Count or duration.
    pub length: Length,
    /// Rate controller.
    pub rate: Rate,
    /// Workload.
    pub workload: Workload,
    /// Real devices whose readings the observer follows during the round
    /// (`track_devices`): addresses sending `addMedicalRecord` to the
    /// scenario's MedicalRecords contract.
    #[serde(default)]
    pub track_devices: Vec<Address>,
    /// Highest failure ratio, percent of (succeeded + failed), the round
    /// may have before the run exits 1 (`max_fail_pct`, the round's own or
    /// the scenario's).
    #[serde(default)]
    pub max_fail_pct: f64,
    /// Faults applied while the round runs (`faults:`), in the order
    /// written; their recovery figures go into the round's report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::fault::Fault>,
    /// Prometheus queries evaluated over the round's window (`monitors:`,
    /// the round's own or the scenario's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitors: Option<super::prom_queries::PromMonitor>,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Contract driven.
    pub contract: ContractKind,
    /// Concurrent senders, each with its own funded account.
    pub workers: u64,
    /// Nodes receiving load.
    pub target: Target,
    /// Blocks a transaction needs on top of it (1 = included).
    pub confirmations: u64,
    /// Most requests one account keeps in flight (`max_in_flight`).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u64,
    /// Accounts each worker sends from (`accounts_per_worker`), each over
    /// its own ordered connection.
    #[serde(default = "default_accounts_per_worker")]
    pub accounts_per_worker: u64,
    /// Rounds in order.
    pub rounds: Vec<Round>,
    /// `privacy: clear` lets a records workload run on a private network
    /// by deploying the published clear layout for this run (its records
    /// public); `None` uses the network's own layout.
    #[serde(default)]
    pub privacy: Option<crate::topology::Privacy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    privacy: Option<crate::topology::Privacy>,
    name: Option<String>,
    description: Option<String>,
    contract: Option<ContractKind>,
    workers: Option<u64>,
    target: Option<String>,
    confirmations: Option<u64>,
    max_in_flight: Option<u64>,
    accounts_per_worker: Option<u64>,
    max_fail_pct: Option<f64>,
    monitors: Option<RawMonitors>,
    rounds: Option<Vec<RawRound>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRound {
    label: Option<String>,
    tx_number: Option<u64>,
    tx_duration: Option<f64>,
    rate: Option<Rate>,
    workload: Option<Workload>,
    track_devices: Option<Vec<String>>,
    max_fail_pct: Option<f64>,
    faults: Option<Vec<crate::fault::action::RawFault>>,
    monitors: Option<RawMonitors>,
}

/// Most transactions one round may send: bounds memory and time.
pub(crate) const MAX_TX_NUMBER: u64 = 10_000_000;
/// Longest round, seconds.
pub(crate) const MAX_DURATION_S: f64 = 3600.0;
/// Highest rate a controller may ask for.
pub(crate) const MAX_TPS: f64 = 100_000.0;
/// Most workers.
pub(crate) const MAX_WORKERS: u64 = 256;
/// Largest in-flight window per account.
pub(crate) const MAX_IN_FLIGHT: u64 = 4096;
/// Most accounts per worker.
pub(crate) const MAX_ACCOUNTS_PER_WORKER: u64 = 64;
/// Most simulated devices in one `device-fleet` round.
pub(crate) const MAX_FLEET: u64 = 10_000;
/// Shortest and longest gap between one device's readings, seconds.
pub(crate) const INTERVAL_RANGE_S: (f64, f64) = (0.1, 3600.0);
/// Most real devices one round may track.
pub(crate) const MAX_TRACKED: usize = 1000;

/// The default of every scenario key: what a key the file leaves out means.
/// The parser (and serde, for the workload fields) takes each default from
/// [`DEFAULTS`] and nowhere else. `rounds` and each round's length, rate
/// and workload op have no default: a scenario must say what it measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// `name`.
    pub name: &'static str,
    /// `description`.
    pub description: &'static str,
    /// `contract` when no round's op implies one.
    pub contract: ContractKind,
    /// `workers`.
    pub workers: u64,
    /// `target`.
    pub target: Target,
    /// `confirmations`.
    pub confirmations: u64,
    /// `max_in_flight`: requests one account keeps in flight at most.
    pub max_in_flight: u64,
    /// `accounts_per_worker`: accounts (each its own ordered connection)
    /// one worker sends from.
    pub accounts_per_worker: u64,
    /// `max_fail_pct` (and `rounds[].max_fail_pct` when the scenario
    /// leaves it out): no failure allowed.
    pub max_fail_pct: f64,
    /// `rounds[].label` is this prefix followed by the round's index.
    pub label_prefix: &'static str,
    /// `workload.accounts` of `open`.
    pub open_accounts: u64,
    /// `workload.initial_amount` of `open`.
    pub open_initial_amount: i64,
    /// `workload.amount` of `transfer`.
    pub transfer_amount: i64,
    /// `workload.limit` of `get-records`.
    pub get_records_limit: u64,
    /// `workload.devices` of `device-fleet`.
    pub fleet_devices: u64,
    /// `workload.interval_s` of `device-fleet`.
    pub fleet_interval_s: f64,
    /// `workload.jitter` of `device-fleet`.
    pub fleet_jitter: f64,
}

/// The scenario defaults.
pub(crate) const DEFAULTS: Defaults = Defaults {
    name: "scenario",
    description: "",
    contract: ContractKind::Simple,
    workers: 4,
    target: Target::Members,
    confirmations: 1,
    max_in_flight: 256,
    accounts_per_worker: 4,
    max_fail_pct: 0.0,
    label_prefix: "round-",
    open_accounts: 1000,
    open_initial_amount: 1_000_000,
    transfer_amount: 1,
    get_records_limit: 10,
    fleet_devices: 200,
    fleet_interval_s: 5.0,
    fleet_jitter: 0.1,
};

// serde's `default = "…"` wants functions; each reads DEFAULTS.
fn default_max_in_flight() -> u64 {
    DEFAULTS.max_in_flight
}
fn default_accounts_per_worker() -> u64 {
    DEFAULTS.accounts_per_worker
}
fn default_accounts() -> u64 {
    DEFAULTS.open_accounts
}
fn default_initial_amount() -> i64 {
    DEFAULTS.open_initial_amount
}
fn default_amount() -> i64 {
    DEFAULTS.transfer_amount
}
fn default_page() -> u64 {
    DEFAULTS.get_records_limit
}
fn default_devices() -> u64 {
    DEFAULTS.fleet_devices
}
fn default_interval() -> f64 {
    DEFAULTS.fleet_interval_s
}
fn default_jitter() -> f64 {
    DEFAULTS.fleet_jitter
}

/// Advice for YAML errors that name a value list: an unknown op or rate
/// type gets every op (grouped by contract) or every rate type with its
/// fields.
const YAML_HINTS: &[(&str, &str)] = &[
    (
        "`open`",
        "ops: open, query, transfer (simple); open-emr, query-emr, transfer-emr, add-record, get-records, device-fleet (medical)",
    ),
    (
        "`fixed-rate`",
        "rate types: fixed-rate {tps}, linear-rate {start_tps, end_tps}, fixed-load {in_flight}, maximum-rate {start_tps, step_tps, step_s}",
    ),
];

/// Parses and validates a scenario file's text, reporting every problem
/// found (the first as the headline, the others as details).
pub fn parse(text: &str, file: &str) -> Result<Scenario, InputError> {
    let raw: RawScenario = crate::error::from_yaml(text, file, YAML_HINTS)?;
    let mut p = Problems::new(file);
    let (workers, confirmations, target) = check_settings(&raw, &mut p);
    let mut contract = raw.contract;
    let max_fail_pct = check_fail_pct("max_fail_pct", raw.max_fail_pct, &mut p);
    let max_in_flight = check_range(
        "max_in_flight",
        raw.max_in_flight,
        (DEFAULTS.max_in_flight, MAX_IN_FLIGHT),
        "requests in flight per account",
        &mut p,
    );
    let accounts_per_worker = check_range(
        "accounts_per_worker",
        raw.accounts_per_worker,
        (DEFAULTS.accounts_per_worker, MAX_ACCOUNTS_PER_WORKER),
        "accounts per worker",
        &mut p,
    );
    let monitors = (raw.monitors.clone()).and_then(|m| prom_queries::check("monitors", m, &mut p));
    let rounds = check_rounds(raw.rounds, &mut contract, &mut p);
    check_privacy(raw.privacy, contract, &rounds, &mut p);
    // Failures are expected while faults run: a round with faults has no
    // failure gate unless the round or the scenario sets one.
    let faulted_default = raw.max_fail_pct.map_or(100.0, |_| max_fail_pct);
    let rounds = rounds
        .into_iter()
        .map(|(r, own)| Round {
            max_fail_pct: own.unwrap_or(if r.faults.is_empty() {
                max_fail_pct
            } else {
                faulted_default
            }),
            monitors: r.monitors.or_else(|| monitors.clone()),
            ..r
        })
        .collect();
    p.finish(Scenario {
        name: raw.name.unwrap_or_else(|| DEFAULTS.name.into()),
        description: raw
            .description
            .unwrap_or_else(|| DEFAULTS.description.into()),
        contract: contract.unwrap_or(DEFAULTS.contract),
        workers,
        target,
        confirmations,
        max_in_flight,
        accounts_per_worker,
        rounds,
        privacy: raw.privacy,
    })
}

/// A count key (`field`) from 1 to `max` (`what` names its unit in the
/// error); `default` when absent (or wrong: the problem is recorded).
fn check_range(
    field: &str,
    value: Option<u64>,
    (default, max): (u64, u64),
    what: &str,
    p: &mut Problems,
) -> u64 {
    match value {
        None => default,
        Some(v) if (1..=max).contains(&v) => v,
        Some(v) => {
            p.add(
                field,
                format!("{v} is out of range: expected 1 to {max} {what}"),
            );
            default
        }
    }
}

/// The scenario-wide keys with defaults applied: `workers`,
/// `confirmations` and `target`.
/// `privacy: private` asks for the private path, which only the records
/// workloads `add-record` and `get-records` have: a Simple scenario, an
/// EMR op, a device fleet or tracked devices (both of the clear layout)
/// contradict it.
fn check_privacy(
    privacy: Option<crate::topology::Privacy>,
    contract: Option<ContractKind>,
    rounds: &[(Round, Option<f64>)],
    p: &mut Problems,
) {
    if privacy != Some(crate::topology::Privacy::Private) {
        return;
    }
    if contract.unwrap_or(DEFAULTS.contract) != ContractKind::Medical {
        p.add(
            "privacy",
            "private applies to the records workloads (add-record, get-records), and this scenario's contract is simple: remove `privacy`",
        );
        return;
    }
    for (r, _) in rounds {
        if !r.workload.has_private_path() {
            p.add(
                "privacy",
                format!(
                    "private contradicts round {:?}: op {} writes the published clear layout only; remove that round or say `privacy: clear`",
                    r.label,
                    r.workload.op()
                ),
            );
        } else if !r.track_devices.is_empty() {
            p.add(
                "privacy",
                format!(
                    "private contradicts round {:?}'s track_devices, which follows devices of the clear layout; remove track_devices or say `privacy: clear`",
                    r.label
                ),
            );
        }
    }
}

fn check_settings(raw: &RawScenario, p: &mut Problems) -> (u64, u64, Target) {
    let workers = raw.workers.unwrap_or(DEFAULTS.workers);
    if !(1..=MAX_WORKERS).contains(&workers) {
        p.add(
            "workers",
            format!("{workers} is out of range: expected 1 to {MAX_WORKERS}"),
        );
    }
    let confirmations = raw.confirmations.unwrap_or(DEFAULTS.confirmations);
    if !(1..=64).contains(&confirmations) {
        p.add(
            "confirmations",
            format!("{confirmations} is out of range: expected 1 (included) to 64"),
        );
    }
    let target = match raw.target.as_deref() {
        None => DEFAULTS.target,
        Some("members") => Target::Members,
        Some(n @ ("sealers" | "all")) => {
            p.add(
                "target",
                format!("{n}: expected members or a member's name: sealers serve no clients (they open no RPC port, only IPC); use `target: members`"),
            );
            DEFAULTS.target
        }
        Some(n) if crate::topology::is_valid_name(n) => Target::Node(n.to_string()),
        Some(n) => {
            p.add(
                "target",
                format!("{n:?}: expected members or a member node's name"),
            );
            DEFAULTS.target
        }
    };
    (workers, confirmations, target)
}

/// A `max_fail_pct` (`field`): a percentage, 0 to 100; the default when
/// absent (or wrong: the problem is recorded).
fn check_fail_pct(field: &str, value: Option<f64>, p: &mut Problems) -> f64 {
    match value {
        None => DEFAULTS.max_fail_pct,
        Some(v) if v.is_finite() && (0.0..=100.0).contains(&v) => v,
        Some(v) => {
            p.add(
                field,
                format!("{v} is out of range: expected a percentage of failed transactions from 0 to 100"),
            );
            DEFAULTS.max_fail_pct
        }
    }
}

/// The `rounds` list: required and not empty, each round checked on its
/// own, with its own `max_fail_pct` if it has one. `contract` is the
/// scenario's contract, set by the first round when the file does not name
/// it.
fn check_rounds(
    raw: Option<Vec<RawRound>>,
    contract: &mut Option<ContractKind>,
    p: &mut Problems,
) -> Vec<(Round, Option<f64>)> {
    let Some(raw) = raw else {
        p.add(
            "rounds",
            "missing: a scenario needs at least one round (label, tx_number or tx_duration, rate, workload)",
        );
        return Vec::new();
    };
    if raw.is_empty() {
        p.add("rounds", "the list is empty: add at least one round");
    }
    let mut labels = Vec::with_capacity(raw.len());
    raw.into_iter()
        .enumerate()
        .filter_map(|(i, r)| check_round(i, r, &mut labels, contract, p))
        .collect()
}

/// Round `i` with defaults applied, or `None` when a required part is
/// missing or wrong (the problem is recorded). Every part is checked even
/// after one fails, so all of a round's mistakes are reported together.
fn check_round(
    i: usize,
    r: RawRound,
    labels: &mut Vec<String>,
    contract: &mut Option<ContractKind>,
    p: &mut Problems,
) -> Option<(Round, Option<f64>)> {
    let own_fail_pct = r
        .max_fail_pct
        .map(|v| check_fail_pct(&format!("rounds[{i}].max_fail_pct"), Some(v), p));
    let label = check_label(i, r.label, labels, p);
    let length = check_length(i, r.tx_number, r.tx_duration, p);
    match &r.workload {
        Some(w) => {
            check_workload(i, w, p);
            check_contract(i, w, contract, p);
        }
        None => p.add(
            &format!("rounds[{i}].workload"),
            "missing: e.g. { op: transfer }",
        ),
    }
    let rate = check_round_rate(i, r.workload.as_ref(), r.rate, p);
    let tracked = r.track_devices.unwrap_or_default();
    let track_devices = parse_tracked(i, &tracked, p);
    if !tracked.is_empty() && *contract != Some(ContractKind::Medical) {
        p.add(
            &format!("rounds[{i}].track_devices"),
            "devices write to MedicalRecords: tracking them needs contract: medical",
        );
    }
    let monitors =
        (r.monitors).and_then(|m| prom_queries::check(&format!("rounds[{i}].monitors"), m, p));
    let max_at = r.tx_duration.unwrap_or(MAX_DURATION_S);
    let faults = (r.faults.unwrap_or_default().into_iter().enumerate())
        .filter_map(|(k, f)| {
            crate::fault::action::check(&format!("rounds[{i}].faults[{k}]"), f, max_at, p)
        })
        .collect();
    let round = Round {
        label,
        length: length?,
        rate: rate?,
        workload: r.workload?,
        track_devices,
        max_fail_pct: DEFAULTS.max_fail_pct,
        faults,
        monitors,
    };
    Some((round, own_fail_pct))
}

/// A round's label: 1 to 64 characters and unique, since labels identify
/// rounds in reports and baselines. `labels` holds the earlier rounds'.
fn check_label(
    i: usize,
    label: Option<String>,
    labels: &mut Vec<String>,
    p: &mut Problems,
) -> String {
    let label = label.unwrap_or_else(|| format!("{}{i}", DEFAULTS.label_prefix));
    let field = format!("rounds[{i}].label");
    if label.trim().is_empty() || label.len() > 64 {
        p.add(&field, "expected 1 to 64 characters");
    } else if labels.contains(&label) {
        p.add(
            &field,
            format!("{label:?} is used twice; labels identify rounds in reports and baselines"),
        );
    }
    labels.push(label.clone());
    label
}

/// A round's length: exactly one of `tx_number` and `tx_duration`, within
/// bounds that keep memory and time finite.
fn check_length(
    i: usize,
    tx_number: Option<u64>,
    tx_duration: Option<f64>,
    p: &mut Problems,
) -> Option<Length> {
    let f = |k: &str| format!("rounds[{i}].{k}");
    match (tx_number, tx_duration) {
        (Some(_), Some(_)) => p.add(
            &format!("rounds[{i}]"),
            "has both tx_number and tx_duration: give exactly one",
        ),
        (None, None) => p.add(
            &format!("rounds[{i}]"),
            "has neither tx_number nor tx_duration: give exactly one",
        ),
        (Some(n), None) if n == 0 || n > MAX_TX_NUMBER => p.add(
            &f("tx_number"),
            format!("{n} is out of range: expected 1 to {MAX_TX_NUMBER}"),
        ),
        (Some(n), None) => return Some(Length::Count(n)),
        (None, Some(d)) if !(d > 0.0 && d <= MAX_DURATION_S) => p.add(
            &f("tx_duration"),
            format!(
                "{d} is out of range: expected more than 0 and at most {MAX_DURATION_S} seconds"
            ),
        ),
        (None, Some(d)) => return Some(Length::Seconds(d)),
    }
    None
}

/// The values of a round's workload that serde cannot bound by type.
fn check_workload(i: usize, workload: &Workload, p: &mut Problems) {
    let f = |k: &str| format!("rounds[{i}].workload.{k}");
    match workload {
        Workload::Open {
            accounts,
            initial_amount,
        } => {
            if *accounts == 0 || *accounts > 10_000_000 {
                p.add(
                    &f("accounts"),
                    format!("{accounts} is out of range: expected 1 to 10000000"),
                );
            }
            if *initial_amount < 0 {
                p.add(&f("initial_amount"), "must not be negative");
            }
        }
        Workload::Transfer { amount } if *amount < 0 => {
            p.add(&f("amount"), "must not be negative");
        }
        Workload::GetRecords { limit } if *limit == 0 || *limit > 1000 => p.add(
            &f("limit"),
            format!("{limit} is out of range: expected 1 to 1000"),
        ),
        Workload::DeviceFleet {
            devices,
            interval_s,
            jitter,
            abnormal_share,
            ..
        } => {
            for (k, m) in check_fleet(*devices, *interval_s, *jitter) {
                p.add(&f(k), m);
            }
            if !(abnormal_share.is_finite() && (0.0..=1.0).contains(abnormal_share)) {
                p.add(
                    &f("abnormal_share"),
                    format!("{abnormal_share} is out of range: expected the share of abnormal readings from 0 to 1 (e.g. 0.1)"),
                );
            }
        }
        _ => {}
    }
}

/// One scenario drives one contract: the first op (or `contract:`) sets
/// it, and an op of the other contract is refused.
fn check_contract(
    i: usize,
    workload: &Workload,
    contract: &mut Option<ContractKind>,
    p: &mut Problems,
) {
    let c = workload.contract();
    match *contract {
        None => *contract = Some(c),
        Some(expected) if expected != c => p.add(
            &format!("rounds[{i}].workload.op"),
            format!(
                "{} runs on the {} contract but the scenario drives {}; use ops of one contract{}",
                workload.op(),
                name_of(c),
                name_of(expected),
                if matches!(workload, Workload::DeviceFleet { .. }) {
                    " (set contract: medical for a device fleet)"
                } else {
                    ""
                }
            ),
        ),
        _ => {}
    }
}

/// A round's rate controller: required unless the workload is a device
/// fleet, whose devices imply the rate (`devices ÷ interval_s`) so a rate
/// there is refused. Reads cannot use fixed-load (nothing to confirm).
fn check_round_rate(
    i: usize,
    workload: Option<&Workload>,
    rate: Option<Rate>,
    p: &mut Problems,
) -> Option<Rate> {
    let field = format!("rounds[{i}].rate");
    match (workload, rate) {
        (Some(Workload::DeviceFleet { .. }), Some(_)) => {
            p.add(
                &field,
                "a device-fleet round has no rate controller: its devices set the rate (devices ÷ interval_s readings per second); remove rate",
            );
            None
        }
        // The fleet's own checks bound the implied rate within MAX_TPS.
        (
            Some(Workload::DeviceFleet {
                devices,
                interval_s,
                ..
            }),
            None,
        ) => Some(Rate::FixedRate {
            tps: *devices as f64 / interval_s,
        }),
        (Some(_), None) => {
            p.add(&field, "missing: e.g. { type: fixed-rate, tps: 50 }");
            None
        }
        (w, Some(rate)) => {
            for m in check_rate(&rate) {
                p.add(&field, m);
            }
            if w.is_some_and(Workload::is_read) && matches!(rate, Rate::FixedLoad { .. }) {
                p.add(
                    &field,
                    "fixed-load keeps transactions unconfirmed; reads have nothing to confirm: use fixed-rate",
                );
            }
            Some(rate)
        }
        (None, None) => None,
    }
}

/// A contract's name as scenario files write it.
fn name_of(c: ContractKind) -> &'static str {
    match c {
        ContractKind::Simple => "simple",
        ContractKind::Medical => "medical",
    }
}

/// Checks a fleet's fields; each problem names its field under the round.
fn check_fleet(devices: u64, interval_s: f64, jitter: f64) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !(1..=MAX_FLEET).contains(&devices) {
        out.push((
            "devices",
            format!("{devices} is out of range: expected 1 to {MAX_FLEET} simulated devices"),
        ));
    }
    let (lo, hi) = INTERVAL_RANGE_S;
    if !(interval_s.is_finite() && (lo..=hi).contains(&interval_s)) {
        out.push((
            "interval_s",
            format!("{interval_s} is out of range: expected {lo} to {hi} seconds between one device's readings"),
        ));
    }
    if !(jitter.is_finite() && (0.0..=0.5).contains(&jitter)) {
        out.push((
            "jitter",
            format!("{jitter} is out of range: expected a fraction of interval_s from 0 to 0.5"),
        ));
    }
    out
}

/// Parses round `i`'s `track_devices`: 0x addresses, each once. Every bad
/// or repeated entry is recorded as `rounds[i].track_devices[k]`.
fn parse_tracked(i: usize, list: &[String], p: &mut Problems) -> Vec<Address> {
    let field = format!("rounds[{i}].track_devices");
    if list.len() > MAX_TRACKED {
        p.add(
            &field,
            format!(
                "{} devices: expected at most {MAX_TRACKED}; split them over rounds",
                list.len()
            ),
        );
        return Vec::new();
    }
    let mut out: Vec<Address> = Vec::with_capacity(list.len());
    for (k, text) in list.iter().enumerate() {
        let t = text.trim();
        let parsed = t
            .strip_prefix("0x")
            .filter(|h| h.len() == 40)
            .and_then(|_| t.parse::<Address>().ok());
        match parsed {
            None => p.add(
                &format!("{field}[{k}]"),
                format!("{t:?} is not an address: expected 0x and 40 hex digits, e.g. from `medchain device provision --json`"),
            ),
            Some(a) if out.contains(&a) => p.add(
                &format!("{field}[{k}]"),
                format!("{t} is listed twice: list each device once"),
            ),
            Some(a) => out.push(a),
        }
    }
    out
}

/// Every problem with a rate controller's values, each naming its field.
fn check_rate(rate: &Rate) -> Vec<String> {
    let tps = |v: f64, k: &str| {
        (!(v.is_finite() && v > 0.0 && v <= MAX_TPS))
            .then(|| format!("{k} {v} is out of range: expected more than 0 and at most {MAX_TPS}"))
    };
    match rate {
        Rate::FixedRate { tps: v } => tps(*v, "tps").into_iter().collect(),
        Rate::LinearRate { start_tps, end_tps } => {
            [tps(*start_tps, "start_tps"), tps(*end_tps, "end_tps")]
                .into_iter()
                .flatten()
                .collect()
        }
        Rate::FixedLoad { in_flight } if *in_flight == 0 || *in_flight > 100_000 => vec![format!(
            "in_flight {in_flight} is out of range: expected 1 to 100000"
        )],
        Rate::FixedLoad { .. } => Vec::new(),
        Rate::MaximumRate {
            start_tps,
            step_tps,
            step_s,
        } => {
            let step = (!(*step_s >= 1.0 && *step_s <= 600.0))
                .then(|| format!("step_s {step_s} is out of range: expected 1 to 600 seconds"));
            [
                tps(*start_tps, "start_tps"),
                tps(*step_tps, "step_tps"),
                step,
            ]
            .into_iter()
            .flatten()
            .collect()
        }
    }
}

/// Reads and parses a scenario file.
pub fn load(path: &std::path::Path) -> Result<Scenario, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::new(format!(
            "{}: cannot read the scenario ({e}); see scenarios/ for examples",
            path.display()
        ))
    })?;
    parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "s.yaml").unwrap_err().message
    }

    const OK: &str = "\
name: simple
rounds:
  - label: open
    tx_number: 100
    rate: { type: fixed-rate, tps: 50 }
    workload: { op: open, accounts: 100, initial_amount: 1000 }
  - label: query
    tx_duration: 5
    rate: { type: linear-rate, start_tps: 10, end_tps: 20 }
    workload: { op: query }
  - label: transfer
    tx_number: 10
    rate: { type: fixed-load, in_flight: 5 }
    workload: { op: transfer }
  - label: max
    tx_duration: 30
    rate: { type: maximum-rate, start_tps: 10, step_tps: 10, step_s: 5 }
    workload: { op: transfer, amount: 2 }
";

    #[test]
    fn full_scenario_parses_with_defaults() {
        let s = parse(OK, "s.yaml").unwrap();
        assert_eq!(s.workers, 4);
        assert_eq!(s.target, Target::Members);
        assert_eq!(s.confirmations, 1);
        assert_eq!(s.contract, ContractKind::Simple);
        assert_eq!(s.rounds.len(), 4);
        assert_eq!(s.rounds[1].length, Length::Seconds(5.0));
        assert_eq!(s.rounds[2].workload, Workload::Transfer { amount: 1 });
        assert!(s.rounds[1].workload.is_read());
    }

    #[test]
    fn malformed_rounds_are_refused_with_the_field() {
        let r = |body: &str| format!("rounds:\n  - label: a\n{body}");
        assert!(err(&r("    tx_number: 1\n    tx_duration: 2\n    rate: {type: fixed-rate, tps: 1}\n    workload: {op: query}\n")).contains("rounds[0]: has both"));
        assert!(err(&r(
            "    rate: {type: fixed-rate, tps: 1}\n    workload: {op: query}\n"
        ))
        .contains("has neither"));
        assert!(err(&r(
            "    tx_number: 1\n    rate: {type: fixed-rate, tps: -5}\n    workload: {op: query}\n"
        ))
        .contains("rounds[0].rate: tps -5"));
        assert!(err(&r(
            "    tx_number: 1\n    rate: {type: fixed-rate, tps: 1}\n    workload: {op: explode}\n"
        ))
        .contains("unknown variant `explode`"));
        assert!(err(&r(
            "    tx_number: 1\n    rate: {type: warp, tps: 1}\n    workload: {op: query}\n"
        ))
        .contains("unknown variant `warp`"));
        assert!(err(&r(
            "    tx_number: 0\n    rate: {type: fixed-rate, tps: 1}\n    workload: {op: query}\n"
        ))
        .contains("tx_number: 0"));
        assert!(err(&r("    tx_number: 1\n    rate: {type: fixed-load, in_flight: 3}\n    workload: {op: query}\n")).contains("reads have nothing to confirm"));
        assert!(err(&r(
            "    tx_number: 1\n    rate: {type: fixed-rate, tps: 1}\n"
        ))
        .contains("workload: missing"));
        assert!(err("name: x\n").contains("rounds: missing"));
        assert!(err("rounds: []\n").contains("rounds: the list is empty"));
        assert!(err("workers: 0\nrounds: []\n").contains("workers: 0"));
        let round =
            "{label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}";
        let e = err(&format!("max_in_flight: 0\nrounds:\n  - {round}\n"));
        assert!(
            e.contains("max_in_flight") && e.contains("expected 1 to 4096"),
            "{e}"
        );
        let e = err(&format!("accounts_per_worker: 65\nrounds:\n  - {round}\n"));
        assert!(
            e.contains("accounts_per_worker") && e.contains("expected 1 to 64"),
            "{e}"
        );
        assert!(err("roundz: []\n").contains("unknown key `roundz`"));
    }

    #[test]
    fn one_contract_per_scenario() {
        let e = err("rounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}}\n  - {label: b, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: add-record}}\n");
        assert!(e.contains("rounds[1].workload.op"), "{e}");
    }

    const FLEET: &str = "contract: medical\nrounds:\n  - label: fleet\n    tx_duration: 60\n";

    #[test]
    fn device_fleet_parses_with_defaults_and_an_implied_rate() {
        let s = parse(
            &format!("{FLEET}    workload: {{ op: device-fleet }}\n"),
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.contract, ContractKind::Medical);
        assert_eq!(
            s.rounds[0].workload,
            Workload::DeviceFleet {
                devices: 200,
                interval_s: 5.0,
                jitter: 0.1,
                abnormal_share: 0.0,
                transport: FleetTransport::Http,
            }
        );
        let m = parse(
            &format!("{FLEET}    workload: {{ op: device-fleet, transport: mqtt }}\n"),
            "s.yaml",
        )
        .unwrap();
        assert!(matches!(
            m.rounds[0].workload,
            Workload::DeviceFleet {
                transport: FleetTransport::Mqtt,
                ..
            }
        ));
        let e = parse(
            &format!("{FLEET}    workload: {{ op: device-fleet, transport: pigeon }}\n"),
            "s.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("s.yaml"), "{e}");
        assert!(e.to_string().contains("pigeon"), "{e}");
        assert_eq!(s.rounds[0].rate, Rate::FixedRate { tps: 40.0 });
        assert!(!s.rounds[0].workload.is_read());
        let s = parse(
            "rounds:\n  - {label: f, tx_number: 500, workload: {op: device-fleet, devices: 20, interval_s: 2, jitter: 0}}\n",
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.contract, ContractKind::Medical, "implied by the op");
        assert_eq!(s.rounds[0].length, Length::Count(500));
        assert_eq!(s.rounds[0].rate, Rate::FixedRate { tps: 10.0 });
    }

    #[test]
    fn bad_fleet_fields_name_the_field_and_the_fix() {
        let fleet = |w: &str| err(&format!("{FLEET}    workload: {w}\n"));
        let e = fleet("{ op: device-fleet, devices: 0 }");
        assert!(
            e.contains(
                "s.yaml: rounds[0].workload.devices: 0 is out of range: expected 1 to 10000"
            ),
            "{e}"
        );
        let e = fleet("{ op: device-fleet, devices: 10001 }");
        assert!(e.contains("rounds[0].workload.devices"), "{e}");
        for bad in ["0", "-1", ".nan", "0.01", "3601"] {
            let e = fleet(&format!("{{ op: device-fleet, interval_s: {bad} }}"));
            assert!(
                e.contains("rounds[0].workload.interval_s")
                    && e.contains("expected 0.1 to 3600 seconds"),
                "{bad}: {e}"
            );
        }
        let e = fleet("{ op: device-fleet, jitter: 0.9 }");
        assert!(e.contains("rounds[0].workload.jitter"), "{e}");
        let e = fleet("{ op: device-fleet, abnormal_share: 1.5 }");
        assert!(
            e.contains("rounds[0].workload.abnormal_share: 1.5 is out of range"),
            "{e}"
        );
        let e = fleet("{ op: device-fleet, devise: 20 }");
        assert!(
            e.contains("unknown key `devise`") && e.contains("devices"),
            "{e}"
        );
        let e = err("contract: simple\nrounds:\n  - {label: f, tx_duration: 10, workload: {op: device-fleet}}\n");
        assert!(
            e.contains("rounds[0].workload.op") && e.contains("contract: medical"),
            "{e}"
        );
        let e = err(&format!(
            "{FLEET}    rate: {{ type: fixed-rate, tps: 5 }}\n    workload: {{ op: device-fleet }}\n"
        ));
        assert!(
            e.contains("rounds[0].rate: a device-fleet round has no rate controller")
                && e.contains("remove rate"),
            "{e}"
        );
        // Other ops still need a rate.
        let e = err("rounds:\n  - {label: a, tx_number: 1, workload: {op: query}}\n");
        assert!(e.contains("rounds[0].rate: missing"), "{e}");
    }

    #[test]
    fn tracked_devices_are_addresses_listed_once_on_medical_scenarios() {
        let a = "0x00000000000000000000000000000000000000aa";
        let round = |t: &str| {
            format!("contract: medical\nrounds:\n  - {{label: r, tx_duration: 5, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: query-emr}}, track_devices: {t}}}\n")
        };
        let s = parse(&round(&format!("[\"{a}\"]")), "s.yaml").unwrap();
        assert_eq!(
            s.rounds[0].track_devices,
            vec![a.parse::<Address>().unwrap()]
        );
        let e = err(&round("[\"0x1234\"]"));
        assert!(
            e.contains("rounds[0].track_devices[0]: \"0x1234\" is not an address"),
            "{e}"
        );
        let e = err(&round(&format!(
            "[\"{a}\", \"{}\"]",
            a.to_uppercase().replace("0X", "0x")
        )));
        assert!(e.contains("track_devices[1]") && e.contains("twice"), "{e}");
        let e = err(&format!("rounds:\n  - {{label: r, tx_number: 5, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: query}}, track_devices: [\"{a}\"]}}\n"));
        assert!(
            e.contains("rounds[0].track_devices") && e.contains("contract: medical"),
            "{e}"
        );
        assert!(parse(OK, "s.yaml").unwrap().rounds[0]
            .track_devices
            .is_empty());
    }

    #[test]
    fn faults_parse_in_order_and_lift_the_failure_gate_unless_one_is_set() {
        let round = "{label: a, tx_duration: 20, rate: {type: fixed-rate, tps: 1}, workload: {op: open}, faults: [{at: 2, action: kill, target: x-member-0}, {at: 5, action: partition, hospital: [x, y]}, {at: 9, action: heal}]}";
        let s = parse(&format!("rounds:\n  - {round}\n"), "s.yaml").unwrap();
        let f = &s.rounds[0].faults;
        assert_eq!(f.len(), 3);
        assert_eq!(
            f[1].who,
            crate::fault::Who::Hospitals(vec!["x".into(), "y".into()])
        );
        assert_eq!(s.rounds[0].max_fail_pct, 100.0, "faults expect failures");
        let s = parse(
            &format!("max_fail_pct: 5\nrounds:\n  - {round}\n"),
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.rounds[0].max_fail_pct, 5.0, "a scenario's gate holds");
        let e = err("rounds:\n  - {label: a, tx_duration: 4, rate: {type: fixed-rate, tps: 1}, workload: {op: open}, faults: [{at: 5, action: stop, target: n}]}\n");
        assert!(
            e.starts_with("s.yaml: rounds[0].faults[0].at: 5 is out of range"),
            "{e}"
        );
    }

    #[test]
    fn max_fail_pct_is_a_percentage_a_round_may_override() {
        let round =
            "{label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}}";
        let s = parse(&format!("rounds:\n  - {round}\n"), "s.yaml").unwrap();
        assert_eq!(s.rounds[0].max_fail_pct, DEFAULTS.max_fail_pct);
        assert_eq!(DEFAULTS.max_fail_pct, 0.0);
        let s = parse(
            &format!("max_fail_pct: 2.5\nrounds:\n  - {round}\n  - {{label: b, tx_number: 1, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: query}}, max_fail_pct: 100}}\n"),
            "s.yaml",
        )
        .unwrap();
        assert_eq!(
            (s.rounds[0].max_fail_pct, s.rounds[1].max_fail_pct),
            (2.5, 100.0)
        );
        for bad in ["-1", "100.5", ".nan", ".inf"] {
            let e = err(&format!("max_fail_pct: {bad}\nrounds:\n  - {round}\n"));
            assert!(
                e.starts_with("s.yaml: max_fail_pct: ")
                    && e.contains("expected a percentage of failed transactions from 0 to 100"),
                "{bad}: {e}"
            );
        }
        let e = err("rounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}, max_fail_pct: 101}\n");
        assert!(
            e.starts_with("s.yaml: rounds[0].max_fail_pct: 101 is out of range"),
            "{e}"
        );
        let e = err("max_fail_pct: lots\nrounds: []\n");
        assert!(e.contains("max_fail_pct"), "{e}");
    }

    #[test]
    fn docs_list_every_scenario_key_with_its_default() {
        let docs = include_str!("../../docs/usage.md");
        let d = DEFAULTS;
        for (key, default) in [
            ("name", d.name.to_string()),
            ("workers", d.workers.to_string()),
            ("target", d.target.to_string()),
            ("confirmations", d.confirmations.to_string()),
            ("max_fail_pct", d.max_fail_pct.to_string()),
        ] {
            let row = format!("| `{key}` | `{default}` |");
            assert!(docs.contains(&row), "docs/usage.md lacks the row {row}");
        }
    }

    #[test]
    fn monitors_apply_to_every_round_unless_a_round_has_its_own() {
        let m = |url: &str| {
            format!("{{prometheus: {{url: \"{url}\", queries: [{{name: p, query: up, statistic: avg}}]}}}}")
        };
        let s = parse(
            &format!(
                "monitors: {}\nrounds:\n  - {{label: a, tx_number: 1, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: open}}}}\n  - {{label: b, tx_number: 1, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: query}}, monitors: {}}}\n",
                m("http://one:9090"),
                m("http://two:9090")
            ),
            "s.yaml",
        )
        .unwrap();
        assert_eq!(
            s.rounds[0].monitors.as_ref().unwrap().url,
            "http://one:9090"
        );
        assert_eq!(
            s.rounds[1].monitors.as_ref().unwrap().url,
            "http://two:9090"
        );
        let e = err("rounds:\n  - {tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}, monitors: {prometheus: {url: http://x, queries: [{name: p, query: up, statistic: mean}]}}}\n");
        assert!(
            e.contains("rounds[0].monitors.prometheus.queries[0].statistic: \"mean\""),
            "{e}"
        );
    }

    #[test]
    fn duplicate_labels_are_refused() {
        let e = err("rounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}}\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n");
        assert!(e.contains("used twice"), "{e}");
    }

    /// All problems of a parse, headline first.
    fn problems(text: &str) -> Vec<String> {
        let e = parse(text, "s.yaml").unwrap_err();
        std::iter::once(e.message).chain(e.details).collect()
    }

    #[test]
    fn every_problem_in_a_scenario_is_reported() {
        let all = problems(
            "workers: 0\ntarget: \"Not A Node\"\nrounds:\n  - {label: a, tx_number: 1, tx_duration: 2, rate: {type: fixed-rate, tps: -5}, workload: {op: query}}\n  - {label: a, tx_number: 1, rate: {type: linear-rate, start_tps: 0, end_tps: 1000000}}\n  - {label: c, tx_duration: 5, workload: {op: open, accounts: 0, initial_amount: -1}, rate: {type: fixed-rate, tps: 1}, track_devices: [\"0x12\", \"x\"]}\n",
        );
        let want = [
            "s.yaml: workers: 0 is out of range",
            "s.yaml: target: \"Not A Node\": expected members",
            "s.yaml: rounds[0]: has both tx_number and tx_duration",
            "s.yaml: rounds[0].rate: tps -5 is out of range",
            "s.yaml: rounds[1].label: \"a\" is used twice",
            "s.yaml: rounds[1].workload: missing",
            "s.yaml: rounds[1].rate: start_tps 0 is out of range",
            "s.yaml: rounds[1].rate: end_tps 1000000 is out of range",
            "s.yaml: rounds[2].workload.accounts: 0 is out of range",
            "s.yaml: rounds[2].workload.initial_amount: must not be negative",
            "s.yaml: rounds[2].track_devices[0]: \"0x12\" is not an address",
            "s.yaml: rounds[2].track_devices[1]: \"x\" is not an address",
            "s.yaml: rounds[2].track_devices: devices write to MedicalRecords",
        ];
        assert_eq!(all.len(), want.len(), "{all:#?}");
        for (got, want) in all.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
    }

    #[test]
    fn a_bad_fleet_reports_each_field_once_and_no_implied_rate() {
        let all = problems(&format!(
            "{FLEET}    workload: {{ op: device-fleet, devices: 0, interval_s: 0, jitter: 0.9 }}\n"
        ));
        let fields: Vec<&str> = all
            .iter()
            .map(|l| l.split(": ").nth(1).unwrap_or_default())
            .collect();
        assert_eq!(
            fields,
            [
                "rounds[0].workload.devices",
                "rounds[0].workload.interval_s",
                "rounds[0].workload.jitter"
            ],
            "{all:#?}"
        );
        let all = problems(
            "rounds:\n  - {label: m, tx_duration: 5, rate: {type: maximum-rate, start_tps: 0, step_tps: 0, step_s: 0}, workload: {op: transfer, amount: -1}}\n",
        );
        assert_eq!(all.len(), 4, "{all:#?}");
        assert!(all[0].contains("rounds[0].workload.amount"), "{all:#?}");
        assert!(all[3].contains("rounds[0].rate: step_s 0"), "{all:#?}");
    }

    #[test]
    fn absent_keys_take_the_defaults_record() {
        let s = parse(
            "rounds:\n  - {tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}}\n  - {tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: transfer}}\n",
            "s.yaml",
        )
        .unwrap();
        let d = DEFAULTS;
        assert_eq!(
            (s.name.as_str(), s.description.as_str()),
            (d.name, d.description)
        );
        assert_eq!((s.workers, s.confirmations), (d.workers, d.confirmations));
        assert_eq!((s.target, s.contract), (d.target, d.contract));
        assert_eq!(s.rounds[1].label, format!("{}1", d.label_prefix));
        assert_eq!(
            s.rounds[0].workload,
            Workload::Open {
                accounts: d.open_accounts,
                initial_amount: d.open_initial_amount
            }
        );
        assert_eq!(
            s.rounds[1].workload,
            Workload::Transfer {
                amount: d.transfer_amount
            }
        );
        // A blank file has every default and so lacks only its rounds.
        assert_eq!(problems(""), ["s.yaml: rounds: missing: a scenario needs at least one round (label, tx_number or tx_duration, rate, workload)"]);
    }

    #[test]
    fn yaml_errors_list_the_ops_or_rate_types() {
        let e = err("rounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: explode}}\n");
        assert!(e.starts_with("s.yaml:2:"), "{e}");
        assert!(
            e.contains("unknown variant `explode`")
                && e.contains("; ops: open, query, transfer (simple)"),
            "{e}"
        );
        let e = err(
            "rounds:\n  - {label: a, tx_number: 1, rate: {type: warp}, workload: {op: query}}\n",
        );
        assert!(e.contains("; rate types: fixed-rate {tps}"), "{e}");
    }

    #[test]
    fn privacy_private_contradicting_the_rounds_names_the_file_and_field() {
        let r = |op: &str| {
            format!("  - {{label: {op}, tx_number: 1, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: {op}}}}}\n")
        };
        let ok = parse(
            &format!(
                "privacy: private\nrounds:\n{}{}",
                r("add-record"),
                r("get-records")
            ),
            "s.yaml",
        )
        .unwrap();
        assert_eq!(ok.privacy, Some(crate::topology::Privacy::Private));
        assert_eq!(ok.contract, ContractKind::Medical);
        for op in ["open-emr", "query-emr", "transfer-emr"] {
            let all = problems(&format!(
                "privacy: private\nrounds:\n{}{}",
                r("add-record"),
                r(op)
            ));
            assert_eq!(all.len(), 1, "{all:?}");
            assert!(
                all[0].starts_with("s.yaml: privacy: private contradicts round")
                    && all[0].contains(op)
                    && !all[0].contains('\n'),
                "{all:?}"
            );
        }
        let fleet = |extra: &str| {
            format!("privacy: private\nrounds:\n  - {{label: f, tx_duration: 5, workload: {{op: device-fleet, devices: 3{extra}}}}}\n")
        };
        // Fleets over HTTP or MQTT, with abnormal readings or not, all
        // seal their readings.
        for extra in ["", ", abnormal_share: 0.1", ", transport: mqtt"] {
            parse(&fleet(extra), "s.yaml").unwrap();
        }
        let all = problems(&format!("privacy: private\nrounds:\n{}", r("open")));
        assert!(
            all[0].starts_with("s.yaml: privacy: private applies to the records workloads"),
            "{all:?}"
        );
        let tracked = "privacy: private\nrounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: add-record}, track_devices: [\"0x00000000000000000000000000000000000000aa\"]}\n";
        let all = problems(tracked);
        assert!(all[0].contains("track_devices"), "{all:?}");
        // privacy: clear keeps every op.
        parse(
            &format!(
                "privacy: clear\nrounds:\n{}{}",
                r("open-emr"),
                r("add-record")
            ),
            "s.yaml",
        )
        .unwrap();
        let e = problems("privacy: secret\nrounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: add-record}}\n");
        assert!(e[0].contains("s.yaml") && e[0].contains("privacy"), "{e:?}");
    }
}
