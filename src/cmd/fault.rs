//! `medchain fault`: do one fault by hand on a running network — what a
//! scenario's `faults:` does on a round's timeline (docs/reliability.md).

use clap::Args;

use super::Global;
use crate::error::InputError;
use crate::fault::{action, apply, select, Fault};
use crate::interrupt;
use crate::outln;

/// Flags of `medchain fault`.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// kill, stop, resume, restart, pause, unpause, partition or heal.
    pub action: String,
    /// The node to act on (e.g. guadalajara-sealer-1); or use --hospital.
    pub node: Option<String>,
    /// Every node of this hospital (repeat for several). With partition:
    /// these hospitals on one side, the rest on the other.
    #[arg(long = "hospital", value_name = "NAME")]
    pub hospitals: Vec<String>,
}

/// Checks the fault, then does it under the network's lock and says what
/// was done.
pub(crate) async fn execute(args: FaultArgs, g: &Global) -> anyhow::Result<()> {
    let _handled = interrupt::handled_here();
    let (action, who) =
        action::check_target(&args.action, args.node, args.hospitals).map_err(|(field, msg)| {
            let field = match field {
                "target" => "NODE",
                "hospital" => "--hospital",
                _ => "ACTION",
            };
            InputError::new(format!("medchain fault: {field}: {msg}"))
        })?;
    let (mut state, _lock) = super::load_to_change(g)?;
    let fault = Fault {
        at_s: 0.0,
        action,
        who,
    };
    select::check(&state.plan, &fault)
        .map_err(|e| InputError::new(format!("medchain fault: {e}")))?;
    let rt = state.connect_runtime().await?;
    let done = interrupt::cancellable(apply::apply(&rt, &mut state, &fault)).await?;
    outln!(
        "{}: {} ({:.1} s)",
        fault.action,
        done.detail,
        done.took.as_secs_f64()
    );
    Ok(())
}
