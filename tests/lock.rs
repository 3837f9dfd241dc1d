//! One writer per network, end to end and without geth: while another
//! process holds `$MEDCHAIN_HOME/<network>/lock`, every command that would
//! change the network exits 1 at once with one line naming the network and
//! its holder, and changes nothing; read-only commands still work; once the
//! lock is released (or its holder died) the same command succeeds.

mod common;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use common::medchain;
use medchain::plan::{self, NodePorts, PlanInputs};
use medchain::state::State;

const TOPO: &str = "network: locked\nprivacy: clear\nhospitals:\n  - {name: a, members: 1}\n";

/// Writes the state of a planned, stopped network (no node ever ran), as
/// `up` leaves it after `down`, so `down` and friends have something to act
/// on without geth.
fn stopped_network(home: &Path) -> PathBuf {
    let topo = medchain::topology::parse(TOPO, "medchain.yaml").unwrap();
    let plan = plan::plan(
        &topo,
        &PlanInputs {
            key_source: medchain::keys::KeySource::Seed(3),
            home: home.to_path_buf(),
            ports: (0..2)
                .map(|i| NodePorts {
                    http: 18545 + 2 * i,
                    ws: 18546 + 2 * i,
                    p2p: 40303 + i,
                    authrpc: 18551 + i,
                    metrics: 18600 + i,
                })
                .collect(),
            dag_dir: home.join("dag"),
        },
    );
    let state = State {
        schema: 1,
        runtime: medchain::runtime::Kind::Process,
        geth_path: "/nonexistent/geth".into(),
        plan,
        pids: Default::default(),
        containers: Default::default(),
        contracts: Default::default(),
    };
    let dir = home.join("locked");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    path
}

/// Holds the network's lock from this process, as a running `medchain up`
/// would, with that command recorded as the holder.
fn hold(home: &Path) -> File {
    let f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(home.join("locked").join("lock"))
        .unwrap();
    f.try_lock().expect("the lock is free");
    let me = serde_json::json!({
        "pid": std::process::id(),
        "command": "medchain up -f medchain.yaml",
        "since": "2026-01-02 03:04:05 UTC",
        "since_unix": 1_767_323_045u64,
    });
    fs::write(home.join("locked").join("lock"), me.to_string()).unwrap();
    f
}

/// Every file under `dir` with its contents, to show nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn writers_are_refused_while_another_process_holds_the_network() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("medchain.yaml"), TOPO).unwrap();
    let home = dir.path().join("home");
    let state = stopped_network(&home);
    let held = hold(&home);
    let before = snapshot(&home);
    let want = format!(
        "error: network locked is busy: `medchain up -f medchain.yaml` (pid {}, since 2026-01-02 03:04:05 UTC) is changing it; wait for it to finish, or stop it (kill {}), then run this again",
        std::process::id(),
        std::process::id()
    );
    let writers: &[&[&str]] = &[
        &["down"],
        &["down", "--purge"],
        &["up"],
        &["deploy"],
        &["authorize", "0x00000000000000000000000000000000000000aa"],
        &[
            "records",
            "add",
            "--ssn",
            "1",
            "--heart-rate",
            "70",
            "--spo2",
            "98",
        ],
        &["device", "provision", "--hospital", "a"],
    ];
    for args in writers {
        let r = medchain(dir.path(), &home, args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.trim_end(), want, "{args:?}");
        assert_eq!(snapshot(&home), before, "{args:?} changed the network");
    }
    // Readers take no lock.
    let r = medchain(dir.path(), &home, &["accounts"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = medchain(dir.path(), &home, &["up", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(snapshot(&home), before);

    // Released (its holder gone, the file still naming it): taken over.
    drop(held);
    let r = medchain(dir.path(), &home, &["down"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("network locked: stopped 0 node(s)"));
    assert!(state.is_file());
    let r = medchain(dir.path(), &home, &["down", "--purge"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!home.join("locked").exists());
}

#[test]
fn a_writer_on_a_network_that_does_not_exist_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    stopped_network(&home);
    for args in [
        &["down", "--network", "ghost"][..],
        &["deploy", "--network", "ghost"],
    ] {
        let r = medchain(dir.path(), &home, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("known networks: locked"), "{}", r.stderr);
        assert!(!home.join("ghost").exists(), "{args:?} created the network");
    }
}
