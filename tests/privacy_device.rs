//! A device on a private network (issue 14), on real geth, a real
//! `medchain gateway` over TLS and the real PrivateRecords contract: the
//! device is provisioned with its patient's id and the gateway's store (no
//! SSN, no salt), and writes a reading the way the firmware will, from its
//! config file alone — it reads the patient's current data public key,
//! seals the FHIR document to it, `PUT`s the sealed bytes to the store
//! under their CID and signs `addRecord` with only the CID digest. The
//! custodian hospital then reads the reading back; the device itself
//! cannot; the gateway refuses plaintext, a body under another CID and a
//! request without the device's token.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use alloy::consensus::{SignableTransaction, TxEnvelope, TxLegacy};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use medchain::contract::PrivateRecords;
use medchain::privacy::{content_id, envelope, fhir, seal::Binding};
use medchain::records::Reading;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use serde_json::{json, Value};

use common::TestNet;

const TOPO: &str = "\
network: private-device
chain_id: 48171
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

/// The device, as its config file describes it, talking HTTPS to the
/// gateway with its token and pinned CA.
struct Device {
    rt: tokio::runtime::Runtime,
    http: reqwest_tls::Client,
    cfg: Value,
    key: PrivateKeySigner,
}

impl Device {
    fn from_config(path: &PathBuf) -> Device {
        let cfg: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(cfg["tls_ca"].as_str().unwrap().as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest_tls::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Device {
            rt: tokio::runtime::Runtime::new().unwrap(),
            http,
            key: cfg["device_private_key"].as_str().unwrap().parse().unwrap(),
            cfg,
        }
    }

    fn s(&self, field: &str) -> &str {
        self.cfg[field].as_str().unwrap()
    }

    fn patient(&self) -> B256 {
        self.s("patient_id").parse().unwrap()
    }

    fn contract(&self) -> Address {
        self.s("contract").parse().unwrap()
    }

    /// One JSON-RPC call through the gateway; its `result`.
    fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let v: Value = self.rt.block_on(async {
            let r = self
                .http
                .post(self.s("rpc_url"))
                .bearer_auth(self.s("rpc_token"))
                .json(&body)
                .send()
                .await
                .expect("the gateway answers");
            assert_eq!(r.status().as_u16(), 200, "{method}");
            r.json().await.unwrap()
        });
        assert!(v["error"].is_null(), "{method}: {v}");
        v["result"].clone()
    }

    fn call<C: SolCall>(&self, c: C) -> C::Return {
        let data = Bytes::from(c.abi_encode());
        let out = self.rpc(
            "eth_call",
            json!([{"to": self.contract(), "data": data}, "latest"]),
        );
        let bytes: Bytes = serde_json::from_value(out).unwrap();
        C::abi_decode_returns(&bytes).unwrap()
    }

    /// `PUT <store_url>/<cid>`: status and body.
    fn put(&self, cid: &str, body: Vec<u8>, token: bool) -> (u16, Value) {
        self.rt.block_on(async {
            let mut req = self
                .http
                .put(format!("{}/{cid}", self.s("store_url")))
                .body(body);
            if token {
                req = req.bearer_auth(self.s("rpc_token"));
            }
            let r = req.send().await.expect("the gateway answers");
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        })
    }

