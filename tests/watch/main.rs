//! `medchain watch` end to end on real geth, Debian's real mosquitto and a
//! real HTTP webhook receiver: an abnormal reading gives exactly one alarm
//! per sink within 10 s and a normal one none; a failing webhook is
//! retried; the webhook's signature verifies; `watch` killed and restarted
//! mid-stream neither repeats nor misses an alarm; a broker restart loses
//! none. Without geth or mosquitto these tests fail, they never skip.

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod private;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::TestNet;
use harness::{wait_until, Hook, Subscriber, Watch};
use hmac::{Hmac, Mac};
use serde_json::Value;

/// A network with one hospital, a broker and one provisioned device for
/// patient 000-00-0001; returns the device's private key.
fn setup(name: &str, seed: &str) -> (TestNet, String) {
    let net = TestNet::new(&format!(
        "network: {name}\nprivacy: clear\nblock_period: 1\nhospitals:\n  - {{name: ward, sealers: 1, members: 1}}\n"
    ));
    net.ok(&["up", "--seed", seed, "--quiet"]);
    let out: Value = serde_json::from_str(
        &net.ok(&[
            "device",
            "provision",
            "--json",
            "--hospital",
            "ward",
            "--ssn",
            "000-00-0001",
        ])
        .stdout,
    )
    .unwrap();
    let path = out["devices"][0]["config"].as_str().unwrap();
    let cfg: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    net.ok(&["broker", "start"]);
    (net, cfg["device_private_key"].as_str().unwrap().to_string())
}

/// Stores a reading with heart rate `hr` as the device; its transaction.
fn add(net: &TestNet, key: &str, hr: u16) -> String {
    let out = net.ok(&[
        "records",
        "add",
        "--json",
        "--ssn",
        "000-00-0001",
        "--key",
        key,
        "--heart-rate",
        &hr.to_string(),
        "--spo2",
        "97",
    ]);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v["tx"].as_str().unwrap().to_string()
}

fn alarms_dir(net: &TestNet, name: &str) -> PathBuf {
    net.home()
        .join(name)
        .join("broker/credentials/ward-alarms.json")
}

