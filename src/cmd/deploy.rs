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
    /// The network's records contract: PrivateRecords, or MedicalRecords
    /// on a `privacy: clear` network.
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
    /// The contracts to deploy on a network whose records layout is
    /// `privacy`.
    pub fn contracts(&self, privacy: crate::topology::Privacy) -> Vec<Which> {
        let records = Which::records(privacy);
        match self.contract {
            Some(ContractArg::Medical) => vec![records],
            Some(ContractArg::Simple) => vec![Which::Simple],
            None => vec![records, Which::Simple],
        }
    }
}

/// Deploys and prints every recorded contract address.
pub(crate) async fn execute(args: DeployArgs, g: &Global) -> anyhow::Result<()> {
    let _handled = interrupt::handled_here();
    let (mut state, _lock) = super::load_to_change(g)?;
    let privacy = state.plan.topology.privacy;
    // Ctrl-C ends it at once; the state records only completed deployments.
    interrupt::cancellable(deploy::deploy(&mut state, &args.contracts(privacy))).await?;
    for (k, a) in &state.contracts {
        outln!("{k}: {a:#x}");
    }
    Ok(())
}
