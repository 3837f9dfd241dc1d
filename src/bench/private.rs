//! The bench's records workloads on the private path (issue 14): what a
//! private network's devices and readers do, measured like the clear
//! layout's `addMedicalRecord` and `getMedicalRecords`.
//!
//! Setup: every bench account is a device of a synthetic patient of its
//! own, taken into a hospital's custody as `medchain patient register` does
//! (a salt of the patient's own in the custody register, the wallet's
//! signature, a fresh data key wrapped to the wallet and the hospital) and
//! registered with `registerDevice` by that hospital, through
//! [`enrol`]: per hospital, the patients' registrations are sent together
//! and awaited together, then the devices'.
//!
//! `add-record`, per transaction (on the worker's send path, ahead of the
//! send time like signing): the reading's FHIR document sealed to the
//! patient's current data public key (cached per account with its
//! version), the envelope put in the network's embedded store
//! ([`FileStore`], in this process), and `addRecord` with its CID digest.
//! `get-records` reads a page with `getRecords` and, as a reader with
//! consent does, fetches every blob, checks it against its CID and opens
//! it to its Observations with the custodian's copy of the data key: the
//! values, which is what the clear layout's `getMedicalRecords` answers.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::SolCall;
use k256::{PublicKey, SecretKey};

use super::workload::{self, Call};

use crate::contract::PrivateRecords;
use crate::privacy::chain::{data_secret, PrivateNet};
use crate::privacy::fhir::{self, Observation};
use crate::privacy::seal::Binding;
use crate::privacy::store::FileStore;
use crate::privacy::{content_id, enrol, envelope, readings};

/// Gas limit of one private `addRecord` (a patient's first record, three
/// new slots and the list's length, costs the most; well below this).
pub(crate) const ADD_RECORD_GAS: u64 = 250_000;

/// What a run on the private path shares: the network and its store.
#[derive(Debug, Clone)]
pub struct PrivateBench {
    /// The network (PrivateRecords, hospitals, key source).
    pub net: PrivateNet,
    /// The embedded store sealed readings go to.
    pub store: FileStore,
}

/// One bench account as a device of its own synthetic patient.
#[derive(Debug, Clone)]
pub struct Device {
    /// The patient's pseudonymous id.
    pub patient: B256,
    /// The synthetic SSN the custodian's register knows them by.
    pub ssn: String,
    /// The custodian hospital (index in the network's hospitals).
    pub custodian: usize,
    /// The patient's current key version and data public key (what a
    /// device seals to), refreshed per round and after a revert.
    key: Option<(u32, PublicKey)>,
    /// Data secrets by version, unwrapped with the custodian's key (what a
    /// reader with consent opens records with).
    secrets: BTreeMap<u32, SecretKey>,
}

impl PrivateBench {
    /// The private path of the network of `state`.
    pub fn of(state: &crate::state::State) -> anyhow::Result<Self> {
        let net = PrivateNet::of(state)?;
        let store = net.store()?;
        Ok(Self { net, store })
    }

