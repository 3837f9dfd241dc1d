//! Where `watch` stands, kept across restarts in
//! `<network dir>/watch/checkpoint.json` (0600, replaced atomically after
//! every block): the chain and contract it follows, the last block it
//! processed and the hashes of the blocks before it, which is how it finds
//! where a reorganisation forked.

use std::collections::BTreeMap;
use std::path::Path;

use alloy::primitives::{Address, B256};
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::private_fs;

/// How many processed blocks' hashes are kept: the deepest reorganisation
/// `watch` can follow.
pub const KEPT_BLOCKS: u64 = 256;

/// The follower's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Hash of block 0: another chain (a purged and recreated network)
    /// starts afresh.
    pub genesis: B256,
    /// The MedicalRecords address: a redeployed contract starts afresh.
    pub contract: Address,
    /// The last block processed.
    pub block: u64,
    /// Hashes of the last [`KEPT_BLOCKS`] blocks processed, by number.
    pub recent: BTreeMap<u64, B256>,
}

impl Checkpoint {
    /// A position before block `next` (nothing processed yet).
    pub fn before(genesis: B256, contract: Address, next: u64, parent: B256) -> Checkpoint {
        let block = next.saturating_sub(1);
        Checkpoint {
            genesis,
            contract,
            block,
            recent: BTreeMap::from([(block, parent)]),
        }
    }

    /// The hash of the last block processed.
    pub fn hash(&self) -> Option<B256> {
        self.recent.get(&self.block).copied()
    }

    /// Records that block `n` with `hash` is processed.
    pub fn advance(&mut self, n: u64, hash: B256) {
        self.block = n;
        self.recent.insert(n, hash);
        let floor = n.saturating_sub(KEPT_BLOCKS);
        self.recent.retain(|k, _| *k > floor);
    }

    /// Goes back to block `n`, forgetting the blocks after it.
    pub fn rewind(&mut self, n: u64) {
        self.block = n;
        self.recent.retain(|k, _| *k <= n);
    }

    /// Reads the checkpoint at `path`; `None` when there is none.
    pub fn load(path: &Path) -> anyhow::Result<Option<Checkpoint>> {
        match std::fs::read_to_string(path) {
            Ok(t) => serde_json::from_str(&t).map(Some).with_context(|| {
                format!(
                    "{} is corrupt: move it away and start `watch` with --from-block",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the checkpoint durably (0600, atomic).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        private_fs::write(path, &serde_json::to_vec_pretty(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_keeps_a_bounded_window_and_rewinds() {
        let mut c = Checkpoint::before(B256::ZERO, Address::ZERO, 1, B256::ZERO);
        for n in 1..=300u64 {
            c.advance(n, B256::with_last_byte(n as u8));
        }
        assert_eq!(c.recent.len() as u64, KEPT_BLOCKS);
        c.rewind(290);
        assert_eq!(c.block, 290);
        assert_eq!(c.hash(), Some(B256::with_last_byte(290u64 as u8)));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        c.save(&p).unwrap();
        assert_eq!(Checkpoint::load(&p).unwrap(), Some(c));
        assert_eq!(Checkpoint::load(&dir.path().join("none")).unwrap(), None);
    }
}
