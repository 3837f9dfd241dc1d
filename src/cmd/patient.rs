//! `medchain patient register`: a hospital takes a patient into custody on
//! a private network (issue 14).

use clap::{Args, Subcommand};

use super::Global;
use crate::privacy::chain::PrivateNet;
use crate::privacy::patients;
use crate::{error::InputError, outln};

/// `medchain patient …`.
#[derive(Debug, Subcommand)]
pub enum PatientCommand {
    /// Register a patient in a hospital's custody: a random salt of their
    /// own (kept by the hospital), the wallet's signature, a first data key.
    Register(RegisterArgs),
}

/// Flags of `patient register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The patient's SSN; kept in the hospital's custody register, never sent.
    #[arg(long)]
    pub ssn: String,
    /// The custodian hospital (default: the topology's first).
    #[arg(long)]
    pub hospital: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `patient register`.
pub(crate) async fn execute(cmd: PatientCommand, g: &Global) -> anyhow::Result<()> {
    let PatientCommand::Register(a) = cmd;
    let ssn = a.ssn.trim();
    if ssn.is_empty() {
        return Err(InputError::new("--ssn: must not be empty").into());
    }
    let (state, _lock) = super::load_to_change(g)?;
    let net = PrivateNet::of(&state)?;
    let hospital = match a.hospital {
        Some(h) => h,
        None => net.hospital_names().into_iter().next().unwrap_or_default(),
    };
    let r = patients::register(&net, &hospital, ssn).await?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        outln!(
            "patient {:#x} {} hospital {}'s custody; wallet {:#x}",
            r.patient,
            if r.new { "taken into" } else { "already in" },
            r.hospital,
            r.wallet
        );
    }
    Ok(())
}
