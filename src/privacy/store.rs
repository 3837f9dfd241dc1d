//! Where sealed documents live: any content-addressed blob store.
//!
//! The interface is two calls, so an IPFS node's HTTP API (`/api/v0/add`
//! with `raw-leaves=true&cid-version=1`, `/api/v0/block/get`) or an
//! S3-compatible bucket keyed by CID can stand behind it where a hospital
//! runs one:
//! - `put(bytes)` stores the bytes and answers their CID (the raw sha2-256
//!   CIDv1 of exactly those bytes, see [`super::content_id`]); putting the
//!   same bytes twice is harmless;
//! - `get(cid)` answers the bytes, and every implementation checks them
//!   against the CID before handing them out ([`verified`]), so a store
//!   that altered, truncated or swapped a blob is caught, whoever runs it.
//!
//! A store sees only ciphertext: confidentiality never rests on it, only
//! availability does. The embedded default, [`FileStore`], keeps one file
//! per CID under the network's directory (0600 files in a 0700 directory).

use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cid::Cid;

use super::content_id;
use crate::private_fs;

/// A content-addressed store of sealed documents.
pub trait BlobStore {
    /// Stores `bytes` and returns their CID.
    fn put(&self, bytes: &[u8]) -> impl Future<Output = anyhow::Result<Cid>> + Send;
    /// The bytes stored under `cid`, checked against it.
    fn get(&self, cid: &Cid) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send;
}

/// `bytes` when they are what `cid` addresses, else an error naming the
/// CID and `place` (where they were read from).
pub fn verified(cid: &Cid, bytes: Vec<u8>, place: &str) -> anyhow::Result<Vec<u8>> {
    let found = content_id::of(&bytes);
    if found != *cid {
        anyhow::bail!(
            "{place}: the bytes stored for {cid} hash to {found}: altered or corrupt, not used"
        );
    }
    Ok(bytes)
}

/// The embedded store: `<network dir>/store/<cid>`.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// The store of the network whose directory is `network_dir`, created
    /// 0700 when missing.
    pub fn open(network_dir: &Path) -> anyhow::Result<Self> {
        let dir = network_dir.join("store");
        private_fs::create_dir(&dir)?;
        Ok(Self { dir })
    }

    /// The file that holds `cid`'s bytes.
    pub fn path_of(&self, cid: &Cid) -> PathBuf {
        self.dir.join(cid.to_string())
    }

    /// [`BlobStore::put`] without a future: the bench's send path seals
    /// and stores in a synchronous step.
    pub fn put_sync(&self, bytes: &[u8]) -> anyhow::Result<Cid> {
        let cid = content_id::of(bytes);
        let path = self.path_of(&cid);
        // Already there and intact: nothing to write.
        if std::fs::read(&path).is_ok_and(|b| b == bytes) {
            return Ok(cid);
        }
        private_fs::write(&path, bytes)?;
        Ok(cid)
    }

    /// [`BlobStore::get`] without a future (checked against `cid` too).
    pub fn get_sync(&self, cid: &Cid) -> anyhow::Result<Vec<u8>> {
        if content_id::digest(cid).is_none() {
            anyhow::bail!("{cid} is not a raw sha2-256 CIDv1, the only kind medchain stores");
        }
        let path = self.path_of(cid);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("{cid} is not in the store ({})", path.display()))?;
        verified(cid, bytes, &path.display().to_string())
    }
}

impl BlobStore for FileStore {
    fn put(&self, bytes: &[u8]) -> impl Future<Output = anyhow::Result<Cid>> + Send {
        std::future::ready(self.put_sync(bytes))
    }

    fn get(&self, cid: &Cid) -> impl Future<Output = anyhow::Result<Vec<u8>>> + Send {
        std::future::ready(self.get_sync(cid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn stored_bytes_come_back_by_cid_private_and_checked() {
        let net = tempfile::tempdir().unwrap();
        let store = FileStore::open(net.path()).unwrap();
        let cid = store.put(b"sealed bytes").await.unwrap();
        assert_eq!(cid, content_id::of(b"sealed bytes"));
        assert_eq!(store.put(b"sealed bytes").await.unwrap(), cid);
        assert_eq!(store.get(&cid).await.unwrap(), b"sealed bytes");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&net.path().join("store")), 0o700);
        assert_eq!(mode(&store.path_of(&cid)), 0o600);

        // One flipped byte on disk is caught, not handed out.
        let mut bytes = std::fs::read(store.path_of(&cid)).unwrap();
        bytes[0] ^= 1;
        std::fs::write(store.path_of(&cid), &bytes).unwrap();
        let e = store.get(&cid).await.unwrap_err().to_string();
        assert!(e.contains("altered or corrupt"), "{e}");

        let missing = content_id::of(b"never stored");
        let e = store.get(&missing).await.unwrap_err().to_string();
        assert!(e.contains("is not in the store"), "{e}");
    }
}
