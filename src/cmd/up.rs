//! `medchain up`: start the network described by the topology file.

use std::path::PathBuf;

use clap::Args;

use super::Global;
use crate::network::lifecycle::DEFAULT_FILE;
use crate::network::up::{self, UpOptions, UpOutcome};
use crate::outln;
use crate::runtime::Kind;

/// Flags of `medchain up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Topology file.
    #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Runtime for the nodes (default: docker when an engine answers, else process).
    #[arg(long, env = "MEDCHAIN_RUNTIME", value_parser = super::runtime_arg())]
    pub runtime: Option<Kind>,
    /// Print the full plan (nodes, ports, geth arguments, peering) and start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Deterministic TEST keys from this seed, for reproducible experiments
    /// (anyone with the seed can recompute every key: never for patient
    /// data). Default: keys from the OS random generator.
    #[arg(long)]
    pub seed: Option<u64>,
    /// geth binary to use instead of the pinned, provisioned one.
    #[arg(long)]
    pub geth: Option<PathBuf>,
    /// Do not deploy the contracts.
    #[arg(long)]
    pub no_deploy: bool,
    /// Print nothing but the final summary.
    #[arg(short, long)]
    pub quiet: bool,
}

impl UpArgs {
    /// The library's options for these flags.
    pub(crate) fn into_options(self, g: &Global) -> UpOptions {
        UpOptions {
            file: self.file,
            home: g.home.clone(),
            dry_run: self.dry_run,
            seed: self.seed,
            geth: self.geth,
            quiet: self.quiet,
            no_deploy: self.no_deploy,
            runtime: self.runtime,
        }
    }
}

/// Brings the network up and prints the plan (dry run) or the summary.
pub(crate) async fn execute(args: UpArgs, g: &Global) -> anyhow::Result<()> {
    match up::up(&args.into_options(g)).await? {
        UpOutcome::Planned(plan) => outln!("{plan}"),
        UpOutcome::Running {
            state,
            elapsed,
            converged,
            height,
            already,
            ..
        } => outln!(
            "{}",
            up::summary(&state, elapsed, converged, height, already)
        ),
    }
    Ok(())
}
