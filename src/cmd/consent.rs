//! `medchain consent grant|revoke|share`: who may read a patient's
//! records on a private network, carried out by the keys (issue 14).

use alloy::primitives::Address;
use clap::{Args, Subcommand};

use super::records::{private_patient, PatientArgs};
use super::Global;
use crate::outln;
use crate::privacy::chain::PrivateNet;
use crate::privacy::consent;
use crate::records::{parse_key, PatientRef};

/// Flags every consent command takes.
#[derive(Debug, Args)]
pub struct ConsentArgs {
    #[command(flatten)]
    pub patient: PatientArgs,
    /// The doctor or hospital address.
    #[arg(long)]
    pub reader: String,
    /// The patient's wallet key (default: the wallet medchain holds for
    /// the patient, a simulation of the patient's own wallet).
    #[arg(long)]
    pub patient_key: Option<String>,
}

/// `medchain consent …`.
#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// The patient lets a doctor or hospital read, handing it every key version.
    Grant(ConsentArgs),
    /// The patient withdraws consent; later records use a new key.
    Revoke(ConsentArgs),
    /// The custodian hospital hands its keys to one of its doctors.
    Share(ConsentArgs),
}

/// Runs a consent command.
pub(crate) async fn execute(cmd: ConsentCommand, g: &Global) -> anyhow::Result<()> {
    let (verb, a) = match &cmd {
        ConsentCommand::Grant(a) => ("grant", a),
        ConsentCommand::Revoke(a) => ("revoke", a),
        ConsentCommand::Share(a) => ("share", a),
    };
    let reader: Address = super::authorize::parse_address(&a.reader)?;
    let patient_ref = PatientRef::try_from(&a.patient)?;
    let (state, _lock) = super::load_to_change(g)?;
    let net = PrivateNet::of(&state)?;
    let patient = private_patient(&net, &patient_ref)?;
    let wallet = match &a.patient_key {
        Some(k) => parse_key(k)?,
        None => net.patient_wallet(patient),
    };
    match verb {
        "grant" => {
            let tx = consent::grant(&net, patient, reader, &wallet).await?;
            outln!("consent granted to {reader:#x} for patient {patient:#x} (tx {tx:#x})");
        }
        "revoke" => {
            let (v, tx) = consent::revoke(&net, patient, reader, &wallet).await?;
            outln!("consent of {reader:#x} revoked for patient {patient:#x}; records from now on use key version {v} (tx {tx:#x})");
        }
        _ => {
            let hospital = custodian_key(&net, patient).await?;
            consent::share(&net, patient, reader, &hospital).await?;
            outln!("keys of patient {patient:#x} shared with {reader:#x}");
        }
    }
    Ok(())
}

/// The key of the patient's custodian hospital, when it is one of this
/// network's hospitals.
async fn custodian_key(
    net: &PrivateNet,
    patient: alloy::primitives::B256,
) -> anyhow::Result<alloy::signers::local::PrivateKeySigner> {
    let c = net.as_(&net.admin)?;
    let p = c
        .patients(patient)
        .call()
        .await
        .map_err(|e| crate::contract::reverted("patients", e))?;
    net.hospitals
        .iter()
        .find(|(_, k)| k.address() == p.custodian)
        .map(|(_, k)| k.clone())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "patient {patient:#x}'s custodian {:#x} is not a hospital of this network",
                p.custodian
            )
        })
}
