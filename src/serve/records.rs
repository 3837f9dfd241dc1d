//! The patient and doctor views' API. The server hands out only what the
//! chain and the store already hold for anyone with node access — record
//! metadata, the data keys *wrapped* to the caller, sealed blobs — and
//! only to a signed-in address the contract lets read the patient
//! (`canRead`, checked on every request). It never unwraps or decrypts:
//! the page does that with the reader's own key (docs/serve.md).
//!
//! | route | who | answer |
//! | --- | --- | --- |
//! | `GET /api/patient` | patient | each of the address's patients: custodian, key version, consent holders |
//! | `GET /api/doctor` | doctor | the patients with consent, or in the doctor's hospital's custody |
//! | `GET /api/records/{patient}?limit=N` | a reader of that patient | the last N records; private: metadata and the key versions wrapped to the caller; clear: the values as the chain has them |
//! | `GET /api/store/{patient}/{cid}` | a reader of that patient | the sealed bytes, checked against the CID |

use alloy::primitives::{Address, B256, U256};
use axum::extract::{Path, Query, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::app::{error, App};
use super::auth::{require, Signed};
use super::chain::ChainRef;
use super::directory;
use super::roles::Role;
use crate::contract::reverted;
use crate::privacy::content_id;
use crate::privacy::store::FileStore;
use crate::topology::Privacy;

/// Most records one page asks for.
pub const MAX_LIMIT: u64 = 100;

/// The view routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/patient", get(patient))
        .route("/api/doctor", get(doctor))
        .route("/api/records/{patient}", get(records))
        .route("/api/store/{patient}/{cid}", get(blob))
}

/// A 502 for a chain that did not answer.
fn upstream(e: anyhow::Error) -> Response {
    error(StatusCode::BAD_GATEWAY, format!("{e:#}"))
}

async fn patient(AxState(app): AxState<App>, Signed(s): Signed) -> Response {
    if let Err(r) = require(&s, &[Role::Patient]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut cards = Vec::new();
    for p in &s.roles.patient {
        match directory::patient_card(chain, *p).await {
            Ok(c) => cards.push(c),
            Err(e) => return upstream(e),
        }
    }
    Json(json!({ "address": s.address, "layout": chain.privacy.to_string(), "patients": cards }))
        .into_response()
}

async fn doctor(AxState(app): AxState<App>, Signed(s): Signed) -> Response {
    if let Err(r) = require(&s, &[Role::Doctor]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let hospital = s.roles.doctor.unwrap_or_default();
    match directory::doctor_patients(chain, s.address, hospital).await {
        Ok(list) => Json(json!({
            "address": s.address,
            "hospital": hospital,
            "layout": chain.privacy.to_string(),
            "patients": list,
        }))
        .into_response(),
        Err(e) => upstream(e),
    }
}

/// The patient id in a path, or a 400.
#[allow(clippy::result_large_err)]
fn patient_id(text: &str) -> Result<B256, Response> {
    text.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("patient {text:?}: expected a 0x-prefixed 32-byte id"),
        )
    })
}

/// Whether the contract lets `reader` read `patient` (`canRead`).
pub async fn can_read(chain: &ChainRef, patient: B256, reader: Address) -> anyhow::Result<bool> {
    Ok(match chain.privacy {
        Privacy::Private => chain
            .private()?
            .canRead(patient, reader)
            .call()
            .await
            .map_err(|e| reverted("canRead", e))?,
        Privacy::Clear => chain
            .clear()?
            .canRead(patient, reader)
            .call()
            .await
            .map_err(|e| reverted("canRead", e))?,
    })
}

/// Ok when the contract lets `reader` read `patient`, else the 403.
async fn may_read(chain: &ChainRef, patient: B256, reader: Address) -> Result<(), Response> {
    match can_read(chain, patient, reader).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(error(
            StatusCode::FORBIDDEN,
            format!("{reader} may not read patient {patient}: it is not the patient, not their custodian hospital or one of its doctors, holds no consent and is no global reader"),
        )),
        Err(e) => Err(upstream(e)),
    }
}

/// `?limit=N`.
#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<u64>,
}

