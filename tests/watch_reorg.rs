//! `medchain watch` retracts an alarm whose record a proof-of-work
//! reorganisation took off the chain, on real geth v1.11.6 (ethash): with
//! the hospitals partitioned, a device's abnormal reading is mined on the
//! north side (watch, following north's member with no confirmation
//! depth, alarms it), while the same device's normal reading with the same
//! nonce is mined on the south side; north's miner stops, south's chain
//! grows heavier, and after the heal north reorganises onto it: the
//! abnormal transaction's nonce is spent, it can never be included again,
//! and watch sends the retraction.

mod common;
#[path = "watch/harness.rs"]
mod harness;

use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use common::{rpc, TestNet};
use harness::{wait_until, Watch};
use medchain::contract::{patient_id, signing_provider, MedicalRecords};
use medchain::state::State;
use serde_json::{json, Value};

const TOPO: &str = "\
network: watch-reorg
privacy: clear
consensus: ethash
difficulty: \"0x200\"
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 1, members: 1}
";

fn head(url: &str) -> u64 {
    let b = rpc(url, "eth_blockNumber", json!([]));
    u64::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn has_receipt(url: &str, tx: &str) -> bool {
    !rpc(url, "eth_getTransactionReceipt", json!([tx])).is_null()
}

/// Sends a normal reading (heart rate 80) as `key` through `url`, with the
/// nonce and sequence that node sees; its transaction hash.
fn send_normal(state: &State, url: &str, key: &PrivateKeySigner) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let p = signing_provider(url, key).unwrap();
        let c = MedicalRecords::new(state.contracts["medical_records"], &p);
        let seq = c.devices(key.address()).call().await.unwrap().lastSequence + 1;
        let patient = patient_id(state.plan.patient_salt, "000-00-0001");
        let pending = c
            .addMedicalRecord(patient, 80, 97, 120, 80, 3680, 0, seq)
            .gas(300_000)
            .send()
            .await
            .unwrap();
        format!("{:#x}", pending.tx_hash())
    })
}

#[test]
fn a_reorganisation_that_drops_an_alarmed_record_retracts_the_alarm() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "43", "--quiet"]);
    let out: Value = serde_json::from_str(
        &net.ok(&[
            "device",
            "provision",
            "--json",
            "--hospital",
            "north",
            "--ssn",
            "000-00-0001",
        ])
        .stdout,
    )
    .unwrap();
    let cfg: Value = serde_json::from_str(
        &std::fs::read_to_string(out["devices"][0]["config"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let key_hex = cfg["device_private_key"].as_str().unwrap().to_string();
    let key: PrivateKeySigner = key_hex.parse().unwrap();
    let state = State::load(&net.home(), "watch-reorg").unwrap();
    let url = |name: &str| {
        state
            .plan
            .nodes
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| n.rpc_url())
            .unwrap()
    };
    let (north, south) = (url("north-member-0"), url("south-member-0"));
    let w = Watch::start(
        &net,
        &["--json", "--confirmations", "0", "--node", "north-member-0"],
        None,
    );

    net.ok(&["fault", "partition", "--hospital", "north"]);
    let added: Value = serde_json::from_str(
        &net.ok(&[
            "records",
            "add",
            "--json",
            "--ssn",
            "000-00-0001",
            "--key",
            &key_hex,
            "--heart-rate",
            "150",
            "--spo2",
            "97",
        ])
        .stdout,
    )
    .unwrap();
    let abnormal = added["tx"].as_str().unwrap().to_string();
    let alarmed = |w: &Watch, kind: &str| {
        w.notices()
            .iter()
            .any(|n| n["kind"] == kind && n["key"] == format!("{abnormal}:0"))
    };
    assert!(
        wait_until(Duration::from_secs(30), || alarmed(&w, "alarm")),
        "no alarm for the abnormal reading mined on the north side: {:?}",
        w.notices()
    );
    net.ok(&["fault", "stop", "north-sealer-0"]);
    let normal = send_normal(&state, &south, &key);
    let heavier = wait_until(Duration::from_secs(180), || {
        has_receipt(&south, &normal) && head(&south) > head(&north) + 2
    });
    assert!(
        heavier,
        "south did not mine past north: {} vs {}",
        head(&south),
        head(&north)
    );

    net.ok(&["fault", "heal"]);
    let reorged = wait_until(Duration::from_secs(120), || {
        has_receipt(&north, &normal) && !has_receipt(&north, &abnormal)
    });
    assert!(reorged, "north did not reorganise onto south's chain");
    assert!(
        wait_until(Duration::from_secs(30), || alarmed(&w, "retraction")),
        "no retraction after the reorganisation: {:?}",
        w.notices()
    );
    let n = w.notices();
    let r = n.iter().find(|n| n["kind"] == "retraction").unwrap();
    assert!(
        r["reason"].as_str().unwrap().contains("left the chain"),
        "{r}"
    );
    assert_eq!(
        n.iter().filter(|n| n["kind"] == "alarm").count(),
        1,
        "the normal reading that replaced it raised nothing: {n:?}"
    );
}
