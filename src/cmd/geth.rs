//! `medchain geth install`: find or build the pinned geth releases.

use clap::Subcommand;

use crate::geth::{self, GethVersion};
use crate::outln;

/// `medchain geth …`.
#[derive(Debug, Subcommand)]
pub enum GethCommand {
    /// Find or build the pinned geth releases into ~/.cache/medchain/geth.
    Install {
        /// Only this release (1.13.15 for clique, 1.11.6 for ethash); default both.
        #[arg(long)]
        version: Option<String>,
    },
}

/// The releases `--version` selects (default: every pinned one).
pub(crate) fn versions(version: Option<&str>) -> anyhow::Result<Vec<GethVersion>> {
    Ok(match version {
        Some(v) => vec![GethVersion::parse(v)?],
        None => GethVersion::ALL.to_vec(),
    })
}

/// Provisions each release and prints where it is and how it was found.
pub(crate) async fn execute(cmd: GethCommand) -> anyhow::Result<()> {
    let GethCommand::Install { version } = cmd;
    for v in versions(version.as_deref())? {
        let (path, source) = geth::resolve(v, None, &|m| eprintln!("{m}"))?;
        outln!("geth {v}: {} ({source:?})", path.display());
    }
    Ok(())
}
