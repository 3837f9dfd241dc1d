//! A network's `toxiproxy-server`: started detached on a loopback port
//! reserved in the machine-wide [`ports::Registry`] (so two networks, or
//! a network and another service, never pick the same one), recorded in
//! `<network dir>/links/toxiproxy.json`, and only ever signalled after its
//! command line was checked to name this network's configuration. Its
//! API answers on 127.0.0.1 only. `heal` stops it once no link is shaped,
//! and `down` stops it with the network's other services.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use super::api::Api;
use crate::plan::Plan;
use crate::{daemon, ports, private_fs};

/// First API port tried (toxiproxy's own default).
const PORT_BASE: u16 = 8474;
/// How long toxiproxy may take to answer its API.
const READY: Duration = Duration::from_secs(15);

/// A running toxiproxy-server, as recorded: its process, its API
/// (`http://127.0.0.1:<port>`) and the (empty) proxy list it was started
/// with, whose path names this network on the command line.
pub type Running = daemon::Service;

/// The links' directory in a network's directory.
pub fn dir_of(network_dir: &Path) -> PathBuf {
    network_dir.join("links")
}

fn record_path(network_dir: &Path) -> PathBuf {
    dir_of(network_dir).join("toxiproxy.json")
}

/// The network's toxiproxy, when its recorded process still runs with
/// the network's configuration.
pub fn running(network_dir: &Path) -> Option<Running> {
    daemon::running(&record_path(network_dir))
}

/// The network's toxiproxy, started with `bin` unless it already runs.
pub async fn start(plan: &Plan, bin: &Path) -> anyhow::Result<Running> {
    if let Some(r) = running(&plan.dir) {
        return Ok(r);
    }
    let dir = dir_of(&plan.dir);
    private_fs::create_dir(&dir)?;
    let config = dir.join("proxies.json");
    private_fs::write(&config, b"[]\n")?;
    let mut base = PORT_BASE;
    for _ in 0..5 {
        let port = ports::Registry::machine().reserve_service(&plan.dir, "toxiproxy", base)?;
        if let Some(r) = launch(bin, &dir, &config, port).await? {
            daemon::save(&record_path(&plan.dir), &r)?;
            return Ok(r);
        }
        // Another process took the port between the probe and the bind.
        base = port + 1;
    }
    bail!(
        "toxiproxy could not bind a loopback port in 5 tries; see {}",
        dir.join("toxiproxy.log").display()
    )
}

/// Runs toxiproxy-server on `port` and waits until its API answers:
/// `Some` then, `None` when it lost the port to another process, else an
/// error with the end of its log.
async fn launch(
    bin: &Path,
    dir: &Path,
    config: &Path,
    port: u16,
) -> anyhow::Result<Option<Running>> {
    let log_path = dir.join("toxiproxy.log");
    let pid = daemon::spawn(
        Command::new(bin)
            .args(["-host", "127.0.0.1", "-port", &port.to_string()])
            .arg("-config")
            .arg(config),
        &log_path,
    )
    .with_context(|| format!("starting {}", bin.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let api = Api::new(&url);
    let ready = || async { api.version().await.is_ok() };
    if daemon::wait_ready(pid, READY, Duration::from_millis(100), ready).await {
        return Ok(Some(Running {
            pid,
            url,
            config: config.to_path_buf(),
        }));
    }
    let tail = daemon::abandon(pid, "toxiproxy", &log_path).await?;
    if tail.contains("address already in use") {
        return Ok(None);
    }
    bail!(
        "toxiproxy did not answer on {url} within {} s; last log lines from {}:\n{tail}",
        READY.as_secs(),
        log_path.display()
    )
}

/// Stops the network's toxiproxy when it runs; its pid if it did.
pub async fn stop(network_dir: &Path) -> anyhow::Result<Option<u32>> {
    daemon::stop::<Running>(&record_path(network_dir), "toxiproxy").await
}
