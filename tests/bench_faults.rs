//! `medchain bench` through a node's death, on real geth: one of the two
//! target members is killed (SIGKILL, by the pid in the network's
//! state.json) mid-round. In a write round, the round's successes are what
//! the surviving chain holds (what the member took but never passed on is
//! resubmitted), failures are classed `unreachable`, the next round's reads
//! go on through failover and the report is written; the exit code follows
//! the scenario's `max_fail_pct` (20: exit 0; the default 0 with the member
//! dying during a read round: exit 1 naming that round).

mod common;

use std::time::{Duration, Instant};

use alloy::sol_types::SolCall;
use common::TestNet;
use serde_json::{json, Value};

const TOPO: &str = "\
network: bench-faults
block_period: 1
hospitals:
  - name: lyon
    sealers: 1
    members: 2
";

/// An `open` round of about 12 s (300 transactions at 25 TPS) during
/// which a target member dies, then a `query` round; up to 20% may fail.
const LENIENT: &str = "\
name: lenient
workers: 4
target: members
max_fail_pct: 20
rounds:
  - label: open
    tx_number: 300
    rate: { type: fixed-rate, tps: 25 }
    workload: { op: open, accounts: 300, initial_amount: 1000 }
  - label: query
    tx_number: 100
    rate: { type: fixed-rate, tps: 50 }
    workload: { op: query }
";

/// A short `open` round, then a 12 s `query` round during which a target
/// member dies: its workers' next reads fail whatever way the connection
/// breaks, so the default max_fail_pct (0) fails the run.
const STRICT: &str = "\
name: strict
workers: 4
target: members
rounds:
  - label: open
    tx_number: 100
    rate: { type: fixed-rate, tps: 25 }
    workload: { op: open, accounts: 100, initial_amount: 1000 }
  - label: query
    tx_duration: 12
    rate: { type: fixed-rate, tps: 40 }
    workload: { op: query }
";

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn head(url: &str) -> u64 {
    hex_u64(&common::rpc(url, "eth_blockNumber", json!([])))
}

/// `open` transactions to `simple` in blocks `from..=to` of the node at `url`.
fn opens_on_chain(url: &str, simple: &str, from: u64, to: u64) -> u64 {
    let mut n = 0;
    for b in from..=to {
        let block = common::rpc(
            url,
            "eth_getBlockByNumber",
            json!([format!("{b:#x}"), true]),
        );
        for t in block["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let to_simple = t["to"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(simple));
            let input = hex::decode(t["input"].as_str().unwrap().trim_start_matches("0x")).unwrap();
            if to_simple && medchain::contract::Simple::openCall::abi_decode(&input).is_ok() {
                n += 1;
            }
        }
    }
    n
}

