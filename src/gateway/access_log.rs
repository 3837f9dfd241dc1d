//! The access log: one line per HTTP request, appended to a file under the
//! network directory (0600) and, unless `--quiet`, echoed to stderr:
//!
//! ```text
//! 2026-12-05T07:40:00.123Z 127.0.0.1:50522 ward-device-1 eth_sendRawTransaction 200 4.1ms
//! 2026-12-05T07:40:00.200Z 127.0.0.1:50530 - - 401 0.1ms no or unknown token
//! ```
//!
//! Time (UTC), peer address, client name (`-` before authentication),
//! method(s) (`batch[n]:a,b,…` for a batch), HTTP status, latency, and for
//! refusals the reason. Tokens and request bodies are never logged.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;

use super::utc::Utc;

/// One request as logged.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Peer address.
    pub peer: SocketAddr,
    /// Authenticated client, if any.
    pub client: Option<&'a str>,
    /// Method(s), if the body was read.
    pub methods: Option<&'a str>,
    /// HTTP status.
    pub status: u16,
    /// Time from the request's arrival to its answer.
    pub latency: Duration,
    /// Why it was refused (or which calls were), if it was.
    pub note: Option<&'a str>,
}

/// The line for `e` at `at`, without a newline. Fields never contain
/// spaces except the trailing note.
pub fn line(at: Utc, e: &Entry<'_>) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect()
    };
    let mut out = format!(
        "{} {} {} {} {} {:.1}ms",
        at.rfc3339(),
        e.peer,
        e.client.map_or("-".to_string(), clean),
        e.methods.map_or("-".to_string(), clean),
        e.status,
        e.latency.as_secs_f64() * 1000.0
    );
    if let Some(n) = e.note {
        out.push(' ');
        out.extend(n.chars().map(|c| if c.is_control() { ' ' } else { c }));
    }
    out
}

/// Where lines go.
#[derive(Debug)]
pub struct AccessLog {
    file: Mutex<File>,
    stderr: bool,
}

impl AccessLog {
    /// Appends to `path` (created 0600 in a 0700 directory); echoes to
    /// stderr when `stderr`.
    pub fn open(path: &Path, stderr: bool) -> anyhow::Result<AccessLog> {
        if let Some(parent) = path.parent() {
            crate::private_fs::create_missing_dirs(parent)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .with_context(|| format!("opening the access log {}", path.display()))?;
        // An existing log made readable by others is made private again.
        crate::private_fs::tighten_file(path)?;
        Ok(AccessLog {
            file: Mutex::new(file),
            stderr,
        })
    }

    /// Writes one entry. A failing write is reported on stderr, once per
    /// entry, and does not fail the request.
    pub fn write(&self, e: &Entry<'_>) {
        let l = line(Utc::now(), e);
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(err) = writeln!(f, "{l}") {
            eprintln!("medchain gateway: cannot write the access log: {err}");
        }
        drop(f);
        if self.stderr {
            eprintln!("{l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::SystemTime;

    fn entry<'a>(client: Option<&'a str>, note: Option<&'a str>) -> Entry<'a> {
        Entry {
            peer: "127.0.0.1:5000".parse().unwrap(),
            client,
            methods: Some("batch[2]:eth_chainId,admin_peers"),
            status: 200,
            latency: Duration::from_micros(4200),
            note,
        }
    }

    #[test]
    fn one_line_per_request_with_the_fields_in_order() {
        let at = Utc::of(SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_456_400));
        assert_eq!(
            line(at, &entry(Some("ward-device-1"), None)),
            "2026-12-05T07:40:00.000Z 127.0.0.1:5000 ward-device-1 batch[2]:eth_chainId,admin_peers 200 4.2ms"
        );
        let l = line(at, &entry(Some("a b\nc"), Some("refused:\nadmin_peers")));
        assert!(
            l.ends_with(" a_b_c batch[2]:eth_chainId,admin_peers 200 4.2ms refused: admin_peers"),
            "{l}"
        );
        assert!(!l.contains('\n'));
    }

    #[test]
    fn the_file_is_appended_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gw").join("access.log");
        let log = AccessLog::open(&path, false).unwrap();
        log.write(&entry(None, Some("no token")));
        log.write(&entry(Some("x"), None));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().unwrap().contains(" - batch[2]"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Opened again after someone widened it: private again, appended.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        AccessLog::open(&path, false)
            .unwrap()
            .write(&entry(None, None));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }
}
