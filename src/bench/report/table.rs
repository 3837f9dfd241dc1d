//! The report's tables as one model ([`Table`]: a title, headers and
//! already formatted cells), built once from a [`BenchReport`] and drawn
//! twice: as Caliper's ASCII table for the terminal ([`Table::render_ascii`])
//! and as HTML by the page template. Formatting lives here so both outputs
//! show the same figures.
//!
//! Formatting follows Caliper's report (`caliper-core` `report.js` and its
//! docker/process monitors): latencies of a second or more in seconds with
//! 2 decimals, rates (TPS) with 1, CPU percentages with 2, and `-` where a
//! figure does not exist (no committed transaction, so no latency).
//! Latencies under a second (reads are sub-millisecond round trips) are
//! shown in milliseconds with 3 significant digits and an `ms` suffix, so
//! they never print as `0.00`.

use crate::bench::result::{BenchReport, ResourceUsage, RoundResult};
pub use crate::table::Table;

/// Caliper's results columns, exactly as Caliper prints them, in order.
pub const CALIPER_COLUMNS: [&str; 8] = [
    "Name",
    "Succ",
    "Fail",
    "Send Rate (TPS)",
    "Max Latency (s)",
    "Min Latency (s)",
    "Avg Latency (s)",
    "Throughput (TPS)",
];

/// Our percentile columns, appended after Caliper's.
pub const PERCENTILE_COLUMNS: [&str; 3] = ["p50 (s)", "p95 (s)", "p99 (s)"];

/// Columns of the per-round on-chain table.
pub const ONCHAIN_COLUMNS: [&str; 15] = [
    "Name",
    "Blocks",
    "Txs/Block",
    "Gas Used (avg)",
    "Gas Limit",
    "Gas Util (%)",
    "Block Interval (s)",
    "Uncles",
    "On-chain TPS",
    "Rejected",
    "Reverted",
    "Timed Out",
    "Unreachable",
    "Retries",
    "Knee (TPS)",
];

/// Columns of the resource table, in the order Caliper's docker monitor
/// prints them once its units are normalised to MB.
pub const RESOURCE_COLUMNS: [&str; 9] = [
    "Name",
    "CPU%(max)",
    "CPU%(avg)",
    "Memory(max) [MB]",
    "Memory(avg) [MB]",
    "Traffic In [MB]",
    "Traffic Out [MB]",
    "Disc Write [MB]",
    "Disc Read [MB]",
];

/// What the resource table's network columns mean, printed under it.
pub(crate) const TRAFFIC_NOTE: &str =
    "Traffic In/Out count the whole network namespace of each process \
     (nodes sharing the host's namespace show the same figures); CPU% is of one core.";

/// The same for the docker runtime, whose containers have namespaces of
/// their own.
pub(crate) const DOCKER_TRAFFIC_NOTE: &str =
    "Node rows come from the Docker stats API: Traffic In/Out are each \
     container's own interfaces; the driver row counts the host's namespace; CPU% is of one core.";

/// A figure with `decimals` places, or `-` when it is not a number.
pub fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "-".to_string()
    }
}

/// A figure with at most 3 decimals and no trailing zeros (`0.5`, `2`,
/// `0.25`), for bounds and thresholds; `-` when it is not a number.
pub fn num_trimmed(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A latency in seconds as a cell: from one second up in seconds with 2
/// decimals (`2.10`), below it in milliseconds with 3 significant digits
/// (`734 ms`, `12.3 ms`, `0.734 ms`); `-` when it is not a number.
pub fn latency_cell(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    if x >= 1.0 {
        return num(x, 2);
    }
    let ms = x * 1e3;
    if ms <= 0.0 {
        return "0 ms".to_string();
    }
    // Decimals that leave 3 significant digits, rounded first so 99.96
    // shows as 100 and not 100.0.
    let digits = |v: f64| (2 - v.log10().floor() as i32).clamp(0, 6) as usize;
    let d = digits(ms);
    let rounded: f64 = format!("{ms:.d$}").parse().unwrap_or(ms);
    let d = digits(rounded);
    format!("{rounded:.d$} ms")
}

/// A latency cell: `-` when no transaction committed (Caliper prints `-`
/// for latencies it has no data for).
fn latency(round: &RoundResult, x: f64) -> String {
    if round.succ == 0 {
        "-".to_string()
    } else {
        latency_cell(x)
    }
}

/// Caliper's results table plus our percentiles, one row per round.
pub fn results_table(report: &BenchReport) -> Table {
    let headers = CALIPER_COLUMNS
        .iter()
        .chain(PERCENTILE_COLUMNS.iter())
        .map(|s| s.to_string())
        .collect();
    let rows = report
        .rounds
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                r.succ.to_string(),
                r.fail.to_string(),
                num(r.send_rate_tps, 1),
                latency(r, r.max_latency_s),
                latency(r, r.min_latency_s),
                latency(r, r.avg_latency_s),
                num(r.throughput_tps, 1),
                latency(r, r.p50_latency_s),
                latency(r, r.p95_latency_s),
                latency(r, r.p99_latency_s),
            ]
        })
        .collect();
    Table {
        title: "Performance".to_string(),
        headers,
        rows,
        note: None,
    }
}

