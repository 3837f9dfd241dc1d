//! esp32-host over MQTT end to end: real geth, Debian's real mosquitto
//! (`medchain broker`), `medchain gateway --mqtt`, and the firmware core's
//! MQTT transport (libmosquitto, TLS pinned to the broker's CA). The broker
//! is stopped and started again in the middle of the run: every reading is
//! on chain exactly once, in order.
//!
//! `esp32-host` must have been built (`firmware/test.sh`); without it, or
//! without mosquitto or geth, these tests fail, they never skip.

mod common;

use std::time::Duration;

use alloy::primitives::Address;
use common::esp32::{config_of, esp32_host, on_chain, provision, wait_until, Host};
use common::{alive, Spawned, TestNet};
use medchain::state::State;

const TOPO: &str = "\
network: device-mqtt
privacy: clear
chain_id: 48157
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

#[test]
fn readings_over_mqtt_survive_a_broker_restart_zero_lost_zero_duplicated() {
    const READINGS: u64 = 12;
    esp32_host();
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "37", "--quiet"]);
    let first = provision(&net, &["--hospital", "ward"]);
    assert_eq!(first["devices"][0]["mqtt"], false, "no broker yet");
    let broker = net.ok(&["broker", "start"]).stdout;
    // Provisioned again now that the broker issued the device an account.
    let out = provision(&net, &["--hospital", "ward"]);
    assert_eq!(out["devices"][0]["mqtt"], true);
    // A device provisioned while the broker runs gets its account at once
    // (the broker reloads its accounts).
    let second = provision(&net, &["--hospital", "ward", "--count", "2"]);
    assert_eq!(second["devices"][1]["mqtt"], true, "{second}");
    let (_, cfg2) = config_of(&second, 1);
    assert_eq!(cfg2["mqtt_username"], "ward-device-2");
    let c2 = common::mqtt::credentials(&net.home().join("device-mqtt/broker"), "ward-device-2");
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || rt
            .block_on(common::mqtt::connect(
                &c2,
                &common::mqtt::password(&c2),
                false
            ))
            .is_ok()),
        "the reloaded broker accepts the new device's account"
    );
    let (config, cfg) = config_of(&out, 0);
    let url = cfg["mqtt_url"].as_str().expect("mqtt_url in the config");
    assert!(broker.contains(url), "{broker}");
    assert!(
        cfg["mqtt_ca"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"),
        "{cfg}"
    );
    assert_eq!(cfg["mqtt_username"], "ward-device-1");
    let device: Address = out["devices"][0]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        cfg["mqtt_tx_topic"],
        format!("medchain/device-mqtt/ward/devices/{device:#x}/tx")
    );
    assert_eq!(cfg["alarms"]["heart_rate_high"], 130, "default thresholds");
    let gw = Spawned::medchain(
        &net,
        &[
            "gateway",
            "--hospital",
            "ward",
            "--listen",
            "127.0.0.1:0",
            "--mqtt",
            "-q",
        ],
    );
    gw.wait_for("MQTT: answering", Duration::from_secs(40));

    let outbox = net.dir.path().join("outbox");
    let readings = READINGS.to_string();
    let args = [
        "--transport",
        "mqtt",
        "--interval-ms",
        "1000",
        "--timeout-ms",
        "150000",
        "--readings",
    ];
    let mut host = Host::start(
        &config,
        &outbox,
        "000-00-0001",
        &[&args[..], &[readings.as_str()]].concat(),
    );
    assert!(
        wait_until(Duration::from_secs(60), || host.confirmed().len() >= 3),
        "no 3 readings confirmed over MQTT within 60 s:\n{}",
        host.stderr_text()
    );
    let before = host.confirmed().len() as u64;
    assert!(before < READINGS, "every reading landed before the restart");

    // The broker goes away under the device and the gateway, and comes back.
    let pid = net.status()["broker"]["pid"].as_u64().unwrap();
    net.ok(&["broker", "stop"]);
    assert!(!alive(pid), "mosquitto {pid} survived broker stop");
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        host.running(),
        "esp32-host gave up while the broker was down"
    );
    let again = net.ok(&["broker", "start"]).stdout;
    assert!(again.contains("mosquitto started"), "{again}");
    assert_ne!(
        net.status()["broker"]["pid"].as_u64(),
        Some(pid),
        "a new mosquitto"
    );

    let mut reboot = None;
    if !again.contains(url) {
        // Another network's broker took the port meanwhile: as on site, the
        // device is re-provisioned and rebooted; its outbox carries the
        // readings (the gateway re-reads its own credentials).
        eprintln!("note: the broker moved from {url}: {again}");
        assert!(
            wait_until(Duration::from_secs(30), || host.queued() as u64 == READINGS),
            "esp32-host did not queue every reading:\n{}",
            host.stderr_text()
        );
        host.kill();
        provision(&net, &["--hospital", "ward"]);
        reboot = Some(Host::start(
            &config,
            &outbox,
            "000-00-0001",
            &[&args[..], &["0"]].concat(),
        ));
    }
    let mut confirmed = host.confirmed();
    let last = reboot.as_mut().unwrap_or(&mut host);
    assert_eq!(
        last.wait(Duration::from_secs(200)),
        Some(0),
        "esp32-host did not land every reading over MQTT after the broker restart \
         ({before} landed before it):\n{}",
        last.stderr_text()
    );
    match &reboot {
        Some(r) => confirmed.extend(r.confirmed()),
        None => confirmed = host.confirmed(),
    }
    assert_eq!(
        confirmed,
        (1..=READINGS).collect::<Vec<_>>(),
        "one confirmation per reading, in order"
    );
    let state = State::load(&net.home(), "device-mqtt").unwrap();
    let (sequences, last_seq) = on_chain(&state, "ward-member-0", device);
    assert_eq!(
        sequences,
        (1..=READINGS).collect::<Vec<_>>(),
        "zero lost, zero duplicated"
    );
    assert_eq!(last_seq, READINGS);
    let log =
        std::fs::read_to_string(net.home().join("device-mqtt/gateway/access-ward.log")).unwrap();
    assert!(
        log.contains(&format!("mqtt:{device:#x} eth_sendRawTransaction 200")),
        "the readings went through the MQTT bridge:\n{log}"
    );
}

