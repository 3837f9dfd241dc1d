//! `medchain deploy`: (re)deploy the contracts onto the running network.

use clap::{Args, ValueEnum};

use super::Global;
use crate::contract::Which;
use crate::interrupt;
use crate::network::deploy;
use crate::outln;

/// Which contract `--contract` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ContractArg {
    /// MedicalRecords.
    Medical,
    /// Caliper's Simple.
    Simple,
}

/// Flags of `medchain deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Only this contract (default: both).
    #[arg(long, value_enum)]
    pub contract: Option<ContractArg>,
}

impl DeployArgs {
    /// The contracts to deploy.
    pub fn contracts(&self) -> Vec<Which> {
        match self.contract {
            Some(ContractArg::Medical) => vec![Which::Medical],
            Some(ContractArg::Simple) => vec![Which::Simple],
            None => vec![Which::Medical, Which::Simple],
        }
    }
}

/// Deploys and prints every recorded contract address.
pub(crate) async fn execute(args: DeployArgs, g: &Global) -> anyhow::Result<()> {
    let _handled = interrupt::handled_here();
    let (mut state, _lock) = super::load_to_change(g)?;
    // Ctrl-C ends it at once; the state records only completed deployments.
    interrupt::cancellable(deploy::deploy(&mut state, &args.contracts())).await?;
    for (k, a) in &state.contracts {
        outln!("{k}: {a:#x}");
    }
    Ok(())
}
