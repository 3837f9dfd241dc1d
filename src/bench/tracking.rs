//! Real-device tracking (`track_devices` on a round): the observer hands
//! every included transaction from a tracked address to the MedicalRecords
//! contract to a [`DeviceLedger`], which decodes the `addMedicalRecord`
//! calldata the firmware sends (sequence number, device timestamp) and
//! accounts for lost sequence numbers (gaps), duplicates, reverts and the
//! latency from the device's timestamp to the inclusion observed.
//!
//! Latency uses the wall-clock time the observer received the including
//! head, not the block's timestamp: a Clique block's timestamp is its
//! parent's plus the period (when it was due, with 1 s resolution), which on
//! a 1–2 s chain is as coarse as the figure measured; the head's arrival is
//! what the driver's own latency uses too. Both clocks must agree (the same
//! host for `esp32-host`, NTP for an ESP32); a device clock ahead of the
//! driver's gives 0, never a negative latency.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolCall;
use hdrhistogram::Histogram;
use serde_json::Value;

use super::result::TrackedDevice;
use crate::contract::MedicalRecords;

/// Missing sequence numbers listed by value in the report.
const LOST_LISTED: usize = 20;
/// Distinct sequence numbers kept per device (bounds memory: an hour of
/// readings at 100 per second).
const MAX_SEQUENCES: usize = 360_000;

/// One `addMedicalRecord` transaction of a tracked device, as included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The reading's sequence number.
    pub sequence: u64,
    /// The device's timestamp, ms since the Unix epoch.
    pub device_timestamp_ms: u64,
    /// When the including head arrived, ms since the Unix epoch.
    pub observed_ms: u64,
    /// Whether the transaction succeeded (receipt status 1).
    pub ok: bool,
}

/// The sequence number and device timestamp in `addMedicalRecord`
/// calldata; `None` for any other call.
pub fn decode(input: &[u8]) -> Option<(u64, u64)> {
    let c = MedicalRecords::addMedicalRecordCall::abi_decode(input).ok()?;
    Some((c.sequence, c.deviceTimestamp))
}

/// One tracked device's readings in a round.
#[derive(Debug)]
pub struct DeviceLedger {
    address: Address,
    seen: BTreeSet<u64>,
    duplicates: u64,
    reverted: u64,
    latency_us: Histogram<u64>,
}

impl DeviceLedger {
    /// An empty ledger for `address`.
    pub fn new(address: Address) -> Self {
        Self {
            address,
            seen: BTreeSet::new(),
            duplicates: 0,
            reverted: 0,
            latency_us: Histogram::new_with_bounds(1, 86_400_000_000, 3)
                .expect("valid histogram bounds"),
        }
    }

    /// The device's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Accounts one included transaction: a sequence seen before is a
    /// duplicate (whatever its status; the contract reverts it); a revert
    /// of a new sequence is counted and leaves that sequence missing; a
    /// success is a reading with its latency.
    pub fn record(&mut self, o: &Observation) {
        if self.seen.contains(&o.sequence) {
            self.duplicates += 1;
            return;
        }
        if !o.ok {
            self.reverted += 1;
            return;
        }
        if self.seen.len() < MAX_SEQUENCES {
            self.seen.insert(o.sequence);
        }
        let us = o.observed_ms.saturating_sub(o.device_timestamp_ms) * 1000;
        let _ = self.latency_us.record(us.max(1));
    }

    /// The ledger's figures for the report.
    pub(crate) fn summary(&self) -> TrackedDevice {
        let first = self.seen.first().copied().unwrap_or(0);
        let last = self.seen.last().copied().unwrap_or(0);
        let readings = self.seen.len() as u64;
        let lost = if readings == 0 {
            0
        } else {
            (last - first + 1) - readings
        };
        let mut lost_sequences = Vec::new();
        let mut prev = None;
        'gaps: for &s in &self.seen {
            if let Some(p) = prev {
                for m in (p + 1)..s {
                    if lost_sequences.len() == LOST_LISTED {
                        break 'gaps;
                    }
                    lost_sequences.push(m);
                }
            }
            prev = Some(s);
        }
        let h = &self.latency_us;
        let secs = |us: u64| if readings > 0 { us as f64 / 1e6 } else { 0.0 };
        TrackedDevice {
            address: format!("{:#x}", self.address),
            readings,
            first_sequence: first,
            last_sequence: last,
            lost,
            lost_sequences,
            duplicates: self.duplicates,
            reverted: self.reverted,
            avg_latency_s: if readings > 0 { h.mean() / 1e6 } else { 0.0 },
            p50_latency_s: secs(h.value_at_quantile(0.5)),
            p95_latency_s: secs(h.value_at_quantile(0.95)),
            max_latency_s: secs(h.max()),
        }
    }
}

