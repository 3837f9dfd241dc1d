//! The process runtime: each node is a geth child process with its own
//! datadir and log file under `$MEDCHAIN_HOME/<network>/nodes/<node>/`,
//! detached into its own process group so it outlives the CLI and ignores
//! the terminal's Ctrl-C. Later invocations find it by PID, and only ever
//! signal a PID whose command line is geth with that node's datadir.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};

use super::init_marker::{self, InitNeed};
use super::{proc_scan, Handle, LinkProxy, NodeMonitor, NodeSignal, Orphan, Runtime};
use crate::bench::resources::SampledProcesses;
use crate::daemon::{self, log_tail, open_log};
pub(crate) use crate::pid::pid_matches;
use crate::pid::{reap, signal, stop_pid, wait_gone};
use crate::plan::{NodePlan, Plan};

/// Runs nodes as local processes.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessRuntime;

/// Runs `geth init` for a node (killed if this command is interrupted, the
/// marker then still missing).
async fn run_init(geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()> {
    let log = open_log(&node.log)?;
    let status = tokio::process::Command::new(geth)
        .arg("init")
        .arg("--datadir")
        .arg(&node.datadir)
        .arg(&plan.genesis_path)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
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

impl Runtime for ProcessRuntime {
    fn name(&self) -> &'static str {
        "process"
    }

    /// geth could not open an IPC socket whose path exceeds the kernel's
    /// unix socket limit, and medchain controls nodes only over IPC.
    fn check_plan(&self, plan: &Plan) -> Result<(), crate::error::InputError> {
        match crate::plan::ipc_path_too_long(plan) {
            Some((node, path)) => Err(crate::error::InputError::new(format!(
                "--home {}: node {}'s IPC socket {} is {} bytes, over the {}-byte limit of unix sockets; use a shorter MEDCHAIN_HOME (or shorter network/hospital names)",
                plan.dir.parent().unwrap_or(&plan.dir).display(),
                node.name,
                path.display(),
                path.as_os_str().len(),
                crate::plan::MAX_IPC_PATH
            ))),
            None => Ok(()),
        }
    }

    async fn prepare(&self, _plan: &Plan, _geth: &Path) -> anyhow::Result<()> {
        Ok(())
    }

    async fn init(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()> {
        let first = match init_marker::need(&node.datadir) {
            InitNeed::Done => return Ok(()),
            need => run_init(geth, plan, node).await.map_err(|e| (need, e)),
        };
        match first {
            Ok(()) => {}
            Err((InitNeed::Unconfirmed, e)) if init_marker::may_discard(&node.datadir) => {
                eprintln!(
                    "  {}: chain data of an interrupted init ({e:#}); initialising again",
                    node.name
                );
                init_marker::discard(&node.datadir)?;
                run_init(geth, plan, node).await?;
            }
            Err((InitNeed::Unconfirmed, e)) => bail!(
                "{e:#}\n{}: {} holds a chain geth cannot open with this genesis; keep it and investigate, or `medchain down --purge` to start over",
                node.name,
                node.datadir.display()
            ),
            Err((_, e)) => return Err(e),
        }
        init_marker::mark(&node.datadir)
    }

    async fn start(&self, geth: &Path, _plan: &Plan, node: &NodePlan) -> anyhow::Result<Handle> {
        let pid = daemon::spawn(Command::new(geth).args(&node.args), &node.log)
            .with_context(|| format!("{}: starting {}", node.name, geth.display()))?;
        Ok(Handle::Pid(pid))
    }

    async fn is_running(&self, node: &NodePlan, handle: &Handle) -> bool {
        self.running(node, handle)
    }

    async fn stop(&self, node: &NodePlan, handle: &Handle, grace: Duration) -> anyhow::Result<()> {
        let Handle::Pid(pid) = *handle else {
            return Ok(());
        };
        stop_pid(pid, self.running(node, handle), grace, &node.name).await
    }

    async fn signal(
        &self,
        node: &NodePlan,
        handle: &Handle,
        sig: NodeSignal,
    ) -> anyhow::Result<()> {
        let Handle::Pid(pid) = *handle else {
            bail!("{}: not a process", node.name);
        };
        if !self.running(node, handle) {
            bail!("{}: not running (process {pid} is gone)", node.name);
        }
        match sig {
            NodeSignal::Kill => {
                signal(pid, libc::SIGKILL);
                if !wait_gone(pid, Duration::from_secs(5)).await {
                    bail!("{}: process {pid} did not exit after SIGKILL", node.name);
                }
            }
            NodeSignal::Pause => signal(pid, libc::SIGSTOP),
            NodeSignal::Unpause => signal(pid, libc::SIGCONT),
        }
        Ok(())
    }

    async fn admin_call(
        &self,
        _plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        super::ipc::call_socket(&node.name, &node.ipc_path(), method, params).await
    }

    async fn admin_batch(
        &self,
        _plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: &[serde_json::Value],
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let body = super::ipc::batch(method, params);
        let response =
            super::ipc::exchange_socket(&node.name, &node.ipc_path(), method, &body).await?;
        super::ipc::results_of(&node.name, method, response)
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

    /// Nodes listen for devp2p on every interface and dial each other on
    /// loopback: a proxy on 127.0.0.1 sits between any two.
    fn links_shapeable(&self, _plan: &Plan) -> Result<(), String> {
        Ok(())
    }

    async fn link_proxy(
        &self,
        plan: &Plan,
        listener: usize,
        _dialer: usize,
    ) -> anyhow::Result<LinkProxy> {
        Ok(LinkProxy {
            listen_host: "127.0.0.1".into(),
            upstream: format!("127.0.0.1:{}", plan.nodes[listener].ports.p2p),
        })
    }

    async fn orphans(&self, _network: &str, dir: &Path) -> anyhow::Result<Vec<Orphan>> {
        Ok(self.orphans_under(dir))
    }

    async fn stop_orphan(&self, o: &Orphan, dir: &Path, grace: Duration) -> anyhow::Result<()> {
        match o.handle {
            Handle::Pid(pid) => {
                stop_pid(pid, proc_scan::still_under(pid, dir), grace, &o.what).await
            }
            Handle::Container(_) => Ok(()),
        }
    }

    async fn teardown_labelled(&self, _network: &str, _purge: bool) -> anyhow::Result<()> {
        Ok(())
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
            _ = crate::interrupt::wait() => return Ok(()),
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
    /// Processes with a datadir inside `dir` (see [`proc_scan`]).
    fn orphans_under(&self, dir: &Path) -> Vec<Orphan> {
        proc_scan::under(dir)
            .into_iter()
            .map(|f| Orphan {
                handle: Handle::Pid(f.pid),
                what: format!("geth process {} ({})", f.pid, f.datadir.display()),
            })
            .collect()
    }

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
    use crate::pid::pid_alive;

    #[tokio::test]
    async fn a_signalled_child_is_waited_for_until_gone() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(pid_alive(pid));
        assert!(!wait_gone(pid, Duration::from_millis(200)).await);
        signal(pid, libc::SIGTERM);
        assert!(wait_gone(pid, Duration::from_secs(5)).await);
        assert!(!pid_alive(pid), "reaped, not a zombie");
        // Already reaped by wait_gone: this only satisfies the Child API.
        let _ = child.wait();
    }

    #[test]
    fn own_process_matches_and_bogus_pid_does_not() {
        let me = std::process::id();
        assert!(pid_matches(me, ""));
        assert!(!pid_matches(me, "no-such-datadir-in-cmdline"));
        assert!(!pid_matches(u32::MAX - 1, ""));
    }
}
