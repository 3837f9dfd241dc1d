//! `medchain records add|get`: store or read medical records.

use clap::{Args, Subcommand};

use super::Global;
use crate::error::InputError;
use crate::privacy::chain::PrivateNet;
use crate::privacy::{content_id, custody, readings, store::BlobStore, view};
use crate::records::{self, PatientRef, Reading};
use crate::{out, outln};
use alloy::primitives::B256;

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
        /// Private key of the reader (must be allowed to read; default:
        /// the admin on a clear network, the custodian hospital on a
        /// private one).
        #[arg(long)]
        key: Option<String>,
        /// Private networks: print a FHIR R4 searchset Bundle of the
        /// readings the reader can open.
        #[arg(long, conflicts_with = "json")]
        fhir: bool,
        /// Private networks: list each record with its CID as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the stored (sealed) bytes of a CID, hex-encoded (private networks).
    Raw {
        /// The content identifier (bafkrei…).
        cid: String,
    },
}

/// The patient id on a private network: `--patient` as given, or the id
/// the custodian hospital's register holds for `--ssn`.
pub(crate) fn private_patient(net: &PrivateNet, p: &PatientRef) -> anyhow::Result<B256> {
    match p {
        PatientRef::Id(id) => Ok(*id),
        PatientRef::Ssn(ssn) => match custody::find(&net.dir, &net.hospital_names(), ssn)? {
            Some((_, e)) => Ok(e.patient),
            None => Err(InputError::new(format!(
                "--ssn: no hospital of network {} holds this patient; register them with `medchain patient register --ssn … --hospital …`",
                net.network
            ))
            .into()),
        },
    }
}

fn is_private(state: &crate::state::State) -> bool {
    state.plan.topology.privacy == crate::topology::Privacy::Private
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
            if is_private(&state) {
                return add_private(&state, &patient, reading, device, json).await;
            }
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
            fhir,
            json,
        } => {
            let patient = PatientRef::try_from(&patient)?;
            let reader = key.as_deref().map(records::parse_key).transpose()?;
            let state = super::load(g)?;
            if is_private(&state) {
                let view = View {
                    offset,
                    limit,
                    fhir,
                    json,
                };
                return get_private(&state, &patient, reader, view).await;
            }
            let (total, page) = records::get(&state, &patient, offset, limit, reader).await?;
            outln!("{}", crate::privacy::notice(state.plan.topology.privacy));
            out!("{}", records::table(total, offset, &page));
        }
        RecordsCommand::Raw { cid } => {
            let cid = content_id::parse(&cid).map_err(|e| InputError::new(format!("{e:#}")))?;
            let state = super::load(g)?;
            let bytes = PrivateNet::of(&state)?.store()?.get(&cid).await?;
            outln!("{}", hex::encode(bytes));
        }
    }
    Ok(())
}

/// `records add` on a private network: seal, store, record the CID.
async fn add_private(
    state: &crate::state::State,
    patient: &PatientRef,
    reading: Reading,
    device: Option<alloy::signers::local::PrivateKeySigner>,
    json: bool,
) -> anyhow::Result<()> {
    let net = PrivateNet::of(state)?;
    let id = private_patient(&net, patient)?;
    let device = match device {
        Some(d) => d,
        None => cli_device(&net, id).await?,
    };
    let w = readings::add(&net, id, reading, &device).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&w)?);
    } else {
        outln!(
            "record {} for patient {:#x} (sequence {}, key version {}) sealed as {} in block {}, tx {:#x}, gas {}",
            w.record_id, w.patient, w.sequence, w.key_version, w.cid, w.block, w.tx, w.gas_used
        );
    }
    Ok(())
}

/// The CLI device of `patient`: derived from the network's key source,
/// registered by the patient's custodian hospital and funded on first use.
async fn cli_device(
    net: &PrivateNet,
    patient: B256,
) -> anyhow::Result<alloy::signers::local::PrivateKeySigner> {
    let d = net
        .key_source
        .derive(&format!("cli-device/{patient:x}"))
        .signer();
    let c = net.as_(&net.admin)?;
    let p = c
        .patients(patient)
        .call()
        .await
        .map_err(|e| crate::contract::reverted("patients", e))?;
    let hospital = net
        .hospitals
        .iter()
        .find(|(_, k)| k.address() == p.custodian)
        .map(|(_, k)| k.clone())
        .ok_or_else(|| InputError::new(format!("patient {patient:#x} is not registered with a hospital of network {}; run `medchain patient register`", net.network)))?;
    crate::privacy::patients::register_device(net, &hospital, d.address(), patient).await?;
    Ok(d)
}

/// How `records get` shows a private page.
struct View {
    offset: u64,
    limit: u64,
    fhir: bool,
    json: bool,
}

/// `records get` on a private network: open what the reader holds keys for.
async fn get_private(
    state: &crate::state::State,
    patient: &PatientRef,
    reader: Option<alloy::signers::local::PrivateKeySigner>,
    v: View,
) -> anyhow::Result<()> {
    let net = PrivateNet::of(state)?;
    let id = private_patient(&net, patient)?;
    let reader = match reader {
        Some(r) => r,
        None => custody::find(&net.dir, &net.hospital_names(), &ssn_or_empty(patient))?
            .and_then(|(h, _)| net.hospital(&h).ok().cloned())
            .unwrap_or_else(|| net.admin.clone()),
    };
    let (total, page) = readings::read(&net, id, v.offset, v.limit, &reader).await?;
    if !page.is_empty() && page.iter().all(|r| r.observations.is_none()) {
        anyhow::bail!(
            "{:#x} cannot read patient {id:#x}'s records: {}",
            reader.address(),
            page[0].unreadable.clone().unwrap_or_default()
        );
    }
    if v.fhir {
        outln!(
            "{}",
            serde_json::to_string_pretty(&readings::searchset(&page))?
        );
    } else if v.json {
        outln!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        out!("{}", view::table(total, v.offset, &page));
    }
    Ok(())
}

fn ssn_or_empty(p: &PatientRef) -> String {
    match p {
        PatientRef::Ssn(s) => s.clone(),
        PatientRef::Id(_) => String::new(),
    }
}
