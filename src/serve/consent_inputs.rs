//! What the page needs from the chain to build a consent transaction
//! itself, as `privacy::consent` does in Rust: for a grant, the reader's
//! published key and every key version wrapped to the patient (the page
//! unwraps them with the patient's key and re-wraps them to the reader);
//! for a revocation, who keeps access (custodian, other consent holders,
//! global readers that may still read) with their published keys (the
//! page draws the new data key and wraps it to them and to the patient).
//! All of it is public on chain; the server unwraps and signs nothing.
//!
//! `GET /api/consent/{patient}?action=grant|revoke&reader=0x…` — patient
//! role, for one of the session's own patient ids; private networks only.

use alloy::primitives::{Address, B256};
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::PublicKey;
use serde::Deserialize;
use serde_json::{json, Value};

use super::app::{error, App};
use super::auth::{require, Signed};
use super::roles::Role;
use crate::contract::reverted;
use crate::privacy::chain::reader_public_key;
use crate::privacy::consent::{current_version, other_keepers};
use crate::topology::Privacy;

/// The route.
pub fn routes() -> Router<App> {
    Router::new().route("/api/consent/{patient}", get(inputs))
}

/// The query: which write, for which reader.
#[derive(Debug, Deserialize)]
struct Ask {
    action: String,
    reader: String,
}

/// A public key as `readerKey` holds it: 64 bytes x ‖ y, hex.
fn raw_key(pk: &PublicKey) -> String {
    format!(
        "0x{}",
        hex::encode(&pk.to_encoded_point(false).as_bytes()[1..])
    )
}

async fn inputs(
    AxState(app): AxState<App>,
    Signed(s): Signed,
    Path(patient): Path<String>,
    Query(q): Query<Ask>,
) -> Response {
    if let Err(r) = require(&s, &[Role::Patient]) {
        return r;
    }
    let chain = match app.chain() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (Ok(id), Ok(reader)) = (patient.parse::<B256>(), q.reader.trim().parse::<Address>()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected a patient id (0x and 64 hex digits) and reader=0x… (an address)",
        );
    };
    if !s.roles.patient.contains(&id) {
        return error(
            StatusCode::FORBIDDEN,
            format!("{} is not the wallet of patient {id:#x}", s.address),
        );
    }
    if chain.privacy != Privacy::Private {
        return error(
            StatusCode::BAD_REQUEST,
            "consent with keys is for private networks (PrivateRecords); this network keeps records in clear",
        );
    }
    let got = match q.action.as_str() {
        "grant" => grant(chain, id, reader, s.address).await,
        "revoke" => revoke(chain, id, reader, s.address).await,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("action={other:?}: expected grant or revoke"),
            )
        }
    };
    match got {
        Ok(mut v) => {
            v["contract"] = json!(chain.records.to_checksum(None));
            v["chain_id"] = json!(chain.chain_id);
            Json(v).into_response()
        }
        Err(e) if crate::error::exit_code(&e) == 2 => {
            error(StatusCode::BAD_REQUEST, format!("{e:#}"))
        }
        Err(e) => error(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}

/// The reader's key and each version's key wrapped to the patient.
async fn grant(
    chain: &super::chain::ChainRef,
    id: B256,
    reader: Address,
    me: Address,
) -> anyhow::Result<Value> {
    let c = chain.private()?;
    let current = current_version(&c, id).await?;
    let pk = reader_public_key(&c, reader).await?;
    let mut mine = Vec::new();
    for v in 1..=current {
        let w = c
            .wrappedKey(id, v, me)
            .call()
            .await
            .map_err(|e| reverted("wrappedKey", e))?;
        if !w.is_empty() {
            mine.push(json!({ "version": v, "wrapped": format!("0x{}", hex::encode(&w)) }));
        }
    }
    Ok(json!({ "current_version": current, "reader_key": raw_key(&pk), "mine": mine }))
}

/// Who keeps access, with their keys, and the version the rotation makes.
async fn revoke(
    chain: &super::chain::ChainRef,
    id: B256,
    reader: Address,
    me: Address,
) -> anyhow::Result<Value> {
    let c = chain.private()?;
    let current = current_version(&c, id).await?;
    let keep = other_keepers(&c, id, reader, me).await?;
    let keepers: Vec<Value> = keep
        .iter()
        .map(|(a, pk)| json!({ "address": a.to_checksum(None), "key": raw_key(pk) }))
        .collect();
    Ok(json!({ "current_version": current, "next_version": current + 1, "keepers": keepers }))
}
