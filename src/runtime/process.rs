//! The process runtime: each node is a geth child process with its own
//! datadir and log file under `$MEDCHAIN_HOME/<network>/nodes/<node>/`,
//! detached into its own process group so it outlives the CLI and ignores
//! the terminal's Ctrl-C. Later invocations find it by PID, and only ever
//! signal a PID whose command line is geth with that node's datadir.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{Handle, NodeMonitor, Runtime};
use crate::bench::resources::SampledProcesses;
use crate::plan::{NodePlan, Plan};

/// Runs nodes as local processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessRuntime;

/// The last `n` lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn open_log(path: &Path) -> anyhow::Result<fs::File> {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Whether `pid` is a live (not zombie) process whose command line holds
/// `needle`.
pub(crate) fn pid_matches(pid: u32, needle: &str) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state is the first field after the parenthesised command name.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    cmdline.contains(needle)
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the PID was checked
    // to be our node's geth just before.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Reaps `pid` if it is our own exited child, so it does not linger as a
/// zombie while the CLI runs.
fn reap(pid: u32) {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on a specific pid only reaps that child.
    unsafe {
        libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG);
    }
}

impl Runtime for ProcessRuntime {
    fn name(&self) -> &'static str {
        "process"
    }

    async fn prepare(&self, _plan: &Plan, _geth: &Path) -> anyhow::Result<()> {
        Ok(())
    }

    async fn init(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()> {
        let chaindata = node.datadir.join("geth").join("chaindata");
        if chaindata.is_dir() {
            return Ok(());
        }
        let log = open_log(&node.log)?;
        let status = tokio::process::Command::new(geth)
            .arg("init")
            .arg("--datadir")
            .arg(&node.datadir)
            .arg(&plan.genesis_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .await
            .with_context(|| format!("running {} init", geth.display()))?;
        if !status.success() {
            bail!(
                "{}: geth init failed ({status}); last log lines from {}:\n{}",
                node.name,
                node.log.display(),
                log_tail(&node.log, 10)
            );
        }
        Ok(())
    }

    async fn start(&self, geth: &Path, _plan: &Plan, node: &NodePlan) -> anyhow::Result<Handle> {
        let log = open_log(&node.log)?;
        let child = Command::new(geth)
            .args(&node.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("{}: starting {}", node.name, geth.display()))?;
        Ok(Handle::Pid(child.id()))
    }

    async fn is_running(&self, node: &NodePlan, handle: &Handle) -> bool {
        self.running(node, handle)
    }

    async fn stop(&self, node: &NodePlan, handle: &Handle, grace: Duration) -> anyhow::Result<()> {
        let Handle::Pid(pid) = *handle else {
            return Ok(());
        };
        if !self.running(node, handle) {
            return Ok(());
        }
        signal(pid, libc::SIGINT);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !self.running(node, handle) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        signal(pid, libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !self.running(node, handle) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{}: process {pid} did not exit after SIGKILL", node.name)
    }

    async fn enode(&self, plan: &Plan, _from: usize, to: usize) -> anyhow::Result<String> {
        Ok(plan.nodes[to].enode())
    }

    async fn teardown(&self, _plan: &Plan, _purge: bool) -> anyhow::Result<()> {
        Ok(())
    }

    async fn log_tail(&self, _plan: &Plan, node: &NodePlan, lines: usize) -> String {
        log_tail(&node.log, lines)
    }

    async fn print_log(&self, _plan: &Plan, node: &NodePlan, follow: bool) -> anyhow::Result<()> {
        print_file(&node.log, follow).await
    }

    fn container_name(&self, _plan: &Plan, _node: &NodePlan) -> Option<String> {
        None
    }

    fn start_monitor(&self, _plan: &Plan, nodes: &[(&NodePlan, Handle)]) -> NodeMonitor {
        let pids: Vec<(String, u32)> = nodes
            .iter()
            .filter_map(|(n, h)| match h {
                Handle::Pid(p) => Some((n.name.clone(), *p)),
                Handle::Container(_) => None,
            })
            .collect();
        if pids.is_empty() {
            NodeMonitor::None
        } else {
            NodeMonitor::Processes(SampledProcesses::start(pids))
        }
    }
}

/// Writes the file at `path` to stdout; with `follow`, polls it four times
/// a second for new bytes (starting over when it was truncated) until
/// Ctrl-C.
async fn print_file(path: &Path, follow: bool) -> anyhow::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
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
        let len = std::fs::metadata(path)?.len();
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

impl ProcessRuntime {
    /// Whether `handle` is a live geth of `node` (its datadir is on the
    /// command line, so a reused pid is never mistaken for it).
    pub fn running(&self, node: &NodePlan, handle: &Handle) -> bool {
        let Handle::Pid(pid) = *handle else {
            return false;
        };
        reap(pid);
        pid_matches(pid, &node.datadir.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_matches_and_bogus_pid_does_not() {
        let me = std::process::id();
        assert!(pid_matches(me, ""));
        assert!(!pid_matches(me, "no-such-datadir-in-cmdline"));
        assert!(!pid_matches(u32::MAX - 1, ""));
    }
}
