//! The Benchmarks view: the bench reports (`*.json`, `*.html`) in the
//! network's `reports/` directory (`$MEDCHAIN_HOME/<network>/reports/`,
//! where `medchain bench --json/--html` can write them), listed and opened
//! read-only, for the admin and hospitals.
//!
//! Path-traversal safe by construction: a name is served only when it is
//! one plain file name (letters, digits, `.`, `_`, `-`, no leading dot)
//! that the directory listing itself holds as a regular file (symbolic
//! links are not followed). An HTML report is served under its own
//! Content-Security-Policy — no script at all, styles and images inline
//! only, sandboxed — so a report cannot act as the console's page.
//!
//! | route | who | answer |
//! | --- | --- | --- |
//! | `GET /api/reports` | admin, hospital | `[{name, kind, bytes, modified}]`, newest first |
//! | `GET /reports/{name}` | admin, hospital | the report itself |

use std::path::{Path, PathBuf};

use axum::extract::{Path as AxPath, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::app::{error, App};
use super::auth::{require, Signed};
use super::roles::Role;

/// Most reports listed.
pub const MAX_LISTED: usize = 500;

/// The report routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/reports", get(list_route))
        .route("/reports/{name}", get(open_route))
}

/// One report file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Its file name.
    pub name: String,
    /// `json` or `html`.
    pub kind: &'static str,
    /// Size in bytes.
    pub bytes: u64,
    /// Last modified, seconds since the Unix epoch.
    pub modified: u64,
}

/// The reports directory of the network whose directory is `dir`.
pub fn dir_of(network_dir: &Path) -> PathBuf {
    network_dir.join("reports")
}

/// `json` or `html` when `name` is a plain report file name.
fn kind(name: &str) -> Option<&'static str> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !plain {
        return None;
    }
    if name.ends_with(".json") {
        Some("json")
    } else if name.ends_with(".html") {
        Some("html")
    } else {
        None
    }
}

/// The reports in `dir`, newest first (none when it does not exist).
pub fn list(dir: &Path) -> Vec<Report> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Report> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let kind = kind(&name)?;
            // DirEntry::metadata does not follow symbolic links.
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            Some(Report {
                name,
                kind,
                bytes: meta.len(),
                modified,
            })
        })
        .collect();
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(a.name.cmp(&b.name)));
    out.truncate(MAX_LISTED);
    out
}

/// The bytes of report `name` in `dir`, when the listing holds it.
pub fn read(dir: &Path, name: &str) -> Option<(&'static str, Vec<u8>)> {
    let k = kind(name)?;
    list(dir).iter().find(|r| r.name == name)?;
    std::fs::read(dir.join(name)).ok().map(|b| (k, b))
}

async fn list_route(AxState(app): AxState<App>, Signed(s): Signed) -> Response {
    if let Err(r) = require(&s, &[Role::Admin, Role::Hospital]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let dir = dir_of(&chain.dir);
    Json(serde_json::json!({
        "directory": "reports/ in the network's directory",
        "reports": list(&dir),
    }))
    .into_response()
}

async fn open_route(
    AxState(app): AxState<App>,
    Signed(s): Signed,
    AxPath(name): AxPath<String>,
) -> Response {
    if let Err(r) = require(&s, &[Role::Admin, Role::Hospital]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some((kind, bytes)) = read(&dir_of(&chain.dir), &name) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no report {name:?} in the network's reports directory"),
        );
    };
    let content_type = match kind {
        "html" => "text/html; charset=utf-8",
        _ => "application/json",
    };
    let mut resp = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    // Replaces the console's policy (the guard leaves one already set).
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_report_files_in_the_directory_are_listed_and_read() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("reports");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("simple.json"), b"{}").unwrap();
        std::fs::write(dir.join("simple.html"), b"<p>x</p>").unwrap();
        std::fs::write(dir.join("notes.txt"), b"no").unwrap();
        std::fs::write(dir.join(".hidden.json"), b"{}").unwrap();
        std::fs::write(d.path().join("secret.json"), b"{\"key\":1}").unwrap();
        std::os::unix::fs::symlink(d.path().join("secret.json"), dir.join("link.json")).unwrap();
        std::fs::create_dir(dir.join("sub.json")).unwrap();

        let mut names: Vec<String> = list(&dir).into_iter().map(|r| r.name).collect();
        names.sort();
        assert_eq!(names, ["simple.html", "simple.json"]);
        assert_eq!(read(&dir, "simple.json"), Some(("json", b"{}".to_vec())));
        for bad in [
            "../secret.json",
            "..%2Fsecret.json",
            "link.json",
            ".hidden.json",
            "notes.txt",
            "sub.json",
            "/etc/passwd",
            "",
        ] {
            assert_eq!(read(&dir, bad), None, "{bad}");
        }
        assert!(list(&d.path().join("none")).is_empty());
    }
}
