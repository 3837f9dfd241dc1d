//! The firmware core on a private network (issue 14), end to end on real
//! geth, a real `medchain gateway` over TLS and the real PrivateRecords
//! contract: `esp32-host` (the core built for this machine by
//! `firmware/test.sh`) runs from the config `device provision` wrote — the
//! patient's id and the gateway's store, no SSN, no salt — and for each
//! reading reads the patient's current data key, seals the FHIR document
//! to it, `PUT`s the sealed bytes to the store and sends `addRecord` with
//! only their CID digest. The custodian hospital then opens all five in
//! sequence order; the device's own key opens none; `medchain serve`'s
//! Explorer lists the device's five writes.
//!
//! `esp32-host` must have been built (`firmware/test.sh`); without it this
//! test fails, it never skips.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::esp32::{esp32_host, Host};
use common::{Spawned, TestNet};
use serde_json::Value;

const TOPO: &str = "\
network: private-esp32
chain_id: 48172
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

/// The value of the Observation coded `loinc` (a component's for blood
/// pressure), as a number.
fn value(observations: &[Value], loinc: &str) -> f64 {
    for o in observations {
        if o["code"]["coding"][0]["code"] == loinc {
            return o["valueQuantity"]["value"].as_f64().unwrap();
        }
        for c in o["component"].as_array().into_iter().flatten() {
            if c["code"]["coding"][0]["code"] == loinc {
                return c["valueQuantity"]["value"].as_f64().unwrap();
            }
        }
    }
    panic!("no {loinc} in {observations:?}");
}

/// Starts hospital ward's gateway (with `extra` flags) and provisions one
/// device through it: the running gateway, its URL, `device provision`'s
/// JSON, the device's config file and its contents.
fn gateway_and_device(net: &TestNet, extra: &[&str]) -> (Spawned, String, Value, PathBuf, Value) {
    let gw = Spawned::medchain(
        net,
        &[
            &[
                "gateway",
                "--hospital",
                "ward",
                "--listen",
                "127.0.0.1:0",
                "-q",
            ][..],
            extra,
        ]
        .concat(),
    );
    let first = gw.wait_for(" listening on ", Duration::from_secs(40));
    let url = first.split(" listening on ").nth(1).unwrap().to_string();
    let out: Value = serde_json::from_str(
        &net.ok(&[
            "device",
            "provision",
            "--hospital",
            "ward",
            "--gateway",
            &url,
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let config = PathBuf::from(out["devices"][0]["config"].as_str().unwrap());
    let cfg: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    (gw, url, out, config, cfg)
}

#[test]
fn esp32_host_writes_sealed_readings_the_custodian_opens_and_the_device_cannot() {
    let host_bin = esp32_host();
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "45", "--quiet"]);
    let (_gw, url, out, config, cfg) = gateway_and_device(&net, &[]);
    assert!(cfg.get("patient_salt").is_none(), "{cfg}");
    assert_eq!(cfg["store_url"], format!("{url}/store"));

    // The firmware core, from that config alone: five readings.
    let outbox = net.dir.path().join("outbox-private");
    let mut host = Host::start_private(
        &config,
        &outbox,
        &[
            "--readings",
            "5",
            "--interval-ms",
            "200",
            "--timeout-ms",
            "90000",
            "--seed",
            "7",
        ],
    );
    let code = host.wait(Duration::from_secs(150));
    assert_eq!(
        code,
        Some(0),
        "{} did not land its readings:\n{}",
        host_bin.display(),
        host.stderr_text()
    );
    assert_eq!(host.confirmed(), [1, 2, 3, 4, 5], "{}", host.stderr_text());
    assert!(
        host.stderr_text().contains("(private network)"),
        "{}",
        host.stderr_text()
    );

    // The custodian opens all five, in sequence order, each a reading in
    // the simulated sensor's ranges.
    let got: Value = serde_json::from_str(
        &net.ok(&["records", "get", "--ssn", "000-00-0001", "--json"])
            .stdout,
    )
    .unwrap();
    let records = got.as_array().unwrap_or_else(|| panic!("{got}"));
    assert_eq!(records.len(), 5, "{got}");
    let device = out["devices"][0]["address"]
        .as_str()
        .unwrap()
        .to_lowercase();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["sequence"], i as u64 + 1, "{r}");
        assert_eq!(r["device"].as_str().unwrap().to_lowercase(), device, "{r}");
        assert!(r["cid"].as_str().unwrap().starts_with("bafkrei"), "{r}");
        let obs = r["observations"]
            .as_array()
            .unwrap_or_else(|| panic!("record {i} did not open: {r}"));
        assert_eq!(obs.len(), 4, "{r}");
        let in_range = |loinc: &str, low: f64, high: f64| {
            let v = value(obs, loinc);
            assert!((low..=high).contains(&v), "{loinc} = {v}: {r}");
        };
        in_range("8867-4", 55.0, 109.0); // heart rate
        in_range("2708-6", 93.0, 99.0); // SpO2
        in_range("8480-6", 100.0, 144.0); // systolic
        in_range("8462-4", 60.0, 94.0); // diastolic
        in_range("8310-5", 36.0, 37.79); // temperature
    }

    // The device cannot read what it wrote.
    let key = cfg["device_private_key"].as_str().unwrap().to_string();
    let mine = net.run(&[
        "records",
        "get",
        "--ssn",
        "000-00-0001",
        "--key",
        &key,
        "--json",
    ]);
    assert!(
        mine.code != 0 || !mine.stdout.contains("\"observations\""),
        "the device opened a record: {} {}",
        mine.stdout,
        mine.stderr
    );

    // The console's Explorer lists the device's transactions (issue 17):
    // its five writes, newest first, decoded, and nothing it did not send
    // or receive.
    history_lists_the_devices_writes(&net, &device);
}

