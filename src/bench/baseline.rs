//! The CI regression gate: compare a run with a stored baseline run
//! (`bench --baseline FILE --max-regression PCT`) and fail when a round got
//! slower.
//!
//! Rounds are matched by label. For each baseline round the current run
//! must have the round, its throughput may not fall by more than the
//! threshold, and its p95 latency may not rise by more than the threshold
//! (a rise within [`LATENCY_NOISE_FLOOR_S`] always passes).
//! Rounds only in the current run are reported as new, never as failures,
//! so adding a round does not need a baseline refresh first. A run that was
//! interrupted cannot pass: its last round measured less than it should.

use std::path::Path;

use crate::bench::report::Table;
use crate::bench::result::{BenchReport, RoundResult, SCHEMA};
use crate::error::InputError;

/// The outcome of a comparison: whether the gate passes, and a readable
/// diff table (round, metric, baseline, current, change, verdict) followed
/// by any remarks, one line per entry, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// True when no round regressed beyond the threshold and none is missing.
    pub ok: bool,
    /// The diff table and remarks, one printable line each.
    pub lines: Vec<String>,
}

/// Verdict words of the diff table.
const OK: &str = "OK";
const REGRESSED: &str = "REGRESSED";
const MISSING: &str = "MISSING";
const NEW: &str = "NEW";

/// A p95 latency rise no larger than this (seconds) always passes: read
/// rounds are sub-millisecond round trips, where a millisecond of
/// scheduling noise is a large percentage and no regression. 5 ms is
/// above the run-to-run spread of read p95 measured on the shared 2-core
/// CI machine (docs/performance.md, "Issue 13") and far below a block
/// period, so write rounds (seconds) are judged by the relative bound
/// alone.
pub(crate) const LATENCY_NOISE_FLOOR_S: f64 = 0.005;

/// Which way a metric is better.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

/// Compares `current` with `baseline`: each baseline round's throughput may
/// drop and its p95 latency may rise by at most `max_regression_pct`
/// percent; a baseline round absent from `current` fails the gate.
///
/// Zero baselines are guarded: a baseline throughput of 0 cannot be beaten
/// downwards, and a baseline p95 of 0 (no commits) gives no latency to hold
/// the current run to, so both pass and show `n/a` as the change. A figure
/// that is not a number in the current run fails.
pub fn compare(
    current: &BenchReport,
    baseline: &BenchReport,
    max_regression_pct: f64,
) -> Comparison {
    let limit = if max_regression_pct.is_finite() {
        max_regression_pct.max(0.0)
    } else {
        0.0
    };
    let (rounds_ok, rows) = diff_rows(current, baseline, limit);
    let (ok, notes) = remarks(current, baseline, limit, rounds_ok);
    let mut lines = diff_table(rows);
    lines.extend(notes);
    Comparison { ok, lines }
}

/// The diff table's rows, baseline rounds first (each metric judged
/// against `limit_pct`, or MISSING), then rounds only `current` has (NEW);
/// and whether every baseline round is present and within the limit.
fn diff_rows(
    current: &BenchReport,
    baseline: &BenchReport,
    limit_pct: f64,
) -> (bool, Vec<Vec<String>>) {
    let mut ok = true;
    let mut rows = Vec::new();
    for base in &baseline.rounds {
        match current.rounds.iter().find(|r| r.label == base.label) {
            None => {
                ok = false;
                rows.push(row(&base.label, "round", "present", "absent", "", MISSING));
            }
            Some(cur) => {
                for (metric, better, b, c) in metrics(base, cur) {
                    let (change, passed) = judge(b, c, better, limit_pct);
                    ok &= passed;
                    rows.push(row(
                        &base.label,
                        metric,
                        &fmt_metric(metric, b),
                        &fmt_metric(metric, c),
                        &change,
                        if passed { OK } else { REGRESSED },
                    ));
                }
            }
        }
    }
    for cur in &current.rounds {
        if !baseline.rounds.iter().any(|b| b.label == cur.label) {
            rows.push(row(&cur.label, "round", "absent", "present", "", NEW));
        }
    }
    (ok, rows)
}