async fn records(
    AxState(app): AxState<App>,
    Signed(s): Signed,
    Path(patient): Path<String>,
    Query(page): Query<Page>,
) -> Response {
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let patient = match patient_id(&patient) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = may_read(chain, patient, s.address).await {
        return r;
    }
    let limit = page.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
    let got = match chain.privacy {
        Privacy::Private => private_page(chain, patient, s.address, limit).await,
        Privacy::Clear => clear_page(chain, patient, s.address, limit).await,
    };
    match got {
        Ok(v) => Json(v).into_response(),
        Err(e) => upstream(e),
    }
}

/// The last `limit` records of a private patient, with every key version
/// they use wrapped to `reader` (empty when none is).
async fn private_page(
    chain: &ChainRef,
    patient: B256,
    reader: Address,
    limit: u64,
) -> anyhow::Result<Value> {
    let c = chain.private()?;
    let total = c
        .recordCount(patient)
        .call()
        .await
        .map_err(|e| reverted("recordCount", e))?
        .to::<u64>();
    let offset = total.saturating_sub(limit);
    let list = c
        .getRecords(patient, U256::from(offset), U256::from(limit))
        .call()
        .await
        .map_err(|e| reverted("getRecords", e))?;
    let mut keys = serde_json::Map::new();
    let mut rows = Vec::new();
    for (i, r) in list.iter().enumerate() {
        let v = r.keyVersion.to_string();
        if !keys.contains_key(&v) {
            let w = c
                .wrappedKey(patient, r.keyVersion, reader)
                .call()
                .await
                .map_err(|e| reverted("wrappedKey", e))?;
            keys.insert(v, json!(format!("0x{}", hex::encode(&w))));
        }
        rows.push(json!({
            "record_id": offset + i as u64,
            "cid": content_id::from_digest(r.cidDigest.0).to_string(),
            "device": r.device,
            "sequence": r.sequence,
            "taken_ms": r.deviceTimestamp,
            "block_time": r.blockTimestamp,
            "key_version": r.keyVersion,
        }));
    }
    Ok(
        json!({ "layout": "private", "patient": patient, "total": total, "offset": offset, "records": rows, "keys": keys }),
    )
}

/// The last `limit` records of a clear patient, read as `reader`.
async fn clear_page(
    chain: &ChainRef,
    patient: B256,
    reader: Address,
    limit: u64,
) -> anyhow::Result<Value> {
    let c = chain.clear()?;
    let total = c
        .medicalRecordCount(patient)
        .from(reader)
        .call()
        .await
        .map_err(|e| reverted("medicalRecordCount", e))?
        .to::<u64>();
    let offset = total.saturating_sub(limit);
    let list = c
        .getMedicalRecords(patient, U256::from(offset), U256::from(limit))
        .from(reader)
        .call()
        .await
        .map_err(|e| reverted("getMedicalRecords", e))?;
    let rows: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "record_id": offset + i as u64,
                "device": r.device,
                "sequence": r.sequence,
                "taken_ms": r.deviceTimestamp,
                "block_time": r.blockTimestamp,
                "values": {
                    "heart_rate": r.heartRate,
                    "spo2": r.spo2,
                    "systolic": r.systolic,
                    "diastolic": r.diastolic,
                    "temperature": f64::from(r.temperatureCentiC) / 100.0,
                },
            })
        })
        .collect();
    Ok(
        json!({ "layout": "clear", "patient": patient, "total": total, "offset": offset, "records": rows }),
    )
}

async fn blob(
    AxState(app): AxState<App>,
    Signed(s): Signed,
    Path((patient, cid)): Path<(String, String)>,
) -> Response {
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let patient = match patient_id(&patient) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Ok(cid) = content_id::parse(&cid) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{cid:?}: expected a raw sha2-256 CIDv1 (bafkrei…)"),
        );
    };
    if let Err(r) = may_read(chain, patient, s.address).await {
        return r;
    }
    match FileStore::open(&chain.dir).and_then(|st| st.get_sync(&cid)) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        // Not the store's path: only that the blob is missing or damaged.
        Err(_) => error(
            StatusCode::NOT_FOUND,
            format!("{cid} is not in the network's store, or its bytes there are altered"),
        ),
    }
}
