//! `medchain accounts`: the prefunded test accounts with their keys.

use clap::Args;

use super::Global;
use crate::network::accounts;
use crate::outln;

/// Flags of `medchain accounts`.
#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints the accounts.
pub(crate) async fn execute(args: AccountsArgs, g: &Global) -> anyhow::Result<()> {
    let state = super::load(g)?;
    if args.json {
        let json = accounts::accounts_json(&state.plan);
        outln!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        outln!("{}", accounts::accounts_text(&state));
    }
    Ok(())
}
