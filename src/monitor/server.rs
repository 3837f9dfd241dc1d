//! The monitor's Prometheus process: started detached (its own process
//! group, so it outlives the CLI and ignores the terminal's Ctrl-C) on a
//! free loopback port, recorded in `<network dir>/monitor/monitor.json`,
//! and only ever signalled after its command line was checked to be the
//! Prometheus of this network's configuration.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use super::config;
use crate::plan::Plan;
use crate::{daemon, ports, private_fs};

/// First port tried (Prometheus' own default).
const PORT_BASE: u16 = 9090;
/// How long Prometheus may take to answer `/-/ready`.
const READY: Duration = Duration::from_secs(30);
/// Upper bound on the data kept on disk, whatever the retention time.
const RETENTION_SIZE: &str = "512MB";

/// A running monitor, as `monitor start` recorded it: its Prometheus
/// process, web UI and HTTP API, and configuration.
pub type Running = daemon::Service;

/// The monitor's directory in a network's directory.
pub fn dir_of(network_dir: &Path) -> PathBuf {
    network_dir.join(config::MONITOR_DIR)
}

fn record_path(network_dir: &Path) -> PathBuf {
    dir_of(network_dir).join("monitor.json")
}

/// The network's monitor, when its recorded process still runs with the
/// network's configuration.
pub fn running(network_dir: &Path) -> Option<Running> {
    daemon::running(&record_path(network_dir))
}

/// The Prometheus binary: `MEDCHAIN_PROMETHEUS`, else `prometheus` on the
/// PATH (Debian's package).
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MEDCHAIN_PROMETHEUS").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "prometheus not found on PATH: install Debian's package (apt-get install prometheus) or set MEDCHAIN_PROMETHEUS to its path"
            )
        })
}

/// Starts the network's monitor, or, when it already runs, rewrites its
/// configuration and has it reload (SIGHUP). Returns it and whether it was
/// already running.
pub async fn start(plan: &Plan, retention: &str) -> anyhow::Result<(Running, bool)> {
    let dir = dir_of(&plan.dir);
    private_fs::create_dir(&dir)?;
    private_fs::create_dir(&dir.join(config::TARGETS_DIR))?;
    let config = dir.join("prometheus.yml");
    fs::write(&config, config::render(plan))
        .with_context(|| format!("writing {}", config.display()))?;
    let rules = dir.join(config::RULES_FILE);
    fs::write(&rules, super::rules::render(plan))
        .with_context(|| format!("writing {}", rules.display()))?;
    if let Some(r) = running(&plan.dir) {
        crate::pid::signal(r.pid, libc::SIGHUP);
        return Ok((r, true));
    }
    let bin = binary()?;
    let mut base = PORT_BASE;
    for _ in 0..5 {
        let port = ports::Registry::machine().reserve_service(&plan.dir, "monitor", base)?;
        match launch(&bin, &dir, &config, port, retention).await? {
            Some(r) => {
                daemon::save(&record_path(&plan.dir), &r)?;
                return Ok((r, false));
            }
            // Another process took the port between the probe and the bind.
            None => base = port + 1,
        }
    }
    bail!(
        "prometheus could not bind a loopback port in 5 tries; see {}",
        dir.join("prometheus.log").display()
    )
}

/// Runs Prometheus on `port` and waits until it is ready: `Some` then,
/// `None` when it lost the port to another process, else an error with
/// the end of its log.
async fn launch(
    bin: &Path,
    dir: &Path,
    config: &Path,
    port: u16,
    retention: &str,
) -> anyhow::Result<Option<Running>> {
    let log_path = dir.join("prometheus.log");
    let pid = daemon::spawn(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--storage.tsdb.retention.time={retention}"))
            .arg(format!("--storage.tsdb.retention.size={RETENTION_SIZE}"))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        &log_path,
    )
    .with_context(|| format!("starting {}", bin.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client builds");
    let ready = || async {
        let r = client.get(format!("{url}/-/ready")).send().await;
        r.is_ok_and(|r| r.status().is_success())
    };
    if daemon::wait_ready(pid, READY, Duration::from_millis(200), ready).await {
        return Ok(Some(Running {
            pid,
            url,
            config: config.to_path_buf(),
        }));
    }
    let tail = daemon::abandon(pid, "prometheus", &log_path).await?;
    if tail.contains("address already in use") {
        return Ok(None);
    }
    bail!(
        "prometheus did not become ready on {url} within {} s; last log lines from {}:\n{tail}",
        READY.as_secs(),
        log_path.display()
    )
}

/// Stops the network's monitor when it runs; its pid if it did.
pub async fn stop(network_dir: &Path) -> anyhow::Result<Option<u32>> {
    daemon::stop::<Running>(&record_path(network_dir), "prometheus").await
}
