//! `medchain logs <node> [-f]`: print a node's geth log, optionally
//! following it as it grows (until Ctrl-C).

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;

use anyhow::Context;

use bollard::query_parameters::LogsOptionsBuilder;
use futures::StreamExt;

use crate::error::InputError;
use crate::plan::NodePlan;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::{container_plan, Kind};
use crate::state::State;

/// Prints the log of `node`; with `follow`, keeps printing new lines until
/// Ctrl-C.
pub async fn logs(state: &State, node: &str, follow: bool) -> anyhow::Result<()> {
    let Some(n) = state.plan.nodes.iter().find(|n| n.name == node) else {
        let names: Vec<_> = state.plan.nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(InputError::new(format!(
            "no node {node:?} in network {}; nodes: {}",
            state.plan.topology.network,
            names.join(", ")
        ))
        .into());
    };
    if state.kind() == Kind::Docker {
        return docker_logs(state, n, follow).await;
    }
    let mut f =
        std::fs::File::open(&n.log).with_context(|| format!("opening {}", n.log.display()))?;
    let mut out = std::io::stdout();
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    out.write_all(&buf)?;
    if !follow {
        return Ok(());
    }
    let mut pos = f.stream_position()?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let len = std::fs::metadata(&n.log)?.len();
        if len < pos {
            pos = 0; // truncated
        }
        if len > pos {
            f.seek(SeekFrom::Start(pos))?;
            buf.clear();
            f.read_to_end(&mut buf)?;
            out.write_all(&buf)?;
            out.flush()?;
            pos = len;
        }
    }
}

/// The node's container output through the Docker API; with `follow`,
/// until Ctrl-C or the container ends.
async fn docker_logs(state: &State, n: &NodePlan, follow: bool) -> anyhow::Result<()> {
    let rt = DockerRuntime::connect(&state.plan.topology).await?;
    let docker = rt.engine(&state.plan, &n.hospital);
    let name = container_plan::container_name(&state.plan, n);
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(follow)
        .build();
    let mut stream = docker.logs(&name, Some(opts));
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            item = stream.next() => match item {
                Some(Ok(chunk)) => {
                    out.write_all(&chunk.into_bytes())?;
                    out.flush()?;
                }
                Some(Err(e)) => return Err(e).with_context(|| format!("reading the logs of container {name}")),
                None => return Ok(()),
            },
        }
    }
}
