//! What a network keeps on disk before any node starts: the topology file
//! read and validated, and the genesis, node keys, keystores, password
//! files and test accounts written under the network's directory.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context};

use crate::error::InputError;
use crate::keys;
use crate::plan::Plan;
use crate::private_fs;
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
/// accounts' keys into the network's directory: the directories that hold
/// them 0700 (existing ones are tightened), every file 0600.
pub(crate) fn write_files(plan: &Plan) -> anyhow::Result<()> {
    private_dirs(plan)?;
    for n in &plan.nodes {
        remove_torn_keystores(&n.datadir.join("keystore"))?;
    }
    keys::write_private(
        &plan.genesis_path,
        serde_json::to_string_pretty(&plan.genesis)?.as_bytes(),
    )?;
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
            let pw = plan.key_source.password(&n.name);
            keys::write_private(pw_file, pw.as_bytes())?;
            keys::write_keystore(
                &n.datadir.join("keystore"),
                &n.account,
                &pw,
                &plan.key_source,
            )?;
        } else {
            forget_account(n)?;
        }
    }
    Ok(())
}

/// Removes the keystore files and password a member kept from an older
/// medchain (members then held an unlocked account), so a resumed network
/// holds no account on any node that serves clients.
fn forget_account(n: &crate::plan::NodePlan) -> anyhow::Result<()> {
    if let Some(pw) = n.datadir.parent().map(|d| d.join("password")) {
        if pw.exists() {
            fs::remove_file(&pw).with_context(|| format!("removing {}", pw.display()))?;
        }
    }
    let ks = n.datadir.join("keystore");
    let Ok(entries) = fs::read_dir(&ks) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_file()) {
            fs::remove_file(e.path())
                .with_context(|| format!("removing {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// Removes keystore files that are not whole (a write cut short by a crash
/// on an older medchain, or a disk that lost the tail): not JSON, or
/// without the `address` and `crypto` geth needs. They are derived from the
/// network's seed, so [`keys::write_keystore`] writes them again; every
/// other file here (genesis, node keys, passwords, `keys.json`) is
/// rewritten on each `up` anyway.
fn remove_torn_keystores(dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let p = e.path();
        if !p.is_file() {
            continue;
        }
        let whole = fs::read(&p)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .is_some_and(|j| j["address"].is_string() && j["crypto"].is_object());
        if !whole {
            eprintln!(
                "  {} is not a whole keystore file; writing it again",
                p.display()
            );
            fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}

/// Puts a `.gitignore` that ignores everything into `dir`, a directory of
/// medchain's own holding keys (the compose export), unless one is there.
pub(crate) fn ignore_in_git(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(".gitignore");
    if path.exists() {
        return Ok(());
    }
    fs::write(
        &path,
        "# Written by medchain: node keys, keystores, passwords and test accounts'\n\
         # private keys. Never commit them.\n*\n",
    )
    .with_context(|| format!("writing {}", path.display()))
}

/// Creates (or tightens to) 0700 the network's directory and every
/// directory under it that holds a node's keys.
fn private_dirs(plan: &Plan) -> anyhow::Result<()> {
    private_fs::create_dir(&plan.dir)?;
    private_fs::create_dir(&plan.dir.join("nodes"))?;
    for n in &plan.nodes {
        if let Some(node_dir) = n.datadir.parent() {
            private_fs::create_dir(node_dir)?;
        }
        private_fs::create_dir(&n.datadir)?;
        private_fs::create_dir(&n.datadir.join("geth"))?;
    }
    Ok(())
}

/// The DAGs miners use, by the file name geth gives each (revision 23,
/// seed hash prefix, little-endian machines; while generating one it
/// writes a suffixed temp file) and a block of its epoch. Epoch 1 is there
/// because a miner builds the *next* epoch's DAG in the background from
/// its first block: without it on disk, every miner of every network
/// spent minutes of all cores and 1 GB of writes on a DAG its short run
/// never finished, starving its own node (a CI run saw a partitioned
/// miner include nothing for 120 s while both miners built it).
const DAGS: [(&str, u64); 2] = [
    ("full-R23-0000000000000000", 0),
    ("full-R23-290decd9548b62a8", 30_000),
];

/// Generates the epoch-0 and epoch-1 ethash DAGs once into the shared
/// cache directory, so miners map files instead of each building 1 GB.
/// Awaits `geth makedag` without blocking the runtime's thread (`bench`
/// runs on one), so Ctrl-C is still seen while it works.
pub(crate) async fn ensure_dag(geth: &Path, dir: &Path, progress: &Progress) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, block) in DAGS {
        if dir.join(name).is_file() {
            continue;
        }
        progress.step(format!(
            "generating the shared ethash DAG of block {block} in {} (one time, ~1 GB, a few minutes)",
            dir.display()
        ));
        let out = tokio::process::Command::new(geth)
            .args(["makedag", &block.to_string()])
            .arg(dir)
            .kill_on_drop(true)
            .output()
            .await
            .context("running geth makedag")?;
        if !out.status.success() {
            bail!(
                "geth makedag failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{NodePorts, PlanInputs};
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn plan_in(home: &Path) -> Plan {
        let topo = topology::parse("network: n\nhospitals:\n  - {name: a}\n", "t").unwrap();
        let ports = (0..crate::plan::node_count(&topo) as u16)
            .map(|i| NodePorts {
                http: 9000 + i,
                ws: 9100 + i,
                p2p: 9200 + i,
                authrpc: 9300 + i,
                metrics: 9400 + i,
            })
            .collect();
        crate::plan::plan(
            &topo,
            &PlanInputs {
                key_source: crate::keys::KeySource::Seed(9),
                home: home.to_path_buf(),
                ports,
                dag_dir: home.join("dag"),
            },
        )
    }

    #[test]
    fn keys_are_written_0600_in_0700_directories() {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(t.path());
        // A network directory left 0755 by an older medchain is tightened.
        fs::create_dir_all(plan.dir.join("nodes")).unwrap();
        for d in [&plan.dir, &plan.dir.join("nodes")] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
        }
        write_files(&plan).unwrap();
        let mut dirs = vec![plan.dir.clone(), plan.dir.join("nodes")];
        let mut files = vec![plan.dir.join("keys.json"), plan.genesis_path.clone()];
        for n in &plan.nodes {
            dirs.extend([
                n.datadir.parent().unwrap().to_path_buf(),
                n.datadir.clone(),
                n.datadir.join("geth"),
            ]);
            files.push(n.datadir.join("geth").join("nodekey"));
            // Only sealers hold a keystore (members no account at all).
            let Some(pw) = n.password_file.clone() else {
                assert!(!n.datadir.join("keystore").exists(), "{}", n.name);
                continue;
            };
            dirs.push(n.datadir.join("keystore"));
            files.push(pw);
            for e in fs::read_dir(n.datadir.join("keystore")).unwrap() {
                files.push(e.unwrap().path());
            }
        }
        for d in &dirs {
            assert_eq!(mode(d), 0o700, "{}", d.display());
        }
        for f in &files {
            assert_eq!(mode(f), 0o600, "{}", f.display());
        }
        // Written again (a resumed network): the same, nothing left over.
        write_files(&plan).unwrap();
        assert_eq!(fs::read_dir(&plan.dir).unwrap().count(), 3);
    }

    #[test]
    fn a_member_keystore_left_by_an_older_medchain_is_removed() {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(t.path());
        let member = plan
            .nodes
            .iter()
            .find(|n| n.password_file.is_none())
            .unwrap();
        let ks = member.datadir.join("keystore");
        fs::create_dir_all(&ks).unwrap();
        fs::write(ks.join("UTC--old"), b"{}").unwrap();
        fs::write(member.datadir.parent().unwrap().join("password"), b"pw").unwrap();
        write_files(&plan).unwrap();
        assert_eq!(fs::read_dir(&ks).unwrap().count(), 0);
        assert!(!member.datadir.parent().unwrap().join("password").exists());
    }

    #[test]
    fn a_torn_keystore_is_written_again() {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(t.path());
        write_files(&plan).unwrap();
        let n = &plan.nodes[0];
        let dir = n.datadir.join("keystore");
        let file = fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
        let whole = fs::read(&file).unwrap();
        fs::write(&file, &whole[..whole.len() / 3]).unwrap();
        write_files(&plan).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            json["address"],
            hex::encode(n.account.address),
            "written again"
        );
        assert!(json["crypto"]["ciphertext"].is_string());
    }

    #[test]
    fn a_symlink_planted_at_a_key_path_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(t.path());
        let outside = t.path().join("outside");
        fs::write(&outside, b"not yours").unwrap();
        fs::create_dir_all(&plan.dir).unwrap();
        std::os::unix::fs::symlink(&outside, plan.dir.join("keys.json")).unwrap();
        write_files(&plan).unwrap();
        assert_eq!(fs::read(&outside).unwrap(), b"not yours");
        assert!(fs::symlink_metadata(plan.dir.join("keys.json"))
            .unwrap()
            .is_file());
    }

    #[test]
    fn a_directory_of_keys_is_ignored_by_git() {
        let t = tempfile::tempdir().unwrap();
        ignore_in_git(t.path()).unwrap();
        let text = fs::read_to_string(t.path().join(".gitignore")).unwrap();
        assert!(text.lines().any(|l| l == "*"), "{text}");
    }
}
