//! Finding a network's geth processes without its state file: every
//! process whose command line names a `--datadir` inside the network's
//! directory (relative datadirs resolved against the process's working
//! directory). This is how `down` stops a network whose `state.json` is
//! missing or corrupt, and how an interrupted `up` finds the nodes it
//! spawned but had not recorded yet.
//!
//! A process that is already exiting (or a zombie) shows an empty command
//! line and is not found here; it is on its way out. Stopping is the
//! process runtime's (`stop_orphan`).

use std::fs;
use std::path::{Path, PathBuf};

/// A running process with a datadir inside the network's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    /// Its process id.
    pub pid: u32,
    /// The datadir on its command line, absolute.
    pub datadir: PathBuf,
}

/// The arguments of `pid`'s command line (empty when it is exiting or gone).
fn args_of(pid: u32) -> Vec<String> {
    let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return Vec::new();
    };
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The value of `--datadir` (or `--datadir=`) in `args`.
pub(crate) fn datadir_arg(args: &[String]) -> Option<&str> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--datadir" || a == "-datadir" {
            return it.next().map(String::as_str);
        }
        if let Some(v) = a
            .strip_prefix("--datadir=")
            .or_else(|| a.strip_prefix("-datadir="))
        {
            return Some(v);
        }
    }
    None
}

/// `path` made absolute against `base` and normalised (symlinks resolved
/// when it exists, `.`/`..` folded otherwise).
fn absolute_in(base: &Path, path: &Path) -> PathBuf {
    let joined = base.join(path);
    fs::canonicalize(&joined).unwrap_or_else(|_| std::path::absolute(&joined).unwrap_or(joined))
}

/// The absolute datadir of `pid` when it is a live process with one.
fn datadir_of(pid: u32) -> Option<PathBuf> {
    let args = args_of(pid);
    let dir = datadir_arg(&args)?;
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_else(|_| PathBuf::from("/"));
    Some(absolute_in(&cwd, Path::new(dir)))
}

/// The network directory as processes would name it.
fn normalised(dir: &Path) -> PathBuf {
    absolute_in(
        &std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        dir,
    )
}

/// Every live process (other than this one) whose `--datadir` is inside
/// `dir`, by pid.
pub(crate) fn under(dir: &Path) -> Vec<Found> {
    let dir = normalised(dir);
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<Found> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            let datadir = datadir_of(pid)?;
            datadir.starts_with(&dir).then_some(Found { pid, datadir })
        })
        .collect();
    found.sort_by_key(|f| f.pid);
    found
}

/// Whether `pid` still runs with a datadir inside `dir` (checked again
/// right before signalling, so a reused pid is never signalled).
pub(crate) fn still_under(pid: u32, dir: &Path) -> bool {
    datadir_of(pid).is_some_and(|d| d.starts_with(normalised(dir)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn datadir_is_read_in_both_spellings() {
        assert_eq!(
            datadir_arg(&s(&["geth", "--datadir", "/h/n/nodes/a/data", "--mine"])),
            Some("/h/n/nodes/a/data")
        );
        assert_eq!(datadir_arg(&s(&["geth", "--datadir=x/y"])), Some("x/y"));
        assert_eq!(datadir_arg(&s(&["geth", "init", "--datadir"])), None);
        assert_eq!(datadir_arg(&s(&["sleep", "30"])), None);
    }

    #[test]
    fn a_process_with_a_datadir_inside_the_network_is_found() {
        let t = tempfile::tempdir().unwrap();
        let net = t.path().join("net");
        let data = net.join("nodes/a/data");
        fs::create_dir_all(&data).unwrap();
        // A relative datadir, resolved against the process's directory;
        // the shell only sleeps (its sleep ends with it on SIGINT).
        let script = "trap 'kill $!; exit 0' INT; sleep 30 & wait";
        let mut child = std::process::Command::new("sh")
            .args(["-c", script, "geth", "--datadir", "nodes/a/data"])
            .current_dir(&net)
            .spawn()
            .unwrap();
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !under(&net).iter().any(|f| f.pid == pid) {
            assert!(std::time::Instant::now() < deadline, "not found");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let other = t.path().join("other");
        fs::create_dir_all(&other).unwrap();
        assert!(!under(&other).iter().any(|f| f.pid == pid));
        assert!(still_under(pid, &net));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!still_under(pid, &net), "a reaped process is not found");
    }
}