/// `GET /api/address/{device}` on `medchain serve`: five `addRecord`s from
/// the device (sequences 5 … 1, newest first), its funding transfer in,
/// and a nonce of 5.
fn history_lists_the_devices_writes(net: &TestNet, device: &str) {
    let console = Spawned::medchain(net, &["serve", "--listen", "127.0.0.1:0"]);
    let first = console.wait_for(" listening on ", Duration::from_secs(30));
    let url = first.split(" listening on ").nth(1).unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let page: Value = rt.block_on(async {
        let r = reqwest::get(format!("{url}/api/address/{device}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    });
    assert_eq!(page["sent"], 5, "{page}");
    let txs = page["txs"].as_array().unwrap();
    let (out, inbound): (Vec<&Value>, Vec<&Value>) = txs
        .iter()
        .partition(|t| t["from"].as_str().unwrap().to_lowercase() == device);
    assert_eq!(out.len(), 5, "{page}");
    for (t, seq) in out.iter().zip((1..=5u64).rev()) {
        assert_eq!(t["status"], "success", "{t}");
        let call = t["call"].as_str().unwrap();
        assert!(call.starts_with("PrivateRecords.addRecord("), "{call}");
        assert!(call.contains(&format!("sequence={seq}")), "{call}");
    }
    let blocks: Vec<u64> = out.iter().map(|t| t["block"].as_u64().unwrap()).collect();
    assert!(blocks.windows(2).all(|w| w[0] >= w[1]), "{blocks:?}");
    assert!(!inbound.is_empty(), "no funding transfer in: {page}");
    assert!(
        inbound
            .iter()
            .all(|t| t["to"].as_str().unwrap().to_lowercase() == device),
        "{page}"
    );
    assert_eq!(page["total"], txs.len(), "{page}");
}

const MQTT_TOPO: &str = "\
network: private-esp32-mqtt
chain_id: 48176
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

/// The same device path with transactions over MQTT (Debian's mosquitto
/// behind `medchain broker`, `gateway --mqtt`): the sealed bytes still go
/// to the gateway's store over HTTPS, the signed `addRecord` over the
/// broker; the custodian opens every reading.
#[test]
fn esp32_host_over_mqtt_writes_sealed_readings_the_custodian_opens() {
    let host_bin = esp32_host();
    let net = TestNet::new(MQTT_TOPO);
    net.ok(&["up", "--seed", "46", "--quiet"]);
    net.ok(&["broker", "start"]);
    let (gw, _url, out, config, cfg) = gateway_and_device(&net, &["--mqtt"]);
    gw.wait_for("MQTT: answering", Duration::from_secs(40));
    assert_eq!(out["devices"][0]["mqtt"], true, "{out}");
    assert!(cfg.get("patient_salt").is_none(), "{cfg}");
    assert!(cfg["mqtt_url"].as_str().is_some(), "{cfg}");

    let outbox = net.dir.path().join("outbox-private-mqtt");
    let mut host = Host::start_private(
        &config,
        &outbox,
        &[
            "--transport",
            "mqtt",
            "--readings",
            "3",
            "--interval-ms",
            "300",
            "--timeout-ms",
            "90000",
            "--seed",
            "8",
        ],
    );
    let code = host.wait(Duration::from_secs(150));
    assert_eq!(
        code,
        Some(0),
        "{} did not land its readings over MQTT:\n{}",
        host_bin.display(),
        host.stderr_text()
    );
    assert_eq!(host.confirmed(), [1, 2, 3], "{}", host.stderr_text());
    let got: Value = serde_json::from_str(
        &net.ok(&["records", "get", "--ssn", "000-00-0001", "--json"])
            .stdout,
    )
    .unwrap();
    let records = got.as_array().unwrap_or_else(|| panic!("{got}"));
    assert_eq!(records.len(), 3, "{got}");
    for r in records {
        let obs = r["observations"]
            .as_array()
            .unwrap_or_else(|| panic!("a record did not open: {r}"));
        assert_eq!(obs.len(), 4, "{r}");
    }
}
