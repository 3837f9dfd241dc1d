//! Reports of a benchmark run, all pure functions of a [`BenchReport`]:
//!
//! - [`table`]: the terminal text: Caliper's results table (its exact
//!   column names, so figures compare with published work) plus p50/p95/p99,
//!   an on-chain table and a resource table like Caliper's monitors;
//! - [`write_json`]: the `bench --json` file (schema 1 contract);
//! - [`write_html`]: one self-contained offline HTML page with the same
//!   tables and per-round charts.

mod alarms_table;
mod faults_table;
mod html;
mod json;
mod prom_table;
mod send_table;
mod table;
mod tables;

pub use html::{render_html, write_html};
pub use json::{to_json, write_json, Progress};
pub use table::{
    fleet_table, latency_cell, num, num_trimmed, onchain_table, resources_table, results_table,
    tracked_table, Table, CALIPER_COLUMNS, FLEET_COLUMNS, ONCHAIN_COLUMNS, PARTIAL_NOTE,
    PERCENTILE_COLUMNS, RESOURCE_COLUMNS, TRACKED_COLUMNS,
};
pub use tables::all_tables;

use crate::bench::result::BenchReport;

/// The report as terminal text: a heading line, a warning when the run was
/// interrupted, then the performance (Caliper), on-chain and resource
/// tables, each under a `### title ###` line as Caliper prints them.
pub fn table(report: &BenchReport) -> String {
    let mut out = format!(
        "medchain bench: scenario {:?} on network {:?}{}\n",
        report.scenario,
        report.network,
        if report.consensus.is_empty() {
            String::new()
        } else {
            format!(" ({})", report.consensus)
        }
    );
    if let Some(layout) = &report.records_layout {
        out.push_str(&format!("records layout measured: {layout}\n"));
    }
    if report.partial {
        out.push_str("WARNING: ");
        out.push_str(PARTIAL_NOTE);
        out.push('\n');
    }
    for w in &report.warnings {
        out.push_str(&format!("WARNING: {w}\n"));
    }
    for t in all_tables(report) {
        out.push_str(&format!("\n### {} ###\n", t.title));
        out.push_str(&t.render_ascii());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::{
        ChainFigures, Failures, LatencyBucket, ResourceUsage, RoundResult, TimePoint, SCHEMA,
    };

    fn sample() -> BenchReport {
        let round = |label: &str, op: &str| RoundResult {
            label: label.into(),
            op: op.into(),
            succ: 1000,
            fail: 2,
            send_rate_tps: 50.123,
            max_latency_s: 2.1,
            min_latency_s: 0.3,
            avg_latency_s: 1.1049,
            p50_latency_s: 1.0,
            p95_latency_s: 1.9,
            p99_latency_s: 2.0,
            throughput_tps: 49.76,
            onchain_tps: 49.7,
            duration_s: 20.0,
            failures: Failures {
                rejected: 1,
                reverted: 1,
                timed_out: 0,
                unreachable: 0,
            },
            retries: 0,
            fail_pct: 0.2,
            chain: ChainFigures {
                first_block: 10,
                last_block: 19,
                blocks: 10,
                transactions: 1000,
                txs_per_block: 100.0,
                gas_used_avg: 4_500_000.4,
                gas_limit: 30_000_000,
                gas_utilization: 0.15,
                block_interval_avg_s: 2.0,
                uncles: 0,
            },
            knee_tps: None,
            timeline: (0..20)
                .map(|i| TimePoint {
                    t_s: i as f64,
                    submitted: 50,
                    committed: if i == 0 { 0 } else { 52 },
                    avg_latency_s: if i == 0 { 0.0 } else { 1.0 + i as f64 / 100.0 },
                })
                .collect(),
            latency_histogram: [0.5, 1.0, 2.0, 4.0]
                .iter()
                .zip([10, 600, 380, 10])
                .map(|(&le_s, count)| LatencyBucket { le_s, count })
                .collect(),
            ..Default::default()
        };
        BenchReport {
            schema: SCHEMA,
            network: "imss-demo".into(),
            scenario: "simple".into(),
            consensus: "clique".into(),
            runtime: "process".into(),
            rounds: vec![round("open", "open"), round("transfer", "transfer")],
            resources: vec![ResourceUsage {
                node: "guadalajara-sealer-0".into(),
                cpu_max_pct: 80.5,
                cpu_avg_pct: 40.25,
                mem_max_mb: 300.0,
                mem_avg_mb: 250.0,
                disk_read_mb: 0.0,
                disk_write_mb: 12.5,
                net_rx_mb: 3.0,
                net_tx_mb: 3.0,
            }],
            driver: Some(ResourceUsage {
                node: "medchain (driver)".into(),
                cpu_max_pct: 20.0,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn cells(line: &str) -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect()
    }

    #[test]
    fn header_has_caliper_columns_in_order_then_percentiles() {
        let text = table(&sample());
        let header = text
            .lines()
            .find(|l| l.starts_with("| Name") && l.contains("Send Rate (TPS)"))
            .expect("results header line");
        let got = cells(header);
        let mut want: Vec<&str> = CALIPER_COLUMNS.to_vec();
        want.extend(PERCENTILE_COLUMNS);
        assert_eq!(got, want);
        assert_eq!(
            &got[..8],
            [
                "Name",
                "Succ",
                "Fail",
                "Send Rate (TPS)",
                "Max Latency (s)",
                "Min Latency (s)",
                "Avg Latency (s)",
                "Throughput (TPS)"
            ]
        );
    }

    #[test]
    fn numbers_are_formatted_like_caliper() {
        let text = table(&sample());
        let row = text
            .lines()
            .find(|l| l.starts_with("| open ") && l.contains("1000"))
            .expect("open row");
        assert_eq!(
            cells(row),
            [
                "open", "1000", "2", "50.1", "2.10", "300 ms", "1.10", "49.8", "1.00", "1.90",
                "2.00"
            ]
        );
    }

    #[test]
    fn every_format_says_which_records_layout_was_measured() {
        let mut r = sample();
        let text = table(&r);
        assert!(!text.contains("records layout"), "{text}");
        assert!(!to_json(&r).unwrap().contains("records_layout"));
        for layout in ["private", "clear"] {
            r.records_layout = Some(layout.into());
            let text = table(&r);
            assert!(
                text.lines()
                    .nth(1)
                    .is_some_and(|l| l == format!("records layout measured: {layout}")),
                "{text}"
            );
            let json: serde_json::Value = serde_json::from_str(&to_json(&r).unwrap()).unwrap();
            assert_eq!(json["records_layout"], layout);
            let html = render_html(&r).unwrap();
            let want =
                format!("Records layout measured: <strong class=\"layout\">{layout}</strong>");
            assert!(html.contains(&want), "{want}");
        }
    }

    #[test]
    fn onchain_and_resource_tables_are_present() {
        let mut report = sample();
        report.rounds[1].knee_tps = Some(87.26);
        let text = table(&report);
        assert!(text.contains("### On-chain ###"));
        let onchain = text
            .lines()
            .find(|l| l.starts_with("| transfer ") && l.contains("30000000"))
            .expect("on-chain transfer row");
        assert_eq!(
            cells(onchain),
            [
                "transfer", "10", "100.00", "4500000", "30000000", "15.00", "2.00", "0", "49.7",
                "1", "1", "0", "0", "0", "87.3"
            ]
        );
        let header = text
            .lines()
            .find(|l| l.starts_with("| Name") && l.contains("CPU%(max)"))
            .unwrap();
        assert_eq!(cells(header), RESOURCE_COLUMNS);
        assert!(text.contains("| medchain (driver) "));
        assert!(!text.contains("interrupted"));
    }

    #[test]
    fn no_latency_without_commits_and_partial_is_said() {
        let mut report = sample();
        report.partial = true;
        report.rounds[0].succ = 0;
        report.resources.clear();
        report.driver = None;
        let text = table(&report);
        assert!(text.contains("interrupted"));
        assert!(!text.contains("Resource usage"));
        let row = text.lines().find(|l| l.starts_with("| open ")).unwrap();
        assert_eq!(cells(row)[4..7], ["-", "-", "-"]);
    }

    #[test]
    fn html_has_one_svg_per_chart_and_no_urls() {
        let report = sample();
        let html = render_html(&report).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 3 * report.rounds.len());
        assert!(!html.contains("http://"), "page must be offline");
        assert!(!html.contains("https://"), "page must be offline");
        assert!(!html.contains("<script"));
        assert!(!html.contains("<link"));
        for name in CALIPER_COLUMNS {
            assert!(html.contains(&format!("<th>{name}</th>")), "{name}");
        }
        assert!(html.contains("<th>Unreachable</th>") && html.contains("Fail causes:"));
        assert!(html.contains("guadalajara-sealer-0"));
    }

    #[test]
    fn fleet_and_tracked_devices_show_under_the_tables_only_when_present() {
        let mut report = sample();
        let text = table(&report);
        assert!(!text.contains("Device fleet") && !text.contains("Tracked devices"));
        report.rounds[1].fleet = Some(crate::bench::result::FleetFigures {
            devices: 200,
            interval_s: 5.0,
            due_rate_tps: 40.0,
            readings_due: 2400,
            readings_sent: 2398,
            readings_late: 3,
            readings_unsent: 2,
            connections: 2398,
            ..Default::default()
        });
        report.rounds[1].tracked_devices = vec![crate::bench::result::TrackedDevice {
            address: "0xabc".into(),
            readings: 9,
            first_sequence: 1,
            last_sequence: 10,
            lost: 1,
            lost_sequences: vec![4],
            avg_latency_s: 2.5,
            ..Default::default()
        }];
        let text = table(&report);
        assert!(text.contains("### Device fleet ###"), "{text}");
        let row = text
            .lines()
            .find(|l| l.starts_with("| transfer | 200"))
            .unwrap();
        assert_eq!(cells(row)[4..8], ["2400", "2398", "3", "2"]);
        assert!(text.contains("### Tracked devices ###"));
        let row = text.lines().find(|l| l.contains("| 0xabc ")).unwrap();
        assert_eq!(cells(row)[2..6], ["9", "1", "10", "1"]);
        let html = render_html(&report).unwrap();
        assert!(html.contains("<th>Late</th>") && html.contains("0xabc"));
        let json: serde_json::Value = serde_json::from_str(&to_json(&report).unwrap()).unwrap();
        assert_eq!(json["rounds"][1]["fleet"]["readings_late"], 3);
        assert_eq!(
            json["rounds"][1]["tracked_devices"][0]["lost_sequences"][0],
            4
        );
        assert!(json["rounds"][0].get("fleet").is_none(), "absent, not null");
    }

    #[test]
    fn html_escapes_labels() {
        let mut report = sample();
        report.rounds[0].label = "<script>alert(1)</script>".into();
        report.scenario = "\"><img src=x onerror=alert(1)>".into();
        let html = render_html(&report).unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn html_draws_empty_rounds() {
        let mut report = sample();
        report.rounds[0].timeline.clear();
        report.rounds[0].latency_histogram.clear();
        let html = render_html(&report).unwrap();
        assert_eq!(html.matches("<svg").count(), 6);
    }

    #[test]
    fn files_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let report = sample();
        write_html(&report, &dir.path().join("r.html")).unwrap();
        write_json(&report, &dir.path().join("r.json")).unwrap();
        let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
        assert!(html.contains("<svg"));
        let err = write_json(&report, &dir.path().join("missing/r.json")).unwrap_err();
        assert!(format!("{err:#}").contains("missing/r.json"));
    }
}
