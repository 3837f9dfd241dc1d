//! The recovery figures of rounds with faults, as a table (terminal and
//! HTML; the JSON holds them under each round's `recovery`).

use super::table::{num, Table};
use crate::bench::result::BenchReport;
use crate::fault::recovery::{FaultFigures, Window};

/// Columns of the faults table.
pub const FAULT_COLUMNS: [&str; 14] = [
    "Name",
    "Fault",
    "Target",
    "At (s)",
    "Ended by",
    "Longest Stall (s)",
    "Halted",
    "Blocks Again (s)",
    "One Head (s)",
    "TPS Before",
    "TPS During",
    "TPS After",
    "p95 During (s)",
    "p95 After (s)",
];

/// One row per fault of every round with faults; `None` when no round had
/// any.
pub fn faults_table(report: &BenchReport) -> Option<Table> {
    let mut rows = Vec::new();
    let mut rounds = Vec::new();
    for r in &report.rounds {
        let Some(rec) = &r.recovery else { continue };
        rounds.push(format!(
            "{}: reorg depth {}, lost transactions {}{}",
            r.label,
            rec.reorg_depth,
            rec.lost_txs,
            if rec.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    ", not applied (after the round's end): {}",
                    rec.skipped.join("; ")
                )
            }
        ));
        rows.extend(rec.faults.iter().map(|f| row(&r.label, f)));
    }
    (!rounds.is_empty()).then(|| Table {
        title: "Faults and recovery".to_string(),
        headers: FAULT_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(format!(
            "{}. Stall: longest time without a new block while the fault lasted; Blocks Again and One Head: \
             from the fault's end (or the fault itself) until a new block, and until every running node has the same head.",
            rounds.join("; ")
        )),
    })
}

/// A fault's row.
fn row(label: &str, f: &FaultFigures) -> Vec<String> {
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| num(v, 2));
    let tps = |w: Option<&Window>| w.map_or("-".to_string(), |w| num(w.throughput_tps, 1));
    let p95 = |w: Option<&Window>| w.map_or("-".to_string(), |w| num(w.p95_latency_s, 2));
    let action = match &f.settings {
        Some(s) => format!("{} {s}", f.action),
        None => f.action.clone(),
    };
    let fault = match &f.error {
        Some(e) => format!("{action} (failed: {e})"),
        None => action,
    };
    vec![
        label.to_string(),
        fault,
        f.target.clone(),
        num(f.applied_s, 1),
        f.ended_by.clone().unwrap_or_else(|| "-".into()),
        num(f.longest_stall_s, 2),
        if f.halted { "yes" } else { "no" }.to_string(),
        opt(f.blocks_again_s),
        opt(f.one_head_s),
        tps(Some(&f.before)),
        tps(Some(&f.during)),
        tps(f.after.as_ref()),
        p95(Some(&f.during)),
        p95(f.after.as_ref()),
    ]
}
