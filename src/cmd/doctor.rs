//! `medchain doctor add`: a hospital registers one of its doctors on a
//! private network, and the doctor's public key is published so patients
//! can hand it keys.

use clap::{Args, Subcommand};

use super::Global;
use crate::outln;
use crate::privacy::chain::PrivateNet;
use crate::privacy::patients;
use crate::records::parse_key;

/// Flags of `medchain doctor add`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The doctor's hospital.
    #[arg(long)]
    pub hospital: String,
    /// The doctor's wallet key (it signs the publication of its public key).
    #[arg(long)]
    pub key: String,
}

/// `medchain doctor …`.
#[derive(Debug, Subcommand)]
pub enum DoctorCommand {
    /// Register a doctor of a hospital and publish the doctor's public key.
    Add(DoctorArgs),
}

/// Runs `doctor add`.
pub(crate) async fn execute(cmd: DoctorCommand, g: &Global) -> anyhow::Result<()> {
    let DoctorCommand::Add(a) = cmd;
    let doctor = parse_key(&a.key)?;
    let (state, _lock) = super::load_to_change(g)?;
    let net = PrivateNet::of(&state)?;
    patients::add_doctor(&net, &a.hospital, &doctor).await?;
    outln!(
        "doctor {:#x} of hospital {}; public key published",
        doctor.address(),
        a.hospital
    );
    Ok(())
}
