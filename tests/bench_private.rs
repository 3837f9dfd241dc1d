//! `medchain bench`'s records workloads on the private path (issue 14), on
//! real geth: a private network (no `privacy: clear` anywhere) runs an
//! `add-record` round and a `get-records` round; the reports say the
//! private layout was measured; the successes are what the chain holds;
//! no value written is in any transaction input; the custodian reads the
//! values back with `records get`.

mod common;

use alloy::primitives::keccak256;
use common::{rpc, TestNet};
use serde_json::{json, Value};

const TOPO: &str = "\
network: bench-private
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 0, members: 1}
";

const WRITES: u64 = 40;
const READS: u64 = 16;

/// Two workers × two accounts: four devices, two patients per hospital.
fn scenario() -> String {
    format!(
        "\
name: private-records
workers: 2
accounts_per_worker: 2
rounds:
  - {{ label: add, tx_number: {WRITES}, rate: {{ type: fixed-rate, tps: 20 }}, workload: {{ op: add-record }} }}
  - {{ label: get, tx_number: {READS}, rate: {{ type: fixed-rate, tps: 20 }}, workload: {{ op: get-records, limit: 10 }} }}
"
    )
}

/// Every transaction of the chain as (input hex, lower case).
fn inputs(url: &str) -> Vec<String> {
    let head = rpc(url, "eth_blockNumber", json!([]));
    let head = u64::from_str_radix(head.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let mut all = Vec::new();
    for n in 0..=head {
        let b = rpc(
            url,
            "eth_getBlockByNumber",
            json!([format!("{n:#x}"), true]),
        );
        for tx in b["transactions"].as_array().unwrap() {
            all.push(tx["input"].as_str().unwrap().to_lowercase());
        }
    }
    all
}

/// The synthetic SSNs the bench's run took into each hospital's custody.
fn bench_ssns(net: &TestNet) -> Vec<String> {
    bench_ssns_of(net, "bench-private")
}

/// The SSNs in each hospital's custody on network `network`.
fn bench_ssns_of(net: &TestNet, network: &str) -> Vec<String> {
    let mut ssns = Vec::new();
    for h in ["north", "south"] {
        let p = net.home().join(format!("{network}/custody/{h}.json"));
        let reg: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        for e in reg["patients"].as_array().unwrap() {
            ssns.push(e["ssn"].as_str().unwrap().to_string());
        }
    }
    ssns
}

/// Runs `s.yaml` with every report and checks that each says `private`;
/// returns the JSON report.
fn bench_with_reports(net: &TestNet) -> Value {
    let json_path = net.dir.path().join("r.json");
    let html_path = net.dir.path().join("r.html");
    let out = net.ok(&[
        "bench",
        "s.yaml",
        "--json",
        json_path.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
        "-q",
    ]);
    private_in_every_report(&out.stdout, &json_path, &html_path)
}

/// The terminal, HTML and JSON reports say the private layout was
/// measured (and no clear-layout warning); returns the JSON report.
fn private_in_every_report(
    stdout: &str,
    json_path: &std::path::Path,
    html_path: &std::path::Path,
) -> Value {
    assert!(
        stdout.contains("records layout measured: private"),
        "{stdout}"
    );
    assert!(!stdout.contains("PUBLIC"), "{stdout}");
    let html = std::fs::read_to_string(html_path).unwrap();
    assert!(html.contains("<strong class=\"layout\">private</strong>"));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
    assert_eq!(r["records_layout"], "private", "{r}");
    assert!(r.get("warnings").is_none(), "{r}");
    r
}

#[test]
fn records_workloads_run_on_the_private_path() {
    let net = TestNet::new(TOPO);
    std::fs::write(net.dir.path().join("s.yaml"), scenario()).unwrap();
    net.ok(&["up", "--seed", "14", "--quiet"]);
    let r = bench_with_reports(&net);
    let rounds = r["rounds"].as_array().unwrap();
    assert_eq!(
        (rounds[0]["succ"].as_u64(), rounds[0]["fail"].as_u64()),
        (Some(WRITES), Some(0))
    );
    assert_eq!(
        (rounds[1]["succ"].as_u64(), rounds[1]["fail"].as_u64()),
        (Some(READS), Some(0))
    );

    // Successes are what the chain holds; the custodian opens every record.
    let ssns = bench_ssns(&net);
    assert_eq!(ssns.len(), 4, "{ssns:?}");
    let mut held = 0;
    let mut heart_rates = Vec::new();
    for ssn in &ssns {
        let got = net.ok(&["records", "get", "--ssn", ssn, "--limit", "100", "--json"]);
        let got: Value = serde_json::from_str(&got.stdout).unwrap();
        for rec in got.as_array().unwrap() {
            held += 1;
            let hr = rec["observations"]
                .as_array()
                .unwrap_or_else(|| panic!("record did not open: {rec}"))
                .iter()
                .find(|o| o["code"]["coding"][0]["code"] == "8867-4")
                .unwrap_or_else(|| panic!("a heart-rate Observation: {rec}"));
            heart_rates.push(hr["valueQuantity"]["value"].as_u64().unwrap());
        }
    }
    assert_eq!(held, WRITES);
    assert!(
        heart_rates.iter().all(|v| (60..90).contains(v)),
        "{heart_rates:?}"
    );
    no_value_on_chain(&net, &heart_rates);
}

/// No heart rate of `heart_rates` is in the bench's `addRecord` inputs,
/// and no FHIR document (its heart-rate LOINC code) in any transaction.
fn no_value_on_chain(net: &TestNet, heart_rates: &[u64]) {
    let status = net.status();
    let url = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["rpc"].as_str())
        .unwrap()
        .to_string();
    let all = inputs(&url);
    let selector = hex::encode(&keccak256("addRecord(bytes32,bytes32,uint32,uint64,uint64)")[..4]);
    let adds: Vec<&String> = all
        .iter()
        .filter(|i| i.starts_with(&format!("0x{selector}")))
        .collect();
    assert_eq!(adds.len() as u64, WRITES, "addRecord transactions on chain");
    for v in heart_rates {
        let word = format!("{v:064x}");
        assert!(
            adds.iter().all(|i| !i.contains(&word)),
            "heart rate {v} is in an addRecord input"
        );
    }
    let loinc = hex::encode("8867-4");
    assert!(
        all.iter().all(|i| !i.contains(&loinc)),
        "a FHIR document is on chain"
    );
}

