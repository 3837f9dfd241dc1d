//! One writer per network. Every command that changes a network (`up`,
//! `down`, `deploy`, `device provision`, `records add`, `authorize`, a
//! `bench` that brings its network up or tears it down, a `compose` that
//! writes into the network's directory) holds an exclusive lock on
//! `$MEDCHAIN_HOME/<network>/lock` for as long as it runs. Read-only
//! commands (`status`, `logs`, `accounts`, `tx`, `records get`) take none.
//!
//! The lock is the OS's (`flock`, through [`File::try_lock`]): the kernel
//! releases it when its holder exits, however it exits, so a lock file left
//! by a dead process is simply taken over. The file records the holder (pid,
//! command line, start time) so a second writer can say who holds the
//! network; it exits at once instead of waiting.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context};
use serde::{Deserialize, Serialize};

use crate::private_fs;

/// Name of the lock file in a network's directory.
pub(crate) const LOCK_FILE: &str = "lock";

/// Flags whose value is a secret, shown as `…` in the recorded command line.
const SECRET_FLAGS: &[&str] = &["--key", "--seed"];

/// Who holds a network's lock, as its lock file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Holder {
    /// Process id.
    pub pid: u32,
    /// Its command line (secret values elided).
    pub command: String,
    /// When it took the lock, UTC.
    pub since: String,
    /// The same, seconds since the Unix epoch.
    pub since_unix: u64,
}

impl Holder {
    /// This process, now.
    fn current() -> Holder {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Holder {
            pid: std::process::id(),
            command: describe(std::env::args()),
            since: utc(now),
            since_unix: now,
        }
    }
}

/// An exclusive lock on one network, released when dropped (or when the
/// process ends).
#[derive(Debug)]
pub struct NetworkLock {
    file: File,
    path: PathBuf,
}

impl NetworkLock {
    /// Locks network `network` under `home`, creating its directory (0700)
    /// and lock file (0600) when missing. Fails at once, with a one-line
    /// message naming the holder, when another process holds it.
    pub fn acquire(home: &Path, network: &str) -> anyhow::Result<NetworkLock> {
        let dir = home.join(network);
        private_fs::create_dir(&dir)?;
        Self::acquire_as(&dir.join(LOCK_FILE), network, &Holder::current())
    }

    /// Locks the lock file at `path` and records `me` in it.
    fn acquire_as(path: &Path, network: &str, me: &Holder) -> anyhow::Result<NetworkLock> {
        let mut file = private_fs::open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(busy(network, path, read_holder(&mut file)));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        let record = serde_json::to_string(me)?;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .and_then(|()| file.write_all(format!("{record}\n").as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(NetworkLock {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for NetworkLock {
    fn drop(&mut self) {
        // Nobody holds it any more; closing the file releases the lock.
        let _ = self.file.set_len(0);
    }
}

/// The holder recorded in a lock file, if it reads as one.
fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// The error of a second writer: who holds the network, and what to do.
fn busy(network: &str, path: &Path, holder: Option<Holder>) -> anyhow::Error {
    match holder {
        Some(h) => anyhow!(
            "network {network} is busy: `{}` (pid {}, since {}) is changing it; wait for it to finish, or stop it (kill {}), then run this again",
            h.command,
            h.pid,
            h.since,
            h.pid
        ),
        None => anyhow!(
            "network {network} is busy: another process holds {}; wait for it to finish, then run this again",
            path.display()
        ),
    }
}

/// A command line as the lock file records it: the program's file name,
/// then the arguments with the values of secret flags elided.
fn describe(args: impl Iterator<Item = String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut hide_next = false;
    for (i, a) in args.enumerate() {
        if i == 0 {
            let name = Path::new(&a).file_name().map(|n| n.to_string_lossy());
            out.push(name.map(|n| n.into_owned()).unwrap_or(a));
        } else if std::mem::take(&mut hide_next) {
            out.push("…".into());
        } else if SECRET_FLAGS.contains(&a.as_str()) {
            hide_next = true;
            out.push(a);
        } else if let Some(f) = SECRET_FLAGS
            .iter()
            .find(|f| a.starts_with(&format!("{f}=")))
        {
            out.push(format!("{f}=…"));
        } else {
            out.push(a);
        }
    }
    out.join(" ")
}

/// `secs` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn holder(command: &str) -> Holder {
        Holder {
            pid: 4242,
            command: command.into(),
            since: utc(1_700_000_000),
            since_unix: 1_700_000_000,
        }
    }

    #[test]
    fn a_second_lock_fails_naming_the_first_and_is_free_once_dropped() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join(LOCK_FILE);
        let first =
            NetworkLock::acquire_as(&path, "demo", &holder("medchain up -f a.yaml")).unwrap();
        let err = NetworkLock::acquire_as(&path, "demo", &holder("medchain down"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "network demo is busy: `medchain up -f a.yaml` (pid 4242, since 2023-11-14 22:13:20 UTC) is changing it; wait for it to finish, or stop it (kill 4242), then run this again"
        );
        assert!(!err.contains('\n'));
        drop(first);
        let again = NetworkLock::acquire_as(&path, "demo", &holder("medchain down")).unwrap();
        let mode = std::fs::metadata(again.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let recorded: Holder =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        assert_eq!(recorded, holder("medchain down"));
    }

    #[test]
    fn a_lock_file_left_by_a_dead_process_is_taken_over() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join(LOCK_FILE);
        std::fs::write(
            &path,
            serde_json::to_string(&holder("medchain up")).unwrap(),
        )
        .unwrap();
        let lock = NetworkLock::acquire_as(&path, "demo", &holder("medchain down"));
        assert!(lock.is_ok(), "{lock:?}");
    }

    #[test]
    fn acquiring_creates_a_private_network_directory() {
        let t = tempfile::tempdir().unwrap();
        let lock = NetworkLock::acquire(t.path(), "fresh").unwrap();
        let dir = t.path().join("fresh");
        assert_eq!(lock.path(), dir.join(LOCK_FILE));
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let me: Holder =
            serde_json::from_str(std::fs::read_to_string(lock.path()).unwrap().trim()).unwrap();
        assert_eq!(me.pid, std::process::id());
    }

    #[test]
    fn an_unreadable_holder_still_gives_one_clear_line() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join(LOCK_FILE);
        let raw = private_fs::open(&path).unwrap();
        raw.try_lock().unwrap();
        let err = NetworkLock::acquire_as(&path, "demo", &holder("medchain down"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("network demo is busy: another process holds "),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_symlinked_lock_file_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("elsewhere");
        std::fs::write(&target, b"keep").unwrap();
        let path = t.path().join(LOCK_FILE);
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(NetworkLock::acquire_as(&path, "demo", &holder("medchain up")).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn recorded_command_lines_hide_secret_values() {
        let args = [
            "/usr/local/bin/medchain",
            "records",
            "add",
            "--key",
            "0xabc",
            "--seed=7",
            "--ssn",
            "1",
        ];
        assert_eq!(
            describe(args.iter().map(|s| s.to_string())),
            "medchain records add --key … --seed=… --ssn 1"
        );
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
