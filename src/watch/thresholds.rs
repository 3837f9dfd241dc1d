//! The alarm thresholds `medchain watch` applies: a YAML file with network
//! defaults and per-patient overrides, validated like every input file
//! (one line naming the file and the field, exit 2).
//!
//! ```yaml
//! defaults:                       # every key optional; these are the built-in values
//!   heart_rate:  {low: 40, high: 130}   # /min
//!   spo2:        {low: 90}              # %
//!   systolic:    {high: 180}            # mmHg
//!   temperature: {high: 39.0}           # °C
//! patients:
//!   - ssn: "000-00-0001"                # or patient: 0x… (the on-chain id)
//!     heart_rate: {low: 35}             # replaces only the bound it names
//!     temperature: {high: off}          # `off` removes a bound
//! ```
//!
//! A reading crosses a bound when it is strictly below `low` or strictly
//! above `high`, as the contract's `abnormalReason` does (40 /min is
//! normal, 39 is not), so the defaults alarm on exactly what the contract
//! flags.

use std::collections::BTreeMap;

use alloy::primitives::B256;
use serde::Deserialize;

use crate::error::{from_yaml, InputError, Problems};

/// The vital signs a bound can apply to, in the order alarms list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vital {
    HeartRate,
    Spo2,
    Systolic,
    Diastolic,
    Temperature,
}

impl Vital {
    /// Every vital, in file order.
    pub const ALL: [Vital; 5] = [
        Vital::HeartRate,
        Vital::Spo2,
        Vital::Systolic,
        Vital::Diastolic,
        Vital::Temperature,
    ];

    /// The key in the thresholds file.
    pub fn key(self) -> &'static str {
        match self {
            Vital::HeartRate => "heart_rate",
            Vital::Spo2 => "spo2",
            Vital::Systolic => "systolic",
            Vital::Diastolic => "diastolic",
            Vital::Temperature => "temperature",
        }
    }

    /// The UCUM unit a value of this vital is given in.
    pub fn unit(self) -> &'static str {
        match self {
            Vital::HeartRate => "/min",
            Vital::Spo2 => "%",
            Vital::Systolic | Vital::Diastolic => "mm[Hg]",
            Vital::Temperature => "Cel",
        }
    }

    /// The values a bound may take: anything outside is a typo.
    fn plausible(self) -> (f64, f64) {
        match self {
            Vital::HeartRate => (0.0, 300.0),
            Vital::Spo2 => (0.0, 100.0),
            Vital::Systolic | Vital::Diastolic => (0.0, 300.0),
            Vital::Temperature => (25.0, 45.0),
        }
    }
}

/// The two bounds of one vital; `None` is no bound.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Bounds for every vital.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits(pub BTreeMap<Vital, Bounds>);

impl Limits {
    /// The built-in defaults (the contract's constants): heart rate < 40 or
    /// > 130 /min, SpO2 < 90 %, systolic > 180 mmHg, temperature > 39.0 °C.
    pub fn builtin() -> Limits {
        let b = |low, high| Bounds { low, high };
        Limits(BTreeMap::from([
            (Vital::HeartRate, b(Some(40.0), Some(130.0))),
            (Vital::Spo2, b(Some(90.0), None)),
            (Vital::Systolic, b(None, Some(180.0))),
            (Vital::Diastolic, b(None, None)),
            (Vital::Temperature, b(None, Some(39.0))),
        ]))
    }

    /// The bounds of `v` (none when the file gave none).
    pub fn of(&self, v: Vital) -> Bounds {
        self.0.get(&v).copied().unwrap_or_default()
    }
}

/// Who a per-patient override is for, before the network's salt is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientKey {
    Ssn(String),
    Id(B256),
}

/// A validated thresholds file.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub defaults: Limits,
    pub patients: Vec<(PatientKey, Limits)>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            defaults: Limits::builtin(),
            patients: Vec::new(),
        }
    }
}

