//! The alarms table: for each `device-fleet` round with abnormal readings,
//! how their alarms reached a subscriber through `watch` and the broker.

use super::table::{num, Table};
use crate::bench::result::BenchReport;

/// Columns of the alarms table.
pub const ALARM_COLUMNS: [&str; 10] = [
    "Name",
    "Abnormal Share",
    "Abnormal Sent",
    "Committed",
    "Alarms",
    "Lost",
    "Duplicated",
    "Alarm p50 (s)",
    "Alarm p95 (s)",
    "Alarm p99 (s)",
];

/// The rounds' alarm figures; `None` when no round measured alarms.
pub fn alarms_table(report: &BenchReport) -> Option<Table> {
    let rows: Vec<Vec<String>> = report
        .rounds
        .iter()
        .filter_map(|r| {
            let a = r.alarms.as_ref()?;
            Some(vec![
                r.label.clone(),
                num(a.abnormal_share, 2),
                a.abnormal_sent.to_string(),
                a.abnormal_committed.to_string(),
                a.delivered.to_string(),
                a.lost.to_string(),
                a.duplicated.to_string(),
                num(a.latency_p50_s, 3),
                num(a.latency_p95_s, 3),
                num(a.latency_p99_s, 3),
            ])
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        title: "Alarms".to_string(),
        headers: ALARM_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        note: Some(
            "Alarm latency: from the abnormal reading's submission to its alarm's arrival at an MQTT subscriber (watch → mosquitto); \
             Lost: committed abnormal readings with no alarm within 10 s of the round's end."
                .to_string(),
        ),
    })
}
