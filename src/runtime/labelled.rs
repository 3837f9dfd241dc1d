//! A network's Docker objects found from their labels alone
//! (`medchain.network=<network>`, set on every container, network and
//! volume the docker runtime creates): how `down` stops and removes a
//! network whose `state.json` is missing or corrupt, and what `teardown`
//! removes. Container names derive from the network's name too, so one
//! engine never holds two networks of the same name.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;

use super::container_plan as cp;
use super::{Handle, Orphan};

/// The filter selecting a network's objects.
pub(super) fn filter(network: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{}={network}", cp::LABEL_NETWORK)],
    )])
}

/// Running (or paused, restarting) containers of `network` on `engines`.
pub(super) async fn running(engines: &[&Docker], network: &str) -> anyhow::Result<Vec<Orphan>> {
    let mut out = Vec::new();
    for docker in engines {
        let listed = docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filter(network))
                    .build(),
            ))
            .await
            .context("listing containers")?;
        for c in listed {
            let live = matches!(
                c.state.as_ref().map(|s| s.to_string()).as_deref(),
                Some("running" | "paused" | "restarting")
            );
            let (Some(id), true) = (c.id, live) else {
                continue;
            };
            let name = c
                .names
                .and_then(|n| n.first().cloned())
                .unwrap_or_else(|| id.clone());
            out.push(Orphan {
                handle: Handle::Container(id),
                what: format!("container {}", name.trim_start_matches('/')),
            });
        }
    }
    Ok(out)
}

/// Stops container `id` (SIGINT, killed after `grace`) on whichever of
/// `engines` has it, then removes it.
pub(super) async fn stop(engines: &[&Docker], id: &str, grace: Duration) -> anyhow::Result<()> {
    use bollard::errors::Error::DockerResponseServerError as Server;
    for docker in engines {
        let opts = StopContainerOptionsBuilder::default()
            .t(grace.as_secs() as i32)
            .build();
        match docker.stop_container(id, Some(opts)).await {
            // 304: already stopped.
            Ok(())
            | Err(Server {
                status_code: 304, ..
            }) => {}
            // 404: not on this engine.
            Err(Server {
                status_code: 404, ..
            }) => continue,
            Err(e) => return Err(e).with_context(|| format!("stopping container {id}")),
        }
        return remove_container(docker, id).await;
    }
    Ok(())
}

async fn remove_container(docker: &Docker, id: &str) -> anyhow::Result<()> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    match docker.remove_container(id, Some(opts)).await {
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing container {id}")),
    }
}

/// Removes every container and network of `network` on `engines`, and with
/// `purge` its volumes (the chain data) too.
pub(super) async fn remove_all(
    engines: &[&Docker],
    network: &str,
    purge: bool,
) -> anyhow::Result<()> {
    let filter = filter(network);
    for docker in engines {
        let containers = docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filter)
                    .build(),
            ))
            .await
            .context("listing containers")?;
        for id in containers.into_iter().filter_map(|c| c.id) {
            remove_container(docker, &id).await?;
        }
        let networks = docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&filter)
                    .build(),
            ))
            .await
            .context("listing networks")?;
        for n in networks {
            if let Some(id) = n.id {
                docker
                    .remove_network(&id)
                    .await
                    .with_context(|| format!("removing network {}", n.name.unwrap_or(id)))?;
            }
        }
        if purge {
            remove_volumes(docker, &filter).await?;
        }
    }
    Ok(())
}

async fn remove_volumes(
    docker: &Docker,
    filter: &HashMap<String, Vec<String>>,
) -> anyhow::Result<()> {
    let volumes = docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::default().filters(filter).build(),
        ))
        .await
        .context("listing volumes")?;
    for v in volumes.volumes.unwrap_or_default() {
        docker
            .remove_volume(
                &v.name,
                Some(RemoveVolumeOptionsBuilder::default().force(true).build()),
            )
            .await
            .with_context(|| format!("removing volume {}", v.name))?;
    }
    Ok(())
}