/// A bound as written: a number, or `off`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawLimit {
    Number(f64),
    Word(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBounds {
    low: Option<RawLimit>,
    high: Option<RawLimit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    heart_rate: Option<RawBounds>,
    spo2: Option<RawBounds>,
    systolic: Option<RawBounds>,
    diastolic: Option<RawBounds>,
    temperature: Option<RawBounds>,
}

impl RawLimits {
    fn get(&self, v: Vital) -> Option<&RawBounds> {
        match v {
            Vital::HeartRate => self.heart_rate.as_ref(),
            Vital::Spo2 => self.spo2.as_ref(),
            Vital::Systolic => self.systolic.as_ref(),
            Vital::Diastolic => self.diastolic.as_ref(),
            Vital::Temperature => self.temperature.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatient {
    ssn: Option<String>,
    patient: Option<String>,
    heart_rate: Option<RawBounds>,
    spo2: Option<RawBounds>,
    systolic: Option<RawBounds>,
    diastolic: Option<RawBounds>,
    temperature: Option<RawBounds>,
}

impl RawPatient {
    fn limits(&self) -> RawLimits {
        RawLimits {
            heart_rate: self.heart_rate.clone(),
            spo2: self.spo2.clone(),
            systolic: self.systolic.clone(),
            diastolic: self.diastolic.clone(),
            temperature: self.temperature.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawLimits,
    #[serde(default)]
    patients: Vec<RawPatient>,
}

/// Parses and validates a thresholds file's text; `file` names it in
/// messages.
pub fn parse(text: &str, file: &str) -> Result<Thresholds, InputError> {
    let raw: RawFile = from_yaml(text, file, &[])?;
    let mut p = Problems::new(file);
    let defaults = merge(&Limits::builtin(), &raw.defaults, "defaults", &mut p);
    let mut patients = Vec::new();
    let mut seen = Vec::new();
    for (i, rp) in raw.patients.iter().enumerate() {
        let at = format!("patients[{i}]");
        let Some(key) = patient_key(rp, &at, &mut p) else {
            continue;
        };
        if seen.contains(&key) {
            p.add(&at, "this patient is listed twice; merge the two entries");
        }
        seen.push(key.clone());
        patients.push((key, merge(&defaults, &rp.limits(), &at, &mut p)));
    }
    p.finish(Thresholds { defaults, patients })
}

/// Reads and parses a thresholds file.
pub fn load(path: &std::path::Path) -> Result<Thresholds, InputError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::new(format!(
            "{}: cannot read the thresholds file ({e}); pass --thresholds FILE (see docs/alarms.md), or leave it out for the defaults",
            path.display()
        ))
    })?;
    parse(&text, &path.display().to_string())
}

/// Who a patient entry names: exactly one of `ssn` and `patient`.
fn patient_key(rp: &RawPatient, at: &str, p: &mut Problems) -> Option<PatientKey> {
    match (&rp.ssn, &rp.patient) {
        (Some(s), None) if !s.trim().is_empty() => Some(PatientKey::Ssn(s.trim().to_string())),
        (None, Some(id)) => match id.trim().parse::<B256>() {
            Ok(id) => Some(PatientKey::Id(id)),
            Err(_) => {
                p.add(
                    &format!("{at}.patient"),
                    format!("{id:?} is not a patient id; expected 32 bytes in hex (0x…), as `medchain records get` prints"),
                );
                None
            }
        },
        _ => {
            p.add(
                at,
                "expected exactly one of `ssn` and `patient` to name the patient",
            );
            None
        }
    }
}

/// `base` with the bounds `raw` names replaced, each checked.
fn merge(base: &Limits, raw: &RawLimits, at: &str, p: &mut Problems) -> Limits {
    let mut out = base.clone();
    for v in Vital::ALL {
        let Some(rb) = raw.get(v) else { continue };
        let field = format!("{at}.{}", v.key());
        let mut b = base.of(v);
        if let Some(l) = &rb.low {
            b.low = limit(v, l, &format!("{field}.low"), p);
        }
        if let Some(h) = &rb.high {
            b.high = limit(v, h, &format!("{field}.high"), p);
        }
        if let (Some(l), Some(h)) = (b.low, b.high) {
            if l >= h {
                p.add(
                    &field,
                    format!("low ({l}) must be below high ({h}); a reading alarms below low or above high"),
                );
            }
        }
        out.0.insert(v, b);
    }
    out
}

/// One bound: a number within the vital's plausible range, or `off`.
fn limit(v: Vital, l: &RawLimit, field: &str, p: &mut Problems) -> Option<f64> {
    let (lo, hi) = v.plausible();
    match l {
        RawLimit::Number(n) if n.is_finite() && *n >= lo && *n <= hi => Some(*n),
        RawLimit::Word(w) if w.trim() == "off" => None,
        other => {
            let shown = match other {
                RawLimit::Number(n) => n.to_string(),
                RawLimit::Word(w) => format!("{w:?}"),
            };
            p.add(
                field,
                format!(
                    "{shown} is not a bound; expected a number from {lo} to {hi} ({}) or `off`",
                    v.unit()
                ),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "t.yaml").unwrap_err().message
    }

    #[test]
    fn an_empty_file_gives_the_contracts_thresholds() {
        let t = parse("", "t.yaml").unwrap();
        assert_eq!(t, Thresholds::default());
        assert_eq!(t.defaults.of(Vital::HeartRate).low, Some(40.0));
        assert_eq!(t.defaults.of(Vital::Temperature).high, Some(39.0));
    }

    #[test]
    fn overrides_replace_only_the_bounds_they_name() {
        let t = parse(
            "defaults:\n  spo2: {low: 92}\npatients:\n  - ssn: '000-00-0001'\n    heart_rate: {low: 35}\n    temperature: {high: off}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(t.defaults.of(Vital::Spo2).low, Some(92.0));
        let (key, l) = &t.patients[0];
        assert_eq!(key, &PatientKey::Ssn("000-00-0001".into()));
        assert_eq!(l.of(Vital::HeartRate).low, Some(35.0));
        assert_eq!(l.of(Vital::HeartRate).high, Some(130.0));
        assert_eq!(
            l.of(Vital::Spo2).low,
            Some(92.0),
            "inherits the file's defaults"
        );
        assert_eq!(l.of(Vital::Temperature).high, None);
    }

    #[test]
    fn bad_files_name_the_field_and_the_fix() {
        let e = err("defaults:\n  heart_rte: {low: 30}\n");
        assert!(e.starts_with("t.yaml:2:"), "{e}");
        assert!(e.contains("heart_rate"), "{e}");
        let e = err("defaults:\n  spo2: {low: 120}\n");
        assert!(e.contains("t.yaml: defaults.spo2.low: 120"), "{e}");
        assert!(e.contains("from 0 to 100"), "{e}");
        let e = err("defaults:\n  heart_rate: {low: 140}\n");
        assert!(
            e.contains("defaults.heart_rate: low (140) must be below high (130)"),
            "{e}"
        );
        let e = err("patients:\n  - heart_rate: {low: 30}\n");
        assert!(
            e.contains("patients[0]: expected exactly one of `ssn` and `patient`"),
            "{e}"
        );
        let e = err("patients:\n  - patient: 0x12\n");
        assert!(e.contains("patients[0].patient"), "{e}");
        let e = err("defaults:\n  temperature: {high: never}\n");
        assert!(e.contains("defaults.temperature.high: \"never\""), "{e}");
        let e = err("patients:\n  - ssn: a\n  - ssn: a\n");
        assert!(
            e.contains("patients[1]: this patient is listed twice"),
            "{e}"
        );
    }
}
