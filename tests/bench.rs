//! `medchain bench` end to end on real geth: a short mixed scenario on a
//! two-hospital network, with the reports, the accuracy of throughput
//! against the chain's own count, and the CI gate both ways.

mod common;

use common::TestNet;

const TOPO: &str = "\
network: bench-e2e
privacy: clear
block_period: 1
hospitals:
  - name: guadalajara
  - name: cairo
";

const MIXED: &str = "\
name: mixed
workers: 3
rounds:
  - label: open
    tx_number: 120
    rate: { type: fixed-rate, tps: 40 }
    workload: { op: open, accounts: 50, initial_amount: 1000 }
  - label: query
    tx_number: 100
    rate: { type: fixed-rate, tps: 50 }
    workload: { op: query }
  - label: transfer
    tx_duration: 4
    rate: { type: fixed-load, in_flight: 20 }
    workload: { op: transfer, amount: 1 }
  - label: ramp
    tx_number: 100
    rate: { type: linear-rate, start_tps: 20, end_tps: 60 }
    workload: { op: transfer }
";

const MEDICAL: &str = "\
name: medical
contract: medical
workers: 2
rounds:
  - { label: open-emr, tx_number: 20, rate: { type: fixed-rate, tps: 20 }, workload: { op: open-emr } }
  - { label: query-emr, tx_number: 20, rate: { type: fixed-rate, tps: 40 }, workload: { op: query-emr } }
  - { label: transfer-emr, tx_number: 20, rate: { type: fixed-rate, tps: 20 }, workload: { op: transfer-emr } }
  - { label: add-record, tx_number: 20, rate: { type: fixed-rate, tps: 20 }, workload: { op: add-record } }
  - { label: get-records, tx_number: 20, rate: { type: fixed-rate, tps: 40 }, workload: { op: get-records } }
";

