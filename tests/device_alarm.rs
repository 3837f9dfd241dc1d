//! Local alarms on the device: esp32-host (the firmware core) prints an
//! `{"event":"alarm",…}` line for a reading that crosses its provisioned
//! thresholds as soon as the reading is taken, with no node to talk to,
//! and keeps its alarm flag file while the latest reading is abnormal;
//! thresholds provisioned in the config replace the defaults.
//!
//! `esp32-host` must have been built (`firmware/test.sh`); without it
//! these tests fail, they never skip.

mod common;

use std::path::Path;
use std::time::Duration;

use common::esp32::Host;
use serde_json::{json, Value};

/// A device config whose node is down (nothing listens on its port).
fn config(dir: &Path, alarms: Option<Value>) -> std::path::PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = json!({
        "rpc_url": format!("http://127.0.0.1:{port}"),
        "chain_id": 1337,
        "contract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "device_private_key": format!("0x{}1", "0".repeat(63)),
        "patient_salt": format!("0x{}", "1".repeat(64)),
        "device_id": "ward-device-1"
    });
    if let Some(a) = alarms {
        c["alarms"] = a;
    }
    let path = dir.join("device.json");
    std::fs::write(&path, c.to_string()).unwrap();
    path
}

/// Runs two readings, the second abnormal (heart rate 150, SpO2 85), with
/// the node down; returns the host after it gave up, and the flag file.
fn run(alarms: Option<Value>) -> (Host, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), alarms);
    let flag = dir.path().join("alarm.flag");
    let mut host = Host::start(
        &cfg,
        &dir.path().join("outbox"),
        "000-00-0001",
        &[
            "--readings",
            "2",
            "--abnormal-every",
            "2",
            "--interval-ms",
            "200",
            "--timeout-ms",
            "1000",
            "--alarm-flag",
            flag.to_str().unwrap(),
        ],
    );
    assert_eq!(
        host.wait(Duration::from_secs(30)),
        Some(1),
        "the readings stay queued with the node down:\n{}",
        host.stderr_text()
    );
    (host, flag, dir)
}

#[test]
fn an_abnormal_reading_raises_the_alarm_with_the_node_down() {
    let (host, flag, _dir) = run(None);
    let alarms = host.alarms();
    assert_eq!(alarms.len(), 1, "one alarm, for reading 2 only: {alarms:?}");
    let a = &alarms[0];
    assert_eq!(a["seq"], 2, "{a}");
    assert_eq!(a["rules"], json!(["heart_rate_high", "spo2_low"]), "{a}");
    assert_eq!(
        (a["heart_rate"].as_u64(), a["spo2"].as_u64()),
        (Some(150), Some(85))
    );
    assert_eq!(
        a["message"],
        json!(["HR 150 > 130", "SpO2 85% < 90%"]),
        "{a}"
    );
    assert!(host.confirmed().is_empty(), "nothing reached a chain");
    let raised: Value = serde_json::from_str(&std::fs::read_to_string(&flag).unwrap()).unwrap();
    assert_eq!(&raised, a, "the flag file holds the alarm");
}

#[test]
fn provisioned_thresholds_replace_the_defaults() {
    let (host, flag, _dir) = run(Some(json!({"heart_rate_high": 160, "spo2_low": 80})));
    assert!(host.alarms().is_empty(), "{:?}", host.alarms());
    assert!(!flag.exists(), "no alarm, no flag");
    // A bad threshold is refused as configuration (exit 2), naming it.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), Some(json!({"spo2_low": 150})));
    let mut bad = Host::start(&cfg, &dir.path().join("outbox"), "000-00-0001", &[]);
    assert_eq!(bad.wait(Duration::from_secs(10)), Some(2));
    assert!(
        bad.stderr_text().contains("alarms.spo2_low"),
        "{}",
        bad.stderr_text()
    );
}
