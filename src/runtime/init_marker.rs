//! Whether a local datadir's `geth init` finished, and what to do when it
//! may not have.
//!
//! After a successful `geth init` the process runtime writes
//! [`MARKER`] into the datadir (durably, after geth exited 0). The rule on
//! the next `up`:
//!
//! - no `geth/chaindata`: initialise, then mark;
//! - chaindata and the marker: initialised, nothing to do;
//! - chaindata without the marker — an init that was interrupted, or a
//!   network created before the marker existed: run `geth init` again.
//!   That is safe on a complete chain (geth checks the stored genesis
//!   against the file and never rewrites existing blocks) and completes an
//!   interrupted one; on success, mark.
//! - if that init fails and the node never ran (no `geth/nodes` peer
//!   database and no `geth/transactions.rlp` journal, which only a started
//!   geth writes), the chaindata can only be a torn init: it is removed and
//!   initialised afresh. A node that ran keeps its data, and the failure is
//!   reported with what to do, never deleted.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::private_fs;

/// The file that says a datadir's `geth init` completed.
pub(crate) const MARKER: &str = ".medchain-init-ok";

/// What `init` has to do for a datadir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitNeed {
    /// No chain yet: initialise.
    Fresh,
    /// Initialised and marked: nothing.
    Done,
    /// Chaindata without the marker: initialise again (idempotent), and
    /// on failure see [`may_discard`].
    Unconfirmed,
}

fn chaindata(datadir: &Path) -> PathBuf {
    datadir.join("geth").join("chaindata")
}

/// What a datadir needs.
pub(crate) fn need(datadir: &Path) -> InitNeed {
    match (chaindata(datadir).exists(), datadir.join(MARKER).is_file()) {
        (false, _) => InitNeed::Fresh,
        (true, true) => InitNeed::Done,
        (true, false) => InitNeed::Unconfirmed,
    }
}

/// Records that `geth init` completed in `datadir`.
pub(crate) fn mark(datadir: &Path) -> anyhow::Result<()> {
    private_fs::replace_durably(&datadir.join(MARKER), b"geth init completed\n")
}

/// Whether a datadir whose init failed never ran a node, so its chaindata
/// can only be what an interrupted init left.
pub(crate) fn may_discard(datadir: &Path) -> bool {
    let g = datadir.join("geth");
    !g.join("nodes").exists() && !g.join("transactions.rlp").exists()
}

/// Removes a torn init's chain data (chaindata with its ancient store, and
/// the light chain some versions create).
pub(crate) fn discard(datadir: &Path) -> anyhow::Result<()> {
    for d in ["chaindata", "lightchaindata"] {
        let p = datadir.join("geth").join(d);
        if p.exists() {
            fs::remove_dir_all(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_follows_chaindata_marker_and_traces_of_a_run() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        assert_eq!(need(d), InitNeed::Fresh);
        fs::create_dir_all(chaindata(d)).unwrap();
        assert_eq!(need(d), InitNeed::Unconfirmed);
        assert!(may_discard(d));
        mark(d).unwrap();
        assert_eq!(need(d), InitNeed::Done);
        fs::create_dir_all(d.join("geth/nodes")).unwrap();
        assert!(!may_discard(d), "a node that ran is never discarded");
        discard(d).unwrap();
        assert!(!chaindata(d).exists());
    }
}