/// What the chain did per round: blocks, fill, gas, block interval, uncles,
/// on-chain throughput, failures by class and the `maximum-rate` knee.
pub fn onchain_table(report: &BenchReport) -> Table {
    let rows = report
        .rounds
        .iter()
        .map(|r| {
            let c = &r.chain;
            vec![
                r.label.clone(),
                c.blocks.to_string(),
                num(c.txs_per_block, 2),
                num(c.gas_used_avg, 0),
                c.gas_limit.to_string(),
                num(c.gas_utilization * 100.0, 2),
                num(c.block_interval_avg_s, 2),
                c.uncles.to_string(),
                num(r.onchain_tps, 1),
                r.failures.rejected.to_string(),
                r.failures.reverted.to_string(),
                r.failures.timed_out.to_string(),
                r.failures.unreachable.to_string(),
                r.retries.to_string(),
                r.knee_tps.map_or_else(|| "-".to_string(), |k| num(k, 1)),
            ]
        })
        .collect();
    Table {
        title: "On-chain".to_string(),
        headers: ONCHAIN_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(FAIL_CAUSES_NOTE.to_string()),
    }
}

/// What the failure columns of the on-chain table mean, printed under it.
pub(crate) const FAIL_CAUSES_NOTE: &str =
    "Fail causes: Rejected = the node answered with an error; Reverted = status 0 or a reverted read; \
     Timed Out = sent, not mined before the round's deadline; Unreachable = no node answered and the chain \
     does not hold it. Retries: vanished with a dead node's pool and resubmitted once (each transaction counts once).";

/// Per-process resource use, nodes first, then the driver if measured.
/// `None` when nothing was measured.
pub fn resources_table(report: &BenchReport) -> Option<Table> {
    let rows: Vec<Vec<String>> = report
        .resources
        .iter()
        .chain(report.driver.iter())
        .map(resource_row)
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(Table {
        title: "Resource usage".to_string(),
        headers: RESOURCE_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(
            if report.runtime == "docker" {
                DOCKER_TRAFFIC_NOTE
            } else {
                TRAFFIC_NOTE
            }
            .to_string(),
        ),
    })
}

fn resource_row(u: &ResourceUsage) -> Vec<String> {
    vec![
        u.node.clone(),
        num(u.cpu_max_pct, 2),
        num(u.cpu_avg_pct, 2),
        num(u.mem_max_mb, 1),
        num(u.mem_avg_mb, 1),
        num(u.net_rx_mb, 2),
        num(u.net_tx_mb, 2),
        num(u.disk_write_mb, 2),
        num(u.disk_read_mb, 2),
    ]
}

/// Columns of the device-fleet table.
pub const FLEET_COLUMNS: [&str; 11] = [
    "Name",
    "Devices",
    "Interval (s)",
    "Due Rate (TPS)",
    "Due",
    "Sent",
    "Late",
    "Unsent",
    "Send Lag p99 (s)",
    "Connections",
    "Setup (s)",
];

/// Columns of the tracked-devices table.
pub const TRACKED_COLUMNS: [&str; 11] = [
    "Name",
    "Device",
    "Readings",
    "First Seq",
    "Last Seq",
    "Lost",
    "Duplicates",
    "Reverted",
    "Avg Latency (s)",
    "p95 (s)",
    "Max Latency (s)",
];

