//! Malformed input never starts anything: each case exits 2 with one clear
//! line first that names the file or flag and the field, and nothing is
//! written (the home directory is not even created).

mod common;

use common::medchain;

/// (topology text, words the first line must contain)
const CASES: &[(&str, &[&str])] = &[
    ("network: [broken\n", &["medchain.yaml:"]),
    (
        "hospitals:\n  - {name: a}\n  - {name: b, docker_host: \"https://10.0.0.2:2376\"}\n",
        &["hospitals[0].advertise", "several Docker engines"],
    ),
    (
        "hospitals:\n  - {name: a, docker_host: \"tcp://10.0.0.2:2376\"}\n",
        &[
            "medchain.yaml: hospitals[0].docker_host:",
            "plaintext Docker endpoint",
            "root on that host",
            "https://10.0.0.2:2376",
            "insecure: true",
        ],
    ),
    (
        "hospitals:\n  - {name: a, docker_host: \"ssh://x\"}\n",
        &["hospitals[0].docker_host", "not a Docker endpoint"],
    ),
    (
        "image: \"geth latest\"\n",
        &["image", "not an image reference"],
    ),
    (
        "networkk: a\n",
        &[
            "medchain.yaml:1:1",
            "unknown key `networkk`",
            "did you mean `network`",
        ],
    ),
    (
        "hospitals:\n  - name: a\n    memberz: 1\n",
        &["medchain.yaml:3:", "did you mean `members`"],
    ),
    ("network: Imss Demo\n", &["network:", "not a valid name"]),
    ("network: ../etc\n", &["network:", "not a valid name"]),
    (
        "hospitals:\n  - name: \"a;rm -rf /\"\n",
        &["hospitals[0].name", "not a valid name"],
    ),
    (
        "hospitals:\n  - name: a\n  - name: a\n",
        &["hospitals[1].name", "used by two hospitals"],
    ),
    (
        "hospitals:\n  - {name: a, sealers: 0}\n  - {name: b, sealers: 0}\n",
        &["sealers", "no hospital has a sealer"],
    ),
    (
        "hospitals:\n  - {name: a, sealers: 0, members: 0}\n",
        &["hospitals[0]", "has no nodes"],
    ),
    (
        "hospitals:\n  - {name: a, members: 0}\n  - {name: b, members: 0}\n",
        &[
            "medchain.yaml: hospitals[*].members: no hospital has a member",
            "sealers serve no clients",
            "`members: 1`",
        ],
    ),
    ("chain_id: 0\n", &["chain_id", "not a valid chain id"]),
    (
        "chain_id: 1\n",
        &[
            "medchain.yaml: chain_id: 1 is the chain id of Ethereum mainnet",
            "replayable",
        ],
    ),
    ("chain_id: -5\n", &["chain_id", "medchain.yaml:1:"]),
    (
        "consensus: raft\n",
        &["consensus", "unknown variant `raft`"],
    ),
    ("peering: star\n", &["peering", "unknown variant `star`"]),
    (
        "gas_limit: 1000\n",
        &["gas_limit", "cannot fit a single transfer"],
    ),
    (
        "gas_limit: 99999999999999\n",
        &["gas_limit", "absurdly large"],
    ),
    ("block_period: 0\n", &["block_period", "1 to 3600"]),
    (
        "consensus: ethash\nblock_period: 5\n",
        &["block_period", "applies only to consensus: clique"],
    ),
    (
        "consensus: ethash\ndifficulty: lots\n",
        &["difficulty", "not a number"],
    ),
    (
        "consensus: clique\ndifficulty: 0x200\n",
        &["difficulty", "applies only to consensus: ethash"],
    ),
    (
        "hospitals:\n  - {name: a, sealers: 40, members: 40}\n",
        &["hospitals", "more than this machine can run"],
    ),
    (
        "hospitals:\n  - {name: a, sealers: two}\n",
        &["medchain.yaml:2:", "sealers"],
    ),
    ("hospitals: []\n", &["hospitals", "the list is empty"]),
    (
        "hospitals: guadalajara\n",
        &["hospitals", "medchain.yaml:1:"],
    ),
    ("accounts: 0\n", &["accounts", "out of range"]),
];

#[test]
fn malformed_topologies_exit_2_and_start_nothing() {
    assert!(CASES.len() >= 15);
    for (yaml, words) in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("medchain.yaml"), yaml).unwrap();
        let home = dir.path().join("home");
        for args in [&["up"][..], &["up", "--dry-run"][..]] {
            let r = medchain(dir.path(), &home, args);
            assert_eq!(
                r.code, 2,
                "{yaml:?} {args:?}: exit {} stderr {}",
                r.code, r.stderr
            );
            let first = r.stderr.lines().next().unwrap_or_default();
            assert!(first.starts_with("error: "), "{yaml:?}: {first}");
            for w in *words {
                assert!(
                    first.contains(w),
                    "{yaml:?}: first line lacks {w:?}: {first}"
                );
            }
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            assert!(!home.exists(), "{yaml:?}: wrote into the home directory");
            let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(
                entries.len(),
                1,
                "{yaml:?}: wrote a file beside the topology"
            );
        }
    }
}