/// The lines printed below the table: run-level failures and notes (an
/// interrupted run, differing scenario or consensus), then the verdict.
/// Returns the gate's final outcome: `rounds_ok` unless the current run
/// was interrupted, which alone fails it.
fn remarks(
    current: &BenchReport,
    baseline: &BenchReport,
    limit_pct: f64,
    rounds_ok: bool,
) -> (bool, Vec<String>) {
    let mut ok = rounds_ok;
    let mut out = Vec::new();
    if current.partial {
        ok = false;
        out.push(
            "FAIL: the current run was interrupted; a partial run cannot pass the gate."
                .to_string(),
        );
    }
    if baseline.partial {
        out.push("note: the baseline run was interrupted; consider refreshing it.".to_string());
    }
    if current.scenario != baseline.scenario {
        out.push(format!(
            "note: scenario differs (baseline {:?}, current {:?}); rounds are matched by label.",
            baseline.scenario, current.scenario
        ));
    }
    if current.consensus != baseline.consensus {
        out.push(format!(
            "note: consensus differs (baseline {:?}, current {:?}).",
            baseline.consensus, current.consensus
        ));
    }
    out.push(format!(
        "{}: throughput may fall and p95 latency may rise by at most {}%.",
        if ok { "PASS" } else { "REGRESSION" },
        crate::bench::report::num_trimmed(limit_pct)
    ));
    (ok, out)
}