#[test]
fn private_scenarios_that_contradict_the_network_exit_2() {
    let net = TestNet::new(
        "network: bench-private-bad\nprivacy: clear\nblock_period: 1\nhospitals:\n  - {name: a, members: 1}\n",
    );
    let emr = "privacy: private\nrounds:\n  - {label: x, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: open-emr}}\n";
    std::fs::write(net.dir.path().join("emr.yaml"), emr).unwrap();
    let bad = net.run(&["bench", "emr.yaml", "-q"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let first = bad.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("emr.yaml: privacy: private contradicts round"),
        "{}",
        bad.stderr
    );
    // A private scenario on a clear network: refused before any load.
    let add = "privacy: private\nrounds:\n  - {label: x, tx_number: 1, rate: {type: fixed-rate, tps: 1}, workload: {op: add-record}}\n";
    std::fs::write(net.dir.path().join("add.yaml"), add).unwrap();
    net.ok(&["up", "--seed", "15", "--quiet"]);
    let bad = net.run(&["bench", "add.yaml", "-q"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let first = bad.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains(
            "add.yaml: privacy: private: network bench-private-bad uses the published clear layout"
        ),
        "{}",
        bad.stderr
    );
}

/// The custodian's records of `ssn` as `records get --json` lists them.
fn records_of(net: &TestNet, ssn: &str) -> Vec<Value> {
    let got = net.ok(&["records", "get", "--ssn", ssn, "--limit", "500", "--json"]);
    serde_json::from_str::<Value>(&got.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The SSN of the first bench patient in north's custody, once the round
/// has written three of its records (bounded: two minutes).
fn first_patient_writing(net: &TestNet) -> String {
    let custody = net.home().join("bench-private-rev/custody/north.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(std::time::Instant::now() < deadline, "no bench patient");
        if let Ok(bytes) = std::fs::read(&custody) {
            let reg: Value = serde_json::from_slice(&bytes).unwrap();
            let ssn = reg["patients"][0]["ssn"].as_str().unwrap().to_string();
            if records_of(net, &ssn).len() >= 3 {
                return ssn;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// Waits at most `limit` for `p` to exit; its exit status.
fn ended(p: &mut common::Spawned, limit: std::time::Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(s) = p.child.try_wait().unwrap() {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "it did not end");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

#[test]
fn a_revoke_mid_round_makes_the_devices_reseal_to_the_new_key() {
    let net = TestNet::new(&TOPO.replace("bench-private", "bench-private-rev"));
    let rev = "\
name: revoke-mid-round
workers: 1
accounts_per_worker: 2
rounds:
  - { label: add, tx_number: 200, rate: { type: fixed-rate, tps: 10 }, workload: { op: add-record }, max_fail_pct: 100 }
";
    std::fs::write(net.dir.path().join("rev.yaml"), rev).unwrap();
    net.ok(&["up", "--seed", "16", "--quiet"]);
    let json_path = net.dir.path().join("rev.json");
    let mut bench = common::Spawned::medchain(
        &net,
        &[
            "bench",
            "rev.yaml",
            "--json",
            json_path.to_str().unwrap(),
            "-q",
        ],
    );
    let ssn = first_patient_writing(&net);
    // The patient grants a doctor consent and revokes it: version 2.
    let doctor = alloy::signers::local::PrivateKeySigner::random();
    let key = doctor.to_bytes().to_string();
    let addr = format!("{:#x}", doctor.address());
    net.ok(&["doctor", "add", "--hospital", "south", "--key", &key]);
    net.ok(&["consent", "grant", "--ssn", &ssn, "--reader", &addr]);
    net.ok(&["consent", "revoke", "--ssn", &ssn, "--reader", &addr]);
    let status = ended(&mut bench, std::time::Duration::from_secs(180));
    assert!(status.success(), "bench exited {status}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let round = &r["rounds"][0];
    let succ = round["succ"].as_u64().unwrap();
    assert_eq!(succ + round["fail"].as_u64().unwrap(), 200, "{round}");
    // Every success is on chain and opens for the custodian; the device
    // went on writing after the revoke, sealed to version 2.
    let mine = records_of(&net, &ssn);
    let south = net.home().join("bench-private-rev/custody/south.json");
    let reg: Value = serde_json::from_slice(&std::fs::read(south).unwrap()).unwrap();
    let other = reg["patients"][0]["ssn"].as_str().unwrap().to_string();
    let all: Vec<Value> = mine
        .iter()
        .cloned()
        .chain(records_of(&net, &other))
        .collect();
    assert_eq!(all.len() as u64, succ);
    assert!(
        all.iter().all(|rec| rec["observations"].is_array()),
        "{all:?}"
    );
    let versions: Vec<u64> = mine
        .iter()
        .map(|rec| rec["key_version"].as_u64().unwrap())
        .collect();
    assert!(
        versions.contains(&1) && versions.contains(&2),
        "{versions:?}"
    );
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    // What was sealed to version 1 and in flight when the revoke landed
    // reverted (that is what made the device read its key again), and
    // nothing else failed.
    let reverted = round["failures"]["reverted"].as_u64().unwrap();
    assert!(reverted >= 1, "{round}");
    assert_eq!(reverted, round["fail"].as_u64().unwrap(), "{round}");
}

#[test]
fn a_device_fleet_seals_every_reading_on_a_private_network() {
    let net = TestNet::new(&TOPO.replace("bench-private", "bench-private-fleet"));
    let fleet = "\
name: private-fleet
rounds:
  - { label: fleet, tx_number: 24, workload: { op: device-fleet, devices: 6, interval_s: 1 } }
";
    std::fs::write(net.dir.path().join("s.yaml"), fleet).unwrap();
    net.ok(&["up", "--seed", "17", "--quiet"]);
    let r = bench_with_reports(&net);
    let round = &r["rounds"][0];
    assert_eq!(round["succ"], 24, "{round}");
    assert_eq!(round["fail"], 0, "{round}");
    // The fleet's six patients (beside the workers') hold the 24 readings,
    // every one opening for the custodian.
    let fleet_ssns: Vec<String> = bench_ssns_of(&net, "bench-private-fleet")
        .into_iter()
        .filter(|s| s.contains("-fleet-"))
        .collect();
    assert_eq!(fleet_ssns.len(), 6, "{fleet_ssns:?}");
    let all: Vec<Value> = fleet_ssns
        .iter()
        .flat_map(|s| records_of(&net, s))
        .collect();
    assert_eq!(all.len(), 24);
    assert!(
        all.iter().all(|rec| rec["observations"].is_array()),
        "{all:?}"
    );
}

/// A fleet over MQTT with abnormal readings on a private network: each
/// signed `addRecord` crosses the real broker and the bench's bridge, its
/// sealed reading is in the store, and one `watch` per hospital (reading
/// as that hospital) opens the readings of its own patients, so every
/// committed abnormal reading raises exactly one alarm.
#[test]
fn a_private_fleet_over_mqtt_raises_one_alarm_per_abnormal_reading() {
    let net = TestNet::new(&TOPO.replace("bench-private", "bench-private-mqtt"));
    let fleet = "\
name: private-fleet-mqtt
rounds:
  - { label: fleet, tx_duration: 12, workload: { op: device-fleet, devices: 8, interval_s: 2, abnormal_share: 0.3, transport: mqtt } }
";
    std::fs::write(net.dir.path().join("s.yaml"), fleet).unwrap();
    net.ok(&["up", "--seed", "18", "--quiet"]);
    net.ok(&["broker", "start"]);
    let r = bench_with_reports(&net);
    let round = &r["rounds"][0];
    assert_eq!(round["fail"], 0, "{round}");
    let sent = round["fleet"]["readings_sent"].as_u64().unwrap();
    assert_eq!(round["succ"].as_u64().unwrap(), sent, "{round}");
    assert_eq!(round["fleet"]["connections"], 0, "all over MQTT: {round}");
    let a = &round["alarms"];
    let abnormal = a["abnormal_sent"].as_u64().unwrap();
    assert!(abnormal > 0, "{a}");
    assert_eq!(a["abnormal_committed"], abnormal, "{a}");
    assert_eq!(a["delivered"], abnormal, "{a}");
    assert_eq!(
        (
            a["lost"].as_u64(),
            a["duplicated"].as_u64(),
            a["unexpected"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{a}"
    );
    // Both hospitals hold fleet patients; the custodians open every
    // reading, the abnormal ones with their heart rate of 150.
    let fleet_ssns: Vec<String> = bench_ssns_of(&net, "bench-private-mqtt")
        .into_iter()
        .filter(|s| s.contains("-fleet-"))
        .collect();
    assert_eq!(fleet_ssns.len(), 8, "{fleet_ssns:?}");
    let all: Vec<Value> = fleet_ssns
        .iter()
        .flat_map(|s| records_of(&net, s))
        .collect();
    assert_eq!(all.len() as u64, sent);
    let high = all
        .iter()
        .filter(|rec| {
            rec["observations"]
                .as_array()
                .unwrap_or_else(|| panic!("record did not open: {rec}"))
                .iter()
                .any(|o| {
                    o["code"]["coding"][0]["code"] == "8867-4" && o["valueQuantity"]["value"] == 150
                })
        })
        .count() as u64;
    assert_eq!(high, abnormal);
}
