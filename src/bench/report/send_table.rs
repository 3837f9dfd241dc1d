//! The send table: per round, the rate its controller asked for, the rate
//! the driver achieved, whether it fell more than 5 % short and why
//! ([`crate::bench::shortfall`]), and the driver's CPU time per
//! transaction beside the cost of one signature on the same machine.

use super::table::{num, Table};
use crate::bench::result::{BenchReport, RoundResult};

/// Columns of the send table.
pub const SEND_COLUMNS: [&str; 7] = [
    "Name",
    "Target (TPS)",
    "Send Rate (TPS)",
    "Achieved (%)",
    "Shortfall",
    "Driver CPU/tx (µs)",
    "Signature (µs)",
];

/// What the send table's columns mean, printed under it.
const NOTE: &str = "Target: the rate controller's schedule (- for fixed-load). Shortfall: the send rate \
     missed the target by more than 5%, and what bound it (driver CPU, node RPC latency, in-flight cap, \
     chain full). Driver CPU/tx: the driver's CPU time over the round per success; Signature: one \
     secp256k1 signature's CPU time, measured by this binary at the start of the run.";

/// One row per round that had a target or a CPU figure; `None` when no
/// round has either (a report from before these figures existed).
pub fn send_table(report: &BenchReport) -> Option<Table> {
    let rows: Vec<Vec<String>> = report
        .rounds
        .iter()
        .filter(|r| r.target_tps.is_some() || r.driver_cpu_per_tx_us > 0.0)
        .map(row)
        .collect();
    (!rows.is_empty()).then(|| Table {
        title: "Send rate".to_string(),
        headers: SEND_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(NOTE.to_string()),
    })
}

fn row(r: &RoundResult) -> Vec<String> {
    let achieved = r
        .target_tps
        .filter(|t| *t > 0.0)
        .map_or_else(|| "-".to_string(), |t| num(100.0 * r.send_rate_tps / t, 1));
    let shortfall = r
        .send_shortfall
        .as_ref()
        .map_or_else(|| "-".to_string(), |s| format!("{}: {}", s.cause, s.detail));
    let us = |x: f64| if x > 0.0 { num(x, 1) } else { "-".to_string() };
    vec![
        r.label.clone(),
        r.target_tps.map_or_else(|| "-".to_string(), |t| num(t, 1)),
        num(r.send_rate_tps, 1),
        achieved,
        shortfall,
        us(r.driver_cpu_per_tx_us),
        us(r.signature_us),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::shortfall::{Cause, Shortfall};

    #[test]
    fn a_missed_target_shows_its_cause() {
        let report = BenchReport {
            rounds: vec![
                RoundResult {
                    label: "open".into(),
                    target_tps: Some(1000.0),
                    send_rate_tps: 575.5,
                    send_shortfall: Some(Shortfall {
                        cause: Cause::NodeRpcLatency,
                        achieved_pct: 57.55,
                        detail: "round trip 1.7 ms".into(),
                    }),
                    driver_cpu_per_tx_us: 95.04,
                    signature_us: 48.0,
                    ..Default::default()
                },
                RoundResult {
                    label: "old".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let t = send_table(&report).unwrap();
        assert_eq!(t.rows.len(), 1, "a round without the figures is left out");
        assert_eq!(
            t.rows[0],
            [
                "open",
                "1000.0",
                "575.5",
                "57.5",
                "node RPC latency: round trip 1.7 ms",
                "95.0",
                "48.0"
            ]
        );
        assert!(send_table(&BenchReport::default()).is_none());
    }
}
