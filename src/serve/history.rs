//! The Explorer's address history: every transaction an address sent or
//! received, newest first — a device's writes, as the seed systems'
//! Etherscan view showed them, on the private chain. The transactions
//! come from the console's own index ([`super::address_index`]), each
//! explained with the `tx` command's decoder.

use alloy::primitives::Address;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::future::join_all;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::address_index::{Index, PAGE};
use super::app::{error, App};
use crate::rpc::{parse_hex_u64, Rpc};
use crate::txinfo::{explain, TxInfo};

/// One page of an address's history.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The address.
    pub address: Address,
    /// Transactions it sent (its nonce at the head).
    pub sent: u64,
    /// Indexed transactions that touch it, sent or received.
    pub total: usize,
    /// The last block indexed.
    pub indexed_through: Option<u64>,
    /// The head when this page was read.
    pub head: u64,
    /// This page (0 = newest).
    pub page: usize,
    /// Pages in all.
    pub pages: usize,
    /// The page's transactions, explained, newest first.
    pub txs: Vec<TxInfo>,
}

/// Page `page` of `addr`'s history from `url`, the index brought up to date
/// first.
pub async fn page_of(
    index: &tokio::sync::Mutex<Index>,
    url: &str,
    addr: Address,
    page: usize,
) -> anyhow::Result<Page> {
    let rpc = Rpc::new(url)?;
    let (hashes, total, through, head) = {
        let mut idx = index.lock().await;
        let head = idx.catch_up(&rpc).await?;
        let (hashes, total) = idx.page(&addr, page);
        (hashes, total, idx.through(), head)
    };
    let sent = parse_hex_u64(
        &rpc.call::<String>("eth_getTransactionCount", json!([addr, "latest"]))
            .await?,
    )?;
    let txs = join_all(hashes.into_iter().map(|h| explain(url, h)))
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Page {
        address: addr,
        sent,
        total,
        indexed_through: through,
        head,
        page,
        pages: total.div_ceil(PAGE),
        txs,
    })
}

/// The history route: `GET /api/address/{address}?page=N` (public, like
/// the rest of the Explorer: any node's RPC shows the same transactions).
pub fn routes() -> Router<App> {
    Router::new().route("/api/address/{address}", get(history))
}

/// `?page=N`.
#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    page: usize,
}

async fn history(
    AxState(app): AxState<App>,
    Path(address): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Ok(addr) = address.parse::<Address>() else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("address {address:?}: expected 0x followed by 40 hex digits"),
        );
    };
    match page_of(&app.history, &app.rpc_url, addr, q.page).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => error(StatusCode::BAD_GATEWAY, format!("{e:#}")),
    }
}
