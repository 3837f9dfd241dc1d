//! `medchain authorize <address>`: grant or revoke global read access.

use alloy::primitives::Address;
use clap::Args;

use super::Global;
use crate::error::InputError;
use crate::outln;
use crate::records;

/// Flags of `medchain authorize`.
#[derive(Debug, Args)]
pub struct AuthorizeArgs {
    /// Address to authorize.
    pub address: String,
    /// Revoke instead of grant.
    #[arg(long)]
    pub revoke: bool,
}

/// Parses `address` (20 bytes, hex).
pub(crate) fn parse_address(address: &str) -> Result<Address, InputError> {
    address
        .parse()
        .map_err(|_| InputError::new(format!("{address:?}: expected a 20-byte hex address (0x…)")))
}

/// Sends the grant (or revocation) as admin and prints its transaction.
pub(crate) async fn execute(args: AuthorizeArgs, g: &Global) -> anyhow::Result<()> {
    let user = parse_address(&args.address)?;
    let (state, _lock) = super::load_to_change(g)?;
    let tx = records::authorize(&state, user, args.revoke).await?;
    outln!(
        "{} {user:#x} (tx {tx:#x})",
        if args.revoke { "revoked" } else { "authorized" }
    );
    Ok(())
}
