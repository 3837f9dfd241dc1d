//! `medchain compose`: export the network as a docker-compose file.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Global;
use crate::network::compose;
use crate::network::files::{self, load_topology};
use crate::network::lifecycle::DEFAULT_FILE;
use crate::network::lock::NetworkLock;
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
    /// Deterministic TEST keys from this seed (default: the file's seed, else the running network's keys, else OS-random keys).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Writes the export and says how to run it.
pub(crate) async fn execute(args: ComposeArgs, g: &Global) -> anyhow::Result<()> {
    let _lock = lock_if_in_home(&args, g)?;
    let dir = compose::export(&g.home, &args.file, &args.out, args.seed).await?;
    files::ignore_in_git(&dir)?;
    let file = dir.join("docker-compose.yml");
    outln!(
        "wrote {}; run it with `docker compose -f {} up -d`",
        file.display(),
        file.display()
    );
    Ok(())
}

/// An export under `--out` goes to `<out>/<network>`: when `--out` is the
/// home, that is the network's own directory, changed under its lock.
fn lock_if_in_home(args: &ComposeArgs, g: &Global) -> anyhow::Result<Option<NetworkLock>> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    };
    if !same(&args.out, &g.home) {
        return Ok(None);
    }
    let network = load_topology(&args.file)?.network;
    Ok(Some(NetworkLock::acquire(&g.home, &network)?))
}
