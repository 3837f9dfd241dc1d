//! `medchain gateway --mqtt` end to end with Debian's real mosquitto, real
//! geth and a real MQTT client: a device publishes a signed
//! `addMedicalRecord` on its own topic and gets the transaction hash on its
//! `ack` topic; the same bytes sent again (before and after they were
//! mined) get the same hash; a transaction signed by another key on its
//! topic is refused; JSON-RPC reads work over the same topics; the record
//! is on chain once. Without mosquitto or geth these tests fail, they
//! never skip.

mod common;

use std::time::{Duration, Instant};

use alloy::consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::primitives::{keccak256, Address, TxKind, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol_types::SolCall;
use common::mqtt::{self, connect, next_publish, subscribe};
use common::{rpc, Spawned, TestNet};
use medchain::contract::{patient_id, MedicalRecords};
use medchain::state::State;
use rumqttc::{AsyncClient, EventLoop, QoS};
use serde_json::{json, Value};

const TOPO: &str = "\
network: gateway-mqtt
privacy: clear
chain_id: 48170
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

/// `medchain gateway --mqtt` for hospital ward.
const GATEWAY: &[&str] = &[
    "gateway",
    "--hospital",
    "ward",
    "--listen",
    "127.0.0.1:0",
    "--mqtt",
    "-q",
];

/// Starts the gateway and waits until it prints its MQTT line (it has
/// subscribed by then).
fn start_gateway(net: &TestNet) -> Spawned {
    let gw = Spawned::medchain(net, GATEWAY);
    gw.wait_for(
        "MQTT: answering medchain/gateway-mqtt/ward/devices/+/tx",
        Duration::from_secs(40),
    );
    gw
}

/// A signed `addMedicalRecord` of `key` for `patient` with `sequence`, hex.
fn record_tx(
    key: &PrivateKeySigner,
    contract: Address,
    patient: B256,
    nonce: u64,
    sequence: u64,
    gas_price: u128,
) -> String {
    let input = MedicalRecords::addMedicalRecordCall {
        patient,
        heartRate: 72,
        spo2: 98,
        systolic: 120,
        diastolic: 80,
        temperatureCentiC: 3660,
        deviceTimestamp: 1_700_000_000,
        sequence,
    }
    .abi_encode();
    let tx = TxLegacy {
        chain_id: Some(48170),
        nonce,
        gas_price,
        gas_limit: 400_000,
        to: TxKind::Call(contract),
        value: U256::ZERO,
        input: input.into(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    format!("0x{}", hex::encode(env.encoded_2718()))
}

/// Publishes `body` on `topic` and returns the next answer on the
/// subscribed `ack` topic.
async fn ask(c: &AsyncClient, ev: &mut EventLoop, topic: &str, body: Value) -> Value {
    c.publish(
        topic,
        QoS::AtLeastOnce,
        false,
        body.to_string().into_bytes(),
    )
    .await
    .unwrap();
    let (t, payload) = next_publish(ev, Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no answer to {body} within 20 s"));
    assert!(t.ends_with("/ack"), "{t}");
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn without_a_running_broker_mqtt_is_refused_with_what_to_do() {
    let net = TestNet::new(
        &TOPO
            .replace("gateway-mqtt", "gateway-mqtt-off")
            .replace("48170", "48171"),
    );
    net.ok(&["up", "--seed", "43", "--quiet"]);
    let r = net.run(GATEWAY);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("--mqtt") && r.stderr.contains("medchain broker start"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
}

#[test]
fn a_device_publishes_a_signed_reading_and_gets_its_hash_once_on_chain() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "42", "--quiet"]);
    let out: Value = serde_json::from_str(
        &net.ok(&["device", "provision", "--hospital", "ward", "--json"])
            .stdout,
    )
    .unwrap();
    net.ok(&["broker", "start"]);
    let _gw = start_gateway(&net);
    let state = State::load(&net.home(), "gateway-mqtt").unwrap();
    let member = state
        .plan
        .nodes
        .iter()
        .find(|n| n.name == "ward-member-0")
        .unwrap()
        .rpc_url()
        .unwrap();
    let cfg: Value = serde_json::from_str(
        &std::fs::read_to_string(out["devices"][0]["config"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let key: PrivateKeySigner = cfg["device_private_key"].as_str().unwrap().parse().unwrap();
    let mr = state.contracts["medical_records"];
    let patient = patient_id(state.plan.patient_salt, "000-00-0001");
    let gas_price = u128::from_str_radix(
        rpc(&member, "eth_gasPrice", json!([]))
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let raw = record_tx(&key, mr, patient, 0, 1, gas_price * 2);
    let hash = format!("{:#x}", keccak256(hex::decode(&raw[2..]).unwrap()));
    let stranger = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x77)).unwrap();
    let forged = record_tx(&stranger, mr, patient, 0, 1, gas_price * 2);

    let dir = net.home().join("gateway-mqtt/broker");
    let d = mqtt::credentials(&dir, "ward-device-1");
    let (tx_topic, ack_topic) = (
        d["publish"][0].as_str().unwrap(),
        d["subscribe"][0].as_str().unwrap(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (c, mut ev) = connect(&d, &mqtt::password(&d), false).await.unwrap();
        subscribe(&c, &mut ev, ack_topic).await;
        let a = ask(&c, &mut ev, tx_topic, json!({"id": 1, "raw": raw})).await;
        assert_eq!(a, json!({"id": 1, "hash": hash}), "the hash, under the message's id");
        // Resent before it is mined: "already known" → the same hash.
        let a = ask(&c, &mut ev, tx_topic, json!({"id": 2, "raw": raw})).await;
        assert_eq!(a, json!({"id": 2, "hash": hash}));
        // Signed by another key on this device's topic: refused.
        let a = ask(&c, &mut ev, tx_topic, json!({"id": 3, "raw": forged})).await;
        assert_eq!(a["id"], 3, "{a}");
        assert_eq!(a["error"]["code"], -32003, "{a}");
        // JSON-RPC calls of the allow-list over the same topics.
        let a = ask(&c, &mut ev, tx_topic, json!({"jsonrpc": "2.0", "id": 4, "method": "eth_chainId", "params": []})).await;
        assert_eq!(a["result"], "0xbc2a", "{a}");
        let a = ask(&c, &mut ev, tx_topic, json!({"jsonrpc": "2.0", "id": 5, "method": "admin_peers", "params": []})).await;
        assert_eq!(a["error"]["code"], -32601, "{a}");
        let a = ask(&c, &mut ev, tx_topic, json!("nonsense")).await;
        assert!(a["error"]["code"].is_i64(), "{a}");
        // Mined; sent again ("nonce too low"): still the same hash.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = ask(&c, &mut ev, tx_topic, json!({"jsonrpc": "2.0", "id": 6, "method": "eth_getTransactionReceipt", "params": [hash]})).await;
            if !r["result"].is_null() {
                assert_eq!(r["result"]["status"], "0x1", "{r}");
                break;
            }
            assert!(Instant::now() < deadline, "no receipt within 60 s");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let a = ask(&c, &mut ev, tx_topic, json!({"id": "again", "raw": raw})).await;
        assert_eq!(a, json!({"id": "again", "hash": hash}));
    });

    // On chain: one record, sequence 1, from the device.
    let admin = state.plan.accounts[0].signer();
    let c = MedicalRecords::new(
        mr,
        medchain::contract::signing_provider(&member, &admin).unwrap(),
    );
    let (records, info) = rt.block_on(async {
        (
            c.getMedicalRecords(patient, U256::ZERO, U256::from(100))
                .from(admin.address())
                .call()
                .await
                .unwrap(),
            c.devices(key.address()).call().await.unwrap(),
        )
    });
    assert_eq!(records.iter().map(|r| r.sequence).collect::<Vec<_>>(), [1]);
    assert_eq!(records[0].device, key.address());
    assert_eq!(info.lastSequence, 1);
    let log =
        std::fs::read_to_string(net.home().join("gateway-mqtt/gateway/access-ward.log")).unwrap();
    assert!(
        log.contains(&format!(
            "mqtt:{:#x} eth_sendRawTransaction 200",
            key.address()
        )),
        "{log}"
    );
}
