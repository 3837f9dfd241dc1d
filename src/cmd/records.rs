//! `medchain records add|get`: store or read medical records.

use clap::{Args, Subcommand};

use super::Global;
use crate::error::InputError;
use crate::records::{self, PatientRef, Reading};
use crate::{out, outln};

/// Which patient a records command is about.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PatientArgs {
    /// The patient's SSN; hashed off-chain with the network's salt, never sent.
    #[arg(long)]
    pub ssn: Option<String>,
    /// The patient id (0x…, 32 bytes) instead of an SSN.
    #[arg(long)]
    pub patient: Option<String>,
}

impl TryFrom<&PatientArgs> for PatientRef {
    type Error = InputError;

    fn try_from(p: &PatientArgs) -> Result<PatientRef, InputError> {
        match (&p.ssn, &p.patient) {
            (Some(ssn), _) if !ssn.trim().is_empty() => Ok(PatientRef::Ssn(ssn.trim().to_string())),
            (_, Some(id)) => id.parse().map(PatientRef::Id).map_err(|_| {
                InputError::new(format!("--patient {id:?}: expected a 32-byte hex id (0x…)"))
            }),
            _ => Err(InputError::new("--ssn: must not be empty")),
        }
    }
}

/// The vital signs of `records add`.
#[derive(Debug, Args)]
pub struct ReadingArgs {
    /// Heart rate, beats per minute.
    #[arg(long)]
    pub heart_rate: u16,
    /// Oxygen saturation, percent.
    #[arg(long)]
    pub spo2: u16,
    /// Systolic blood pressure, mmHg.
    #[arg(long, default_value_t = 120)]
    pub systolic: u16,
    /// Diastolic blood pressure, mmHg.
    #[arg(long, default_value_t = 80)]
    pub diastolic: u16,
    /// Body temperature, °C.
    #[arg(long, default_value_t = 36.8)]
    pub temperature: f64,
}

impl TryFrom<&ReadingArgs> for Reading {
    type Error = InputError;

    /// The reading as stored: temperature in hundredths of a degree, which
    /// must fit the contract's 16-bit field.
    fn try_from(r: &ReadingArgs) -> Result<Reading, InputError> {
        if !(-327.0..=327.0).contains(&r.temperature) {
            return Err(InputError::new(format!(
                "--temperature {}: expected degrees Celsius, e.g. 36.8",
                r.temperature
            )));
        }
        Ok(Reading {
            heart_rate: r.heart_rate,
            spo2: r.spo2,
            systolic: r.systolic,
            diastolic: r.diastolic,
            temperature_centi_c: (r.temperature * 100.0).round() as i16,
        })
    }
}

/// `medchain records …`.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Store one reading (as a CLI device registered for the patient, or --key).
    Add {
        #[command(flatten)]
        patient: PatientArgs,
        #[command(flatten)]
        reading: ReadingArgs,
        /// Private key of a registered device to write as.
        #[arg(long)]
        key: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a page of a patient's records (as admin, or --key).
    Get {
        #[command(flatten)]
        patient: PatientArgs,
        /// First record to show.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Most records to show.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Private key of the reader (must be allowed to read).
        #[arg(long)]
        key: Option<String>,
    },
}

/// Runs `records add` or `records get`.
pub(crate) async fn execute(cmd: RecordsCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        RecordsCommand::Add {
            patient,
            reading,
            key,
            json,
        } => {
            let reading = Reading::try_from(&reading)?;
            let patient = PatientRef::try_from(&patient)?;
            let device = key.as_deref().map(records::parse_key).transpose()?;
            let (state, _lock) = super::load_to_change(g)?;
            let added = records::add(&state, &patient, reading, device).await?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&added)?);
            } else {
                outln!(
                    "record {} for patient {:#x} (sequence {}) in block {}, tx {:#x}, gas {}",
                    added.record_id,
                    added.patient,
                    added.sequence,
                    added.block,
                    added.tx,
                    added.gas_used
                );
            }
        }
        RecordsCommand::Get {
            patient,
            offset,
            limit,
            key,
        } => {
            let patient = PatientRef::try_from(&patient)?;
            let reader = key.as_deref().map(records::parse_key).transpose()?;
            let state = super::load(g)?;
            let (total, page) = records::get(&state, &patient, offset, limit, reader).await?;
            out!("{}", records::table(total, offset, &page));
        }
    }
    Ok(())
}
