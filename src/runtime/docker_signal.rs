//! Fault signals for containers ([`NodeSignal`]): `docker kill` with
//! SIGKILL (a crash: no grace, the container is left exited and removed by
//! the next start), `docker pause` / `docker unpause` (the cgroup freezer:
//! geth's sockets stay open but nothing in the container runs).

use anyhow::{bail, Context};
use bollard::query_parameters::KillContainerOptionsBuilder;
use bollard::Docker;

use super::NodeSignal;

/// Sends `sig` to container `id` on whichever of `engines` holds it.
pub(super) async fn send<'a>(
    engines: impl Iterator<Item = &'a Docker>,
    id: &str,
    node: &str,
    sig: NodeSignal,
) -> anyhow::Result<()> {
    for docker in engines {
        if docker.inspect_container(id, None).await.is_err() {
            continue;
        }
        let done = match sig {
            NodeSignal::Kill => {
                let opts = KillContainerOptionsBuilder::default()
                    .signal("SIGKILL")
                    .build();
                docker.kill_container(id, Some(opts)).await
            }
            NodeSignal::Pause => docker.pause_container(id).await,
            NodeSignal::Unpause => docker.unpause_container(id).await,
        };
        return done.with_context(|| format!("{node}: {sig:?} container {id}"));
    }
    bail!("{node}: container {id} is on none of the network's engines")
}
