//! Secrets at rest: directories and files only their owner can use.
//!
//! A directory that holds keys (a network's directory, its nodes' datadirs
//! and keystores, the device configs) is created 0700, and an existing one
//! is tightened to 0700. A secret file (keys, state, node keys, keystores,
//! passwords, device configs) is written 0600 from its first byte: into a
//! temporary file beside it, created exclusively (`O_EXCL`, `O_NOFOLLOW`)
//! with that mode, then renamed over the final path. Readers see the old
//! file or the whole new one, there is no moment with wider permissions,
//! and a symlink planted at the final path is replaced, never followed.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

/// Mode of a directory that holds secrets.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Mode of a secret file.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents 0700, and tightens `dir` itself
/// to 0700 when it already exists with group or other permissions.
pub(crate) fn create_dir(dir: &Path) -> anyhow::Result<()> {
    create_missing_dirs(dir)?;
    let meta = fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
            .with_context(|| format!("making {} private (0700)", dir.display()))?;
    }
    Ok(())
}

/// Creates whichever of `dir` and its parents are missing, 0700; existing
/// ones (a directory the user chose) are left as they are.
pub(crate) fn create_missing_dirs(dir: &Path) -> anyhow::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// The directory a file is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A name beside `path` that no other writer uses.
fn temp_path(path: &Path, what: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    parent(path).join(format!(".{name}.{}.{n}.{what}", std::process::id()))
}

/// Writes `contents` to `path`, 0600, atomically and durably (see
/// [`replace_durably`]). Missing parent directories are created 0700.
pub(crate) fn write(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    replace_durably(path, contents)
}

/// Replaces `path` with `contents` so that a crash or power loss at any
/// moment leaves either the old file or the whole new one: a temporary
/// file beside it (0600, exclusive, no symlink followed) is written and
/// synced, renamed over `path`, and the directory is synced so the rename
/// itself is on disk. Missing parent directories are created 0700.
pub(crate) fn replace_durably(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    create_missing_dirs(parent(path))?;
    let tmp = temp_path(path, "tmp");
    let result = write_new(&tmp, contents)
        .and_then(|()| fs::rename(&tmp, path).map_err(anyhow::Error::from))
        .and_then(|()| sync_dir(parent(path)))
        .with_context(|| format!("writing {}", path.display()));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Flushes a directory's entries (a rename into it) to disk.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Creates `path`, which must not exist (not even as a symlink), 0600, and
/// writes `contents` into it.
fn write_new(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // The umask can only have narrowed the mode; make it exactly 0600.
    f.set_permissions(Permissions::from_mode(FILE_MODE))?;
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

/// Makes an existing regular file at `path` (not a symlink) 0600 when it
/// has group or other permissions.
pub(crate) fn tighten_file(path: &Path) -> anyhow::Result<()> {
    let meta = fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(path, Permissions::from_mode(FILE_MODE))
            .with_context(|| format!("making {} private (0600)", path.display()))?;
    }
    Ok(())
}

/// Opens `path` for reading and writing, creating it 0600 when missing,
/// without truncating it and without following a symlink there.
pub(crate) fn open(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// A fresh 0700 directory beside `near`, removed with everything in it
/// when dropped: where a library that writes files with default
/// permissions writes them, so nobody else can read them meanwhile.
pub(crate) struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Creates the directory in `parent`.
    pub(crate) fn new(parent: &Path) -> anyhow::Result<Staging> {
        create_missing_dirs(parent)?;
        let dir = temp_path(&parent.join("staging"), "d");
        DirBuilder::new()
            .mode(DIR_MODE)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        fs::set_permissions(&dir, Permissions::from_mode(DIR_MODE))?;
        Ok(Staging { dir })
    }

    /// Its path.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_are_created_and_tightened_to_0700() {
        let t = tempfile::tempdir().unwrap();
        let deep = t.path().join("a/b/c");
        create_dir(&deep).unwrap();
        for d in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode(&t.path().join(d)), 0o700, "{d}");
        }
        let open = t.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, Permissions::from_mode(0o755)).unwrap();
        create_dir(&open).unwrap();
        assert_eq!(mode(&open), 0o700);
        // A chosen, existing parent of a written file is left alone; the
        // directories created for it are private.
        let chosen = t.path().join("chosen");
        fs::create_dir(&chosen).unwrap();
        fs::set_permissions(&chosen, Permissions::from_mode(0o755)).unwrap();
        write(&chosen.join("new/secret"), b"x").unwrap();
        assert_eq!(mode(&chosen), 0o755);
        assert_eq!(mode(&chosen.join("new")), 0o700);
        assert_eq!(mode(&chosen.join("new/secret")), 0o600);
    }

    #[test]
    fn files_are_written_0600_atomically_without_leftovers() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("keys.json");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o644)).unwrap();
        write(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(mode(&p), 0o600);
        let names: Vec<_> = fs::read_dir(t.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn existing_files_are_tightened_but_symlinks_left_alone() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("keystore-file");
        fs::write(&p, b"k").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o644)).unwrap();
        tighten_file(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        let other = t.path().join("other");
        fs::write(&other, b"o").unwrap();
        fs::set_permissions(&other, Permissions::from_mode(0o644)).unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&other, &link).unwrap();
        tighten_file(&link).unwrap();
        assert_eq!(mode(&other), 0o644);
    }

    #[test]
    fn a_symlink_at_the_target_is_replaced_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        fs::write(&victim, b"untouched").unwrap();
        fs::set_permissions(&victim, Permissions::from_mode(0o644)).unwrap();
        let link = t.path().join("nodekey");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write(&link, b"secret").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"untouched");
        assert_eq!(mode(&victim), 0o644);
        let meta = fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_file(), "the symlink was followed");
        assert_eq!(fs::read(&link).unwrap(), b"secret");
        assert_eq!(mode(&link), 0o600);
    }

    #[test]
    fn open_refuses_a_symlink_and_creates_0600() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        open(&p).unwrap();
        assert_eq!(mode(&p), 0o600);
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(open(&link).is_err());
    }

    #[test]
    fn staging_is_private_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let path = {
            let s = Staging::new(t.path()).unwrap();
            assert_eq!(mode(s.path()), 0o700);
            fs::write(s.path().join("f"), b"x").unwrap();
            s.path().to_path_buf()
        };
        assert!(!path.exists());
    }
}
