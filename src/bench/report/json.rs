//! The `bench --json` file (schema 1 contract): the [`BenchReport`] as
//! pretty JSON, re-readable by [`crate::bench::baseline::load`].

use std::path::Path;

use anyhow::Context;

use crate::bench::result::{BenchReport, ResourceUsage};

/// Writes `report` to `path` as pretty JSON.
///
/// JSON has no NaN or infinity (serde_json would write `null`, which no
/// longer reads back as a number), so any such figure is written as 0; the
/// file then always loads as a baseline.
pub fn write_json(report: &BenchReport, path: &Path) -> anyhow::Result<()> {
    let text = to_json(report)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the bench JSON to {}", path.display()))
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
    }
}