/// A tracked device's transaction found in a block, awaiting its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackedTx {
    /// Transaction hash.
    pub hash: B256,
    /// Index of the device's ledger.
    pub ledger: usize,
    /// Sequence number in its calldata.
    pub sequence: u64,
    /// Device timestamp in its calldata, ms since the Unix epoch.
    pub device_timestamp_ms: u64,
}

/// Transactions in `txs` (a block's full transaction bodies) from a
/// device with a ledger to `contract`, carrying `addMedicalRecord`.
pub(crate) fn find_tracked(
    txs: &[Value],
    ledgers: &[DeviceLedger],
    contract: Address,
) -> Vec<TrackedTx> {
    let addr = |t: &Value, k: &str| t[k].as_str().and_then(|a| a.parse::<Address>().ok());
    txs.iter()
        .filter(|t| addr(t, "to") == Some(contract))
        .filter_map(|t| {
            let from = addr(t, "from")?;
            let ledger = ledgers.iter().position(|l| l.address() == from)?;
            let input = t["input"].as_str()?;
            let bytes = hex::decode(input.trim_start_matches("0x")).ok()?;
            let (sequence, device_timestamp_ms) = decode(&bytes)?;
            Some(TrackedTx {
                hash: t["hash"].as_str()?.parse().ok()?,
                ledger,
                sequence,
                device_timestamp_ms,
            })
        })
        .collect()
}

/// Wall-clock now, ms since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(sequence: u64, ok: bool) -> Observation {
        Observation {
            sequence,
            device_timestamp_ms: 1_000_000 + sequence * 1000,
            observed_ms: 1_000_000 + sequence * 1000 + 2500,
            ok,
        }
    }

    #[test]
    fn a_broken_sequence_reports_gaps_duplicates_and_reverts() {
        let mut l = DeviceLedger::new(Address::repeat_byte(7));
        // 3..=10 with 5 and 8 missing, 6 twice, 9 once reverted then stored,
        // 11 only reverted (not a gap: nothing after it was stored).
        for (s, ok) in [
            (3, true),
            (4, true),
            (6, true),
            (6, true),
            (7, true),
            (9, false),
            (9, true),
            (10, true),
            (10, false),
            (11, false),
        ] {
            l.record(&obs(s, ok));
        }
        let t = l.summary();
        assert_eq!(t.readings, 6);
        assert_eq!((t.first_sequence, t.last_sequence), (3, 10));
        assert_eq!(t.lost, 2);
        assert_eq!(t.lost_sequences, [5, 8]);
        assert_eq!(
            t.duplicates, 2,
            "6 again, and 10 again (reverted by the contract)"
        );
        assert_eq!(t.reverted, 2, "9 the first time, and 11");
        assert!((t.p50_latency_s - 2.5).abs() < 0.01, "{t:?}");
        assert!((t.max_latency_s - 2.5).abs() < 0.01);
        assert_eq!(t.address, format!("{:#x}", Address::repeat_byte(7)));
    }

    #[test]
    fn an_unbroken_sequence_has_nothing_lost_and_clock_skew_is_not_negative() {
        let mut l = DeviceLedger::new(Address::ZERO);
        assert_eq!(l.summary().lost, 0);
        assert_eq!(l.summary().max_latency_s, 0.0);
        for s in 1..=50 {
            l.record(&obs(s, true));
        }
        l.record(&Observation {
            sequence: 51,
            device_timestamp_ms: 5_000,
            observed_ms: 4_000,
            ok: true,
        });
        let t = l.summary();
        assert_eq!((t.readings, t.lost, t.duplicates), (51, 0, 0));
        assert!(t.lost_sequences.is_empty());
        assert!(t.p50_latency_s >= 0.0);
    }

    #[test]
    fn long_gaps_list_at_most_twenty_numbers() {
        let mut l = DeviceLedger::new(Address::ZERO);
        l.record(&obs(1, true));
        l.record(&obs(1000, true));
        let t = l.summary();
        assert_eq!(t.lost, 998);
        assert_eq!(t.lost_sequences, (2..22).collect::<Vec<_>>());
    }

    #[test]
    fn add_medical_record_calldata_decodes_and_others_do_not() {
        let input = MedicalRecords::addMedicalRecordCall {
            patient: B256::repeat_byte(1),
            heartRate: 70,
            spo2: 98,
            systolic: 120,
            diastolic: 80,
            temperatureCentiC: 3650,
            deviceTimestamp: 1_763_000_000_123,
            sequence: 42,
        }
        .abi_encode();
        assert_eq!(decode(&input), Some((42, 1_763_000_000_123)));
        assert_eq!(decode(&input[..40]), None);
        let other = MedicalRecords::authorizeUserCall {
            user: Address::ZERO,
        }
        .abi_encode();
        assert_eq!(decode(&other), None);
    }
}