/// The diff table rendered as ASCII, one printable line each.
fn diff_table(rows: Vec<Vec<String>>) -> Vec<String> {
    let table = Table {
        title: "Baseline comparison".to_string(),
        headers: [
            "Round", "Metric", "Baseline", "Current", "Change", "Verdict",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
        note: None,
    };
    table.render_ascii().lines().map(str::to_string).collect()
}

/// The metrics the gate holds a round to.
fn metrics(base: &RoundResult, cur: &RoundResult) -> [(&'static str, Better, f64, f64); 2] {
    [
        (
            "Throughput (TPS)",
            Better::Higher,
            base.throughput_tps,
            cur.throughput_tps,
        ),
        (
            "p95 Latency (s)",
            Better::Lower,
            base.p95_latency_s,
            cur.p95_latency_s,
        ),
    ]
}

/// The change column and whether the metric passes.
fn judge(base: f64, cur: f64, better: Better, limit_pct: f64) -> (String, bool) {
    if !cur.is_finite() {
        return ("n/a".to_string(), false);
    }
    if !base.is_finite() || base <= 0.0 {
        // Nothing to hold the run to: a zero throughput cannot drop, a zero
        // p95 means the baseline committed nothing.
        return ("n/a".to_string(), true);
    }
    let change = (cur - base) / base * 100.0;
    let passed = match better {
        Better::Higher => cur >= base * (1.0 - limit_pct / 100.0),
        Better::Lower => {
            cur <= base * (1.0 + limit_pct / 100.0) || cur - base <= LATENCY_NOISE_FLOOR_S
        }
    };
    (format!("{change:+.1}%"), passed)
}

/// A figure of the diff table: rates with 2 decimals, latencies (`p95`)
/// as the reports show them (milliseconds below one second).
fn fmt_metric(metric: &str, x: f64) -> String {
    if metric.starts_with("p95") {
        crate::bench::report::latency_cell(x)
    } else {
        crate::bench::report::num(x, 2)
    }
}

fn row(label: &str, metric: &str, b: &str, c: &str, change: &str, verdict: &str) -> Vec<String> {
    [label, metric, b, c, change, verdict]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Reads a baseline written by `bench --json`.
///
/// Every failure is an [`InputError`] (exit code 2) naming the file: it
/// cannot be read, is not JSON, is not a medchain bench report (no
/// `schema`/`rounds`), has a schema this build does not know, or does not
/// match the schema's fields.
pub fn load(path: &Path) -> anyhow::Result<BenchReport> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::new(format!(
            "cannot read the baseline {shown}: {e}; pass a file written by `medchain bench --json`"
        ))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        InputError::new(format!(
            "the baseline {shown} is not JSON ({e}); pass a file written by `medchain bench --json`"
        ))
    })?;
    let not_ours = |why: &str| {
        InputError::new(format!(
            "the baseline {shown} is not a medchain bench JSON: {why}; \
             pass a file written by `medchain bench --json`"
        ))
    };
    let obj = value
        .as_object()
        .ok_or_else(|| not_ours("expected an object at the top level"))?;
    let schema = obj
        .get("schema")
        .ok_or_else(|| not_ours("it has no `schema` field"))?;
    if !obj.contains_key("rounds") {
        return Err(not_ours("it has no `rounds` field").into());
    }
    if schema.as_u64() != Some(u64::from(SCHEMA)) {
        return Err(InputError::new(format!(
            "the baseline {shown} has schema {schema}, this medchain reads schema {SCHEMA}; \
             refresh the baseline with this version's `medchain bench --json`"
        ))
        .into());
    }
    let report: BenchReport = serde_json::from_value(value).map_err(|e| {
        InputError::new(format!(
            "the baseline {shown} does not match the bench JSON schema {SCHEMA}: {e}; \
             refresh the baseline with `medchain bench --json`"
        ))
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code;

    fn round(label: &str, tps: f64, p95: f64) -> RoundResult {
        RoundResult {
            label: label.into(),
            op: label.into(),
            succ: 100,
            throughput_tps: tps,
            p95_latency_s: p95,
            ..Default::default()
        }
    }

    fn report(rounds: Vec<RoundResult>) -> BenchReport {
        BenchReport {
            schema: SCHEMA,
            network: "n".into(),
            scenario: "simple".into(),
            consensus: "clique".into(),
            rounds,
            ..Default::default()
        }
    }

    fn current() -> BenchReport {
        report(vec![round("open", 50.0, 2.0), round("transfer", 80.0, 4.0)])
    }

    #[test]
    fn passes_against_itself() {
        let c = compare(&current(), &current(), 10.0);
        assert!(c.ok, "{}", c.lines.join("\n"));
        assert!(c
            .lines
            .iter()
            .any(|l| l.contains("| open ") && l.contains("+0.0%")));
        assert!(c.lines.last().unwrap().starts_with("PASS"));
    }

    #[test]
    fn fails_against_a_far_better_baseline() {
        let better = report(vec![
            round("open", 100.0, 1.0),
            round("transfer", 80.0, 4.0),
        ]);
        let c = compare(&current(), &better, 10.0);
        assert!(!c.ok);
        let open: Vec<&String> = c.lines.iter().filter(|l| l.contains("| open ")).collect();
        assert_eq!(open.len(), 2);
        assert!(open.iter().all(|l| l.contains(REGRESSED)), "{open:?}");
        assert!(open[0].contains("-50.0%"));
        assert!(open[1].contains("+100.0%"));
        assert!(c.lines.last().unwrap().starts_with("REGRESSION"));
    }

    #[test]
    fn fails_on_a_missing_round_and_reports_new_ones() {
        let base = report(vec![round("open", 50.0, 2.0), round("query", 100.0, 0.1)]);
        let c = compare(&current(), &base, 10.0);
        assert!(!c.ok);
        assert!(c
            .lines
            .iter()
            .any(|l| l.contains("| query ") && l.contains(MISSING)));
        assert!(c
            .lines
            .iter()
            .any(|l| l.contains("| transfer ") && l.contains(NEW)));

        // A new round alone is not a failure.
        let base = report(vec![round("open", 50.0, 2.0)]);
        assert!(compare(&current(), &base, 10.0).ok);
    }

    #[test]
    fn tolerates_changes_within_the_threshold() {
        // 9 % less throughput, 9 % more latency: within 10 %.
        let base = report(vec![
            round("open", 50.0 / 0.91, 2.0 / 1.09),
            round("transfer", 80.0, 4.0),
        ]);
        let c = compare(&current(), &base, 10.0);
        assert!(c.ok, "{}", c.lines.join("\n"));
        // …but not within 5 %.
        assert!(!compare(&current(), &base, 5.0).ok);
    }

    #[test]
    fn zero_baselines_do_not_divide() {
        let base = report(vec![round("open", 0.0, 0.0), round("transfer", 80.0, 4.0)]);
        let c = compare(&current(), &base, 10.0);
        assert!(c.ok, "{}", c.lines.join("\n"));
        assert!(c
            .lines
            .iter()
            .any(|l| l.contains("| open ") && l.contains("n/a")));
        let mut cur = current();
        cur.rounds[0].p95_latency_s = f64::NAN;
        assert!(!compare(&cur, &current(), 10.0).ok);
    }

    #[test]
    fn a_partial_run_fails() {
        let mut cur = current();
        cur.partial = true;
        let c = compare(&cur, &current(), 10.0);
        assert!(!c.ok);
        assert!(c.lines.iter().any(|l| l.contains("interrupted")));
    }

    #[test]
    fn load_reads_what_write_json_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        crate::bench::report::write_json(&current(), &path).unwrap();
        assert_eq!(load(&path).unwrap(), current());
    }

    #[test]
    fn load_refuses_other_files_with_an_input_error_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("notjson.json", "not json at all", "is not JSON"),
            ("array.json", "[1,2]", "not a medchain bench JSON"),
            (
                "status.json",
                r#"{"network":"x","nodes":[]}"#,
                "no `schema`",
            ),
            ("future.json", r#"{"schema":2,"rounds":[]}"#, "schema 2"),
            (
                "broken.json",
                r#"{"schema":1,"rounds":[{"label":3}]}"#,
                "does not match",
            ),
        ];
        for (name, text, want) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let err = load(&path).unwrap_err();
            assert_eq!(exit_code(&err), 2, "{name}");
            assert!(err.is::<InputError>(), "{name}");
            let msg = err.to_string();
            assert!(msg.contains(name), "{msg}");
            assert!(msg.contains(want), "{name}: {msg}");
        }
        let err = load(&dir.path().join("absent.json")).unwrap_err();
        assert_eq!(exit_code(&err), 2);
        assert!(err.to_string().contains("absent.json"));
    }

    #[test]
    fn millisecond_latency_noise_passes_but_a_real_rise_fails() {
        let (_, ok) = judge(0.0009, 0.0020, Better::Lower, 60.0);
        assert!(ok, "a 1.1 ms rise on a sub-millisecond read round is noise");
        let (_, ok) = judge(0.0009, 0.0079, Better::Lower, 60.0);
        assert!(!ok, "7 ms more than 0.9 ms is beyond the 5 ms floor");
        let (_, ok) = judge(0.050, 0.054, Better::Lower, 5.0);
        assert!(ok, "4 ms is under the floor");
        let (_, ok) = judge(0.100, 0.108, Better::Lower, 10.0);
        assert!(ok, "8 ms is within 10% of 100 ms");
        let (_, ok) = judge(0.100, 0.112, Better::Lower, 10.0);
        assert!(
            !ok,
            "12 ms is neither within 10% of 100 ms nor under the floor"
        );
        let (change, ok) = judge(2.0, 3.5, Better::Lower, 60.0);
        assert!(!ok, "{change}");
        let (_, ok) = judge(0.02, 0.09, Better::Lower, 60.0);
        assert!(!ok, "70 ms more than a 20 ms baseline is beyond the floor");
    }
}
