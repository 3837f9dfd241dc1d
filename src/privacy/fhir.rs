//! FHIR R4 resources for a device reading: one vital-signs Observation per
//! measurement, LOINC-coded with UCUM units as the R4 vital-signs profile
//! asks — heart rate (8867-4, /min), oxygen saturation (2708-6 and
//! 59408-5, %), the blood pressure panel (85354-9 with systolic 8480-6 and
//! diastolic 8462-4, mm[Hg]) and body temperature (8310-5, Cel) — each
//! with the patient (by pseudonymous id), the device and the time taken.
//!
//! Small serde structs for exactly what medchain emits: the Rust FHIR
//! crates are stale or need a newer compiler. Field order is fixed, so the
//! same reading always serialises to the same bytes (the firmware must
//! produce them too: the ciphertext and its CID depend on them).

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::records::Reading;

/// LOINC's code system.
const LOINC: &str = "http://loinc.org";
/// UCUM, the units' code system.
const UCUM: &str = "http://unitsofmeasure.org";
/// HL7's observation categories.
const CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// A code from a code system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
    pub display: String,
}

/// One or more codings of the same concept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
}

/// A reference to another resource (`Patient/<id>`, `Device/<id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub reference: String,
}

/// A measured amount with its UCUM unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    pub value: serde_json::Number,
    pub unit: String,
    pub system: String,
    pub code: String,
}

/// One part of a panel (systolic, diastolic).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub code: CodeableConcept,
    pub value_quantity: Quantity,
}

/// A vital-signs Observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Always `Observation`.
    pub resource_type: String,
    pub id: String,
    pub status: String,
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    pub subject: Reference,
    pub effective_date_time: String,
    pub device: Reference,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value_quantity: Option<Quantity>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub component: Vec<Component>,
}

/// How a Bundle entry was found (searchset only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub mode: String,
}

/// One entry of a Bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub full_url: String,
    pub resource: Observation,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub search: Option<Search>,
}

/// A Bundle: `collection` for one stored reading, `searchset` for what a
/// reader asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always `Bundle`.
    pub resource_type: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub total: Option<u64>,
    pub entry: Vec<Entry>,
}

/// Who and what a reading is about, and when it was taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// The patient's pseudonymous id (never an SSN).
    pub patient: B256,
    /// The device wallet that took the reading.
    pub device: Address,
    /// The device's sequence number for the reading.
    pub sequence: u64,
    /// When it was taken, milliseconds since the Unix epoch.
    pub taken_ms: u64,
}

fn coding(system: &str, code: &str, display: &str) -> Coding {
    Coding {
        system: system.into(),
        code: code.into(),
        display: display.into(),
    }
}

fn loinc(codes: &[(&str, &str)], text: &str) -> CodeableConcept {
    CodeableConcept {
        coding: codes.iter().map(|(c, d)| coding(LOINC, c, d)).collect(),
        text: Some(text.into()),
    }
}

fn quantity(value: serde_json::Number, unit: &str) -> Quantity {
    Quantity {
        value,
        unit: unit.into(),
        system: UCUM.into(),
        code: unit.into(),
    }
}

/// The time as FHIR's dateTime: UTC, millisecond precision.
pub fn date_time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One Observation of `ctx` with code `code`, its id suffixed `suffix`.
fn observation(ctx: &Context, suffix: &str, code: CodeableConcept) -> Observation {
    Observation {
        resource_type: "Observation".into(),
        // [A-Za-z0-9-.]{1,64}: 40 hex digits, the sequence, the suffix.
        id: format!("{}-{}-{suffix}", hex::encode(ctx.device), ctx.sequence),
        status: "final".into(),
        category: vec![CodeableConcept {
            coding: vec![coding(CATEGORY, "vital-signs", "Vital Signs")],
            text: None,
        }],
        code,
        subject: Reference {
            reference: format!("Patient/{}", hex::encode(ctx.patient)),
        },
        effective_date_time: date_time(ctx.taken_ms),
        device: Reference {
            reference: format!("Device/{}", hex::encode(ctx.device)),
        },
        value_quantity: None,
        component: Vec::new(),
    }
}