    /// Signs and sends `data` to the contract; waits for its receipt.
    fn send(&self, data: Vec<u8>) -> Value {
        let hex_u64 = |v: Value| {
            u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        let me = self.key.address();
        let nonce = hex_u64(self.rpc("eth_getTransactionCount", json!([me, "pending"])));
        let gas_price = hex_u64(self.rpc("eth_gasPrice", json!([])));
        let mut tx = TxLegacy {
            chain_id: Some(self.cfg["chain_id"].as_u64().unwrap()),
            nonce,
            gas_price: u128::from(gas_price) * 2,
            gas_limit: 400_000,
            to: TxKind::Call(self.contract()),
            value: U256::ZERO,
            input: data.into(),
        };
        let sig = self.key.sign_transaction_sync(&mut tx).unwrap();
        let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
        let hash = self.rpc("eth_sendRawTransaction", json!([Bytes::from(raw)]));
        for _ in 0..60 {
            let r = self.rpc("eth_getTransactionReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("no receipt for {hash}");
    }
}

#[test]
fn a_device_writes_sealed_readings_through_the_gateway_and_cannot_read_them() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "44", "--quiet"]);
    let provision = ["device", "provision", "--hospital", "ward", "--json"];
    let r = net.run(&provision);
    assert_eq!(
        r.code, 2,
        "a private network's device needs a gateway: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("--gateway") && r.stderr.contains("private"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);

    let gw = common::Spawned::medchain(
        &net,
        &[
            "gateway",
            "--hospital",
            "ward",
            "--listen",
            "127.0.0.1:0",
            "-q",
        ],
    );
    let first = gw.lines.recv_timeout(Duration::from_secs(30)).unwrap();
    let url = first.split(" listening on ").nth(1).unwrap().to_string();
    let out: Value = serde_json::from_str(
        &net.ok(&[&provision[..], &["--gateway", &url]].concat())
            .stdout,
    )
    .unwrap();
    let path = PathBuf::from(out["devices"][0]["config"].as_str().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let dev = Device::from_config(&path);

    // What the device holds: its patient's id and the store, nothing to
    // derive an id from or to read with.
    assert!(dev.cfg.get("patient_salt").is_none(), "{text}");
    assert!(
        !text.contains("000-00-0001"),
        "no SSN in the device's config"
    );
    let custody =
        std::fs::read_to_string(net.home().join("private-device/custody/ward.json")).unwrap();
    let salt = serde_json::from_str::<Value>(&custody).unwrap()["patients"][0]["salt"].clone();
    assert!(
        salt.is_string(),
        "the custody register holds the salt: {custody}"
    );
    assert!(
        !text.contains(salt.as_str().unwrap().trim_start_matches("0x")),
        "no salt in the device's config"
    );
    assert_eq!(dev.s("store_url"), format!("{url}/store"));
    assert_eq!(
        dev.patient().to_string(),
        out["devices"][0]["patient"].as_str().unwrap()
    );

    // The write, from the config alone.
    let patient = dev.patient();
    let version = dev
        .call(PrivateRecords::patientsCall::new((patient,)))
        .keyVersion;
    let public = dev.call(PrivateRecords::dataPublicKeyCall::new((patient, version)));
    let public = k256::PublicKey::from_sec1_bytes(&public).unwrap();
    let sequence = dev
        .call(PrivateRecords::devicesCall::new((dev.key.address(),)))
        .lastSequence
        + 1;
    let reading = Reading {
        heart_rate: 141,
        spo2: 93,
        systolic: 128,
        diastolic: 84,
        temperature_centi_c: 3712,
    };
    let taken_ms = 1_796_000_000_000;
    let ctx = fhir::Context {
        patient,
        device: dev.key.address(),
        sequence,
        taken_ms,
    };
    let binding = Binding {
        patient,
        device: dev.key.address(),
        sequence,
    };
    let sealed = envelope::seal_to(
        &public,
        version,
        &binding,
        &fhir::reading_document(&reading, &ctx),
    );
    let cid = content_id::of(&sealed);

    // The gateway's refusals first.
    let plain = b"{\"heart_rate\":141}".to_vec();
    let (status, body) = dev.put(&content_id::of(&plain).to_string(), plain, true);
    assert_eq!(status, 400, "plaintext is refused: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a sealed reading"),
        "{body}"
    );
    let mut other = sealed.clone();
    other[60] ^= 1;
    assert_eq!(
        dev.put(&cid.to_string(), other, true).0,
        400,
        "bytes under another CID"
    );
    assert_eq!(
        dev.put(&cid.to_string(), sealed.clone(), false).0,
        401,
        "no token"
    );
    let (status, body) = dev.put(&cid.to_string(), sealed.clone(), true);
    assert_eq!(
        (status, body["cid"].as_str()),
        (201, Some(cid.to_string().as_str()))
    );
    assert_eq!(
        dev.put(&cid.to_string(), sealed.clone(), true).0,
        201,
        "a resend is harmless"
    );

    let digest = B256::from(content_id::digest(&cid).unwrap());
    let receipt = dev.send(
        PrivateRecords::addRecordCall {
            patient,
            cidDigest: digest,
            keyVersion: version,
            deviceTimestamp: taken_ms,
            sequence,
        }
        .abi_encode(),
    );
    assert_eq!(receipt["status"], "0x1", "{receipt}");

    // The custodian reads it back, whole; the stored bytes are the device's.
    let got: Value = serde_json::from_str(
        &net.ok(&["records", "get", "--ssn", "000-00-0001", "--json"])
            .stdout,
    )
    .unwrap();
    let rec = &got[0];
    assert_eq!(rec["cid"], cid.to_string().as_str(), "{got}");
    let hr = rec["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "8867-4")
        .unwrap_or_else(|| panic!("a heart-rate Observation: {got}"));
    assert_eq!(hr["valueQuantity"]["value"], 141, "{hr}");
    let raw = net.ok(&["records", "raw", &cid.to_string()]).stdout;
    assert_eq!(raw.trim(), alloy::hex::encode(&sealed));

    // The device cannot read what it wrote.
    let key = dev.s("device_private_key").to_string();
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
}
