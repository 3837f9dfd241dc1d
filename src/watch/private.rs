//! Reading records on a private network (PrivateRecords) as `watch` does:
//! as one reader — the custodian hospital, whose key opens every version
//! of its patients' data keys, or a doctor with consent — it fetches each
//! record's sealed reading from the network's store, unwraps the data key
//! of the record's version wrapped to it on chain and opens the document.
//! A record the reader cannot open is not an error of `watch`: it is
//! reported once per patient and counted (see [`super::unreadable`]).

use std::collections::HashMap;

use alloy::eips::BlockId;
use alloy::primitives::{B256, U256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use k256::SecretKey;

use super::alarm::Reading;
use super::thresholds::{PatientKey, Thresholds};
use crate::contract::{reverted, PrivateRecords};
use crate::privacy::chain::{secret_of, PrivateNet};
use crate::privacy::custody;
use crate::privacy::seal::Binding;
use crate::privacy::store::{BlobStore, FileStore};
use crate::privacy::wrap::{self, KeyFor};
use crate::privacy::{content_id, envelope, fhir};

/// A private record opened: its reading and where it was sealed.
pub struct Opened {
    pub reading: Reading,
    /// The sealed reading's content identifier.
    pub cid: String,
    /// The data key version it was sealed to.
    pub key_version: u32,
}

/// One reader of a private network's records.
pub struct PrivateReader {
    contract: PrivateRecords::PrivateRecordsInstance<DynProvider>,
    reader: PrivateKeySigner,
    store: FileStore,
    /// Data secrets unwrapped so far, by patient and version (only the
    /// ones that opened: consent granted later may open a version).
    keys: HashMap<(B256, u32), SecretKey>,
}

impl PrivateReader {
    /// A reader holding `reader`'s wallet key, reading `contract` over
    /// `http` and sealed readings from `store`.
    pub fn new(
        http: DynProvider,
        contract: alloy::primitives::Address,
        reader: PrivateKeySigner,
        store: FileStore,
    ) -> PrivateReader {
        PrivateReader {
            contract: PrivateRecords::new(contract, http),
            reader,
            store,
            keys: HashMap::new(),
        }
    }

    /// The reader's address.
    pub fn address(&self) -> alloy::primitives::Address {
        self.reader.address()
    }

    /// Record `id` of `patient` as of block `hash`, opened: `Ok(Ok(_))`;
    /// `Ok(Err(why))` when this reader cannot open it (no key wrapped to
    /// it for the record's version, the blob missing or altered); `Err`
    /// when the node did not answer (the block is tried again).
    pub async fn read(
        &mut self,
        patient: B256,
        id: U256,
        hash: B256,
    ) -> anyhow::Result<Result<Opened, String>> {
        let page = self
            .contract
            .getRecords(patient, id, U256::from(1))
            .block(BlockId::hash(hash))
            .call()
            .await
            .map_err(|e| reverted("getRecords", e))?;
        let Some(r) = page.into_iter().next() else {
            return Ok(Err(format!(
                "record {id} is not on chain as of block {hash}"
            )));
        };
        let key = match self.key(patient, r.keyVersion).await? {
            Ok(k) => k,
            Err(why) => return Ok(Err(why)),
        };
        let cid = content_id::from_digest(r.cidDigest.0);
        let bytes = match self.store.get(&cid).await {
            Ok(b) => b,
            Err(e) => return Ok(Err(format!("sealed reading {cid}: {e:#}"))),
        };
        let binding = Binding {
            patient,
            device: r.device,
            sequence: r.sequence,
        };
        let values = envelope::open(&key, &binding, &bytes)
            .and_then(|doc| fhir::parse_reading_document(&doc))
            .and_then(|obs| fhir::reading_of(&obs));
        let v = match values {
            Ok(v) => v,
            Err(e) => return Ok(Err(format!("sealed reading {cid}: {e:#}"))),
        };
        Ok(Ok(Opened {
            reading: Reading {
                heart_rate: v.heart_rate,
                spo2: v.spo2,
                systolic: v.systolic,
                diastolic: v.diastolic,
                temperature: f64::from(v.temperature_centi_c) / 100.0,
                device_timestamp: r.deviceTimestamp,
                block_timestamp: r.blockTimestamp,
            },
            cid: cid.to_string(),
            key_version: r.keyVersion,
        }))
    }

    /// The patient's data secret of `version`, from the key wrapped to
    /// this reader on chain (latest state: a grant after the record still
    /// opens it); `Ok(Err(why))` when none is wrapped to it or it does
    /// not unwrap.
    async fn key(
        &mut self,
        patient: B256,
        version: u32,
    ) -> anyhow::Result<Result<SecretKey, String>> {
        if let Some(k) = self.keys.get(&(patient, version)) {
            return Ok(Ok(k.clone()));
        }
        let wrapped = self
            .contract
            .wrappedKey(patient, version, self.reader.address())
            .call()
            .await
            .context("reading a wrapped data key (wrappedKey)")?;
        if wrapped.is_empty() {
            return Ok(Err(format!(
                "no data key of version {version} is wrapped to {:#x}: no consent for the records sealed to it (or revoked before they were written)",
                self.reader.address()
            )));
        }
        let what = KeyFor {
            patient,
            version: u64::from(version),
        };
        let opened = wrap::unwrap(&wrapped, &secret_of(&self.reader), &what)
            .map_err(|e| format!("the data key of version {version} wrapped to this reader does not unwrap: {e:#}"))
            .and_then(|k| {
                SecretKey::from_slice(k.as_bytes())
                    .map_err(|_| "the unwrapped data key is not a secp256k1 secret".to_string())
            });
        if let Ok(k) = &opened {
            self.keys.insert((patient, version), k.clone());
        }
        Ok(opened)
    }
}

/// Where a private network's `watch` reading as `reader` keeps its state
/// (`<watch dir>/reader-<address>`): each reader has its own journal,
/// checkpoint, cursors and lock, since what one reader opens and alarms
/// is not what another may see.
pub fn state_dir(
    watch_dir: &std::path::Path,
    reader: alloy::primitives::Address,
) -> std::path::PathBuf {
    watch_dir.join(format!("reader-{reader:x}"))
}

/// The thresholds with every per-patient `ssn:` resolved to the patient's
/// id through the custody registers on this machine (a private network's
/// ids use each patient's own salt, not the network's); an SSN no
/// hospital holds is an input error.
pub fn resolve_patients(
    t: &Thresholds,
    net: &PrivateNet,
) -> Result<Thresholds, crate::error::InputError> {
    let mut out = t.clone();
    for (i, (k, _)) in out.patients.iter_mut().enumerate() {
        if let PatientKey::Ssn(ssn) = k {
            let found = custody::find(&net.dir, &net.hospital_names(), ssn).map_err(|e| {
                crate::error::InputError::new(format!("--thresholds: patients[{i}].ssn: {e:#}"))
            })?;
            let Some((_, e)) = found else {
                return Err(crate::error::InputError::new(format!(
                    "--thresholds: patients[{i}].ssn: no hospital of network {} holds this patient in its custody register; register them with `medchain patient register`, or name them with `patient: 0x…` (their id)",
                    net.network
                )));
            };
            *k = PatientKey::Id(e.patient);
        }
    }
    Ok(out)
}
