//! The Prometheus figures of rounds with `monitors: prometheus:` as a
//! table, in Caliper's Prometheus monitor columns (terminal and HTML; the
//! JSON holds them under each round's `prometheus`). What could not be
//! queried is in the table's note, as a warning.

use super::table::Table;
use crate::bench::result::BenchReport;

/// Columns of the Prometheus table.
pub const PROM_COLUMNS: [&str; 6] = [
    "Round",
    "Metric",
    "Prometheus Query",
    "Name",
    "Statistic",
    "Value",
];

/// One row per figure of every round that queried Prometheus (a query
/// without figures, e.g. unreachable, shows `-`); `None` when no round
/// did.
pub fn prom_table(report: &BenchReport) -> Option<Table> {
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    let mut any = false;
    for r in &report.rounds {
        let Some(p) = &r.prometheus else { continue };
        any = true;
        for q in &p.queries {
            let figures: Vec<_> = p.figures.iter().filter(|f| f.name == q.name).collect();
            if figures.is_empty() {
                let stat = format!("{:?}", q.statistic).to_lowercase();
                rows.push(row(&r.label, &q.name, &q.query, "-", &stat, None));
            }
            for (k, f) in figures.iter().enumerate() {
                let query = if k == 0 { q.query.as_str() } else { "" };
                rows.push(row(
                    &r.label,
                    &q.name,
                    query,
                    &f.series,
                    &f.statistic,
                    f.value,
                ));
            }
        }
        warnings.extend(p.warnings.iter().map(|w| format!("{}: {w}", r.label)));
    }
    any.then(|| Table {
        title: "Prometheus".to_string(),
        headers: PROM_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(if warnings.is_empty() {
            "Each query evaluated over its round's window (query_range), reduced by its statistic and multiplied by its multiplier.".to_string()
        } else {
            format!("WARNING: {}", warnings.join("; "))
        }),
    })
}

fn row(
    label: &str,
    name: &str,
    query: &str,
    series: &str,
    statistic: &str,
    value: Option<f64>,
) -> Vec<String> {
    vec![
        label.to_string(),
        name.to_string(),
        query.to_string(),
        series.to_string(),
        statistic.to_string(),
        value.map_or("-".to_string(), |v| {
            if v.abs() >= 1000.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.3}")
            }
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::prom_queries::{PromFigure, PromResults, Query, Statistic};
    use crate::bench::result::RoundResult;

    #[test]
    fn one_row_per_figure_and_warnings_in_the_note() {
        let q = |name: &str| Query {
            name: name.into(),
            query: format!("{name}_q"),
            step_s: 1.0,
            label: None,
            statistic: Statistic::Max,
            multiplier: 1.0,
        };
        let fig = |series: &str, value| PromFigure {
            name: "Peers".into(),
            series: series.into(),
            statistic: "max".into(),
            value,
        };
        let round = |label: &str, p: PromResults| RoundResult {
            label: label.into(),
            prometheus: Some(p),
            ..Default::default()
        };
        let report = BenchReport {
            rounds: vec![
                round(
                    "a",
                    PromResults {
                        queries: vec![q("Peers")],
                        figures: vec![fig("n1", Some(2.0)), fig("n2", Some(1234.5))],
                        ..Default::default()
                    },
                ),
                round(
                    "b",
                    PromResults {
                        queries: vec![q("Peers")],
                        warnings: vec!["Peers: cannot reach Prometheus".into()],
                        ..Default::default()
                    },
                ),
                RoundResult::default(),
            ],
            ..Default::default()
        };
        let t = prom_table(&report).unwrap();
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0], ["a", "Peers", "Peers_q", "n1", "max", "2.000"]);
        assert_eq!(t.rows[1][2], "", "the query is written once per query");
        assert_eq!(t.rows[1][5], "1234");
        assert_eq!(t.rows[2], ["b", "Peers", "Peers_q", "-", "max", "-"]);
        assert_eq!(
            t.note.unwrap(),
            "WARNING: b: Peers: cannot reach Prometheus"
        );
        assert!(prom_table(&BenchReport::default()).is_none());
    }
}
