//! `medchain fault`: do one fault by hand on a running network — what a
//! scenario's `faults:` does on a round's timeline (docs/reliability.md).

use clap::Args;

use super::Global;
use crate::error::InputError;
use crate::fault::{action, apply, links, select, Fault, LinkSettings};
use crate::interrupt;
use crate::outln;
use crate::runtime::Runtime;

/// Flags of `medchain fault`.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// kill, stop, resume, restart, pause, unpause, partition, heal, delay
    /// or bandwidth.
    pub action: String,
    /// The node to act on (e.g. guadalajara-sealer-1); or use --hospital.
    pub node: Option<String>,
    /// Every node of this hospital (repeat for several). With partition:
    /// these hospitals on one side, the rest on the other.
    #[arg(long = "hospital", value_name = "NAME")]
    pub hospitals: Vec<String>,
    /// delay: milliseconds added to each direction of the nodes' planned
    /// peer links (1 to 10000).
    #[arg(long, value_name = "MS")]
    pub ms: Option<f64>,
    /// delay: the delay varies by up to ± this many milliseconds (0 to
    /// --ms; default 0).
    #[arg(long = "jitter-ms", value_name = "MS")]
    pub jitter_ms: Option<f64>,
    /// bandwidth: kilobits per second allowed each way on the nodes'
    /// planned peer links (8 to 10000000; whole KB/s, so 8 kbit steps).
    #[arg(long, value_name = "KBIT")]
    pub kbit: Option<f64>,
}

/// The command line's name for a field `check_target` names.
fn flag(field: &str) -> &'static str {
    match field {
        "target" => "NODE",
        "hospital" => "--hospital",
        "ms" => "--ms",
        "jitter_ms" => "--jitter-ms",
        "kbit" => "--kbit",
        _ => "ACTION",
    }
}

/// Checks the fault, then does it under the network's lock and says what
/// was done.
pub(crate) async fn execute(args: FaultArgs, g: &Global) -> anyhow::Result<()> {
    let _handled = interrupt::handled_here();
    let link = LinkSettings {
        ms: args.ms,
        jitter_ms: args.jitter_ms,
        kbit: args.kbit,
    };
    let (action, who) = action::check_target(&args.action, &link, args.node, args.hospitals)
        .map_err(|(field, msg)| {
            InputError::new(format!("medchain fault: {}: {msg}", flag(field)))
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
    if action.shapes_links() {
        rt.links_shapeable(&state.plan).map_err(|e| {
            InputError::new(format!(
                "medchain fault: ACTION: {action} {e} (network {} runs on the {} runtime)",
                state.plan.topology.network,
                rt.name()
            ))
        })?;
        links::prepare(&rt, &state.plan)?;
    }
    let done = interrupt::cancellable(apply::apply(&rt, &mut state, &fault)).await?;
    outln!(
        "{}: {} ({:.1} s)",
        fault.action,
        done.detail,
        done.took.as_secs_f64()
    );
    Ok(())
}
