//! `medchain down`: stop the network, keeping or purging its data.

use std::path::Path;

use clap::Args;

use super::Global;
use crate::network::lifecycle::DEFAULT_FILE;
use crate::network::lock::NetworkLock;
use crate::network::{down, orphans};
use crate::outln;
use crate::state::State;

/// Flags of `medchain down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also delete the network's datadirs, keys and logs.
    #[arg(long)]
    pub purge: bool,
}

/// Stops every node and says what was kept. A network whose state file
/// is missing or corrupt is stopped from what its directory and labels
/// show (see [`down::down_without_state`]).
pub(crate) async fn execute(args: DownArgs, g: &Global) -> anyhow::Result<()> {
    let file = Path::new(DEFAULT_FILE);
    let name = orphans::select_for_down(&g.home, g.network.as_deref(), file)?;
    if !g.home.join(&name).is_dir() {
        // Not a network here: the state's own input error says so.
        State::load(&g.home, &name)?;
    }
    let _lock = NetworkLock::acquire(&g.home, &name)?;
    let (n, kept) = match State::load(&g.home, &name) {
        Ok(state) => (
            down::down(state, args.purge).await?,
            "; data kept (`medchain up` resumes)",
        ),
        Err(e) => {
            eprintln!("warning: {e}");
            eprintln!(
                "  stopping network {name}'s nodes found by their datadir and container labels"
            );
            let n = down::down_without_state(&g.home, &name, args.purge, file).await?;
            (n, "; data kept, but without a state file `up` cannot resume it: `medchain down --purge` removes it")
        }
    };
    outln!(
        "network {name}: stopped {n} node(s){}",
        if args.purge { ", data purged" } else { kept }
    );
    Ok(())
}
