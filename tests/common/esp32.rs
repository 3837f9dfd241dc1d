//! esp32-host, the firmware core built for this machine (`firmware/test.sh`
//! builds it into $FIRMWARE_BUILD_DIR, default
//! ~/.cache/medchain/firmware-build), run by tests against real geth: the
//! binary, a running instance with its output collected, provisioning
//! helpers and the on-chain reader of a device's records.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use medchain::contract::{patient_id, signing_provider, MedicalRecords};
use medchain::state::State;
use serde_json::Value;

use super::TestNet;

/// The host build of the firmware, or a failure saying how to build it.
pub fn esp32_host() -> PathBuf {
    let dir = match std::env::var_os("FIRMWARE_BUILD_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/medchain/firmware-build"),
    };
    let bin = dir.join("esp32-host");
    assert!(
        bin.is_file(),
        "esp32-host not found at {}: build it with `firmware/test.sh` \
         (FIRMWARE_BUILD_DIR selects the build directory); these tests need the real firmware core",
        bin.display()
    );
    bin
}

/// A running esp32-host whose output is collected line by line; killed on
/// drop so no process outlives a failed test.
pub struct Host {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

pub fn collect(r: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            match line {
                Ok(l) => sink.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
    lines
}

impl Host {
    pub fn start(config: &Path, outbox: &Path, ssn: &str, extra: &[&str]) -> Host {
        Host::spawn(config, outbox, &[&["--ssn", ssn], extra].concat())
    }

    /// A private network's device: its config names the patient, so it
    /// is given no SSN.
    pub fn start_private(config: &Path, outbox: &Path, extra: &[&str]) -> Host {
        Host::spawn(config, outbox, extra)
    }

    fn spawn(config: &Path, outbox: &Path, args: &[&str]) -> Host {
        let mut child = Command::new(esp32_host())
            .arg("--config")
            .arg(config)
            .arg("--outbox")
            .arg(outbox)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("esp32-host starts");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        Host {
            child,
            stdout,
            stderr,
        }
    }

    /// Its stdout lines, parsed (every line is JSON).
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("esp32-host printed {l:?}, not JSON: {e}"))
            })
            .collect()
    }

    /// Sequence numbers of the confirmations printed so far.
    pub fn confirmed(&self) -> Vec<u64> {
        self.json_lines()
            .iter()
            .filter(|v| v.get("event").is_none())
            .map(|v| v["seq"].as_u64().expect("seq"))
            .collect()
    }

    /// The local alarms printed so far (`{"event":"alarm",…}` lines).
    pub fn alarms(&self) -> Vec<Value> {
        self.json_lines()
            .into_iter()
            .filter(|v| v["event"] == "alarm")
            .collect()
    }

    /// How many readings it has queued (one stderr line each).
    pub fn queued(&self) -> usize {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("esp32-host: queued seq "))
            .count()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the exit code; `None` if it still runs after `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(200));
                return Some(s.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until `f` holds, at most `limit`.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

pub fn provision(net: &TestNet, args: &[&str]) -> Value {
    let mut all = vec!["device", "provision", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&net.ok(&all).stdout).expect("provision --json prints JSON")
}

pub fn config_of(out: &Value, i: usize) -> (PathBuf, Value) {
    let path = PathBuf::from(out["devices"][i]["config"].as_str().unwrap());
    let v = serde_json::from_str(&std::fs::read_to_string(&path).expect("config file")).unwrap();
    (path, v)
}

pub fn rpc_of(state: &State, node: &str) -> String {
    state
        .plan
        .nodes
        .iter()
        .find(|n| n.name == node)
        .unwrap_or_else(|| panic!("no node {node}"))
        .rpc_url()
        .unwrap_or_else(|| panic!("{node} serves no RPC (a sealer)"))
}

/// The sequences of patient 000-00-0001's records on chain, read through
/// `node`, after checking they all came from `device`; and the device's
/// last accepted sequence.
pub fn on_chain(state: &State, node: &str, device: Address) -> (Vec<u64>, u64) {
    let admin = state.plan.accounts[0].signer();
    let patient = patient_id(state.plan.patient_salt, "000-00-0001");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = MedicalRecords::new(
        state.contracts["medical_records"],
        signing_provider(&rpc_of(state, node), &admin).unwrap(),
    );
    let (records, info) = rt.block_on(async {
        (
            c.getMedicalRecords(patient, U256::ZERO, U256::from(1000))
                .from(admin.address())
                .call()
                .await
                .unwrap(),
            c.devices(device).call().await.unwrap(),
        )
    });
    assert!(records.iter().all(|r| r.device == device));
    (
        records.iter().map(|r| r.sequence).collect(),
        info.lastSequence,
    )
}
