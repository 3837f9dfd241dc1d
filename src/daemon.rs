//! Processes medchain leaves running: the process runtime's geth nodes and
//! the services beside a network (the monitor's Prometheus, the broker's
//! mosquitto). Each is detached into its own process group (it outlives
//! the CLI and ignores the terminal's Ctrl-C) and logs to a file. A
//! service is recorded in a JSON file naming its PID and configuration,
//! and is only ever signalled after its command line was checked to name
//! that configuration.

use std::fs;
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::pid::{pid_alive, pid_matches, reap, stop_pid};
use crate::private_fs;

/// Opens `path` for appending, creating it and its directory.
pub(crate) fn open_log(path: &Path) -> anyhow::Result<fs::File> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// The last `n` lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts `cmd` detached, no stdin, stdout and stderr appended to `log`;
/// its PID.
pub(crate) fn spawn(cmd: &mut Command, log: &Path) -> anyhow::Result<u32> {
    let out = open_log(log)?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()?;
    Ok(child.id())
}

/// Polls `ready` every `every` until it holds (true) or `limit` passes or
/// the just-spawned child `pid` exits (false). The child is ours, so it is
/// judged alive until reaped: its command line can read empty while it
/// execs, so it is not checked here.
pub(crate) async fn wait_ready<F, Fut>(
    pid: u32,
    limit: Duration,
    every: Duration,
    mut ready: F,
) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        reap(pid);
        if !pid_alive(pid) {
            return false;
        }
        if ready().await {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    false
}

/// Stops a just-spawned child that did not become ready; the end of its
/// log, to say why.
pub(crate) async fn abandon(pid: u32, what: &str, log: &Path) -> anyhow::Result<String> {
    stop_pid(pid, pid_alive(pid), Duration::from_secs(5), what).await?;
    Ok(log_tail(log, 8))
}

/// What a service's record file holds.
pub(crate) trait Record: Serialize + DeserializeOwned {
    /// The service's PID.
    fn pid(&self) -> u32;
    /// The configuration file its command line names.
    fn config(&self) -> &Path;
}

/// The record of a service that is a process, the URL it answers on and
/// the configuration its command line names (the monitor's Prometheus, a
/// network's toxiproxy).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Service {
    /// Its process id.
    pub pid: u32,
    /// Where it answers (`http://127.0.0.1:<port>`).
    pub url: String,
    /// The configuration it was started with.
    pub config: std::path::PathBuf,
}

impl Record for Service {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn config(&self) -> &Path {
        &self.config
    }
}

/// The service recorded in `file`, when that process still runs with its
/// configuration.
pub(crate) fn running<R: Record>(file: &Path) -> Option<R> {
    let r: R = serde_json::from_str(&fs::read_to_string(file).ok()?).ok()?;
    pid_matches(r.pid(), &r.config().display().to_string()).then_some(r)
}

/// Records a started service in `file` (0600).
pub(crate) fn save<R: Record>(file: &Path, r: &R) -> anyhow::Result<()> {
    private_fs::write(file, &serde_json::to_vec_pretty(r)?)
}

/// Stops the service recorded in `file` when it runs, and forgets it; its
/// PID if it ran.
pub(crate) async fn stop<R: Record>(file: &Path, what: &str) -> anyhow::Result<Option<u32>> {
    let r = running::<R>(file);
    if let Some(r) = &r {
        stop_pid(r.pid(), true, Duration::from_secs(10), what).await?;
    }
    let _ = fs::remove_file(file);
    Ok(r.map(|r| r.pid()))
}