fn secret_file(net: &TestNet) -> PathBuf {
    let p = net.dir.path().join("webhook.secret");
    std::fs::write(&p, "a-webhook-secret-of-32-characters\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// The keys of `notices`, in order.
fn keys(notices: &[Value]) -> Vec<String> {
    notices
        .iter()
        .map(|n| n["key"].as_str().unwrap().to_string())
        .collect()
}

fn key_of(tx: &str) -> String {
    format!("{tx}:0")
}

/// Whether every sink shows exactly `want` (in order), each once.
fn all_have(sub: &Subscriber, hook: &Hook, want: &[String]) -> bool {
    keys(&sub.notices()) == want && keys(&hook.delivered()) == want
}

fn check_signature(hook: &Hook, secret: &Path) {
    let secret = std::fs::read_to_string(secret).unwrap();
    for c in hook.calls.lock().unwrap().iter() {
        let ts = c.headers["x-medchain-timestamp"].to_str().unwrap();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.trim_end().as_bytes()).unwrap();
        mac.update(format!("{ts}.").as_bytes());
        mac.update(&c.body);
        let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(c.headers["x-medchain-signature"].to_str().unwrap(), want);
        let body: Value = serde_json::from_slice(&c.body).unwrap();
        assert_eq!(
            c.headers["idempotency-key"].to_str().unwrap(),
            body["key"].as_str().unwrap()
        );
        assert_eq!(c.headers["x-medchain-event"].to_str().unwrap(), "alarm");
    }
}

#[test]
fn an_abnormal_reading_reaches_every_sink_once_and_a_restart_neither_repeats_nor_misses() {
    let (net, key) = setup("watch-e2e", "41");
    let secret = secret_file(&net);
    let sub = Subscriber::start(alarms_dir(&net, "watch-e2e"));
    let hook = Hook::start(1);
    let args = ["--json", "--mqtt", "--webhook", &hook.url];
    let mut w = Watch::start(&net, &args, Some(&secret));

    add(&net, &key, 80);
    let sent = Instant::now();
    let tx1 = add(&net, &key, 150);
    let want = vec![key_of(&tx1)];
    assert!(
        wait_until(Duration::from_secs(10), || all_have(&sub, &hook, &want)
            && keys(&w.notices()) == want),
        "no single alarm within 10 s: mqtt {:?}, webhook {:?}, terminal {:?}",
        sub.notices(),
        hook.delivered(),
        w.notices()
    );
    eprintln!(
        "alarm on every sink {:?} after the reading's receipt",
        sent.elapsed()
    );
    let a = &sub.notices()[0];
    assert_eq!(a["kind"], "alarm");
    assert_eq!(a["hospital"], "ward");
    assert_eq!(a["reading"]["heart_rate"], 150);
    assert_eq!(a["crossed"][0]["vital"], "heart_rate");
    assert_eq!(a["crossed"][0]["bound"], "high");
    assert_eq!(a["crossed"][0]["limit"], 130.0);
    let topic = sub.got.lock().unwrap()[0].0.clone();
    let pseudonym = a["pseudonym"].as_str().unwrap();
    assert_eq!(topic, format!("medchain/watch-e2e/ward/alarms/{pseudonym}"));
    assert!(
        !topic.contains(&a["patient"].as_str().unwrap()[2..18]),
        "{topic}"
    );
    let calls = hook.calls.lock().unwrap().len();
    assert_eq!(
        calls, 2,
        "the webhook answered 503 once, then 200: one retry"
    );
    check_signature(&hook, &secret);

    // watch killed (as by a crash) between alarms; readings go on meanwhile.
    let tx2 = add(&net, &key, 160);
    let want2 = vec![key_of(&tx1), key_of(&tx2)];
    assert!(wait_until(Duration::from_secs(10), || all_have(
        &sub, &hook, &want2
    )));
    std::thread::sleep(Duration::from_millis(300));
    w.kill();
    let tx3 = add(&net, &key, 170);
    add(&net, &key, 75);
    let tx4 = add(&net, &key, 30);
    let mut w = Watch::start(&net, &args, Some(&secret));
    let tx5 = add(&net, &key, 131);
    let all: Vec<String> = [&tx1, &tx2, &tx3, &tx4, &tx5]
        .iter()
        .map(|t| key_of(t))
        .collect();
    assert!(
        wait_until(Duration::from_secs(15), || all_have(&sub, &hook, &all)),
        "after a restart: mqtt {:?}, webhook {:?}",
        keys(&sub.notices()),
        keys(&hook.delivered())
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(all_have(&sub, &hook, &all), "a late duplicate");
    assert_eq!(
        keys(&w.notices()),
        all[2..],
        "the terminal of the second run"
    );
    assert_eq!(w.terminate(), Some(0), "SIGTERM ends watch cleanly");
    check_signature(&hook, &secret);
}

#[test]
fn a_broker_restart_loses_no_alarm() {
    let (net, key) = setup("watch-broker", "42");
    let sub = Subscriber::start(alarms_dir(&net, "watch-broker"));
    let _w = Watch::start(&net, &["--quiet", "--mqtt"], None);
    let tx1 = add(&net, &key, 150);
    let got = |want: &[String]| keys(&sub.notices()) == want;
    let want1 = vec![key_of(&tx1)];
    assert!(wait_until(Duration::from_secs(10), || got(&want1)));

    net.ok(&["broker", "stop"]);
    let tx2 = add(&net, &key, 35);
    std::thread::sleep(Duration::from_secs(2));
    net.ok(&["broker", "start"]);
    let tx3 = add(&net, &key, 140);
    let all: Vec<String> = [&tx1, &tx2, &tx3].iter().map(|t| key_of(t)).collect();
    assert!(
        wait_until(Duration::from_secs(30), || got(&all)),
        "across a broker restart: {:?}",
        keys(&sub.notices())
    );
}

#[test]
fn bad_thresholds_and_sinks_are_refused_with_exit_2() {
    let net = TestNet::new("network: watch-bad\nprivacy: clear\n");
    let bad = net.dir.path().join("t.yaml");
    std::fs::write(&bad, "defaults:\n  spo2: {low: 120}\n").unwrap();
    let r = net.run(&["watch", "--thresholds", bad.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("t.yaml: defaults.spo2.low: 120"),
        "{}",
        r.stderr
    );
    let r = net.run(&[
        "watch",
        "--webhook",
        "http://example.org/x",
        "--webhook-secret-file",
        "/nonexistent",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("https only"), "{}", r.stderr);
    let loose = net.dir.path().join("loose.secret");
    std::fs::write(&loose, "0123456789abcdef0123").unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = net.run(&[
        "watch",
        "--webhook",
        "https://alarms.example.org/x",
        "--webhook-secret-file",
        loose.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("chmod 600"), "{}", r.stderr);
    let r = net.run(&["watch", "--quiet"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no sink"), "{}", r.stderr);
}

#[test]
fn a_fleet_round_with_abnormal_readings_measures_their_alarms() {
    let net = TestNet::new(
        "network: watch-bench\nprivacy: clear\nblock_period: 1\nhospitals:\n  - {name: ward, sealers: 1, members: 1}\n",
    );
    std::fs::write(
        net.dir.path().join("alarms.yaml"),
        "name: alarms\ncontract: medical\nworkers: 1\nrounds:\n  - label: fleet\n    tx_duration: 15\n    workload: { op: device-fleet, devices: 20, interval_s: 2, abnormal_share: 0.2 }\n",
    )
    .unwrap();
    net.ok(&["up", "--seed", "44", "--quiet"]);
    let json = net.dir.path().join("a.json");
    let out = net.ok(&[
        "bench",
        "alarms.yaml",
        "--json",
        json.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.stdout.contains("### Alarms ###"), "{}", out.stdout);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let a = &r["rounds"][0]["alarms"];
    let sent = r["rounds"][0]["fleet"]["readings_sent"].as_u64().unwrap();
    let abnormal = a["abnormal_sent"].as_u64().unwrap();
    // 20 devices × 15 s ÷ 2 s ≈ 150 readings, a fifth of them abnormal.
    assert!(
        abnormal * 10 > sent && abnormal * 10 < sent * 3,
        "{abnormal} of {sent}: {a}"
    );
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
    let p95 = a["latency_p95_s"].as_f64().unwrap();
    assert!(p95 > 0.0 && p95 < 10.0, "{a}");
}