    /// The network's hospitals, each the custodian of some of the bench's
    /// patients.
    pub fn hospital_names(&self) -> impl Iterator<Item = String> + '_ {
        self.net.hospitals.iter().map(|(name, _)| name.clone())
    }

    /// Takes one synthetic patient per address of `devices` into custody
    /// (hospitals round-robin; SSN `bench-<tag>-<label><n>`) and registers
    /// each address as the device of its patient. Returns the devices with
    /// their keys read.
    pub async fn setup(
        &self,
        devices: &[Address],
        tag: u64,
        label: &str,
    ) -> anyhow::Result<Vec<Device>> {
        let hospitals = self.net.hospitals.len().max(1);
        let mut out = Vec::with_capacity(devices.len());
        for h in 0..hospitals.min(devices.len()) {
            let (name, hkey) = &self.net.hospitals[h];
            let mine: Vec<(usize, Address)> = (devices.iter().copied().enumerate())
                .skip(h)
                .step_by(hospitals)
                .collect();
            let ssns: Vec<String> = (mine.iter())
                .map(|(i, _)| format!("bench-{tag:x}-{label}{i:04}"))
                .collect();
            let patients = enrol::register_patients(&self.net, name, &ssns).await?;
            let pairs: Vec<(Address, B256)> = (mine.iter().zip(&patients))
                .map(|((_, d), p)| (*d, p.patient))
                .collect();
            enrol::register_devices(&self.net, hkey, &pairs).await?;
            for (((i, _), p), ssn) in mine.iter().zip(patients).zip(ssns) {
                out.push((*i, Device::new(p.patient, ssn, h)));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        let mut devices: Vec<Device> = out.into_iter().map(|(_, d)| d).collect();
        for d in &mut devices {
            self.refresh(d).await?;
        }
        Ok(devices)
    }

    /// Reads `d`'s patient's current key version and data public key, and
    /// unwraps (with the custodian's key) every version's data secret not
    /// held yet.
    pub async fn refresh(&self, d: &mut Device) -> anyhow::Result<()> {
        let hkey = &self.net.hospitals[d.custodian].1;
        let c = self.net.as_(hkey)?;
        let (version, key) = readings::current_key(&c, d.patient).await?;
        d.key = Some((version, key));
        for v in 1..=version {
            if !d.secrets.contains_key(&v) {
                let s = data_secret(&c, d.patient, v, hkey).await?;
                d.secrets.insert(v, s);
            }
        }
        Ok(())
    }
}

impl Device {
    fn new(patient: B256, ssn: String, custodian: usize) -> Self {
        Self {
            patient,
            ssn,
            custodian,
            key: None,
            secrets: BTreeMap::new(),
        }
    }
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `add-record` transaction `index` of device `d` (address `device`, next
/// sequence `sequence`): the reading (an abnormal one when `abnormal`, as
/// a fleet's alarm measurement sends) sealed to the cached key, put in
/// `store`, and the `addRecord` call naming its CID digest. `None` when
/// the device has no key yet or the store refused the bytes.
pub(crate) fn add_record(
    pb: &PrivateBench,
    d: &Device,
    device: Address,
    (index, sequence): (u64, u64),
    abnormal: bool,
) -> Option<Call> {
    let (version, key) = d.key.as_ref()?;
    let taken_ms = now_ms();
    let ctx = fhir::Context {
        patient: d.patient,
        device,
        sequence,
        taken_ms,
    };
    let binding = Binding {
        patient: d.patient,
        device,
        sequence,
    };
    let reading = match abnormal {
        true => workload::abnormal_reading(),
        false => workload::reading(index),
    };
    let document = fhir::reading_document(&reading, &ctx);
    let sealed = envelope::seal_to(key, *version, &binding, &document);
    let cid = pb.store.put_sync(&sealed).ok()?;
    let digest = content_id::digest(&cid)?;
    let input = PrivateRecords::addRecordCall {
        patient: d.patient,
        cidDigest: B256::from(digest),
        keyVersion: *version,
        deviceTimestamp: taken_ms,
        sequence,
    }
    .abi_encode();
    Some(Call {
        to: pb.net.contract,
        input: input.into(),
        gas: ADD_RECORD_GAS,
        read: false,
    })
}

/// `get-records`: the first page of `limit` records of `d`'s patient.
pub(crate) fn get_records(pb: &PrivateBench, d: &Device, limit: u64) -> Call {
    let input = PrivateRecords::getRecordsCall {
        patient: d.patient,
        offset: U256::ZERO,
        limit: U256::from(limit),
    }
    .abi_encode();
    Call {
        to: pb.net.contract,
        input: input.into(),
        gas: 5_000_000,
        read: true,
    }
}

/// What a reader gets from a `getRecords` answer (`answer`: the call's
/// hex return data): every record's blob fetched from the store, checked
/// against its CID and opened with the version's data secret, as its
/// Observations. An error names the first record that did not open.
pub(crate) fn open_page(
    pb: &PrivateBench,
    d: &Device,
    answer: &serde_json::Value,
) -> anyhow::Result<Vec<Vec<Observation>>> {
    let text = answer
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("getRecords answered no data"))?;
    let data = hex::decode(text.trim_start_matches("0x"))?;
    let page = PrivateRecords::getRecordsCall::abi_decode_returns(&data)?;
    page.iter()
        .map(|r| {
            let secret = d
                .secrets
                .get(&r.keyVersion)
                .ok_or_else(|| anyhow::anyhow!("no data key of version {} held", r.keyVersion))?;
            let cid = content_id::from_digest(r.cidDigest.0);
            let bytes = pb.store.get_sync(&cid)?;
            let binding = Binding {
                patient: d.patient,
                device: r.device,
                sequence: r.sequence,
            };
            let doc = envelope::open(secret, &binding, &bytes)?;
            fhir::parse_reading_document(&doc)
        })
        .collect()
}
