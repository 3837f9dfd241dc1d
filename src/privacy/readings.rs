//! Writing and reading vital signs on a private network.
//!
//! A device turns a reading into its FHIR document, seals it to the
//! patient's current data public key ([`super::envelope`]), puts the sealed
//! bytes in the store and sends `addRecord` with only their CID digest, the
//! key version, its sequence and the time taken. A reader lists the
//! records (public: they say where, not what), fetches each sealed blob
//! (checked against its CID), unwraps the version's data key wrapped to it
//! on chain and opens the document.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use k256::{PublicKey, SecretKey};
use serde::Serialize;

use super::chain::{data_secret, Contract, PrivateNet};
use super::fhir::{self, Observation};
use super::seal::Binding;
use super::store::BlobStore;
use super::{content_id, envelope};
use crate::contract::{reverted, transact, PrivateRecords};
use crate::records::Reading;

/// What a private `records add` did.
#[derive(Debug, Serialize)]
pub struct Written {
    /// Patient id.
    pub patient: B256,
    /// Device that wrote it.
    pub device: Address,
    /// Record id (index in the patient's list).
    pub record_id: u64,
    /// Device sequence number used.
    pub sequence: u64,
    /// The sealed reading's content identifier.
    pub cid: String,
    /// The data key version it was sealed to.
    pub key_version: u32,
    /// Transaction hash.
    pub tx: B256,
    /// Block it was included in.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
}

/// The patient's current key version and its data public key (what a
/// device seals to).
pub(crate) async fn current_key(c: &Contract, patient: B256) -> anyhow::Result<(u32, PublicKey)> {
    let version = super::consent::current_version(c, patient).await?;
    let raw = c
        .dataPublicKey(patient, version)
        .call()
        .await
        .map_err(|e| reverted("dataPublicKey", e))?;
    let key = PublicKey::from_sec1_bytes(&raw).map_err(|_| {
        anyhow::anyhow!(
            "patient {patient:#x}'s data key of version {version} is not a secp256k1 key"
        )
    })?;
    Ok((version, key))
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seals, stores and records one reading as `device`.
pub async fn add(
    net: &PrivateNet,
    patient: B256,
    reading: Reading,
    device: &PrivateKeySigner,
) -> anyhow::Result<Written> {
    let c = net.as_(device)?;
    let info = c
        .devices(device.address())
        .call()
        .await
        .map_err(|e| reverted("devices", e))?;
    let sequence = info.lastSequence + 1;
    let (version, key) = current_key(&c, patient).await?;
    let taken_ms = now_ms();
    let ctx = fhir::Context {
        patient,
        device: device.address(),
        sequence,
        taken_ms,
    };
    let binding = Binding {
        patient,
        device: device.address(),
        sequence,
    };
    let sealed = envelope::seal_to(
        &key,
        version,
        &binding,
        &fhir::reading_document(&reading, &ctx),
    );
    let cid = net.store()?.put(&sealed).await?;
    let digest = content_id::digest(&cid).expect("the store gives raw sha2-256 CIDs");
    let call = c.addRecord(patient, B256::from(digest), version, taken_ms, sequence);
    let record_id = call.call().await.map_err(|e| reverted("addRecord", e))?;
    let receipt = transact(&call, "addRecord").await?;
    Ok(Written {
        patient,
        device: device.address(),
        record_id: record_id.to::<u64>(),
        sequence,
        cid: cid.to_string(),
        key_version: version,
        tx: receipt.transaction_hash,
        block: receipt.block_number.unwrap_or_default(),
        gas_used: receipt.gas_used,
    })
}

/// One record as a reader sees it.
#[derive(Debug, Serialize)]
pub struct Opened {
    /// Record id.
    pub record_id: u64,
    /// Where the sealed reading is.
    pub cid: String,
    /// Device that wrote it.
    pub device: Address,
    /// Device sequence.
    pub sequence: u64,
    /// When it was taken (device clock, ms since epoch).
    pub taken_ms: u64,
    /// The data key version it was sealed to.
    pub key_version: u32,
    /// Its Observations, when the reader could open it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<Vec<Observation>>,
    /// Why it did not open, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// A page of the patient's records, opened with what `reader` holds.
/// Returns the patient's record count too.
pub async fn read(
    net: &PrivateNet,
    patient: B256,
    offset: u64,
    limit: u64,
    reader: &PrivateKeySigner,
) -> anyhow::Result<(u64, Vec<Opened>)> {
    let c = net.as_(reader)?;
    let total = c
        .recordCount(patient)
        .call()
        .await
        .map_err(|e| reverted("recordCount", e))?;
    let page = c
        .getRecords(patient, U256::from(offset), U256::from(limit))
        .call()
        .await
        .map_err(|e| reverted("getRecords", e))?;
    let store = net.store()?;
    let mut keys: BTreeMap<u32, Result<SecretKey, String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(page.len());
    for (i, r) in page.into_iter().enumerate() {
        if let std::collections::btree_map::Entry::Vacant(slot) = keys.entry(r.keyVersion) {
            let k = data_secret(&c, patient, r.keyVersion, reader)
                .await
                .map_err(|e| format!("{e:#}"));
            slot.insert(k);
        }
        let opened = open_one(&store, patient, &r, &keys[&r.keyVersion]).await;
        out.push(Opened {
            record_id: offset + i as u64,
            cid: content_id::from_digest(r.cidDigest.0).to_string(),
            device: r.device,
            sequence: r.sequence,
            taken_ms: r.deviceTimestamp,
            key_version: r.keyVersion,
            unreadable: opened.as_ref().err().cloned(),
            observations: opened.ok(),
        });
    }
    Ok((total.to::<u64>(), out))
}

/// Fetches and opens one record's sealed reading.
async fn open_one(
    store: &impl BlobStore,
    patient: B256,
    r: &PrivateRecords::Record,
    key: &Result<SecretKey, String>,
) -> Result<Vec<Observation>, String> {
    let key = key.as_ref().map_err(Clone::clone)?;
    let cid = content_id::from_digest(r.cidDigest.0);
    let bytes = store.get(&cid).await.map_err(|e| format!("{e:#}"))?;
    let binding = Binding {
        patient,
        device: r.device,
        sequence: r.sequence,
    };
    let doc = envelope::open(key, &binding, &bytes).map_err(|e| format!("{e:#}"))?;
    fhir::parse_reading_document(&doc).map_err(|e| format!("{e:#}"))
}

/// The records' Observations as one FHIR `searchset` Bundle.
pub fn searchset(records: &[Opened]) -> fhir::Bundle {
    let all = records
        .iter()
        .filter_map(|r| r.observations.clone())
        .flatten()
        .collect();
    fhir::bundle("searchset", all)
}
