//! What a network keeps on disk before any node starts: the topology file
//! read and validated, and the genesis, node keys, keystores, password
//! files and test accounts written under the network's directory.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context};

use crate::error::InputError;
use crate::keys;
use crate::plan::Plan;
use crate::progress::Progress;
use crate::topology::{self, Topology};

/// Reads and validates the topology file.
pub(crate) fn load_topology(file: &Path) -> anyhow::Result<Topology> {
    let text = fs::read_to_string(file).map_err(|e| {
        InputError::new(format!(
            "{}: cannot read the topology file ({e}); pass -f FILE, or create medchain.yaml (see README)",
            file.display()
        ))
    })?;
    Ok(topology::parse(&text, &file.display().to_string())?)
}

/// Writes genesis, node keys, keystores, password files and the test
/// accounts' keys into the network's directory.
pub(crate) fn write_files(plan: &Plan) -> anyhow::Result<()> {
    fs::create_dir_all(&plan.dir).with_context(|| format!("creating {}", plan.dir.display()))?;
    fs::write(
        &plan.genesis_path,
        serde_json::to_string_pretty(&plan.genesis)?,
    )
    .with_context(|| format!("writing {}", plan.genesis_path.display()))?;
    keys::write_private(
        &plan.dir.join("keys.json"),
        serde_json::to_string_pretty(&super::accounts::accounts_json(plan))?.as_bytes(),
    )?;
    for n in &plan.nodes {
        keys::write_private(
            &n.datadir.join("geth").join("nodekey"),
            hex::encode(n.node_key.secret).as_bytes(),
        )?;
        if let Some(pw_file) = &n.password_file {
            let pw = keys::password(plan.seed, &n.name);
            keys::write_private(pw_file, pw.as_bytes())?;
            keys::write_keystore(&n.datadir.join("keystore"), &n.account, &pw, plan.seed)?;
        }
    }
    Ok(())
}

/// File name geth gives the epoch-0 DAG (revision 23, seed hash prefix) on
/// little-endian machines; while generating it writes a suffixed temp file.
const DAG_EPOCH0: &str = "full-R23-0000000000000000";

/// Generates the epoch-0 ethash DAG once into the shared cache directory,
/// so miners map one file instead of each building 1 GB.
pub(crate) fn ensure_dag(geth: &Path, dir: &Path, progress: &Progress) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ready = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() == DAG_EPOCH0);
    if ready {
        return Ok(());
    }
    progress.step(format!(
        "generating the shared ethash DAG in {} (one time, ~1 GB, a few minutes)",
        dir.display()
    ));
    let out = std::process::Command::new(geth)
        .args(["makedag", "0"])
        .arg(dir)
        .output()
        .context("running geth makedag")?;
    if !out.status.success() {
        bail!(
            "geth makedag failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
