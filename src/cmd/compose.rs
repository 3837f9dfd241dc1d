//! `medchain compose`: export the network as a docker-compose file.

use std::path::PathBuf;

use clap::Args;

use super::Global;
use crate::network::compose;
use crate::network::lifecycle::DEFAULT_FILE;
use crate::outln;

/// Flags of `medchain compose`.
#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Topology file.
    #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Directory the export goes under.
    #[arg(long, default_value = "compose")]
    pub out: PathBuf,
    /// Seed for deterministic keys (default: the file's, else the running network's, else random).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Writes the export and says how to run it.
pub(crate) async fn execute(args: ComposeArgs, g: &Global) -> anyhow::Result<()> {
    let dir = compose::export(&g.home, &args.file, &args.out, args.seed).await?;
    let file = dir.join("docker-compose.yml");
    outln!(
        "wrote {}; run it with `docker compose -f {} up -d`",
        file.display(),
        file.display()
    );
    Ok(())
}
