//! What `watch` tells its sinks: an alarm for a record whose reading
//! crosses a threshold, or the retraction of an earlier alarm whose record
//! left the chain in a reorganisation. Both are one JSON object, the same
//! for every sink (MQTT payload, webhook body, terminal line).

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use super::thresholds::{Limits, Vital};

/// One reading as the contract stores it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Beats per minute.
    pub heart_rate: u16,
    /// Oxygen saturation, percent.
    pub spo2: u16,
    /// mmHg.
    pub systolic: u16,
    /// mmHg.
    pub diastolic: u16,
    /// Degrees Celsius.
    pub temperature: f64,
    /// The device's clock when it measured (ms since the epoch for
    /// medchain's devices).
    pub device_timestamp: u64,
    /// The block's timestamp (s since the epoch).
    pub block_timestamp: u64,
}

impl Reading {
    /// The value of `v` in its unit.
    pub fn value(&self, v: Vital) -> f64 {
        match v {
            Vital::HeartRate => self.heart_rate.into(),
            Vital::Spo2 => self.spo2.into(),
            Vital::Systolic => self.systolic.into(),
            Vital::Diastolic => self.diastolic.into(),
            Vital::Temperature => self.temperature,
        }
    }
}

/// A bound a reading crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// `heart_rate`, `spo2`, `systolic`, `diastolic` or `temperature`.
    pub vital: String,
    pub value: f64,
    /// UCUM unit of `value` and `limit`.
    pub unit: String,
    /// `low` (the value is below it) or `high` (above it).
    pub bound: String,
    pub limit: f64,
}

/// Every bound of `limits` that `r` crosses: strictly below a low bound or
/// strictly above a high one.
pub fn crossings(limits: &Limits, r: &Reading) -> Vec<Crossing> {
    let mut out = Vec::new();
    for v in Vital::ALL {
        let b = limits.of(v);
        let value = r.value(v);
        let crossed = [
            ("low", b.low.filter(|l| value < *l)),
            ("high", b.high.filter(|h| value > *h)),
        ];
        for (bound, limit) in crossed {
            if let Some(limit) = limit {
                out.push(Crossing {
                    vital: v.key().into(),
                    value,
                    unit: v.unit().into(),
                    bound: bound.into(),
                    limit,
                });
            }
        }
    }
    out
}

/// Where a record is on chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The transaction that wrote the record.
    pub tx: B256,
    pub block: u64,
    pub block_hash: B256,
    /// The log's index in its block.
    pub log_index: u64,
}

/// An alarm or a retraction, as every sink receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `alarm` or `retraction`.
    pub kind: Kind,
    /// The record's idempotency key: `<tx hash>:<n>`, n the index of the
    /// record's `RecordAdded` among its transaction's (0 for a device's
    /// transaction), which a reorganisation that keeps the transaction
    /// does not change. A retraction carries its alarm's key.
    pub key: String,
    pub network: String,
    /// The device's hospital (from its provisioned config), or
    /// `unassigned` for a device medchain did not provision.
    pub hospital: String,
    /// The on-chain patient id.
    pub patient: B256,
    /// The patient's pseudonym in MQTT topics (see [`super::pseudonym`]).
    pub pseudonym: String,
    pub device: Address,
    /// Index of the record in the patient's list.
    pub record_id: u64,
    /// The device's sequence number of the reading.
    pub sequence: u64,
    pub reading: Reading,
    /// The bounds crossed (empty in no alarm).
    pub crossed: Vec<Crossing>,
    /// Private networks: the sealed reading's content identifier, so the
    /// doctor can fetch it with `records get` (absent on clear networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Private networks: the data key version the reading was sealed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_version: Option<u32>,
    pub origin: Origin,
    /// Why a retraction was sent (absent on an alarm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When `watch` decided to send this (RFC 3339, UTC, ms).
    pub decided_at: String,
}

/// Whether a notice raises or withdraws an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Alarm,
    Retraction,
}

impl Notice {
    /// The retraction of this alarm, for `reason`.
    pub fn retraction(&self, reason: String, decided_at: String) -> Notice {
        Notice {
            kind: Kind::Retraction,
            reason: Some(reason),
            decided_at,
            ..self.clone()
        }
    }

    /// The MQTT topic of this notice:
    /// `medchain/<network>/<hospital>/alarms/<pseudonym>`.
    pub fn topic(&self) -> String {
        format!(
            "medchain/{}/{}/alarms/{}",
            self.network, self.hospital, self.pseudonym
        )
    }

    /// A one-line summary for the terminal.
    pub fn line(&self) -> String {
        let what: Vec<String> = self
            .crossed
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} ({} {})",
                    c.vital, c.value, c.unit, c.bound, c.limit
                )
            })
            .collect();
        match self.kind {
            Kind::Alarm => format!(
                "ALARM {} patient {} ({}) record {} seq {}: {} [tx {} block {}]",
                self.hospital,
                self.patient,
                self.pseudonym,
                self.record_id,
                self.sequence,
                what.join(", "),
                self.origin.tx,
                self.origin.block
            ),
            Kind::Retraction => format!(
                "RETRACTED {} patient {} record {} seq {}: {} [tx {}]",
                self.hospital,
                self.patient,
                self.record_id,
                self.sequence,
                self.reason.as_deref().unwrap_or("record left the chain"),
                self.origin.tx
            ),
        }
    }
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::<chrono::Utc>::from_timestamp(now.as_secs() as i64, now.subsec_nanos())
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(hr: u16, spo2: u16, sys: u16, t: f64) -> Reading {
        Reading {
            heart_rate: hr,
            spo2,
            systolic: sys,
            diastolic: 80,
            temperature: t,
            device_timestamp: 0,
            block_timestamp: 0,
        }
    }

    fn vitals(c: &[Crossing]) -> Vec<String> {
        c.iter()
            .map(|c| format!("{}:{}", c.vital, c.bound))
            .collect()
    }

    #[test]
    fn the_defaults_alarm_exactly_where_the_contract_does() {
        let l = Limits::builtin();
        assert!(crossings(&l, &reading(40, 90, 180, 39.0)).is_empty());
        assert!(crossings(&l, &reading(130, 100, 120, 36.8)).is_empty());
        assert_eq!(
            vitals(&crossings(&l, &reading(39, 97, 120, 36.8))),
            ["heart_rate:low"]
        );
        assert_eq!(
            vitals(&crossings(&l, &reading(131, 97, 120, 36.8))),
            ["heart_rate:high"]
        );
        assert_eq!(
            vitals(&crossings(&l, &reading(80, 89, 181, 39.01))),
            ["spo2:low", "systolic:high", "temperature:high"]
        );
    }

    #[test]
    fn a_crossing_names_value_unit_and_limit() {
        let c = &crossings(&Limits::builtin(), &reading(150, 97, 120, 36.8))[0];
        assert_eq!((c.value, c.unit.as_str(), c.limit), (150.0, "/min", 130.0));
    }
}
