//! `medchain status`: every node's live status, as a table or JSON.

use clap::Args;

use super::Global;
use crate::network::status;
use crate::{out, outln};

/// Flags of `medchain status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Queries every node and prints the result.
pub(crate) async fn execute(args: StatusArgs, g: &Global) -> anyhow::Result<()> {
    let state = super::load(g)?;
    let s = status::status(&state).await;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        out!("{}", status::table(&s));
    }
    Ok(())
}
