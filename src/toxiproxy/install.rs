//! The pinned toxiproxy release and how medchain finds or builds it, as
//! [`geth`](crate::geth) does for geth: `toxiproxy-server` on PATH
//! reporting the pinned version → the cache
//! `~/.cache/medchain/toxiproxy/v2.5.0/toxiproxy-server` → a static build
//! with the Go toolchain (from the Go module proxy) into that cache → a
//! clear error saying what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::geth::{cache_dir, find_on_path, Source};

/// The pinned release.
pub const VERSION: &str = "2.5.0";
/// Its Go module.
const MODULE: &str = "github.com/Shopify/toxiproxy/v2";
/// The name the binary is cached and looked up under.
const BINARY: &str = "toxiproxy-server";

/// The cached binary's path.
pub fn cached_path() -> PathBuf {
    cache_dir()
        .join("toxiproxy")
        .join(format!("v{VERSION}"))
        .join(BINARY)
}

/// The version a toxiproxy-server binary reports (`toxiproxy-server
/// version 2.5.0`), or `None` if it does not run.
pub fn binary_version(path: &Path) -> Option<String> {
    let out = Command::new(path).arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .strip_prefix("toxiproxy-server version ")
        .map(|v| v.trim().trim_start_matches('v').to_string())
}

/// Finds (or builds) toxiproxy-server; `on_build` is told before a Go
/// build starts.
pub fn resolve(on_build: &dyn Fn(&str)) -> anyhow::Result<(PathBuf, Source)> {
    if let Some(p) = find_on_path(BINARY) {
        if binary_version(&p).as_deref() == Some(VERSION) {
            return Ok((p, Source::Path));
        }
    }
    let cached = cached_path();
    if binary_version(&cached).as_deref() == Some(VERSION) {
        return Ok((cached, Source::Cache));
    }
    on_build(&format!(
        "building toxiproxy v{VERSION} with Go into {} — one time, a minute or two",
        cached.display()
    ));
    build()?;
    Ok((cached, Source::Built))
}

/// Builds the pinned release statically with Go into the cache. It is
/// built into a directory of its own and renamed into place, so two
/// builds at once (parallel tests) never leave a half-written binary.
pub fn build() -> anyhow::Result<PathBuf> {
    let Some(go) = find_on_path("go") else {
        bail!(
            "toxiproxy v{VERSION} is not installed and Go is not on PATH: install Go (Debian: apt-get install golang), \
             or put {BINARY} v{VERSION} on PATH"
        );
    };
    let dest = cached_path();
    let dir = dest.parent().expect("cache path has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let scratch = dir.join(format!(".build-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let moved = install_into(&go, &scratch, &dest);
    let _ = std::fs::remove_dir_all(&scratch);
    moved?;
    Ok(dest)
}

/// Runs `go install` with `GOBIN` set to `scratch`, checks the binary's
/// version and renames it to `dest`.
fn install_into(go: &Path, scratch: &Path, dest: &Path) -> anyhow::Result<()> {
    let status = Command::new(go)
        .args([
            "install",
            "-trimpath",
            "-ldflags",
            &format!("-X {MODULE}.Version={VERSION}"),
            &format!("{MODULE}/cmd/server@v{VERSION}"),
        ])
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOBIN", scratch)
        .status()
        .context("running go install")?;
    if !status.success() {
        bail!("go install of toxiproxy v{VERSION} failed ({status}); see the output above");
    }
    let built = scratch.join("server");
    match binary_version(&built) {
        Some(v) if v == VERSION => {}
        other => bail!(
            "built {} but it reports version {other:?}, expected {VERSION}",
            built.display()
        ),
    }
    std::fs::rename(&built, dest)
        .with_context(|| format!("moving {} to {}", built.display(), dest.display()))
}
