//! `watch` on a private network (issue 14): it reads as one reader — the
//! custodian hospital (`--hospital`) or a doctor with consent (`--key`) —
//! follows PrivateRecords' `RecordAdded`, fetches each sealed reading
//! from the network's store, opens it and alarms on the decrypted values.
//! A revoked doctor's `watch` gets no alarm for a record written after the
//! revoke, and reports it, once, as unreadable.

use std::time::Duration;

use serde_json::Value;

use crate::common::TestNet;
use crate::harness::{wait_until, Hook, Watch};

const SSN: &str = "555-01-0042";

fn add(net: &TestNet, hr: u16) -> Value {
    let out = net.ok(&[
        "records",
        "add",
        "--json",
        "--ssn",
        SSN,
        "--heart-rate",
        &hr.to_string(),
        "--spo2",
        "97",
    ]);
    serde_json::from_str(&out.stdout).unwrap()
}

fn key_of(written: &Value) -> String {
    format!("{}:0", written["tx"].as_str().unwrap())
}

fn keys(notices: &[Value]) -> Vec<String> {
    notices
        .iter()
        .map(|n| n["key"].as_str().unwrap().to_string())
        .collect()
}

fn has(w: &Watch, needle: &str) -> bool {
    w.stderr.lock().unwrap().iter().any(|l| l.contains(needle))
}

/// A private network with patient SSN at north and a doctor of south
/// with consent: the net, the patient id and the doctor's key and address.
fn setup() -> (TestNet, String, String, String) {
    let net = TestNet::new(
        "network: watch-private\nblock_period: 1\nhospitals:\n  - {name: north, sealers: 1, members: 1}\n  - {name: south, sealers: 0, members: 1}\n",
    );
    net.ok(&["up", "--seed", "46", "--quiet"]);
    net.ok(&["patient", "register", "--ssn", SSN, "--hospital", "north"]);
    let reg: Value = serde_json::from_slice(
        &std::fs::read(net.home().join("watch-private/custody/north.json")).unwrap(),
    )
    .unwrap();
    let patient = reg["patients"][0]["patient"].as_str().unwrap().to_string();
    let doctor = alloy::signers::local::PrivateKeySigner::random();
    let doctor_key = doctor.to_bytes().to_string();
    let doctor_addr = format!("{:#x}", doctor.address());
    net.ok(&["doctor", "add", "--hospital", "south", "--key", &doctor_key]);
    net.ok(&[
        "consent",
        "grant",
        "--patient",
        &patient,
        "--reader",
        &doctor_addr,
    ]);
    (net, patient, doctor_key, doctor_addr)
}

/// A private network needs a reader; an address alone opens nothing.
fn bad_readers_exit_2(net: &TestNet, doctor_addr: &str) {
    let r = net.run(&["watch"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--hospital/--key"), "{}", r.stderr);
    let r = net.run(&["watch", "--reader", doctor_addr]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--reader:"), "{}", r.stderr);
    let r = net.run(&["watch", "--hospital", "east"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--hospital \"east\""), "{}", r.stderr);
}

/// The doctor's `watch` with a webhook (the alarms' recipient).
fn doctor_watch(net: &TestNet, doctor_key: &str, hook: &Hook) -> Watch {
    let secret = net.dir.path().join("hook.secret");
    std::fs::write(&secret, "a-webhook-secret-of-32-characters\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    Watch::start(
        net,
        &["--json", "--key", doctor_key, "--webhook", &hook.url],
        Some(&secret),
    )
}

#[test]
fn a_private_network_alarms_to_readers_who_can_open_the_reading_and_counts_the_rest() {
    let (net, patient, doctor_key, doctor_addr) = setup();
    bad_readers_exit_2(&net, &doctor_addr);
    let custodian = Watch::start(&net, &["--json", "--hospital", "north"], None);
    let hook = Hook::start(0);
    let mut doc = doctor_watch(&net, &doctor_key, &hook);

    // A normal reading alarms nobody; an abnormal one alarms both readers.
    add(&net, 80);
    let abnormal = add(&net, 150);
    let want = vec![key_of(&abnormal)];
    assert!(
        wait_until(Duration::from_secs(10), || keys(&custodian.notices())
            == want
            && keys(&doc.notices()) == want
            && keys(&hook.delivered()) == want),
        "no single alarm within 10 s: custodian {:?}, doctor {:?}, webhook {:?}",
        custodian.notices(),
        doc.notices(),
        hook.delivered()
    );
    let a = &hook.delivered()[0];
    assert_eq!(a["kind"], "alarm");
    assert_eq!(a["patient"], patient.as_str());
    assert_eq!(a["reading"]["heart_rate"], 150);
    assert_eq!(a["reading"]["spo2"], 97);
    assert_eq!(a["crossed"][0]["vital"], "heart_rate");
    assert_eq!(a["cid"], abnormal["cid"]);
    assert_eq!(a["key_version"], 1);
    assert_eq!(custodian.notices()[0]["reading"], a["reading"]);

    net.ok(&["consent", "revoke", "--ssn", SSN, "--reader", &doctor_addr]);
    after_revoke(&net, &patient, &custodian, &mut doc, &hook, &want);
}

/// After the revoke, records sealed to the new key alarm the custodian
/// only; the doctor's `watch` counts them as unreadable, one line for the
/// patient, and reports the count when it stops.
fn after_revoke(
    net: &TestNet,
    patient: &str,
    custodian: &Watch,
    doc: &mut Watch,
    hook: &Hook,
    want: &[String],
) {
    let later = add(net, 160);
    assert!(
        wait_until(Duration::from_secs(10), || custodian.notices().len() == 2),
        "custodian: {:?}",
        custodian.notices()
    );
    assert_eq!(keys(&custodian.notices())[1], key_of(&later));
    assert_eq!(custodian.notices()[1]["key_version"], 2);
    let first_line = format!("cannot open patient {patient}'s records");
    assert!(
        wait_until(Duration::from_secs(10), || has(doc, &first_line)),
        "{:?}",
        doc.stderr.lock().unwrap()
    );
    add(net, 170);
    assert!(wait_until(Duration::from_secs(10), || custodian
        .notices()
        .len()
        == 3));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(keys(&doc.notices()), want, "no alarm after the revoke");
    assert_eq!(keys(&hook.delivered()), want);
    let lines = doc
        .stderr
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(&first_line))
        .count();
    assert_eq!(lines, 1, "one line per patient, not per record");
    let metrics = doc.metrics();
    assert!(
        metrics.contains("medchain_watch_unreadable_records_total 2"),
        "{metrics}"
    );
    assert_eq!(doc.terminate(), Some(0));
    let summary = format!("patient {patient}: 2 record(s) this reader could not open");
    assert!(
        wait_until(Duration::from_secs(5), || has(doc, &summary)),
        "{:?}",
        doc.stderr.lock().unwrap()
    );
    assert!(!has(custodian, "could not open"));
}
