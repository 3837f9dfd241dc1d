//! `medchain tx <hash>`: explain a transaction.

use alloy::primitives::B256;
use clap::Args;

use super::Global;
use crate::error::InputError;
use crate::{out, outln, txinfo};

/// Flags of `medchain tx`.
#[derive(Debug, Args)]
pub struct TxArgs {
    /// Transaction hash.
    pub hash: String,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Looks the transaction up on the network and prints what it did.
pub(crate) async fn execute(args: TxArgs, g: &Global) -> anyhow::Result<()> {
    let state = super::load(g)?;
    let h: B256 = args.hash.parse().map_err(|_| {
        InputError::new(format!(
            "{:?}: expected a 32-byte transaction hash (0x…)",
            args.hash
        ))
    })?;
    let info = txinfo::explain(&state.client_rpc()?, h).await?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&info)?);
    } else {
        out!("{}", txinfo::text(&info));
    }
    Ok(())
}
