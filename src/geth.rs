//! The pinned geth releases, what differs between them, and how medchain
//! finds or builds the right binary.
//!
//! Clique sealing ended with geth v1.14 and ethash mining with v1.12, so each
//! consensus engine has its own pinned release. Resolution order: an explicit
//! path → `geth` on PATH with the right version → the cache
//! `~/.cache/medchain/geth/v<version>/geth` → a static build with the Go
//! toolchain into that cache → a clear error saying what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::error::InputError;
use crate::topology::Consensus;

/// A pinned geth release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GethVersion {
    /// v1.13.15: the last release that seals Clique.
    #[serde(rename = "1.13.15")]
    V1_13_15,
    /// v1.11.6: the last release that mines ethash.
    #[serde(rename = "1.11.6")]
    V1_11_6,
}

/// Go toolchain the pinned releases are built with; the newest Go no longer
/// links these geth versions.
pub(crate) const GO_TOOLCHAIN: &str = "go1.21.13";

impl GethVersion {
    /// Every pinned release.
    pub(crate) const ALL: [GethVersion; 2] = [GethVersion::V1_13_15, GethVersion::V1_11_6];

    /// The release that runs `consensus`.
    pub(crate) fn for_consensus(consensus: Consensus) -> Self {
        match consensus {
            Consensus::Clique => GethVersion::V1_13_15,
            Consensus::Ethash => GethVersion::V1_11_6,
        }
    }

    /// The version number, e.g. `1.13.15`.
    pub fn number(self) -> &'static str {
        match self {
            GethVersion::V1_13_15 => "1.13.15",
            GethVersion::V1_11_6 => "1.11.6",
        }
    }

    /// Parses `1.13.15` or `v1.13.15`.
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let n = s.trim().trim_start_matches('v');
        Self::ALL.into_iter().find(|v| v.number() == n).ok_or_else(|| {
            InputError::new(format!(
                "--version {s}: not a pinned geth release; expected 1.13.15 (clique) or 1.11.6 (ethash)"
            ))
        })
    }

    /// Parameters for `miner_start`: v1.11 takes a thread count, v1.13 none.
    pub(crate) fn miner_start_params(self) -> serde_json::Value {
        match self {
            GethVersion::V1_13_15 => serde_json::json!([]),
            GethVersion::V1_11_6 => serde_json::json!([1]),
        }
    }
}

impl std::fmt::Display for GethVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.number())
    }
}

/// Where medchain caches heavy builds: `$MEDCHAIN_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/medchain`, else `~/.cache/medchain`.
pub(crate) fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MEDCHAIN_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("medchain");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache").join("medchain")
}

/// The cached binary's path for `version`.
pub(crate) fn cached_path(version: GethVersion) -> PathBuf {
    cache_dir()
        .join("geth")
        .join(version.to_string())
        .join("geth")
}

/// The shared ethash DAG directory, so PoW networks never build one per node.
pub(crate) fn dag_dir() -> PathBuf {
    cache_dir().join("ethash")
}

