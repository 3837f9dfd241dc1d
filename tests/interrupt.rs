//! Ctrl-C (SIGINT to the medchain process) at several phases of `up`, on
//! real geth (process runtime): the command exits within 5 s, no process
//! with a datadir in the network's directory is left, the state file still
//! reads, and the next `up` brings the network up (then `down --purge`
//! removes it).

mod common;

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{pgrep, TestNet};

/// Starts `medchain <args>` in the network's directory, stderr to a file.
fn spawn(net: &TestNet, args: &[&str], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(net.dir.path())
        .env("MEDCHAIN_HOME", net.home())
        .env("MEDCHAIN_RUNTIME", "process")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Sends SIGINT and returns how long the process took to exit, and its
/// exit code; fails the test if it is still running after 5 s.
fn interrupt(child: &mut Child, log: &Path) -> (Duration, Option<i32>) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let sent = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (sent.elapsed(), status.code());
        }
        if sent.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running 5 s after SIGINT; its output:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the log shows `line` (or the child exits, or 120 s pass).
fn wait_for(child: &mut Child, log: &Path, line: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(line)
        {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// After the interrupted command: nothing left running, the state reads,
/// `up` works again, `down --purge` cleans up.
fn recovers(net: &TestNet, network: &str, log: &Path) {
    let dir = net.home().join(network);
    let left = pgrep(&dir.display().to_string());
    assert!(
        left.is_empty(),
        "processes left after SIGINT: {left:?}\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    if dir.join("state.json").exists() {
        net.ok(&["status", "--json"]);
    }
    let up = net.ok(&["up", "--no-deploy"]);
    assert!(up.stdout.contains("is up"), "{}", up.stdout);
    net.ok(&["down", "--purge"]);
    assert!(pgrep(&dir.display().to_string()).is_empty());
}

fn topology(network: &str) -> String {
    format!("network: {network}\nblock_period: 1\nhospitals:\n  - name: a\n")
}

fn interrupted_after(network: &str, delay: Duration) {
    let net = TestNet::new(&topology(network));
    let log = net.dir.path().join("up.log");
    let mut up = spawn(&net, &["up"], &log);
    std::thread::sleep(delay);
    let (took, code) = interrupt(&mut up, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    // Ending before SIGINT arrived would be a success (0) — too fast a
    // machine for this delay, which still must leave things consistent.
    assert!(
        matches!(code, Some(130) | Some(0)),
        "exit {code:?} after {took:?}:\n{text}"
    );
    eprintln!("{network}: exit {code:?} {took:?} after SIGINT; its output:\n{text}");
    recovers(&net, network, &log);
}

#[test]
fn ctrl_c_one_second_into_up() {
    interrupted_after("sigint-up-1s", Duration::from_secs(1));
}

#[test]
fn ctrl_c_three_seconds_into_up() {
    interrupted_after("sigint-up-3s", Duration::from_secs(3));
}

/// Runs `up` and sends SIGINT as soon as its progress shows `phase`.
fn interrupt_up_at(net: &TestNet, network: &str, phase: &str) {
    let log = net.dir.path().join("up.log");
    let mut up = spawn(net, &["up"], &log);
    assert!(
        wait_for(&mut up, &log, phase),
        "up never reached {phase:?}:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let (took, code) = interrupt(&mut up, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(code, Some(130), "at {phase:?}, after {took:?}:\n{text}");
    assert!(text.contains("interrupted"), "{text}");
    recovers(net, network, &log);
}

#[test]
fn ctrl_c_while_up_deploys_the_contracts() {
    let network = "sigint-up-deploy";
    let net = TestNet::new(&topology(network));
    interrupt_up_at(&net, network, "deploying the records contract");
}

#[test]
fn ctrl_c_at_each_phase_of_up() {
    let network = "sigint-up-phases";
    let net = TestNet::new(&topology(network));
    for phase in [
        "initialising chains",
        "starting 2 geth nodes",
        "waiting for every node's IPC",
        "peering:",
        "waiting for the chain to advance",
    ] {
        interrupt_up_at(&net, network, phase);
    }
}

#[test]
fn ctrl_c_while_deploy_runs() {
    let network = "sigint-deploy";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--no-deploy"]);
    let log = net.dir.path().join("deploy.log");
    let mut deploy = spawn(&net, &["deploy"], &log);
    std::thread::sleep(Duration::from_millis(300));
    let (took, code) = interrupt(&mut deploy, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        matches!(code, Some(130) | Some(0)),
        "exit {code:?} after {took:?}:\n{text}"
    );
    // The network keeps running (deploy started no node) and its state reads.
    let status = net.status();
    assert_eq!(status["nodes"].as_array().unwrap().len(), 2);
    net.ok(&["deploy"]);
    net.ok(&["down", "--purge"]);
    assert!(pgrep(&net.home().join(network).display().to_string()).is_empty());
}

const BENCH: &str = "\
name: interrupted
workers: 2
rounds:
  - label: open
    tx_duration: 60
    rate: { type: fixed-rate, tps: 20 }
    workload: { op: open, accounts: 100, initial_amount: 1000 }
";

/// `bench` on a network it brings up itself, SIGINT once its output shows
/// `phase` (plus `after`): exit within 5 s, no process left, and the
/// network torn down once it was up (interrupted while coming up, it is
/// left stopped with a state the next command reads).
fn interrupt_bench_at(network: &str, phase: &str, after: Duration) -> String {
    let net = TestNet::new(&topology(network));
    std::fs::write(net.dir.path().join("s.yaml"), BENCH).unwrap();
    let log = net.dir.path().join("bench.log");
    let report = net.dir.path().join("report.json");
    let args = ["bench", "s.yaml", "--json", report.to_str().unwrap()];
    let mut bench = spawn(&net, &args, &log);
    assert!(
        wait_for(&mut bench, &log, phase),
        "bench never reached {phase:?}:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    std::thread::sleep(after);
    let (took, code) = interrupt(&mut bench, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(code, Some(130), "at {phase:?}, after {took:?}:\n{text}");
    eprintln!("{network}: exit {code:?} {took:?} after SIGINT; its output:\n{text}");
    let dir = net.home().join(network);
    assert!(pgrep(&dir.display().to_string()).is_empty(), "{text}");
    if dir.join("state.json").exists() {
        assert!(
            !text.contains("bench interrupted:"),
            "a network up for the run is torn down:\n{text}"
        );
        net.ok(&["status", "--json"]);
    }
    std::fs::read_to_string(&report).unwrap_or_default()
}

#[test]
fn ctrl_c_while_bench_brings_its_network_up() {
    interrupt_bench_at("sigint-bench-up", "starting 2 geth nodes", Duration::ZERO);
}

#[test]
fn ctrl_c_while_bench_prepares_its_workers() {
    interrupt_bench_at("sigint-bench-prep", "bench interrupted:", Duration::ZERO);
}

#[test]
fn ctrl_c_during_a_bench_round_keeps_the_report() {
    let report = interrupt_bench_at(
        "sigint-bench-round",
        "bench interrupted:",
        Duration::from_secs(6),
    );
    let json: serde_json::Value = serde_json::from_str(&report).expect("the report was written");
    assert_eq!(json["partial"], true, "{report}");
}

/// Running containers labelled with the network, on the local engine.
fn running_containers(network: &str) -> usize {
    use bollard::query_parameters::ListContainersOptionsBuilder;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let d = bollard::Docker::connect_with_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .expect("a Docker engine answers (scripts/docker-engine.sh start)");
        let filter = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("medchain.network={network}")],
        )]);
        let opts = ListContainersOptionsBuilder::default()
            .filters(&filter)
            .build();
        d.list_containers(Some(opts)).await.unwrap().len()
    })
}

#[test]
fn ctrl_c_while_docker_up_waits_for_its_containers() {
    let network = "sigint-docker-up";
    let net = TestNet::new(&topology(network));
    let log = net.dir.path().join("up.log");
    let mut up = spawn(&net, &["up", "--runtime", "docker"], &log);
    assert!(
        wait_for(&mut up, &log, "waiting for every node's IPC"),
        "up never started its containers:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let (took, code) = interrupt(&mut up, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(code, Some(130), "after {took:?}:\n{text}");
    assert_eq!(
        running_containers(network),
        0,
        "containers left running:\n{text}"
    );
    net.ok(&["status", "--json"]);
    net.ok(&["down", "--purge"]);
}

#[test]
fn ctrl_c_ends_logs_follow_quietly() {
    let network = "sigint-logs";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--no-deploy"]);
    let log = net.dir.path().join("logs.log");
    let node = net.state(network)["plan"]["nodes"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let mut logs = spawn(&net, &["logs", &node, "--follow"], &log);
    std::thread::sleep(Duration::from_millis(1500));
    let (took, code) = interrupt(&mut logs, &log);
    assert_eq!(code, Some(0), "after {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    net.ok(&["down", "--purge"]);
}
