//! `medchain down`: stop the network, keeping or purging its data.

use clap::Args;

use super::Global;
use crate::network::down;
use crate::outln;

/// Flags of `medchain down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also delete the network's datadirs, keys and logs.
    #[arg(long)]
    pub purge: bool,
}

/// Stops every node and says what was kept.
pub(crate) async fn execute(args: DownArgs, g: &Global) -> anyhow::Result<()> {
    let (state, _lock) = super::load_to_change(g)?;
    let name = state.plan.topology.network.clone();
    let n = down::down(state, args.purge).await?;
    outln!(
        "network {name}: stopped {n} node(s){}",
        if args.purge {
            ", data purged"
        } else {
            "; data kept (`medchain up` resumes)"
        }
    );
    Ok(())
}
