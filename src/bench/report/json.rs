//! The `bench --json` file (schema 1 contract): the [`BenchReport`] as
//! pretty JSON, re-readable by [`crate::bench::baseline::load`].

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::bench::result::{BenchReport, ResourceUsage, RoundResult};

/// Writes `report` to `path` as pretty JSON, atomically: into a temporary
/// file beside it, then renamed over it, so a reader (or a run killed
/// meanwhile) sees the previous file or the new one, never half of one.
///
/// JSON has no NaN or infinity (serde_json would write `null`, which no
/// longer reads back as a number), so any such figure is written as 0; the
/// file then always loads as a baseline.
pub fn write_json(report: &BenchReport, path: &Path) -> anyhow::Result<()> {
    let text = to_json(report)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, path)
    };
    write()
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::Error::from(e)
        })
        .with_context(|| format!("cannot write the bench JSON to {}", path.display()))
}

/// The JSON report while a run goes on: rewritten after every round with
/// the rounds so far and `"partial": true`, so a crash or Ctrl-C after
/// round k leaves rounds 1..k on disk; the final report replaces it.
#[derive(Debug)]
pub struct Progress {
    path: Option<PathBuf>,
    report: BenchReport,
}

impl Progress {
    /// Progress of a run whose report (`header`: its run-wide fields) goes
    /// to `path`; nothing is written without one.
    pub fn new(path: Option<&Path>, header: BenchReport) -> Self {
        Self {
            path: path.map(Path::to_path_buf),
            report: BenchReport {
                partial: true,
                rounds: Vec::new(),
                ..header
            },
        }
    }

    /// A round ended: writes the report so far. A write that fails only
    /// warns: the run goes on and the final write reports the error.
    pub fn round_done(&mut self, round: &RoundResult) {
        self.report.rounds.push(round.clone());
        let Some(path) = &self.path else {
            return;
        };
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(d);
        }
        if let Err(e) = write_json(&self.report, path) {
            eprintln!("warning: {e:#}");
        }
    }
}

/// The JSON text [`write_json`] writes.
pub fn to_json(report: &BenchReport) -> anyhow::Result<String> {
    let finite = finite_copy(report);
    serde_json::to_string_pretty(&finite).context("cannot serialise the bench report")
}

/// A copy of `report` in which every non-finite figure is 0.
fn finite_copy(report: &BenchReport) -> BenchReport {
    let mut r = report.clone();
    for round in &mut r.rounds {
        for x in [
            &mut round.send_rate_tps,
            &mut round.max_latency_s,
            &mut round.min_latency_s,
            &mut round.avg_latency_s,
            &mut round.p50_latency_s,
            &mut round.p95_latency_s,
            &mut round.p99_latency_s,
            &mut round.throughput_tps,
            &mut round.onchain_tps,
            &mut round.duration_s,
            &mut round.fail_pct,
            &mut round.chain.txs_per_block,
            &mut round.chain.gas_used_avg,
            &mut round.chain.gas_utilization,
            &mut round.chain.block_interval_avg_s,
        ] {
            zero_if_not_finite(x);
        }
        if let Some(k) = &mut round.knee_tps {
            zero_if_not_finite(k);
        }
        for p in &mut round.timeline {
            zero_if_not_finite(&mut p.t_s);
            zero_if_not_finite(&mut p.avg_latency_s);
        }
        for b in &mut round.latency_histogram {
            zero_if_not_finite(&mut b.le_s);
        }
        if let Some(f) = &mut round.fleet {
            for x in [
                &mut f.interval_s,
                &mut f.jitter,
                &mut f.due_rate_tps,
                &mut f.send_lag_p50_s,
                &mut f.send_lag_p99_s,
                &mut f.send_lag_max_s,
                &mut f.setup_s,
            ] {
                zero_if_not_finite(x);
            }
        }
        for d in &mut round.tracked_devices {
            for x in [
                &mut d.avg_latency_s,
                &mut d.p50_latency_s,
                &mut d.p95_latency_s,
                &mut d.max_latency_s,
            ] {
                zero_if_not_finite(x);
            }
        }
    }
    for u in r.resources.iter_mut().chain(r.driver.iter_mut()) {
        finite_usage(u);
    }
    r
}

fn finite_usage(u: &mut ResourceUsage) {
    for x in [
        &mut u.cpu_max_pct,
        &mut u.cpu_avg_pct,
        &mut u.mem_max_mb,
        &mut u.mem_avg_mb,
        &mut u.disk_read_mb,
        &mut u.disk_write_mb,
        &mut u.net_rx_mb,
        &mut u.net_tx_mb,
    ] {
        zero_if_not_finite(x);
    }
}

fn zero_if_not_finite(x: &mut f64) {
    if !x.is_finite() {
        *x = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::{RoundResult, SCHEMA};

    #[test]
    fn json_round_trips_and_has_contract_keys() {
        let report = BenchReport {
            schema: SCHEMA,
            network: "n".into(),
            scenario: "s".into(),
            rounds: vec![RoundResult {
                label: "open".into(),
                succ: 3,
                throughput_tps: 1.5,
                p95_latency_s: f64::NAN,
                ..Default::default()
            }],
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_json(&report, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["rounds"][0]["label"], "open");
        assert_eq!(v["rounds"][0]["p95_latency_s"], 0.0);
        let back: BenchReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.rounds[0].throughput_tps, 1.5);
        // Only the report is left in the directory: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn progress_leaves_the_rounds_so_far_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/r.json");
        let header = BenchReport {
            schema: SCHEMA,
            network: "n".into(),
            ..Default::default()
        };
        let mut p = Progress::new(Some(&path), header);
        for label in ["open", "query"] {
            p.round_done(&RoundResult {
                label: label.into(),
                ..Default::default()
            });
            let back: BenchReport =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert!(back.partial);
            assert_eq!(back.network, "n");
            assert_eq!(back.rounds.last().unwrap().label, label);
        }
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
        Progress::new(None, BenchReport::default()).round_done(&RoundResult::default());
    }
}
