//! Scenario files (`scenarios/*.yaml`): Caliper's round model — rounds of a
//! rate controller × a workload — with our names. Every key but `rounds`
//! defaults. Parsing is pure and refuses malformed scenarios with one line
//! naming the file and the field (exit 2).

use std::fmt;

use serde::{Deserialize, Serialize};

use alloy::primitives::Address;

use crate::error::InputError;

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
    },
}

fn default_accounts() -> u64 {
    1000
}
fn default_initial_amount() -> i64 {
    1_000_000
}
fn default_amount() -> i64 {
    1
}
fn default_page() -> u64 {
    10
}
fn default_devices() -> u64 {
    200
}
fn default_interval() -> f64 {
    5.0
}
fn default_jitter() -> f64 {
    0.1
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

    /// Whether the op is a read (timed as a round trip, nothing on chain).
    pub fn is_read(&self) -> bool {
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

/// Which nodes receive load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Non-sealing nodes (falls back to all nodes when there are none).
    Members,
    /// Sealing nodes.
    Sealers,
    /// Every node.
    All,
    /// One node by name.
    Node(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Members => f.write_str("members"),
            Target::Sealers => f.write_str("sealers"),
            Target::All => f.write_str("all"),
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
    /// Rounds in order.
    pub rounds: Vec<Round>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    contract: Option<ContractKind>,
    workers: Option<u64>,
    target: Option<String>,
    confirmations: Option<u64>,
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
}

/// Most transactions one round may send: bounds memory and time.
pub const MAX_TX_NUMBER: u64 = 10_000_000;
/// Longest round, seconds.
pub const MAX_DURATION_S: f64 = 3600.0;
/// Highest rate a controller may ask for.
pub const MAX_TPS: f64 = 100_000.0;
/// Most workers.
pub const MAX_WORKERS: u64 = 256;
/// Most simulated devices in one `device-fleet` round.
pub const MAX_FLEET: u64 = 10_000;
/// Shortest and longest gap between one device's readings, seconds.
pub const INTERVAL_RANGE_S: (f64, f64) = (0.1, 3600.0);
/// Most real devices one round may track.
pub const MAX_TRACKED: usize = 1000;

/// Parses and validates a scenario file's text.
pub fn parse(text: &str, file: &str) -> Result<Scenario, InputError> {
    let raw: RawScenario = serde_yaml::from_str(text).map_err(|e| {
        let (loc, core) = crate::error::yaml_location(&e, file);
        let hint = if core.contains("unknown variant") && core.contains("op") || core.contains("`open`") {
            "; ops: open, query, transfer (simple); open-emr, query-emr, transfer-emr, add-record, get-records, device-fleet (medical)"
        } else if core.contains("fixed-rate") {
            "; rate types: fixed-rate {tps}, linear-rate {start_tps, end_tps}, fixed-load {in_flight}, maximum-rate {start_tps, step_tps, step_s}"
        } else {
            ""
        };
        InputError::new(format!("{loc}: {core}{hint}"))
    })?;
    let bad = |field: &str, msg: String| InputError::new(format!("{file}: {field}: {msg}"));

    let name = raw.name.unwrap_or_else(|| "scenario".into());
    let workers = raw.workers.unwrap_or(4);
    if !(1..=MAX_WORKERS).contains(&workers) {
        return Err(bad(
            "workers",
            format!("{workers} is out of range: expected 1 to {MAX_WORKERS}"),
        ));
    }
    let confirmations = raw.confirmations.unwrap_or(1);
    if !(1..=64).contains(&confirmations) {
        return Err(bad(
            "confirmations",
            format!("{confirmations} is out of range: expected 1 (included) to 64"),
        ));
    }
    let target = match raw.target.as_deref().unwrap_or("members") {
        "members" => Target::Members,
        "sealers" => Target::Sealers,
        "all" => Target::All,
        n if crate::topology::is_valid_name(n) => Target::Node(n.to_string()),
        n => {
            return Err(bad(
                "target",
                format!("{n:?}: expected members, sealers, all or a node name"),
            ))
        }
    };
    let raw_rounds = raw.rounds.ok_or_else(|| {
        bad(
            "rounds",
            "missing: a scenario needs at least one round (label, tx_number or tx_duration, rate, workload)".into(),
        )
    })?;
    if raw_rounds.is_empty() {
        return Err(bad(
            "rounds",
            "the list is empty: add at least one round".into(),
        ));
    }
    let mut rounds = Vec::new();
    let mut contract = raw.contract;
    for (i, r) in raw_rounds.into_iter().enumerate() {
        let f = |k: &str| format!("rounds[{i}].{k}");
        let label = r.label.unwrap_or_else(|| format!("round-{i}"));
        if label.trim().is_empty() || label.len() > 64 {
            return Err(bad(&f("label"), "expected 1 to 64 characters".into()));
        }
        if rounds.iter().any(|x: &Round| x.label == label) {
            return Err(bad(
                &f("label"),
                format!("{label:?} is used twice; labels identify rounds in reports and baselines"),
            ));
        }
        let length = match (r.tx_number, r.tx_duration) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    &format!("rounds[{i}]"),
                    "has both tx_number and tx_duration: give exactly one".into(),
                ))
            }
            (None, None) => {
                return Err(bad(
                    &format!("rounds[{i}]"),
                    "has neither tx_number nor tx_duration: give exactly one".into(),
                ))
            }
            (Some(n), None) if n == 0 || n > MAX_TX_NUMBER => {
                return Err(bad(&f("tx_number"), format!("{n} is out of range: expected 1 to {MAX_TX_NUMBER}")))
            }
            (Some(n), None) => Length::Count(n),
            (None, Some(d)) if !(d > 0.0 && d <= MAX_DURATION_S) => {
                return Err(bad(
                    &f("tx_duration"),
                    format!("{d} is out of range: expected more than 0 and at most {MAX_DURATION_S} seconds"),
                ))
            }
            (None, Some(d)) => Length::Seconds(d),
        };
        let workload = r
            .workload
            .ok_or_else(|| bad(&f("workload"), "missing: e.g. { op: transfer }".into()))?;
        let rate = match (&workload, r.rate) {
            (Workload::DeviceFleet { .. }, Some(_)) => {
                return Err(bad(
                    &f("rate"),
                    "a device-fleet round has no rate controller: its devices set the rate (devices ÷ interval_s readings per second); remove rate".into(),
                ))
            }
            (Workload::DeviceFleet { devices, interval_s, jitter }, None) => {
                check_fleet(*devices, *interval_s, *jitter).map_err(|(k, m)| bad(&f(k), m))?;
                Rate::FixedRate {
                    tps: *devices as f64 / interval_s,
                }
            }
            (_, Some(rate)) => rate,
            (_, None) => {
                return Err(bad(
                    &f("rate"),
                    "missing: e.g. { type: fixed-rate, tps: 50 }".into(),
                ))
            }
        };
        check_rate(&rate).map_err(|m| bad(&f("rate"), m))?;
        let track_devices = parse_tracked(r.track_devices.unwrap_or_default())
            .map_err(|(k, m)| bad(&format!("{}{k}", f("track_devices")), m))?;
        match &workload {
            Workload::Open {
                accounts,
                initial_amount,
            } => {
                if *accounts == 0 || *accounts > 10_000_000 {
                    return Err(bad(
                        &f("workload.accounts"),
                        format!("{accounts} is out of range: expected 1 to 10000000"),
                    ));
                }
                if *initial_amount < 0 {
                    return Err(bad(
                        &f("workload.initial_amount"),
                        "must not be negative".into(),
                    ));
                }
            }
            Workload::Transfer { amount } if *amount < 0 => {
                return Err(bad(&f("workload.amount"), "must not be negative".into()))
            }
            Workload::GetRecords { limit } if *limit == 0 || *limit > 1000 => {
                return Err(bad(
                    &f("workload.limit"),
                    format!("{limit} is out of range: expected 1 to 1000"),
                ))
            }
            _ => {}
        }
        let c = workload.contract();
        match contract {
            None => contract = Some(c),
            Some(expected) if expected != c => {
                return Err(bad(
                    &f("workload.op"),
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
                ))
            }
            _ => {}
        }
        if workload.is_read() && matches!(rate, Rate::FixedLoad { .. }) {
            return Err(bad(
                &f("rate"),
                "fixed-load keeps transactions unconfirmed; reads have nothing to confirm: use fixed-rate".into(),
            ));
        }
        if !track_devices.is_empty() && contract != Some(ContractKind::Medical) {
            return Err(bad(
                &f("track_devices"),
                "devices write to MedicalRecords: tracking them needs contract: medical".into(),
            ));
        }
        rounds.push(Round {
            label,
            length,
            rate,
            workload,
            track_devices,
        });
    }
    Ok(Scenario {
        name,
        description: raw.description.unwrap_or_default(),
        contract: contract.unwrap_or(ContractKind::Simple),
        workers,
        target,
        confirmations,
        rounds,
    })
}

