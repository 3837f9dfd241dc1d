//! `medchain toxiproxy install`: find or build the pinned toxiproxy that
//! the `delay` and `bandwidth` faults shape peer links with.

use clap::Subcommand;

use crate::outln;
use crate::toxiproxy::install;

/// `medchain toxiproxy …`.
#[derive(Debug, Subcommand)]
pub enum ToxiproxyCommand {
    /// Find or build the pinned toxiproxy-server into
    /// ~/.cache/medchain/toxiproxy (Go, from the Go module proxy).
    Install,
}

/// Provisions the pinned release and prints where it is and how it was
/// found.
pub(crate) async fn execute(cmd: ToxiproxyCommand) -> anyhow::Result<()> {
    let ToxiproxyCommand::Install = cmd;
    let (path, source) = install::resolve(&|m| eprintln!("{m}"))?;
    outln!(
        "toxiproxy v{}: {} ({source:?})",
        install::VERSION,
        path.display()
    );
    Ok(())
}
