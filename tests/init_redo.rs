//! An interrupted `geth init` is redone, on real geth through the process
//! runtime's `init`, on the datadir of a real network brought up and
//! stopped: a complete chain without `.medchain-init-ok` (a network from
//! before the marker) is kept and marked; chain data geth cannot open is
//! never deleted from a node that ran — the error says what to do — and is
//! removed and initialised again on a node that never ran (a torn init).

mod common;

use std::fs;
use std::path::Path;

use medchain::runtime::process::ProcessRuntime;
use medchain::runtime::Runtime;
use medchain::state::State;

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Chain data no geth can open: what an init cut short may leave.
fn tear(chaindata: &Path) {
    fs::remove_dir_all(chaindata).unwrap();
    fs::create_dir_all(chaindata).unwrap();
    fs::write(chaindata.join("CURRENT"), b"MANIFEST-0000\x00\xff garbage").unwrap();
    fs::write(chaindata.join("MANIFEST-0000"), b"\x01\x02 not a manifest").unwrap();
}

#[test]
fn torn_init_is_redone_and_a_chain_that_ran_is_kept() {
    let t = tempfile::tempdir().unwrap();
    let (dir, home) = (t.path(), t.path().join("home"));
    fs::write(
        dir.join("medchain.yaml"),
        "network: init-redo\nblock_period: 1\nhospitals:\n  - {name: a, members: 1}\n",
    )
    .unwrap();
    for args in [&["up", "--no-deploy"][..], &["down"]] {
        let r = common::medchain(dir, &home, args);
        assert_eq!(r.code, 0, "medchain {args:?}: {}", r.stderr);
    }
    let state = State::load(&home, "init-redo").unwrap();
    let (plan, node) = (&state.plan, &state.plan.nodes[0]);
    let marker = node.datadir.join(".medchain-init-ok");
    let chaindata = node.datadir.join("geth/chaindata");
    let init = || block_on(ProcessRuntime.init(&state.geth_path, plan, node));
    assert!(marker.is_file(), "up marks a completed init");

    // A complete chain (blocks sealed) without the marker is initialised
    // again in place — same genesis, nothing lost — and marked.
    fs::remove_file(&marker).unwrap();
    init().unwrap();
    assert!(marker.is_file());

    // Damage on a node that ran (its peer database exists): reported,
    // nothing deleted.
    fs::remove_file(&marker).unwrap();
    tear(&chaindata);
    assert!(node.datadir.join("geth/nodes").exists(), "the node ran");
    let err = format!("{:#}", init().unwrap_err());
    assert!(err.contains("down --purge"), "{err}");
    assert!(chaindata.join("MANIFEST-0000").is_file(), "kept");
    assert!(!marker.exists());

    // The same on a node that never ran: a torn init, removed and redone.
    fs::remove_dir_all(node.datadir.join("geth/nodes")).unwrap();
    let _ = fs::remove_file(node.datadir.join("geth/transactions.rlp"));
    init().unwrap();
    assert!(marker.is_file(), "redone and marked");
    assert!(
        !chaindata.join("MANIFEST-0000").exists(),
        "the torn data is gone"
    );

    let r = common::medchain(dir, &home, &["down", "--purge"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
