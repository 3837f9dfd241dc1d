//! Issue 14's acceptance on contract storage: nothing from which a vital
//! sign or an identity can be read. After distinctive readings are written
//! on a private network, every storage slot of PrivateRecords that holds
//! something — computed from the contract's storage layout as solc gives
//! it (`contracts/out/PrivateRecords.storage.json`, written by
//! `contracts/build.js`), following each mapping with the keys the test
//! knows (the patient id, every hospital, doctor and device address, key
//! versions 0–3), each records array to its length and each long `bytes`
//! to its data — plus a raw window of slots 0..RAW_WINDOW is read with
//! `eth_getStorageAt`, and no word may hold a value as a contract would
//! store it, the SSN's bytes or the custody salt. The same scan of a
//! `privacy: clear` network's MedicalRecords finds the heart rate: the
//! scan can fail.

mod common;

use std::collections::BTreeMap;

use alloy::primitives::{keccak256, Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use common::TestNet;
use serde_json::Value;

const SSN: &str = "271-82-8182";
/// Slots 0..RAW_WINDOW are read whatever the layout says.
const RAW_WINDOW: u64 = 1024;

/// The distinctive reading: heart rate 173, SpO2 77, 211/97 mmHg, 38.42 °C.
const HR: u16 = 173;
const SPO2: u16 = 77;
const SYS: u16 = 211;
const DIA: u16 = 97;
const TEMP_CENTI: u16 = 3842;

/// What the storage walk knows to follow mappings with.
struct Keys {
    bytes32: Vec<B256>,
    address: Vec<Address>,
    uint32: Vec<u32>,
}

/// Reads a contract's storage.
struct Storage {
    rt: tokio::runtime::Runtime,
    provider: DynProvider,
    contract: Address,
    layout: Value,
    /// Every slot read, with its word.
    words: BTreeMap<U256, B256>,
}

impl Storage {
    fn new(url: &str, contract: Address, layout_file: &str) -> Storage {
        let path = format!(
            "{}/contracts/out/{layout_file}",
            std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")
        );
        let layout = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let provider = ProviderBuilder::new()
            .connect_http(url.parse().unwrap())
            .erased();
        Storage {
            rt,
            provider,
            contract,
            layout,
            words: BTreeMap::new(),
        }
    }

    fn read(&mut self, slot: U256) -> U256 {
        let (p, c) = (&self.provider, self.contract);
        let v = self
            .rt
            .block_on(async { p.get_storage_at(c, slot).await })
            .unwrap();
        self.words.insert(slot, B256::from(v));
        v
    }

    /// Reads every slot of every state variable, then the raw window.
    fn scan(&mut self, keys: &Keys) {
        let vars = self.layout["storage"].as_array().unwrap().clone();
        for v in vars {
            let slot = U256::from_str_radix(v["slot"].as_str().unwrap(), 10).unwrap();
            self.walk(v["type"].as_str().unwrap(), slot, keys);
        }
        for s in 0..RAW_WINDOW {
            self.read(U256::from(s));
        }
    }

    /// The slots of a value of type `ty` at `base`, read.
    fn walk(&mut self, ty: &str, base: U256, keys: &Keys) {
        let t = self.layout["types"][ty].clone();
        match t["encoding"].as_str().unwrap() {
            "mapping" => {
                let key_ty = t["key"].as_str().unwrap();
                let value = t["value"].as_str().unwrap().to_string();
                let words: Vec<B256> = match key_ty {
                    "t_bytes32" => keys.bytes32.clone(),
                    "t_address" => keys.address.iter().map(|a| a.into_word()).collect(),
                    "t_uint32" => keys.uint32.iter().map(|v| U256::from(*v).into()).collect(),
                    other => panic!("no keys known for mappings keyed by {other}"),
                };
                for k in words {
                    let slot = mapping_slot(k, base);
                    self.walk(&value, slot, keys);
                }
            }
            "dynamic_array" => {
                let len = self.read(base).to::<u64>();
                let elem = t["base"].as_str().unwrap().to_string();
                let size = self.layout["types"][&elem]["numberOfBytes"]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap();
                let first = U256::from_be_bytes(keccak256(base.to_be_bytes::<32>()).0);
                let per = size.div_ceil(32);
                for i in 0..len {
                    self.walk(&elem, first + U256::from(i * per), keys);
                }
            }
            "bytes" => {
                let head = self.read(base);
                if head.bit(0) {
                    let len = ((head - U256::from(1)) / U256::from(2)).to::<u64>();
                    let first = U256::from_be_bytes(keccak256(base.to_be_bytes::<32>()).0);
                    for i in 0..len.div_ceil(32) {
                        self.read(first + U256::from(i));
                    }
                }
            }
            "inplace" if t.get("members").is_some() => {
                for m in t["members"].as_array().unwrap().clone() {
                    let off = U256::from_str_radix(m["slot"].as_str().unwrap(), 10).unwrap();
                    self.walk(m["type"].as_str().unwrap(), base + off, keys);
                }
            }
            "inplace" => {
                self.read(base);
            }
            other => panic!("{ty}: encoding {other} is not walked"),
        }
    }

    /// The names of the needles found, with the slot of each.
    fn find(&self, needles: &[(String, String)]) -> Vec<String> {
        let mut hits = Vec::new();
        for (slot, w) in &self.words {
            let hex = hex::encode(w);
            for (name, n) in needles {
                if hex.contains(n.as_str()) {
                    hits.push(format!("{name} in slot {slot:#x} ({hex})"));
                }
            }
        }
        hits
    }
}

/// The slot of `mapping[key]` for a mapping at `base`.
fn mapping_slot(key: B256, base: U256) -> U256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(key.as_slice());
    buf[32..].copy_from_slice(&base.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

/// What must not be in storage, each as a contract would store it: the
/// reading packed as MedicalRecords packs it (temperature, diastolic,
/// systolic, SpO2, heart rate from the low end of the word), each value
/// as a whole word, the SSN's bytes and the custody salt.
fn needles(salt: Option<B256>) -> Vec<(String, String)> {
    let mut n = vec![(
        "the packed reading".to_string(),
        format!("{TEMP_CENTI:04x}{DIA:04x}{SYS:04x}{SPO2:04x}{HR:04x}"),
    )];
    for (name, v) in [
        ("heart rate", HR),
        ("SpO2", SPO2),
        ("systolic", SYS),
        ("diastolic", DIA),
        ("temperature (centi-degrees)", TEMP_CENTI),
    ] {
        n.push((format!("{name} {v} as a word"), format!("{v:064x}")));
    }
    n.push(("the SSN's bytes".into(), hex::encode(SSN)));
    if let Some(s) = salt {
        n.push(("the custody salt".into(), hex::encode(s)));
    }
    n
}

fn add_reading(net: &TestNet, network: &str) -> Value {
    let out = net.ok(&[
        "--network",
        network,
        "records",
        "add",
        "--json",
        "--ssn",
        SSN,
        "--heart-rate",
        &HR.to_string(),
        "--spo2",
        &SPO2.to_string(),
        "--systolic",
        &SYS.to_string(),
        "--diastolic",
        &DIA.to_string(),
        "--temperature",
        "38.42",
    ]);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The client URL, the admin and the hospitals' addresses of `network`.
fn parties(net: &TestNet, network: &str) -> (String, Vec<Address>, medchain::state::State) {
    let state = medchain::state::State::load(&net.home(), network).unwrap();
    let url = state.plan.nodes.iter().find_map(|n| n.rpc_url()).unwrap();
    let mut addrs: Vec<Address> = state
        .plan
        .hospital_keys
        .iter()
        .map(|(_, k)| k.address)
        .collect();
    addrs.push(state.plan.accounts[0].address);
    (url, addrs, state)
}

#[test]
fn private_storage_holds_no_reading_or_identity_and_the_scan_finds_them_in_clear() {
    scan_private();
    scan_clear();
}

/// A private network with a patient, a doctor with consent and one
/// reading: its storage holds none of the needles.
fn scan_private() {
    let net = TestNet::new(
        "network: privacy-storage\nblock_period: 1\nhospitals:\n  - {name: north, sealers: 1, members: 1}\n  - {name: south, sealers: 0, members: 1}\n",
    );
    net.ok(&["up", "--seed", "12", "-q"]);
    let n = "privacy-storage";
    net.ok(&[
        "--network",
        n,
        "patient",
        "register",
        "--ssn",
        SSN,
        "--hospital",
        "north",
    ]);
    let reg: Value = serde_json::from_slice(
        &std::fs::read(net.home().join("privacy-storage/custody/north.json")).unwrap(),
    )
    .unwrap();
    let salt: B256 = reg["patients"][0]["salt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let patient: B256 = reg["patients"][0]["patient"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let doctor = alloy::signers::local::PrivateKeySigner::random();
    let dkey = doctor.to_bytes().to_string();
    net.ok(&[
        "--network",
        n,
        "doctor",
        "add",
        "--hospital",
        "south",
        "--key",
        &dkey,
    ]);
    let reader = format!("{:#x}", doctor.address());
    let p = format!("{patient:#x}");
    net.ok(&[
        "--network",
        n,
        "consent",
        "grant",
        "--patient",
        &p,
        "--reader",
        &reader,
    ]);
    let written = add_reading(&net, n);
    let device: Address = written["device"].as_str().unwrap().parse().unwrap();
    let (url, mut addrs, state) = parties(&net, n);
    addrs.extend([doctor.address(), device]);
    let keys = Keys {
        bytes32: vec![patient],
        address: addrs,
        uint32: vec![0, 1, 2, 3],
    };
    let mut s = Storage::new(
        &url,
        state.contracts["private_records"],
        "PrivateRecords.storage.json",
    );
    s.scan(&keys);
    check_private(&s, &written, salt);
    net.ok(&["down", "--purge"]);
}

/// The private scan reached the record (its CID digest is in storage)
/// and found no needle.
fn check_private(s: &Storage, written: &Value, salt: B256) {
    // The walk reached the record: its CID digest is in storage.
    let cid = medchain::privacy::content_id::parse(written["cid"].as_str().unwrap()).unwrap();
    let digest = hex::encode(medchain::privacy::content_id::digest(&cid).unwrap());
    assert!(
        s.words.values().any(|w| hex::encode(w) == digest),
        "the scan did not reach the record's CID digest: the layout walk is broken"
    );
    let nonzero = s.words.values().filter(|w| !w.is_zero()).count();
    eprintln!(
        "PrivateRecords: {} slots read, {nonzero} non-zero",
        s.words.len()
    );
    let hits = s.find(&needles(Some(salt)));
    assert!(hits.is_empty(), "private storage leaks: {hits:#?}");
}

/// The same scan on the published clear layout finds the reading.
fn scan_clear() {
    let clear = TestNet::new(
        "network: clear-storage\nprivacy: clear\nblock_period: 1\nhospitals:\n  - {name: north, sealers: 1, members: 1}\n",
    );
    clear.ok(&["up", "--seed", "13", "-q"]);
    let written = add_reading(&clear, "clear-storage");
    let (url, mut addrs, state) = parties(&clear, "clear-storage");
    addrs.push(written["device"].as_str().unwrap().parse().unwrap());
    let keys = Keys {
        bytes32: vec![written["patient"].as_str().unwrap().parse().unwrap()],
        address: addrs,
        uint32: vec![],
    };
    let mut s = Storage::new(
        &url,
        state.contracts["medical_records"],
        "MedicalRecords.storage.json",
    );
    s.scan(&keys);
    let hits = s.find(&needles(None));
    assert!(
        hits.iter().any(|h| h.starts_with("the packed reading")),
        "the scan did not find the clear reading: {hits:?}"
    );
    eprintln!("MedicalRecords (clear): {hits:?}");
    clear.ok(&["down", "--purge"]);
}