/// Waits (at most 120 s) until a block on `url` holds a transaction to
/// `simple` after block `after`, i.e. the `open` round is under way.
fn wait_for_round(url: &str, simple: &str, after: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut next = after + 1;
    while Instant::now() < deadline {
        while next <= head(url) {
            if opens_on_chain(url, simple, next, next) > 0 {
                return true;
            }
            next += 1;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Cuts `victim` off its peers (both ways, over each node's IPC socket:
/// `admin_removeTrustedPeer` so geth does not dial it again, then
/// `admin_removePeer`), so what it takes from now on stays in its own pool.
fn isolate(victim: &Value, others: &[Value]) -> bool {
    let enode = |n: &Value| common::ipc(n, "admin_nodeInfo", json!([]))["enode"].clone();
    let v = enode(victim);
    for o in others {
        let e = enode(o);
        for (from, to) in [(victim, &e), (o, &v)] {
            common::ipc(from, "admin_removeTrustedPeer", json!([to]));
            common::ipc(from, "admin_removePeer", json!([to]));
        }
    }
    true
}

/// One bench run of `scenario` with the first target member killed
/// `kill_after` seconds after the first `open` transaction is in a block;
/// with `isolate_first`, that member is cut off its peers 2 s before, so
/// the transactions it takes meanwhile vanish with it (and must be
/// resubmitted). Returns the run, its report, the `open` transactions the
/// surviving member's chain holds from this run, and whether the member
/// was isolated.
fn run_with_kill(
    net: &TestNet,
    scenario: &str,
    name: &str,
    kill_after: u64,
    isolate_first: bool,
) -> (common::Run, Value, u64, bool) {
    let status = net.status();
    let members: Vec<&Value> = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"] == "member")
        .collect();
    assert_eq!(members.len(), 2, "{status}");
    let victim = members[0]["name"].as_str().unwrap().to_string();
    let state = net.state("bench-faults");
    let plan_nodes = state["plan"]["nodes"].as_array().unwrap();
    let victim_node = plan_nodes
        .iter()
        .find(|n| n["name"] == victim.as_str())
        .unwrap()
        .clone();
    let others: Vec<Value> = plan_nodes
        .iter()
        .filter(|n| n["name"] != victim.as_str())
        .cloned()
        .collect();
    let survivor = members[1]["rpc"].as_str().unwrap().to_string();
    let simple = status["contracts"]["simple"].as_str().unwrap().to_string();
    let pid = net.state("bench-faults")["pids"][&victim].as_u64().unwrap();
    let start_head = head(&survivor);

    std::fs::write(net.dir.path().join(format!("{name}.yaml")), scenario).unwrap();
    let json_path = net.dir.path().join(format!("{name}.json"));
    let killer = {
        let (survivor, simple) = (survivor.clone(), simple.clone());
        std::thread::spawn(move || {
            assert!(
                wait_for_round(&survivor, &simple, start_head),
                "the open round never started"
            );
            let mut isolated = false;
            if isolate_first {
                std::thread::sleep(Duration::from_secs(kill_after - 2));
                isolated = isolate(&victim_node, &others);
                std::thread::sleep(Duration::from_secs(2));
            } else {
                std::thread::sleep(Duration::from_secs(kill_after));
            }
            // SIGKILL the geth of the network this test started, by its pid.
            let ok = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .unwrap()
                .success();
            assert!(ok, "kill {pid}");
            isolated
        })
    };
    let run = net.run(&[
        "bench",
        &format!("{name}.yaml"),
        "--json",
        json_path.to_str().unwrap(),
        "-q",
    ]);
    let isolated = killer.join().expect("the killer thread");
    assert!(!common::alive(pid), "{victim} survived SIGKILL");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("no report ({e}): {}\n{}", run.stdout, run.stderr)),
    )
    .unwrap();
    let on_chain = opens_on_chain(&survivor, &simple, start_head + 1, head(&survivor));
    (run, report, on_chain, isolated)
}

/// Checks the figures of a run through the kill.
fn check_rounds(run: &common::Run, report: &Value, on_chain: u64) {
    let ctx = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{ctx}");
    let open = &rounds[0];
    let f = &open["failures"];
    let (succ, fail) = (
        open["succ"].as_u64().unwrap(),
        open["fail"].as_u64().unwrap(),
    );
    eprintln!(
        "open: {succ} succ, {fail} fail {f}, {} retries; the chain holds {on_chain}",
        open["retries"]
    );
    // What the surviving chain holds is what the round counted as done.
    assert_eq!(succ, on_chain, "open: successes vs chain: {open}\n{ctx}");
    assert_eq!(succ + fail, 300, "every transaction counted once: {open}");
    assert!(succ >= 250, "most of the round survives the kill: {open}");
    // The sends the dead node refused are unreachable, nothing else failed
    // (there may be none: a send that broke a pooled connection is
    // resubmitted to the survivor and lands).
    assert_eq!(f["unreachable"].as_u64().unwrap(), fail, "{open}");
    assert_eq!(f["reverted"], 0, "{open}");
    let query = &rounds[1];
    assert_eq!(query["succ"], 100, "reads go on through failover: {query}");
    assert_eq!(query["fail"], 0, "{query}");
    assert!(run.stdout.contains("Unreachable"), "{}", run.stdout);
}

#[test]
fn a_target_member_killed_mid_round() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "12", "--quiet"]);

    // max_fail_pct above the expected ratio (a few refused sends of 300):
    // exit 0. The member is cut off its peers before it dies: what it took
    // meanwhile vanishes with it and is resubmitted once to the survivor.
    let (run, report, on_chain, isolated) = run_with_kill(&net, LENIENT, "lenient", 4, true);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(!report["partial"].as_bool().unwrap(), "{report}");
    check_rounds(&run, &report, on_chain);
    if isolated {
        let open = &report["rounds"][0];
        assert!(open["retries"].as_u64().unwrap() > 0, "{open}");
    } else {
        panic!("the victim was not isolated");
    }

    // Bring the killed node back (the chain resumes), then the default
    // max_fail_pct 0: the member dies during the query round, whose reads
    // sent to it before its workers fail over fail the run, naming the round.
    net.ok(&["down"]);
    net.ok(&["up", "--quiet"]);
    let (run, report, on_chain, _) = run_with_kill(&net, STRICT, "strict", 8, false);
    let ctx = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{ctx}");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("round query:")
            && line.contains("% of its transactions failed")
            && line.contains("max_fail_pct 0"),
        "{ctx}"
    );
    assert!(!line.contains("round open"), "{line}");
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{ctx}");
    let (open, query) = (&rounds[0], &rounds[1]);
    assert_eq!(
        (open["succ"].as_u64(), open["fail"].as_u64()),
        (Some(100), Some(0)),
        "{open}"
    );
    assert_eq!(on_chain, 100, "{open}");
    let (succ, fail) = (
        query["succ"].as_u64().unwrap(),
        query["fail"].as_u64().unwrap(),
    );
    eprintln!("query: {succ} succ, {fail} fail {}", query["failures"]);
    assert!(fail >= 1, "{query}");
    assert_eq!(
        query["failures"]["unreachable"].as_u64(),
        Some(fail),
        "{query}"
    );
    assert_eq!(query["failures"]["reverted"], 0, "not reverted: {query}");
    assert!(
        succ >= 9 * (succ + fail) / 10,
        "reads go on through failover: {query}"
    );
    let pct = query["fail_pct"].as_f64().unwrap();
    assert!(
        (pct - 100.0 * fail as f64 / (succ + fail) as f64).abs() < 1e-9,
        "{query}"
    );

    // Ctrl-C after the first round: that round is on disk as soon as it
    // ended, and the final report holds it and the interrupted one.
    net.ok(&["down"]);
    net.ok(&["up", "--quiet"]);
    interrupted_run_keeps_its_rounds(&net);
}