/// The four vital-signs Observations of one reading.
pub fn observations(r: &Reading, ctx: &Context) -> Vec<Observation> {
    let n = |v: u16| serde_json::Number::from(v);
    let mut hr = observation(ctx, "hr", loinc(&[("8867-4", "Heart rate")], "Heart rate"));
    hr.value_quantity = Some(quantity(n(r.heart_rate), "/min"));
    let spo2_codes = [
        ("2708-6", "Oxygen saturation in Arterial blood"),
        (
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
        ),
    ];
    let mut spo2 = observation(ctx, "spo2", loinc(&spo2_codes, "Oxygen saturation"));
    spo2.value_quantity = Some(quantity(n(r.spo2), "%"));
    let panel = loinc(&[("85354-9", "Blood pressure panel")], "Blood pressure");
    let mut bp = observation(ctx, "bp", panel);
    bp.component = vec![
        Component {
            code: loinc(&[("8480-6", "Systolic blood pressure")], "Systolic"),
            value_quantity: quantity(n(r.systolic), "mm[Hg]"),
        },
        Component {
            code: loinc(&[("8462-4", "Diastolic blood pressure")], "Diastolic"),
            value_quantity: quantity(n(r.diastolic), "mm[Hg]"),
        },
    ];
    let body = loinc(&[("8310-5", "Body temperature")], "Body temperature");
    let mut temp = observation(ctx, "temp", body);
    let celsius = serde_json::Number::from_f64(f64::from(r.temperature_centi_c) / 100.0)
        .expect("a finite temperature");
    temp.value_quantity = Some(quantity(celsius, "Cel"));
    vec![hr, spo2, bp, temp]
}

/// A Bundle of `kind` over `observations` (searchset entries are marked
/// as matches, with the total).
pub fn bundle(kind: &str, observations: Vec<Observation>) -> Bundle {
    let search = kind == "searchset";
    Bundle {
        resource_type: "Bundle".into(),
        kind: kind.into(),
        total: search.then_some(observations.len() as u64),
        entry: observations
            .into_iter()
            .map(|o| Entry {
                full_url: format!("urn:medchain:observation:{}", o.id),
                resource: o,
                search: search.then(|| Search {
                    mode: "match".into(),
                }),
            })
            .collect(),
    }
}

/// The document stored for one reading: a `collection` Bundle of its
/// Observations, serialised compactly (the bytes that are encrypted).
pub fn reading_document(r: &Reading, ctx: &Context) -> Vec<u8> {
    serde_json::to_vec(&bundle("collection", observations(r, ctx))).expect("serialisable")
}

/// The Observations in a stored reading document.
pub fn parse_reading_document(bytes: &[u8]) -> anyhow::Result<Vec<Observation>> {
    let b: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::anyhow!("a stored reading is not a FHIR Bundle: {e}"))?;
    if b.resource_type != "Bundle" {
        anyhow::bail!("a stored reading is a {}, not a Bundle", b.resource_type);
    }
    Ok(b.entry.into_iter().map(|e| e.resource).collect())
}

/// The value coded `code` in `obs`: an Observation's own value, or a
/// panel component's.
fn coded_value(obs: &[Observation], code: &str) -> Option<f64> {
    let coded = |c: &CodeableConcept| c.coding.iter().any(|k| k.code == code);
    obs.iter().find_map(|o| {
        let q = match &o.value_quantity {
            Some(q) if coded(&o.code) => Some(q),
            _ => o
                .component
                .iter()
                .find(|c| coded(&c.code))
                .map(|c| &c.value_quantity),
        };
        q.and_then(|q| q.value.as_f64())
    })
}

