//! Records `watch` could not read: counted per patient and reported once
//! per patient (a line on stderr the first time, then a count per patient
//! when `watch` stops and in the `medchain_watch_unreadable_records`
//! metric), never an alarm and never silently dropped. On a private network
//! these are records sealed to a key version the reader holds no key for
//! (no consent, or a revoke before the record was written), or whose
//! sealed blob is missing or altered; on a clear one, records the contract
//! refuses to the reader.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy::primitives::B256;

use super::metrics::WatchMetrics;

/// Per patient: how many records did not open, and why the first did not.
pub struct Unreadable {
    per_patient: BTreeMap<B256, (u64, String)>,
    metrics: Arc<WatchMetrics>,
}

impl Unreadable {
    pub fn new(metrics: Arc<WatchMetrics>) -> Unreadable {
        Unreadable {
            per_patient: BTreeMap::new(),
            metrics,
        }
    }

    /// Counts one record of `patient` that did not open for `why`; the
    /// first for a patient prints `first_line(why)` on stderr.
    pub fn count(&mut self, patient: B256, why: String, first_line: impl FnOnce(&str) -> String) {
        self.metrics.unreadable();
        let e = self.per_patient.entry(patient).or_insert_with(|| {
            eprintln!("{}", first_line(&why));
            (0, why)
        });
        e.0 += 1;
    }

    /// How many records of `patient` did not open.
    pub fn of(&self, patient: B256) -> u64 {
        self.per_patient.get(&patient).map_or(0, |e| e.0)
    }

    /// One line per patient with unreadable records: the count and the
    /// first reason (what `watch` prints when it stops).
    pub fn summary(&self) -> Vec<String> {
        self.per_patient
            .iter()
            .map(|(p, (n, why))| {
                format!("watch: patient {p}: {n} record(s) this reader could not open, not alarmed ({why})")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_counted_per_patient_with_one_line_each() {
        let mut u = Unreadable::new(WatchMetrics::new());
        let (a, b) = (B256::with_last_byte(1), B256::with_last_byte(2));
        let mut lines = 0;
        for _ in 0..3 {
            u.count(a, "no key".into(), |w| {
                lines += 1;
                w.to_string()
            });
        }
        u.count(b, "gone".into(), |w| w.to_string());
        assert_eq!((u.of(a), u.of(b), lines), (3, 1, 1));
        let s = u.summary();
        assert_eq!(s.len(), 2);
        assert!(
            s[0].contains("3 record(s)") && s[0].contains("no key"),
            "{s:?}"
        );
        assert!(u
            .metrics
            .encode()
            .contains("medchain_watch_unreadable_records_total 4"));
    }
}
