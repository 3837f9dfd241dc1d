//! A node that accepts connections and never answers (a real TCP socket
//! on 127.0.0.1 that reads nothing and writes nothing): commands that talk
//! to it fail within the RPC time limit (`MEDCHAIN_RPC_TIMEOUT_SECS`, here
//! 2 s) with one line naming the call and the node's endpoint, instead of
//! hanging; `status` reports the node without waiting on it for long.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use medchain::state::State;

mod common;

const TOPO: &str = "network: stalled\nprivacy: clear\nhospitals:\n  - {name: a, members: 1}\n";

/// A listener that accepts every connection and holds it unanswered.
fn stalled_node() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

/// The state of a network (a sealer and a member) whose member is the stalled socket, with
/// contracts recorded so every command gets as far as calling the node:
/// a real network brought up and stopped, its endpoint then pointed at the
/// socket.
fn network_on(home: &Path, port: u16) -> State {
    fs::write(home.join("medchain.yaml"), TOPO).unwrap();
    for args in [&["up", "--no-deploy"][..], &["down"]] {
        let r = common::medchain(home, &home.join("home"), args);
        assert_eq!(r.code, 0, "medchain {args:?}: {}", r.stderr);
    }
    let mut state = State::load(&home.join("home"), "stalled").unwrap();
    state.plan.nodes[1].ports.http = port;
    state.plan.nodes[1].ports.ws = port;
    for (k, a) in [("medical_records", 1u8), ("simple", 2)] {
        state.contracts.insert(k.into(), [a; 20].into());
    }
    save(home, &state);
    state
}

fn save(home: &Path, state: &State) {
    let dir = home.join("home").join("stalled");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("state.json"),
        serde_json::to_string(state).unwrap(),
    )
    .unwrap();
}

struct Ran {
    code: i32,
    stderr: String,
    took: Duration,
}

fn medchain(home: &Path, args: &[&str]) -> Ran {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(home)
        .env("MEDCHAIN_HOME", home.join("home"))
        .env("MEDCHAIN_RPC_TIMEOUT_SECS", "2")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn fails_in_time(home: &Path, port: u16, args: &[&str]) {
    let r = medchain(home, args);
    assert_eq!(r.code, 1, "medchain {args:?}: {}", r.stderr);
    assert!(
        r.took < Duration::from_secs(15),
        "medchain {args:?} took {:?}",
        r.took
    );
    let line = r.stderr.lines().next().unwrap_or_default().to_string();
    assert!(
        line.contains(&format!("127.0.0.1:{port}")) && r.stderr.contains("no answer within 2 s"),
        "medchain {args:?} should name the node on its first line and the call: {}",
        r.stderr
    );
    assert!(line.starts_with("error: "), "{}", r.stderr);
    eprintln!("medchain {args:?} after {:?}:\n{}", r.took, r.stderr.trim());
}

#[test]
fn commands_against_a_stalled_node_fail_within_the_time_limit() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let port = stalled_node();
    network_on(home, port);
    fails_in_time(home, port, &["deploy"]);
    fails_in_time(home, port, &["records", "get", "--ssn", "123-45-6789"]);
    let hash = format!("0x{}", "ab".repeat(32));
    fails_in_time(home, port, &["tx", &hash]);
    fails_in_time(
        home,
        port,
        &["authorize", &format!("0x{}", "11".repeat(20))],
    );
    fails_in_time(home, port, &["device", "provision", "--hospital", "a"]);
}

/// A process that holds the node's datadir on its command line, as geth
/// does, so the runtime counts the node as running.
fn holder(datadir: &Path) -> Child {
    Command::new("sh")
        .args([
            "-c",
            "trap 'kill $!; exit 0' INT TERM; sleep 60 & wait",
            "geth",
            "--datadir",
        ])
        .arg(datadir)
        .spawn()
        .unwrap()
}

#[test]
fn status_does_not_hang_on_a_stalled_node() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let port = stalled_node();
    let mut state = network_on(home, port);
    let datadir = state.plan.nodes[1].datadir.clone();
    fs::create_dir_all(&datadir).unwrap();
    let mut node = holder(&datadir);
    let name = state.plan.nodes[1].name.clone();
    state.pids.insert(name, node.id());
    save(home, &state);
    let r = medchain(home, &["status"]);
    let _ = node.kill();
    let _ = node.wait();
    assert!(
        r.took < Duration::from_secs(20),
        "status took {:?}: {}",
        r.took,
        r.stderr
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn ctrl_c_ends_a_command_waiting_on_a_stalled_node_at_once() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let port = stalled_node();
    network_on(home, port);
    // The default 30 s limit: only Ctrl-C ends it early.
    let hash = format!("0x{}", "cd".repeat(32));
    let mut child = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(home)
        .env("MEDCHAIN_HOME", home.join("home"))
        .env_remove("MEDCHAIN_RPC_TIMEOUT_SECS")
        .args(["tx", &hash])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let sent = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(sent.elapsed() < Duration::from_secs(3), "tx ignored Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "took {:?}",
        sent.elapsed()
    );
}