const FLEET_TOPO: &str = "\
network: fleet-mqtt
privacy: clear
chain_id: 48158
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

const FLEET: &str = "\
name: fleet-mqtt
contract: medical
workers: 1
rounds:
  - label: fleet
    tx_duration: 8
    workload: { op: device-fleet, devices: 10, interval_s: 2, jitter: 0.1, transport: mqtt }
";

/// A `device-fleet` round with `transport: mqtt`: every simulated device
/// has its own connection to the real broker, the bench's MQTT bridge
/// forwards to the member, and every reading sent lands.
#[test]
fn a_fleet_round_over_mqtt_lands_every_reading() {
    let net = TestNet::new(FLEET_TOPO);
    std::fs::write(net.dir.path().join("fleet.yaml"), FLEET).unwrap();
    net.ok(&["up", "--seed", "38", "--quiet"]);
    // Without the broker: refused with what to do.
    let r = net.run(&["bench", "fleet.yaml", "-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("transport: mqtt") && r.stderr.contains("medchain broker start"),
        "{}",
        r.stderr
    );
    net.ok(&["broker", "start"]);
    let json = net.dir.path().join("f.json");
    net.ok(&[
        "bench",
        "fleet.yaml",
        "--json",
        json.to_str().unwrap(),
        "-q",
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let round = &report["rounds"][0];
    let fleet = &round["fleet"];
    assert_eq!(round["fail"], 0, "{round}");
    let sent = fleet["readings_sent"].as_u64().unwrap();
    assert!(sent >= 30, "10 devices every 2 s for 8 s: {fleet}");
    assert_eq!(round["succ"].as_u64().unwrap(), sent, "{round}");
    assert_eq!(
        fleet["connections"], 0,
        "no HTTP connection: all went over MQTT: {fleet}"
    );
    let log = std::fs::read_to_string(net.home().join("fleet-mqtt/bench/mqtt-bridge.log")).unwrap();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains(" eth_sendRawTransaction 200 "))
            .count() as u64,
        sent,
        "one bridged send per reading"
    );
}