/// Whether `name` is a dataset geth was still writing: `full-R<rev>-<seed>`
/// plus `.<random digits>`, renamed to its final name only when complete.
fn is_partial_dataset(name: &str) -> bool {
    name.starts_with("full-R")
        && name
            .rsplit_once('.')
            .is_some_and(|(_, tail)| !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the partial datasets geth leaves in the shared DAG directory
/// when a miner stops while building one (each miner builds the next
/// epoch's 1 GB dataset in the background, and short runs never finish
/// it): left alone, every stopped ethash network would add ~1 GB per
/// miner. Files written to within `idle` are kept, since another
/// network's miner may still be building them. Returns how many went.
pub(crate) fn remove_partial_datasets(dir: &Path, idle: std::time::Duration) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .filter(|e| is_partial_dataset(&e.file_name().to_string_lossy()))
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= idle)
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// The version a geth binary reports, e.g. `1.13.15`, or `None` if it does
/// not run.
pub(crate) fn binary_version(path: &Path) -> Option<String> {
    let out = Command::new(path).arg("version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().trim_end_matches("-stable").to_string())
}

/// How the binary was found, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Given with `--geth`.
    Explicit,
    /// Found on PATH.
    Path,
    /// Found in the cache.
    Cache,
    /// Built just now with Go.
    Built,
}

/// Finds (or builds) the geth binary for `version`. `explicit` is a path the
/// user gave; `on_build` is told before a long Go build starts.
pub(crate) fn resolve(
    version: GethVersion,
    explicit: Option<&Path>,
    on_build: &dyn Fn(&str),
) -> anyhow::Result<(PathBuf, Source)> {
    if let Some(p) = explicit {
        return match binary_version(p) {
            Some(v) if v == version.number() => Ok((p.to_path_buf(), Source::Explicit)),
            Some(v) => Err(InputError::new(format!(
                "--geth {}: runs geth {v}, but this network needs {version}; pass a {version} binary or drop --geth",
                p.display()
            ))
            .into()),
            None => Err(InputError::new(format!(
                "--geth {}: not a runnable geth binary; check the path or drop --geth to let medchain provision {version}",
                p.display()
            ))
            .into()),
        };
    }
    if let Some(p) = find_on_path("geth") {
        if binary_version(&p).as_deref() == Some(version.number()) {
            return Ok((p, Source::Path));
        }
    }
    let cached = cached_path(version);
    if binary_version(&cached).as_deref() == Some(version.number()) {
        return Ok((cached, Source::Cache));
    }
    on_build(&format!(
        "building geth {version} with Go ({GO_TOOLCHAIN}, static) into {} — one time, a few minutes",
        cached.display()
    ));
    build(version)?;
    Ok((cached, Source::Built))
}

/// Builds `version` statically with the Go toolchain into the cache.
pub fn build(version: GethVersion) -> anyhow::Result<PathBuf> {
    let Some(go) = find_on_path("go") else {
        bail!(
            "geth {version} is not installed and Go is not on PATH: install Go (Debian: apt-get install golang), \
             or put geth {version} on PATH, or pass --geth PATH"
        );
    };
    let dest = cached_path(version);
    let dir = dest.parent().expect("cache path has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let status = Command::new(go)
        .args([
            "install",
            "-trimpath",
            &format!("github.com/ethereum/go-ethereum/cmd/geth@{version}"),
        ])
        .env("CGO_ENABLED", "0")
        .env("GOTOOLCHAIN", GO_TOOLCHAIN)
        .env("GOBIN", dir)
        .status()
        .context("running go install")?;
    if !status.success() {
        bail!("go install of geth {version} failed ({status}); see the output above");
    }
    match binary_version(&dest) {
        Some(v) if v == version.number() => Ok(dest),
        other => bail!(
            "built {} but it reports version {other:?}, expected {}",
            dest.display(),
            version.number()
        ),
    }
}

/// The first executable named `name` on PATH.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idle_partial_datasets_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let make = |n: &str| std::fs::write(d.path().join(n), b"x").unwrap();
        for n in [
            "full-R23-0000000000000000",
            "full-R23-290decd9548b62a8",
            "full-R23-290decd9548b62a8.123",
            "cache-R23-00.45",
            "notes.txt",
        ] {
            make(n);
        }
        // Just written: kept (a miner may still be building it).
        assert_eq!(
            remove_partial_datasets(d.path(), std::time::Duration::from_secs(60)),
            0
        );
        assert_eq!(
            remove_partial_datasets(d.path(), std::time::Duration::ZERO),
            1
        );
        let mut left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "cache-R23-00.45",
                "full-R23-0000000000000000",
                "full-R23-290decd9548b62a8",
                "notes.txt"
            ]
        );
    }

    #[test]
    fn versions_follow_consensus() {
        assert_eq!(
            GethVersion::for_consensus(Consensus::Clique).number(),
            "1.13.15"
        );
        assert_eq!(
            GethVersion::for_consensus(Consensus::Ethash).number(),
            "1.11.6"
        );
        assert_eq!(GethVersion::parse("v1.11.6").unwrap(), GethVersion::V1_11_6);
        assert!(GethVersion::parse("1.14.0").is_err());
    }

    #[test]
    fn miner_start_differs_per_version() {
        assert_eq!(
            GethVersion::V1_13_15.miner_start_params(),
            serde_json::json!([])
        );
        assert_eq!(
            GethVersion::V1_11_6.miner_start_params(),
            serde_json::json!([1])
        );
    }

    #[test]
    fn explicit_path_that_is_not_geth_is_an_input_error() {
        let err =
            resolve(GethVersion::V1_13_15, Some(Path::new("/bin/true")), &|_| {}).unwrap_err();
        assert!(err.is::<InputError>(), "{err}");
    }
}