fn name_of(c: ContractKind) -> &'static str {
    match c {
        ContractKind::Simple => "simple",
        ContractKind::Medical => "medical",
    }
}

/// Checks a fleet's fields; the error names the field under the round.
fn check_fleet(devices: u64, interval_s: f64, jitter: f64) -> Result<(), (&'static str, String)> {
    if !(1..=MAX_FLEET).contains(&devices) {
        return Err((
            "workload.devices",
            format!("{devices} is out of range: expected 1 to {MAX_FLEET} simulated devices"),
        ));
    }
    let (lo, hi) = INTERVAL_RANGE_S;
    if !(interval_s.is_finite() && (lo..=hi).contains(&interval_s)) {
        return Err((
            "workload.interval_s",
            format!("{interval_s} is out of range: expected {lo} to {hi} seconds between one device's readings"),
        ));
    }
    if !(jitter.is_finite() && (0.0..=0.5).contains(&jitter)) {
        return Err((
            "workload.jitter",
            format!("{jitter} is out of range: expected a fraction of interval_s from 0 to 0.5"),
        ));
    }
    Ok(())
}

/// Parses `track_devices`: 0x addresses, each once. The error's key is the
/// suffix after `track_devices` (`[2]`, or empty for the whole list).
fn parse_tracked(list: Vec<String>) -> Result<Vec<Address>, (String, String)> {
    if list.len() > MAX_TRACKED {
        return Err((
            String::new(),
            format!(
                "{} devices: expected at most {MAX_TRACKED}; split them over rounds",
                list.len()
            ),
        ));
    }
    let mut out: Vec<Address> = Vec::with_capacity(list.len());
    for (k, text) in list.iter().enumerate() {
        let t = text.trim();
        let a: Address = t
            .strip_prefix("0x")
            .filter(|h| h.len() == 40)
            .and_then(|_| t.parse().ok())
            .ok_or_else(|| {
                (
                    format!("[{k}]"),
                    format!("{t:?} is not an address: expected 0x and 40 hex digits, e.g. from `medchain device provision --json`"),
                )
            })?;
        if out.contains(&a) {
            return Err((
                format!("[{k}]"),
                format!("{t} is listed twice: list each device once"),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

fn check_rate(rate: &Rate) -> Result<(), String> {
    let tps_ok = |v: f64, k: &str| {
        if v.is_finite() && v > 0.0 && v <= MAX_TPS {
            Ok(())
        } else {
            Err(format!(
                "{k} {v} is out of range: expected more than 0 and at most {MAX_TPS}"
            ))
        }
    };
    match rate {
        Rate::FixedRate { tps } => tps_ok(*tps, "tps"),
        Rate::LinearRate { start_tps, end_tps } => {
            tps_ok(*start_tps, "start_tps")?;
            tps_ok(*end_tps, "end_tps")
        }
        Rate::FixedLoad { in_flight } if *in_flight == 0 || *in_flight > 100_000 => Err(format!(
            "in_flight {in_flight} is out of range: expected 1 to 100000"
        )),
        Rate::FixedLoad { .. } => Ok(()),
        Rate::MaximumRate {
            start_tps,
            step_tps,
            step_s,
        } => {
            tps_ok(*start_tps, "start_tps")?;
            tps_ok(*step_tps, "step_tps")?;
            if *step_s >= 1.0 && *step_s <= 600.0 {
                Ok(())
            } else {
                Err(format!(
                    "step_s {step_s} is out of range: expected 1 to 600 seconds"
                ))
            }
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
        assert!(err("roundz: []\n").contains("unknown field `roundz`"));
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
                jitter: 0.1
            }
        );
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
        let e = fleet("{ op: device-fleet, devise: 20 }");
        assert!(
            e.contains("unknown field `devise`") && e.contains("devices"),
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
    fn duplicate_labels_are_refused() {
        let e = err("rounds:\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open}}\n  - {label: a, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n");
        assert!(e.contains("used twice"), "{e}");
    }
}
