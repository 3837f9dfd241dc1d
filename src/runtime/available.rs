//! The runtimes to search when a network's state (and so its runtime) is
//! unknown: `down` without a readable `state.json`.

use super::{connect, default_kind, AnyRuntime, Kind};
use crate::topology::Topology;

/// Every runtime that may run a network whose state is unknown: local
/// processes always; Docker when the local engine answers, with the
/// engines `topo` names (or, when one of those does not answer, the local
/// engine only, through `local_only`). Problems are warnings.
pub async fn available(topo: &Topology, local_only: &Topology) -> Vec<AnyRuntime> {
    let mut out = vec![AnyRuntime::Process(Default::default())];
    if default_kind().await != Kind::Docker {
        return out;
    }
    let docker = match connect(Kind::Docker, topo).await {
        Ok(rt) => Ok(rt),
        Err(e) => {
            eprintln!("warning: {e:#}; looking on the local Docker engine only");
            connect(Kind::Docker, local_only).await
        }
    };
    match docker {
        Ok(rt) => out.push(rt),
        Err(e) => eprintln!("warning: {e:#}"),
    }
    out
}
