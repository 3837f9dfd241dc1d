//! Local processes by PID: is one alive, is it still the program we
//! started (its command line), signal it, wait until it is gone, stop it
//! gracefully. Shared by the process runtime (geth nodes) and the monitor
//! (Prometheus): both only ever signal a PID whose command line they
//! checked just before.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::bail;

/// Whether `pid` exists and has not exited (a zombie or dead process has).
/// A process that is exiting but still releasing its memory counts as
/// alive: its datadir stays locked until it is gone.
pub(crate) fn pid_alive(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state is the first field after the parenthesised command name.
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    !matches!(state, Some("Z") | Some("X") | None)
}

/// Whether `pid` is a live (not zombie) process whose command line holds
/// `needle`. An exiting process already shows an empty command line, so
/// this is for finding a node, not for waiting until it is gone (see
/// [`pid_alive`]).
pub(crate) fn pid_matches(pid: u32, needle: &str) -> bool {
    if !pid_alive(pid) {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    cmdline.contains(needle)
}

pub(crate) fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; the PID was checked
    // to be the process we started (geth or Prometheus) just before.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Whether `pid` is alive with an empty command line: a process that has
/// begun to exit and is releasing its memory.
pub(crate) fn exiting(pid: u32) -> bool {
    pid_alive(pid) && fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.is_empty())
}

/// Waits up to `limit` for `pid` to exit (reaping it when it is our own
/// child); whether it did.
pub(crate) async fn wait_gone(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        reap(pid);
        if !pid_alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops `pid`, just checked to be our geth when `ours`; a pid that is not
/// (any more) is only waited for when it is exiting. `what` names it in
/// errors.
pub(crate) async fn stop_pid(
    pid: u32,
    ours: bool,
    grace: Duration,
    what: &str,
) -> anyhow::Result<()> {
    if !ours {
        // Already exiting (alive, command line gone): wait it out so
        // the datadir is free when `down` returns.
        if exiting(pid) && !wait_gone(pid, grace).await {
            bail!("{what}: process {pid} is still exiting")
        }
        return Ok(());
    }
    signal(pid, libc::SIGINT);
    // From here on the pid is known to be our geth: wait for the process
    // to be gone, not for its command line to change (it empties while
    // the process exits, long before the datadir lock is released).
    if wait_gone(pid, grace).await {
        return Ok(());
    }
    signal(pid, libc::SIGKILL);
    if wait_gone(pid, Duration::from_secs(5)).await {
        return Ok(());
    }
    bail!("{what}: process {pid} did not exit after SIGKILL")
}

/// Reaps `pid` if it is our own exited child, so it does not linger as a
/// zombie while the CLI runs.
pub(crate) fn reap(pid: u32) {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on a specific pid only reaps that child.
    unsafe {
        libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG);
    }
}