/// A short `open` round, then a long `query` round that Ctrl-C cuts short.
const LONG: &str = "\
name: long
workers: 2
rounds:
  - label: open
    tx_number: 50
    rate: { type: fixed-rate, tps: 25 }
    workload: { op: open, accounts: 50, initial_amount: 1000 }
  - label: query
    tx_duration: 120
    rate: { type: fixed-rate, tps: 10 }
    workload: { op: query }
";

/// Runs [`LONG`], waits until the JSON report on disk holds the first
/// round, sends the run SIGINT, and checks what is left.
fn interrupted_run_keeps_its_rounds(net: &TestNet) {
    std::fs::write(net.dir.path().join("long.yaml"), LONG).unwrap();
    let json_path = net.dir.path().join("long.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(net.dir.path())
        .env("MEDCHAIN_HOME", net.home())
        .env("MEDCHAIN_RUNTIME", "process")
        .args([
            "bench",
            "long.yaml",
            "--json",
            json_path.to_str().unwrap(),
            "-q",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    let on_disk: Value = loop {
        assert!(Instant::now() < deadline, "no round on disk in time");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        if let Some(v) = std::fs::read_to_string(&json_path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            break v;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(on_disk["rounds"].as_array().unwrap().len(), 1, "{on_disk}");
    assert_eq!(on_disk["rounds"][0]["succ"], 50, "{on_disk}");
    assert_eq!(on_disk["partial"], true, "{on_disk}");
    std::thread::sleep(Duration::from_secs(2));
    // SIGINT the bench this test started (Ctrl-C), by its pid.
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "Ctrl-C took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "Ctrl-C exits 130: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let last: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let rounds = last["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "{last}");
    assert_eq!(rounds[0], on_disk["rounds"][0]);
    assert!(rounds[1]["succ"].as_u64().unwrap() > 0, "{last}");
    assert_eq!(last["partial"], true);
}

/// A device fleet spread over two members, one of which is killed by the
/// round's own fault timeline: its devices fail over to the other member
/// (handing over what vanished with the dead node), so every device goes
/// on writing, the round's successes are what the chain holds, and what
/// failed is `unreachable`.
#[test]
fn a_fleets_devices_fail_over_when_their_member_dies() {
    let net = TestNet::new(
        &TOPO
            .replace("bench-faults", "bench-faults-fleet")
            .replace("block_period: 1", "privacy: clear\nblock_period: 1"),
    );
    net.ok(&["up", "--seed", "13", "--quiet"]);
    let status = net.status();
    let members: Vec<&Value> = status["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"] == "member")
        .collect();
    let victim = members[0]["name"].as_str().unwrap();
    let survivor = members[1]["rpc"].as_str().unwrap().to_string();
    let scenario = format!(
        "\
name: fleet-kill
contract: medical
target: members
max_fail_pct: 100
rounds:
  - label: fleet
    tx_duration: 16
    workload: {{ op: device-fleet, devices: 6, interval_s: 1 }}
    faults:
      - {{ at: 5, action: kill, target: {victim} }}
"
    );
    std::fs::write(net.dir.path().join("fleet.yaml"), scenario).unwrap();
    let from = head(&survivor);
    let json_path = net.dir.path().join("fleet.json");
    let run = net.run(&[
        "bench",
        "fleet.yaml",
        "--json",
        json_path.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let round = &report["rounds"][0];
    let (succ, fail) = (
        round["succ"].as_u64().unwrap(),
        round["fail"].as_u64().unwrap(),
    );
    assert_eq!(
        fail,
        round["failures"]["unreachable"].as_u64().unwrap(),
        "{round}"
    );
    // Without failover the dead member's three devices would lose ~11 s of
    // readings each; with it, at most the reading each found the node dead.
    assert!(fail <= 3, "{round}");

    // What the chain holds: every reading, and after the kill every
    // device still writing.
    let selector = hex::encode(medchain::contract::MedicalRecords::addMedicalRecordCall::SELECTOR);
    let mut readings = Vec::new();
    for b in from + 1..=head(&survivor) {
        let block = common::rpc(
            &survivor,
            "eth_getBlockByNumber",
            json!([format!("{b:#x}"), true]),
        );
        let ts = hex_u64(&block["timestamp"]);
        for t in block["transactions"].as_array().unwrap() {
            if t["input"]
                .as_str()
                .unwrap()
                .starts_with(&format!("0x{selector}"))
            {
                readings.push((ts, t["from"].as_str().unwrap().to_string()));
            }
        }
    }
    assert_eq!(readings.len() as u64, succ, "{round}");
    let first = readings.iter().map(|r| r.0).min().unwrap();
    let late: std::collections::BTreeSet<&String> = readings
        .iter()
        .filter(|r| r.0 >= first + 10)
        .map(|r| &r.1)
        .collect();
    assert_eq!(
        late.len(),
        6,
        "every device writes after the kill: {late:?}"
    );
}
