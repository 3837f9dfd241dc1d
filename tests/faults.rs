//! Faults on real geth (process runtime): a scenario's `faults:` timeline
//! and `medchain fault` by hand, with the recovery figures the report
//! gives. Clique needs ⌊N/2⌋+1 live signers: with 2 signers a stopped one
//! halts the chain until it returns; with 3 the chain goes on. A hospital
//! partitioned from two others and healed converges on one head.

mod common;

use common::TestNet;
use serde_json::Value;

/// Block period of every network here, seconds.
const PERIOD: f64 = 1.0;

/// The report's `recovery` of round `i`.
fn recovery(report: &Value, i: usize) -> &Value {
    let r = &report["rounds"][i]["recovery"];
    assert!(r.is_object(), "round {i} has no recovery figures: {report}");
    r
}

/// Runs `scenario` on `net` and returns the JSON report.
/// How many nodes `status` reports up, with the status for messages.
fn nodes_up(net: &TestNet) -> (usize, Value) {
    let status = net.status();
    let up = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["up"] == true)
        .count();
    (up, status)
}

fn bench(net: &TestNet, scenario: &str) -> Value {
    let file = net.dir.path().join("faults.yaml");
    std::fs::write(&file, scenario).unwrap();
    let json = net.dir.path().join("report.json");
    net.ok(&[
        "bench",
        file.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[test]
fn a_stopped_signer_of_two_halts_the_chain_until_it_returns() {
    let net = TestNet::new(
        "network: faults-two\nblock_period: 1\nhospitals:\n  - name: lyon\n    sealers: 2\n    members: 1\n",
    );
    net.ok(&["up", "--seed", "21", "--quiet"]);
    let report = bench(
        &net,
        "name: two-signers\nworkers: 2\nrounds:\n  - label: open\n    tx_duration: 16\n    rate: { type: fixed-rate, tps: 10 }\n    workload: { op: open, accounts: 200, initial_amount: 1000 }\n    faults:\n      - { at: 3, action: stop, target: lyon-sealer-1 }\n      - { at: 9, action: resume, target: lyon-sealer-1 }\n",
    );
    let rec = recovery(&report, 0);
    let f = &rec["faults"][0];
    assert_eq!(f["action"], "stop", "{rec}");
    assert_eq!(f["ended_by"], "resume", "{rec}");
    assert_eq!(f["halted"], true, "1 of 2 signers cannot seal: {rec}");
    assert!(
        f["longest_stall_s"].as_f64().unwrap() > 3.0 * PERIOD,
        "{rec}"
    );
    let again = f["blocks_again_s"]
        .as_f64()
        .expect("blocks again after the signer returned");
    // The resumed signer first catches up with its peers, then seals at
    // once: within the target of 3 block periods.
    assert!(again <= 3.0 * PERIOD, "blocks again after {again} s: {rec}");
    assert!(f["one_head_s"].as_f64().unwrap() <= 30.0, "{rec}");
    assert_eq!(rec["lost_txs"], 0, "{rec}");
    assert!(f["after"]["committed"].as_u64().unwrap() > 0, "{rec}");
    // The resumed signer is recorded, so status sees every node up.
    let (up, status) = nodes_up(&net);
    assert_eq!(up, 3, "{status}");
}

#[test]
fn three_hospitals_survive_a_partition_and_a_stopped_signer() {
    let net = TestNet::new(
        "network: faults-three\nblock_period: 1\nhospitals:\n  - name: a\n    sealers: 1\n    members: 1\n  - name: b\n    sealers: 1\n    members: 0\n  - name: c\n    sealers: 1\n    members: 0\n",
    );
    net.ok(&["up", "--seed", "22", "--quiet"]);
    let report = bench(
        &net,
        "name: three\nworkers: 2\nrounds:\n  - label: split\n    tx_duration: 16\n    rate: { type: fixed-rate, tps: 10 }\n    workload: { op: open, accounts: 200, initial_amount: 1000 }\n    faults:\n      - { at: 3, action: partition, hospital: a }\n      - { at: 8, action: heal }\n  - label: stop\n    tx_duration: 10\n    rate: { type: fixed-rate, tps: 10 }\n    workload: { op: query }\n    faults:\n      - { at: 2, action: stop, target: c-sealer-0 }\n",
    );
    let split = recovery(&report, 0);
    let f = &split["faults"][0];
    assert_eq!(
        (f["action"].as_str(), f["ended_by"].as_str()),
        (Some("partition"), Some("heal")),
        "{split}"
    );
    let one = f["one_head_s"].as_f64().expect("one head after the heal");
    assert!(one <= 30.0, "one head {one} s after the heal: {split}");
    assert_eq!(split["lost_txs"], 0, "{split}");
    // b and c (2 of 3 signers) kept sealing while a was apart.
    assert_eq!(f["halted"], false, "{split}");
    let stop = recovery(&report, 1);
    let g = &stop["faults"][0];
    assert_eq!(g["action"], "stop", "{stop}");
    assert_eq!(g["halted"], false, "2 of 3 signers keep sealing: {stop}");
    assert!(g["ended_by"].is_null(), "{stop}");
    // By hand: the stopped signer comes back and every node agrees again.
    let r = net.ok(&["fault", "resume", "c-sealer-0"]);
    assert!(
        r.stdout
            .starts_with("resume: c-sealer-0: started and rejoined"),
        "{}",
        r.stdout
    );
    let (up, status) = nodes_up(&net);
    assert_eq!(up, 4, "{status}");
}

#[test]
fn bad_faults_exit_2_naming_the_field_before_anything_runs() {
    let net = TestNet::new(
        "network: faults-bad\nhospitals:\n  - name: lyon\n    sealers: 1\n    members: 1\n",
    );
    let file = net.dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "rounds:\n  - label: r\n    tx_duration: 5\n    rate: { type: fixed-rate, tps: 1 }\n    workload: { op: open }\n    faults:\n      - { at: 9, action: stop, target: lyon-sealer-0 }\n      - { at: 1, action: delay, target: lyon-sealer-0 }\n      - { at: 1, action: heal, target: lyon-sealer-0 }\n",
    )
    .unwrap();
    let r = net.run(&["bench", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("rounds[0].faults[0].at: 9 is out of range"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("rounds[0].faults[1].ms: missing: milliseconds"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("rounds[0].faults[2].target: heal restores"),
        "{}",
        r.stderr
    );
    assert!(!net.home().join("faults-bad").exists(), "nothing may start");
    let r = net.run(&["fault", "explode", "x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ACTION: \"explode\": expected one of kill"),
        "{}",
        r.stderr
    );
}