/// What the `device-fleet` rounds' simulated devices did; `None` when no
/// round drove a fleet.
pub fn fleet_table(report: &BenchReport) -> Option<Table> {
    let rows: Vec<Vec<String>> = report
        .rounds
        .iter()
        .filter_map(|r| {
            let f = r.fleet.as_ref()?;
            Some(vec![
                r.label.clone(),
                f.devices.to_string(),
                num_trimmed(f.interval_s),
                num(f.due_rate_tps, 1),
                f.readings_due.to_string(),
                f.readings_sent.to_string(),
                f.readings_late.to_string(),
                f.readings_unsent.to_string(),
                num(f.send_lag_p99_s, 3),
                f.connections.to_string(),
                num(f.setup_s, 1),
            ])
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        title: "Device fleet".to_string(),
        headers: FLEET_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(
            "Late: sent after its time because the device's previous request was still in flight; \
             Unsent: due in the window but the device was still behind when it closed."
                .to_string(),
        ),
    })
}

/// The real devices rounds tracked; `None` when no round tracked any.
pub fn tracked_table(report: &BenchReport) -> Option<Table> {
    let rows: Vec<Vec<String>> = report
        .rounds
        .iter()
        .flat_map(|r| {
            r.tracked_devices.iter().map(move |d| {
                let lat = |x: f64| {
                    if d.readings == 0 {
                        "-".to_string()
                    } else {
                        latency_cell(x)
                    }
                };
                vec![
                    r.label.clone(),
                    d.address.clone(),
                    d.readings.to_string(),
                    d.first_sequence.to_string(),
                    d.last_sequence.to_string(),
                    d.lost.to_string(),
                    d.duplicates.to_string(),
                    d.reverted.to_string(),
                    lat(d.avg_latency_s),
                    lat(d.p95_latency_s),
                    lat(d.max_latency_s),
                ]
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        title: "Tracked devices".to_string(),
        headers: TRACKED_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(
            "Latency: the reading's device timestamp to the arrival of the head that included it; \
             Lost: sequence numbers missing between the first and the last seen."
                .to_string(),
        ),
    })
}

/// The line telling that a run was cut short, shown on every output.
pub const PARTIAL_NOTE: &str =
    "The run stopped before it finished (interrupted, or a round failed): the rounds below hold only what ran.";

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Table {
        Table {
            title: "x".into(),
            headers: vec!["Name".into(), "Succ".into()],
            rows: vec![
                vec!["open".into(), "1000".into()],
                vec!["q".into(), "5".into()],
            ],
            note: None,
        }
    }

    #[test]
    fn ascii_table_has_caliper_borders() {
        let s = t().render_ascii();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "+------+------+");
        assert_eq!(lines[1], "| Name | Succ |");
        assert_eq!(lines[2], "|------|------|");
        assert_eq!(lines[3], "| open | 1000 |");
        assert_eq!(lines[4], "|------|------|");
        assert_eq!(lines[5], "| q    | 5    |");
        assert_eq!(lines[6], "+------+------+");
    }

    #[test]
    fn control_characters_cannot_break_rows() {
        let mut table = t();
        table.rows[0][0] = "a\nb\x1b".into();
        let s = table.render_ascii();
        assert_eq!(s.lines().count(), 7);
        assert!(s.contains("| a b  |"));
    }

    #[test]
    fn non_numbers_show_as_dash() {
        assert_eq!(num(f64::NAN, 2), "-");
        assert_eq!(num(f64::INFINITY, 1), "-");
        assert_eq!(num(1.234, 2), "1.23");
        assert_eq!(num(49.86, 1), "49.9");
        assert_eq!(num_trimmed(10.0), "10");
        assert_eq!(num_trimmed(0.250), "0.25");
        assert_eq!(num_trimmed(f64::NAN), "-");
    }

    #[test]
    fn sub_second_latencies_show_three_significant_digits_in_ms() {
        assert_eq!(latency_cell(2.104), "2.10");
        assert_eq!(latency_cell(1.0), "1.00");
        assert_eq!(latency_cell(0.734), "734 ms");
        assert_eq!(latency_cell(0.01234), "12.3 ms");
        assert_eq!(latency_cell(0.000734), "0.734 ms");
        assert_eq!(latency_cell(0.0000456), "0.0456 ms");
        assert_eq!(latency_cell(0.09996), "100 ms");
        assert_eq!(latency_cell(0.0), "0 ms");
        assert_eq!(latency_cell(f64::NAN), "-");
    }
}
