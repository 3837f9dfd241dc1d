//! An interrupted `geth init` is redone, on real geth v1.13.15 through the
//! process runtime's `init`: chain data without `.medchain-init-ok` from a
//! node that never ran is removed and initialised again; a complete chain
//! without the marker (a network from before it) is kept and marked; a
//! node that ran is never deleted — the error says what to do.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use medchain::plan::{self, NodePorts, Plan, PlanInputs};
use medchain::runtime::process::ProcessRuntime;
use medchain::runtime::Runtime;

/// The pinned geth, provisioned like `up` does.
fn geth(home: &Path) -> PathBuf {
    let r = common::medchain(home, home, &["geth", "install", "--version", "1.13.15"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = r
        .stdout
        .split_whitespace()
        .nth(2)
        .expect("geth vX: PATH (…)");
    PathBuf::from(path)
}

fn one_node(home: &Path) -> Plan {
    let topo = medchain::topology::parse(
        "network: init-redo\nhospitals:\n  - {name: a, members: 0}\n",
        "medchain.yaml",
    )
    .unwrap();
    let plan = plan::plan(
        &topo,
        &PlanInputs {
            seed: 11,
            home: home.to_path_buf(),
            ports: vec![NodePorts {
                http: 41545,
                ws: 41546,
                p2p: 41303,
                authrpc: 41551,
            }],
            dag_dir: home.join("dag"),
        },
    );
    fs::create_dir_all(&plan.nodes[0].datadir).unwrap();
    fs::write(
        &plan.genesis_path,
        serde_json::to_vec(&plan.genesis).unwrap(),
    )
    .unwrap();
    plan
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn torn_init_is_redone_and_a_chain_that_ran_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let geth = geth(home);
    let plan = one_node(home);
    let node = &plan.nodes[0];
    let marker = node.datadir.join(".medchain-init-ok");
    let chaindata = node.datadir.join("geth/chaindata");
    let init = || block_on(ProcessRuntime.init(&geth, &plan, node));

    // A clean init is marked.
    init().unwrap();
    assert!(marker.is_file());

    // A complete chain without the marker (created before it existed) is
    // initialised again in place — same genesis, nothing lost — and marked.
    fs::remove_file(&marker).unwrap();
    init().unwrap();
    assert!(marker.is_file());

    // A torn init: chain data geth cannot open, no marker, never ran.
    fs::remove_file(&marker).unwrap();
    fs::remove_dir_all(&chaindata).unwrap();
    fs::create_dir_all(&chaindata).unwrap();
    fs::write(chaindata.join("CURRENT"), b"MANIFEST-0000\x00\xff garbage").unwrap();
    fs::write(chaindata.join("MANIFEST-0000"), b"\x01\x02 not a manifest").unwrap();
    init().unwrap();
    assert!(marker.is_file(), "redone and marked");
    assert!(!fs::read(chaindata.join("CURRENT"))
        .unwrap()
        .ends_with(b"garbage"));

    // The same damage on a node that ran (its peer database exists) is
    // reported, and nothing is deleted.
    fs::remove_file(&marker).unwrap();
    fs::remove_dir_all(&chaindata).unwrap();
    fs::create_dir_all(&chaindata).unwrap();
    fs::write(chaindata.join("CURRENT"), b"MANIFEST-0000\x00\xff garbage").unwrap();
    fs::write(chaindata.join("MANIFEST-0000"), b"\x01\x02 not a manifest").unwrap();
    fs::create_dir_all(node.datadir.join("geth/nodes")).unwrap();
    let err = format!("{:#}", init().unwrap_err());
    assert!(err.contains("down --purge"), "{err}");
    assert!(chaindata.join("CURRENT").is_file(), "kept");
    assert!(!marker.exists());
}
