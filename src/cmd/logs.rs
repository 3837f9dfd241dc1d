//! `medchain logs <node> [-f]`: a node's geth log.

use clap::Args;

use super::Global;
use crate::network::logs;

/// Flags of `medchain logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Node name, e.g. guadalajara-sealer-0.
    pub node: String,
    /// Keep printing new lines until Ctrl-C.
    #[arg(short = 'f', long = "follow")]
    pub follow: bool,
}

/// Prints (and with `-f` follows) the node's log.
pub(crate) async fn execute(args: LogsArgs, g: &Global) -> anyhow::Result<()> {
    // `--follow` ends on Ctrl-C by itself, with exit 0.
    let _handled = args.follow.then(crate::interrupt::handled_here);
    logs::logs(&super::load(g)?, &args.node, args.follow).await
}