fn load(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn mixed_scenario_reports_and_gates() {
    let net = TestNet::new(TOPO);
    std::fs::write(net.dir.path().join("mixed.yaml"), MIXED).unwrap();
    std::fs::write(net.dir.path().join("medical.yaml"), MEDICAL).unwrap();
    net.ok(&["up", "--seed", "9", "--quiet"]);

    let json = net.dir.path().join("r.json");
    let html = net.dir.path().join("r.html");
    let out = net.ok(&[
        "bench",
        "mixed.yaml",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "-q",
    ]);
    for col in [
        "Name",
        "Succ",
        "Fail",
        "Send Rate (TPS)",
        "Max Latency (s)",
        "Min Latency (s)",
        "Avg Latency (s)",
        "Throughput (TPS)",
    ] {
        assert!(
            out.stdout.contains(col),
            "table lacks {col}:\n{}",
            out.stdout
        );
    }
    let r = load(&json);
    assert_eq!(r["schema"], 1);
    assert_eq!(r["network"], "bench-e2e");
    assert_eq!(r["scenario"], "mixed");
    let rounds = r["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 4);
    for round in rounds {
        assert_eq!(round["fail"], 0, "{round}");
        assert!(round["succ"].as_u64().unwrap() > 0);
        let (min, avg, max) = (
            round["min_latency_s"].as_f64().unwrap(),
            round["avg_latency_s"].as_f64().unwrap(),
            round["max_latency_s"].as_f64().unwrap(),
        );
        assert!(min > 0.0 && min <= avg && avg <= max, "{round}");
        assert!(round["p95_latency_s"].as_f64().unwrap() <= max + 1e-3);
    }
    assert_eq!(rounds[0]["succ"], 120);
    assert_eq!(rounds[1]["succ"], 100);
    // Writes are on chain: the chain counts them, reads are round trips.
    for i in [0, 2, 3] {
        assert!(rounds[i]["onchain_tps"].as_f64().unwrap() > 0.0);
        assert!(rounds[i]["chain"]["blocks"].as_u64().unwrap() >= 1);
    }
    assert!(
        rounds[1]["max_latency_s"].as_f64().unwrap() < 1.0,
        "a query is a round trip"
    );
    // Inclusion latency on a 1 s Clique chain: at least one block wait on average.
    assert!(rounds[0]["avg_latency_s"].as_f64().unwrap() > 0.2);
    // Node resource figures come from /proc for every node.
    let res = r["resources"].as_array().unwrap();
    assert_eq!(res.len(), 4);
    assert!(res.iter().all(|n| n["mem_max_mb"].as_f64().unwrap() > 10.0));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("transfer"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the HTML must work offline"
    );

    // The gate passes against a baseline somewhat worse than this run and
    // fails against a far better one. The gate runs the scenario again,
    // and a 3 s write round's p95 moves by whole block periods: on the
    // loaded 2-core test machine one late block took the open round's p95
    // from 2.00 s to 3.98 s between two runs, so the run itself, with 60 %
    // slack, is no stable baseline.
    let mut worse = r.clone();
    for round in worse["rounds"].as_array_mut().unwrap() {
        round["throughput_tps"] =
            serde_json::json!(round["throughput_tps"].as_f64().unwrap() / 2.0);
        round["p95_latency_s"] = serde_json::json!(round["p95_latency_s"].as_f64().unwrap() * 3.0);
    }
    let own = net.dir.path().join("own.json");
    std::fs::write(&own, worse.to_string()).unwrap();
    let pass = net.run(&[
        "bench",
        "mixed.yaml",
        "--baseline",
        own.to_str().unwrap(),
        "--max-regression",
        "60",
        "-q",
    ]);
    assert_eq!(pass.code, 0, "{}\n{}", pass.stdout, pass.stderr);
    let mut better = r.clone();
    for round in better["rounds"].as_array_mut().unwrap() {
        round["throughput_tps"] =
            serde_json::json!(round["throughput_tps"].as_f64().unwrap() * 10.0);
        round["p95_latency_s"] = serde_json::json!(round["p95_latency_s"].as_f64().unwrap() / 10.0);
    }
    let better_path = net.dir.path().join("better.json");
    std::fs::write(&better_path, better.to_string()).unwrap();
    let fail = net.run(&[
        "bench",
        "mixed.yaml",
        "--baseline",
        better_path.to_str().unwrap(),
        "--max-regression",
        "10",
        "-q",
    ]);
    assert_eq!(fail.code, 1, "{}\n{}", fail.stdout, fail.stderr);
    assert!(fail.stdout.contains("REGRESSED"), "{}", fail.stdout);

    // MedicalRecords ops, with workers as hospitals, readers and devices.
    let mj = net.dir.path().join("m.json");
    net.ok(&[
        "bench",
        "medical.yaml",
        "--json",
        mj.to_str().unwrap(),
        "-q",
    ]);
    let m = load(&mj);
    for round in m["rounds"].as_array().unwrap() {
        assert_eq!(round["fail"], 0, "{round}");
        assert_eq!(round["succ"], 20, "{round}");
    }
}

#[test]
fn malformed_scenarios_exit_2_before_anything_runs() {
    let net = TestNet::new(TOPO);
    let cases = [
        ("rounds: []\n", "rounds: the list is empty"),
        ("rounds:\n  - {label: a, tx_number: 5, tx_duration: 3, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "both tx_number and tx_duration"),
        ("rounds:\n  - {label: a, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "neither tx_number nor tx_duration"),
        ("rounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: -1}, workload: {op: query}}\n", "tps -1"),
        ("rounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: mint}}\n", "unknown variant `mint`"),
        ("workers: 0\nrounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "workers: 0"),
        ("target: \"Bad Node\"\nrounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "target"),
        // Sealers serve no clients: refused with the field, what is
        // expected and what to do.
        ("target: sealers\nrounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "bad.yaml: target: sealers: expected members or a member's name: sealers serve no clients (they open no RPC port, only IPC); use `target: members`"),
        ("target: all\nrounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n", "bad.yaml: target: all: expected members or a member's name"),
    ];
    for (yaml, words) in cases {
        std::fs::write(net.dir.path().join("bad.yaml"), yaml).unwrap();
        let r = net.run(&["bench", "bad.yaml"]);
        assert_eq!(r.code, 2, "{yaml}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains("bad.yaml") && first.contains(words),
            "{yaml}: {first}"
        );
        assert!(
            !net.home().exists(),
            "a malformed scenario started a network"
        );
    }
    let r = net.run(&["bench", "missing.yaml"]);
    assert_eq!(r.code, 2);
    std::fs::write(net.dir.path().join("ok.yaml"), "rounds:\n  - {label: a, tx_number: 5, rate: {type: fixed-rate, tps: 1}, workload: {op: query}}\n").unwrap();
    std::fs::write(net.dir.path().join("junk.json"), "{\"not\": \"a report\"}").unwrap();
    let r = net.run(&[
        "bench",
        "ok.yaml",
        "--baseline",
        "junk.json",
        "--max-regression",
        "5",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("junk.json"));
    assert!(!net.home().exists());
}

/// One Clique sealer and the member clients use: the endpoint `--rpc`
/// drives, brought up as a user would bring up any node.
const RPC_TOPO: &str = "\
network: bench-rpc
privacy: clear
block_period: 1
hospitals:
  - name: guadalajara
    sealers: 1
    members: 1
";

/// Two write rounds long enough (≈ 8 s each) for the driver's throughput
/// and the chain's own count to agree closely, and a read round.
const RPC_SCENARIO: &str = "\
name: external
workers: 2
rounds:
  - label: open
    tx_number: 240
    rate: { type: fixed-rate, tps: 30 }
    workload: { op: open, accounts: 40, initial_amount: 1000 }
  - label: query
    tx_number: 60
    rate: { type: fixed-rate, tps: 30 }
    workload: { op: query }
  - label: transfer
    tx_number: 240
    rate: { type: fixed-rate, tps: 30 }
    workload: { op: transfer, amount: 1 }
";

/// `bench --rpc URL --ws URL --key K` drives an endpoint it did not start:
/// it deploys its own contracts, funds its workers from the key, runs every
/// round without failures, and leaves the network alone (no state of its
/// own, nothing brought up, nothing torn down).
#[test]
fn rpc_drives_an_endpoint_it_did_not_start() {
    let net = TestNet::new(RPC_TOPO);
    std::fs::write(net.dir.path().join("rpc.yaml"), RPC_SCENARIO).unwrap();
    net.ok(&["up", "--seed", "11", "--no-deploy", "--quiet"]);
    let status = net.status();
    let node = &status["nodes"][1];
    let (rpc_url, ws_url) = (node["rpc"].as_str().unwrap(), node["ws"].as_str().unwrap());
    let accounts: serde_json::Value =
        serde_json::from_str(&net.ok(&["accounts", "--json"]).stdout).unwrap();
    let key = accounts["accounts"][0]["private_key"].as_str().unwrap();
    let pids_before = net.state("bench-rpc")["pids"].clone();

    // geth serves WebSocket on its own port: without --ws the run stops at
    // once and says so, before deploying or funding anything.
    let r = net.run(&["bench", "rpc.yaml", "--rpc", rpc_url, "--key", key, "-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("--ws") && first.contains("pass --ws URL"),
        "{first}"
    );

    // Run from a directory with no topology file and an empty home: a run
    // that tried to bring up a network of its own would fail or leave state.
    let elsewhere = tempfile::tempdir().unwrap();
    let home = elsewhere.path().join("home");
    std::fs::write(elsewhere.path().join("rpc.yaml"), RPC_SCENARIO).unwrap();
    let json = elsewhere.path().join("out.json");
    let r = common::medchain(
        elsewhere.path(),
        &home,
        &[
            "bench",
            "rpc.yaml",
            "--rpc",
            rpc_url,
            "--ws",
            ws_url,
            "--key",
            key,
            "--json",
            json.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(!home.exists(), "--rpc wrote medchain state");
    assert!(
        !r.stderr.contains("tearing down") && !r.stderr.contains("bringing up"),
        "{}",
        r.stderr
    );

    let report = load(&json);
    assert_eq!(report["network"], "external");
    assert_eq!(report["consensus"], "external");
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    for (round, want) in rounds.iter().zip([240, 60, 240]) {
        assert_eq!(round["fail"], 0, "{round}");
        assert_eq!(round["succ"], want, "{round}");
    }
    for i in [0, 2] {
        let (thr, chain) = (
            rounds[i]["throughput_tps"].as_f64().unwrap(),
            rounds[i]["onchain_tps"].as_f64().unwrap(),
        );
        assert!(
            chain > 0.0 && (thr - chain).abs() <= 0.02 * chain,
            "round {}: throughput {thr} vs on-chain {chain}",
            rounds[i]["label"]
        );
    }

    // The network is as it was: same processes, all up, still sealing.
    assert_eq!(net.state("bench-rpc")["pids"], pids_before);
    for pid in pids_before.as_object().unwrap().values() {
        assert!(common::alive(pid.as_u64().unwrap()), "node {pid} stopped");
    }
    let after = net.status();
    assert!(after["nodes"][0]["up"].as_bool().unwrap());
    assert!(after["nodes"][0]["block"].as_u64() > node["block"].as_u64());
    // --rpc deploys its own contracts and does not record them in the network's state.
    assert_eq!(after["contracts"], status["contracts"]);
}

/// `--rpc` input errors: a malformed URL or scheme is bad input (exit 2,
/// before anything runs); a well-formed endpoint that does not answer, or a
/// WebSocket endpoint that does not, fails the run (exit 1) with one line
/// naming the flag. Nothing is brought up and no state is written.
#[test]
fn rpc_refuses_bad_urls_and_unreachable_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::write(dir.path().join("s.yaml"), RPC_SCENARIO).unwrap();
    let key = format!("0x{}", "42".repeat(32));
    let key = key.as_str();
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{closed}");
    let unreachable = unreachable.as_str();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["--rpc", "garbage", "--key", key],
            2,
            "--rpc \"garbage\": not a URL",
        ),
        (
            &["--rpc", "ftp://127.0.0.1:8545", "--key", key],
            2,
            "scheme \"ftp\"",
        ),
        (
            &[
                "--rpc",
                unreachable,
                "--ws",
                "http://127.0.0.1:1",
                "--key",
                key,
            ],
            2,
            "--ws",
        ),
        (&["--rpc", unreachable], 2, "--rpc needs --key"),
        (&["--rpc", unreachable, "--key", "0x12"], 2, "--key"),
        (
            &["--rpc", unreachable, "--key", key],
            1,
            "no JSON-RPC answer",
        ),
    ];
    for (flags, code, words) in cases {
        let mut args = vec!["bench", "s.yaml"];
        args.extend_from_slice(flags);
        let start = std::time::Instant::now();
        let r = common::medchain(dir.path(), &home, &args);
        assert_eq!(r.code, code, "{flags:?}: {}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(first.contains(words), "{flags:?}: {first}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "{flags:?} took {:?}",
            start.elapsed()
        );
        assert!(!home.exists(), "{flags:?} wrote medchain state");
    }
}

const FLEET: &str = "\
name: fleet
contract: medical
workers: 1
rounds:
  - label: fleet
    tx_duration: 10
    workload: { op: device-fleet, devices: 20, interval_s: 2, jitter: 0.1 }
";

/// `addMedicalRecord` calls to `contract` in blocks `from..=to`, as
/// (sender, patient, sequence).
fn records_on_chain(
    url: &str,
    contract: alloy::primitives::Address,
    from: u64,
    to: u64,
) -> Vec<(alloy::primitives::Address, alloy::primitives::B256, u64)> {
    use alloy::sol_types::SolCall;
    let mut out = Vec::new();
    for n in from..=to {
        let b = common::rpc(
            url,
            "eth_getBlockByNumber",
            serde_json::json!([format!("{n:#x}"), true]),
        );
        for t in b["transactions"].as_array().cloned().unwrap_or_default() {
            let to_addr: Option<alloy::primitives::Address> =
                t["to"].as_str().and_then(|a| a.parse().ok());
            if to_addr != Some(contract) {
                continue;
            }
            let input = hex::decode(t["input"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            if let Ok(c) =
                medchain::contract::MedicalRecords::addMedicalRecordCall::abi_decode(&input)
            {
                out.push((
                    t["from"].as_str().unwrap().parse().unwrap(),
                    c.patient,
                    c.sequence,
                ));
            }
        }
    }
    out
}

#[test]
fn device_fleet_round_lands_every_reading_in_sequence() {
    use std::collections::BTreeMap;
    let net = TestNet::new(TOPO);
    std::fs::write(net.dir.path().join("fleet.yaml"), FLEET).unwrap();
    net.ok(&["up", "--seed", "11", "--quiet"]);
    let json = net.dir.path().join("f.json");
    let out = net.ok(&[
        "bench",
        "fleet.yaml",
        "--json",
        json.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.stdout.contains("### Device fleet ###"),
        "{}",
        out.stdout
    );
    let r = load(&json);
    let round = &r["rounds"][0];
    let fleet = &round["fleet"];
    assert_eq!(round["op"], "device-fleet");
    assert_eq!(round["fail"], 0, "{round}");
    assert_eq!(fleet["devices"], 20);
    let sent = fleet["readings_sent"].as_u64().unwrap();
    let due = fleet["readings_due"].as_u64().unwrap();
    // 20 devices × 10 s ÷ 2 s = 100 readings, give or take the jitter.
    assert!((85..=115).contains(&due), "{fleet}");
    assert_eq!(sent, due, "every due reading sent: {fleet}");
    assert_eq!(fleet["readings_late"], 0, "{fleet}");
    assert_eq!(round["succ"].as_u64().unwrap(), sent, "{round}");
    assert!(fleet["connections"].as_u64().unwrap() >= sent);
    assert!(round["p95_latency_s"].as_f64().unwrap() > 0.0);
    assert!(round["onchain_tps"].as_f64().unwrap() > 0.0);

    // On chain: exactly the reported readings, 20 senders, each with its
    // own patient and sequences 1..=k without a gap, as the contract stores them.
    let state = medchain::state::State::load(&net.home(), "bench-e2e").unwrap();
    let url = state
        .plan
        .nodes
        .iter()
        .find_map(|n| n.rpc_url())
        .expect("a member");
    let mr = state.contracts["medical_records"];
    let first = round["chain"]["first_block"].as_u64().unwrap();
    let last = round["chain"]["last_block"].as_u64().unwrap();
    let seen = records_on_chain(&url, mr, first.saturating_sub(1), last + 2);
    assert_eq!(seen.len() as u64, sent, "readings on chain = reported");
    let mut per_device: BTreeMap<_, Vec<(alloy::primitives::B256, u64)>> = BTreeMap::new();
    for (from, patient, seq) in seen {
        per_device.entry(from).or_default().push((patient, seq));
    }
    assert_eq!(per_device.len(), 20);
    let admin = state.plan.accounts[0].signer();
    let c = medchain::contract::MedicalRecords::new(
        mr,
        medchain::contract::signing_provider(&url, &admin).unwrap(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (device, readings) in per_device {
        let patient = readings[0].0;
        assert!(
            readings.iter().all(|(p, _)| *p == patient),
            "one patient per device"
        );
        let stored = rt.block_on(async {
            c.getMedicalRecords(
                patient,
                alloy::primitives::U256::ZERO,
                alloy::primitives::U256::from(1000),
            )
            .from(admin.address())
            .call()
            .await
            .unwrap()
        });
        let k = readings.len() as u64;
        assert_eq!(
            stored.iter().map(|r| r.sequence).collect::<Vec<_>>(),
            (1..=k).collect::<Vec<_>>(),
            "device {device:#x}: sequences 1..={k}, no gap"
        );
        assert!(stored.iter().all(|r| r.device == device));
    }
}