/// medchain controls process nodes over geth's IPC socket: a home so deep
/// that a socket path passes the kernel's limit is refused before anything
/// is written.
#[test]
fn a_home_too_deep_for_ipc_sockets_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("medchain.yaml"), "network: deep\n").unwrap();
    let home = dir.path().join("h".repeat(100));
    let r = medchain(dir.path(), &home, &["up"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("IPC socket")
            && first.contains("107-byte limit")
            && first.contains("shorter MEDCHAIN_HOME"),
        "{first}"
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(!home.exists());
}

#[test]
fn bad_flags_and_missing_things_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cases: &[(&[&str], &str)] = &[
        (&["up"], "cannot read the topology file"),
        (&["up", "-f", "nope.yaml"], "nope.yaml"),
        (&["status"], "no network in"),
        (&["down"], "no network in"),
        (&["logs", "x"], "no network in"),
        (&["accounts"], "no network in"),
        (&["status", "--network", "Bad Name"], "--network"),
        (
            &["geth", "install", "--version", "1.14.0"],
            "--version 1.14.0",
        ),
        (&["up", "--bogus"], "--bogus"),
    ];
    for (args, words) in cases {
        let r = medchain(dir.path(), &home, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(words), "{args:?}: {}", r.stderr);
        assert!(!home.exists(), "{args:?} created the home");
    }
    std::fs::write(dir.path().join("medchain.yaml"), "network: x\n").unwrap();
    let r = medchain(dir.path(), &home, &["up", "--runtime", "kubernetes"]);
    assert_eq!(r.code, 2);
    let r = medchain(dir.path(), &home, &["up", "--geth", "/bin/true"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r
        .stderr
        .lines()
        .next()
        .unwrap()
        .contains("--geth /bin/true"));
    assert!(!home.exists());
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("medchain.yaml"),
        "network: plan-only\npeering: gateway\nhospitals:\n  - {name: a}\n  - {name: b}\n",
    )
    .unwrap();
    let home = dir.path().join("home");
    let r = medchain(dir.path(), &home, &["up", "--dry-run", "--seed", "5"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for w in [
        "a-sealer-0",
        "b-member-0",
        "a-sealer-0 → b-sealer-0",
        "--http.addr 127.0.0.1",
        "enode://",
    ] {
        assert!(r.stdout.contains(w), "plan lacks {w}:\n{}", r.stdout);
    }
    assert!(!home.exists());
    // Deterministic: the same seed plans the same enodes.
    let again = medchain(dir.path(), &home, &["up", "--dry-run", "--seed", "5"]);
    let enodes = |s: &str| {
        s.lines()
            .filter(|l| l.contains("enode://"))
            .map(|l| l.split('@').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(enodes(&r.stdout), enodes(&again.stdout));
    assert!(
        r.stdout.contains("keys: deterministic TEST keys"),
        "{}",
        r.stdout
    );
    // Without a seed, keys come from the OS random generator: two plans of
    // the same file share no key.
    let random = medchain(dir.path(), &home, &["up", "--dry-run"]);
    let random2 = medchain(dir.path(), &home, &["up", "--dry-run"]);
    assert!(random.stdout.contains("keys: from the OS random generator"));
    assert_ne!(enodes(&random.stdout), enodes(&random2.stdout));
    assert_ne!(enodes(&random.stdout), enodes(&r.stdout));
}

/// A file with several mistakes reports them all at once: the first on the
/// `error:` line, each further one on its own indented line, each naming
/// the file and the field. Nothing starts and nothing is written.
#[test]
fn every_mistake_in_a_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "medchain.yaml",
        "chain_id: 0\nhospitals:\n  - {name: a, sealers: 1, members: 0}\n  - {name: a}\n",
    );
    write(
        "scenario.yaml",
        "workers: 0\nrounds:\n  - {label: a, tx_number: 0, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n",
    );
    write("sweep.yaml", "clique: {signers: [0], block_period: [99]}\n");
    let cases: &[(&[&str], [&str; 2])] = &[
        (
            &["up", "--dry-run"],
            [
                "error: medchain.yaml: chain_id: 0 is not a valid chain id",
                "  medchain.yaml: hospitals[1].name: \"a\" is used by two hospitals",
            ],
        ),
        (
            &["bench", "scenario.yaml"],
            [
                "error: scenario.yaml: workers: 0 is out of range",
                "  scenario.yaml: rounds[0].tx_number: 0 is out of range",
            ],
        ),
        (
            &["bench", "scenario.yaml", "--sweep", "sweep.yaml"],
            [
                "error: sweep.yaml: clique.signers[0]: 0 is out of range",
                "  sweep.yaml: clique.block_period[0]: 99 is out of range",
            ],
        ),
    ];
    for (args, want) in cases {
        let r = medchain(dir.path(), &home, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {}", r.stderr);
        for (line, w) in lines.iter().zip(want) {
            assert!(
                line.starts_with(w),
                "{args:?}: {line:?} should start with {w:?}"
            );
        }
        assert!(!home.exists(), "{args:?} created the home");
    }
}

/// A reader that goes away (`medchain up --dry-run | head -0`) is not a
/// failure: the command ends with 0 and says nothing, where `println!`
/// used to panic.
#[test]
fn closed_stdout_pipe_ends_quietly_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("medchain.yaml"), "network: pipe\n").unwrap();
    for _ in 0..3 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_medchain"))
            .current_dir(dir.path())
            .env("MEDCHAIN_HOME", dir.path().join("home"))
            .env("MEDCHAIN_RUNTIME", "process")
            .args(["up", "--dry-run", "--seed", "1"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("medchain binary runs");
        // Close the read end before the plan is printed.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "stderr: {stderr}");
        assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    }
}
