//! Opened private records as the terminal table of `records get`.

use super::fhir::Observation;
use super::readings::Opened;
use crate::table::Table;

/// The value of the Observation coded `code` (or of its component coded
/// `code`), as printed.
fn value(obs: &[Observation], code: &str) -> String {
    let coded = |c: &super::fhir::CodeableConcept| c.coding.iter().any(|k| k.code == code);
    for o in obs {
        if coded(&o.code) {
            if let Some(q) = &o.value_quantity {
                return q.value.to_string();
            }
        }
        if let Some(c) = o.component.iter().find(|c| coded(&c.code)) {
            return c.value_quantity.value.to_string();
        }
    }
    "-".into()
}

/// A summary line, then one row per record: its vital signs when the
/// reader could open it, else `unreadable` and why in the note.
pub fn table(total: u64, offset: u64, records: &[Opened]) -> String {
    let headers = [
        "ID", "HR", "SPO2", "SYS", "DIA", "TEMP °C", "SEQ", "KEY", "DEVICE", "CID",
    ];
    let mut why = Vec::new();
    let rows = records
        .iter()
        .map(|r| {
            let mut row = vec![r.record_id.to_string()];
            match &r.observations {
                Some(obs) => {
                    for code in ["8867-4", "2708-6", "8480-6", "8462-4", "8310-5"] {
                        row.push(value(obs, code));
                    }
                }
                None => {
                    row.extend([
                        "unreadable".to_string(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                    ]);
                    if let Some(w) = &r.unreadable {
                        why.push(format!("record {}: {w}\n", r.record_id));
                    }
                }
            }
            row.extend([
                r.sequence.to_string(),
                r.key_version.to_string(),
                format!("{:#x}", r.device),
                r.cid.clone(),
            ]);
            row
        })
        .collect();
    let t = Table {
        title: String::new(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
        note: None,
    };
    let mut out = format!(
        "{total} record(s); showing {} from offset {offset}\n{}",
        records.len(),
        t.render_plain(&[0, 1, 2, 3, 4, 5, 6, 7])
    );
    for w in why {
        out.push_str(&w);
    }
    out
}