/// The reading a stored document's Observations hold: the inverse of
/// [`observations`], so `watch` can apply thresholds to a sealed reading
/// once opened. Every one of the five values must be there, in range.
pub fn reading_of(obs: &[Observation]) -> anyhow::Result<Reading> {
    let get = |code: &str, what: &str| {
        coded_value(obs, code)
            .ok_or_else(|| anyhow::anyhow!("the reading has no {what} (LOINC {code})"))
    };
    let whole = |code: &str, what: &str| -> anyhow::Result<u16> {
        let v = get(code, what)?;
        if v.fract() != 0.0 || !(0.0..=f64::from(u16::MAX)).contains(&v) {
            anyhow::bail!("the reading's {what} {v} is not a whole number from 0 to 65535");
        }
        Ok(v as u16)
    };
    let t = get("8310-5", "body temperature")?;
    if !(-327.0..=327.0).contains(&t) {
        anyhow::bail!("the reading's body temperature {t} is out of range");
    }
    Ok(Reading {
        heart_rate: whole("8867-4", "heart rate")?,
        spo2: whole("2708-6", "oxygen saturation")?,
        systolic: whole("8480-6", "systolic pressure")?,
        diastolic: whole("8462-4", "diastolic pressure")?,
        temperature_centi_c: (t * 100.0).round() as i16,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading() -> Reading {
        Reading {
            heart_rate: 72,
            spo2: 97,
            systolic: 121,
            diastolic: 79,
            temperature_centi_c: 3665,
        }
    }

    fn ctx() -> Context {
        Context {
            patient: B256::repeat_byte(0x11),
            device: Address::repeat_byte(0x22),
            sequence: 7,
            taken_ms: 1_765_000_000_123,
        }
    }

    #[test]
    fn a_reading_becomes_four_loinc_coded_observations_with_ucum_units() {
        let obs = observations(&reading(), &ctx());
        let codes: Vec<Vec<&str>> = obs
            .iter()
            .map(|o| o.code.coding.iter().map(|c| c.code.as_str()).collect())
            .collect();
        assert_eq!(
            codes,
            [
                vec!["8867-4"],
                vec!["2708-6", "59408-5"],
                vec!["85354-9"],
                vec!["8310-5"]
            ]
        );
        let v = serde_json::to_value(&obs).unwrap();
        assert_eq!(v[0]["valueQuantity"]["value"], 72);
        assert_eq!(v[0]["valueQuantity"]["code"], "/min");
        assert_eq!(v[1]["valueQuantity"]["code"], "%");
        assert_eq!(v[2]["component"][0]["code"]["coding"][0]["code"], "8480-6");
        assert_eq!(v[2]["component"][0]["valueQuantity"]["value"], 121);
        assert_eq!(v[2]["component"][1]["valueQuantity"]["code"], "mm[Hg]");
        assert!(v[2].get("valueQuantity").is_none());
        assert_eq!(v[3]["valueQuantity"]["value"], 36.65);
        assert_eq!(v[3]["valueQuantity"]["code"], "Cel");
        assert_eq!(v[0]["effectiveDateTime"], "2025-12-06T05:46:40.123Z");
        assert_eq!(
            v[0]["subject"]["reference"],
            format!("Patient/{}", "11".repeat(32))
        );
        assert_eq!(
            v[0]["device"]["reference"],
            format!("Device/{}", "22".repeat(20))
        );
        assert!(obs.iter().all(|o| o.id.len() <= 64));
    }

    #[test]
    fn a_document_is_deterministic_and_parses_back() {
        let a = reading_document(&reading(), &ctx());
        assert_eq!(a, reading_document(&reading(), &ctx()));
        assert_eq!(
            parse_reading_document(&a).unwrap(),
            observations(&reading(), &ctx())
        );
        let s = bundle("searchset", observations(&reading(), &ctx()));
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["total"].as_u64()),
            (Some("searchset"), Some(4))
        );
        assert_eq!(v["entry"][0]["search"]["mode"], "match");
        assert!(parse_reading_document(b"{\"resourceType\":\"Patient\"}").is_err());
    }

    #[test]
    fn the_values_read_back_from_the_observations() {
        let r = reading_of(&observations(&reading(), &ctx())).unwrap();
        assert_eq!(
            (r.heart_rate, r.spo2, r.systolic, r.diastolic),
            (72, 97, 121, 79)
        );
        assert_eq!(r.temperature_centi_c, 3665);
        let mut partial = observations(&reading(), &ctx());
        partial.remove(0);
        let e = reading_of(&partial).unwrap_err().to_string();
        assert!(e.contains("heart rate"), "{e}");
    }
}
