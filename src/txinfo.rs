//! `medchain tx <hash>`: a transaction explained — block, status, gas, the
//! decoded call and decoded events — against the ABIs medchain deploys.

use alloy::dyn_abi::{DynSolValue, EventExt, JsonAbiExt};
use alloy::json_abi::JsonAbi;
use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder};
use anyhow::anyhow;
use serde::Serialize;

use crate::contract::{MEDICAL_RECORDS_ARTIFACT, PRIVATE_RECORDS_ARTIFACT, SIMPLE_ARTIFACT};

/// A decoded event.
#[derive(Debug, Serialize)]
pub struct DecodedEvent {
    /// Emitting contract.
    pub address: Address,
    /// Event name, or `unknown`.
    pub name: String,
    /// `name = value` pairs.
    pub fields: Vec<(String, String)>,
}

/// A transaction explained.
#[derive(Debug, Serialize)]
pub struct TxInfo {
    /// Transaction hash.
    pub hash: B256,
    /// Block number (None while pending).
    pub block: Option<u64>,
    /// `success`, `reverted` or `pending`.
    pub status: String,
    /// Why a reverted transaction reverted: the contract's reason, from
    /// replaying the call on the state before its block (`None` when it
    /// did not revert, or when the replay passes there: the reason then
    /// lay in an earlier transaction of the same block).
    pub revert_reason: Option<String>,
    /// Sender.
    pub from: Address,
    /// Recipient (None for a deployment).
    pub to: Option<Address>,
    /// Gas used.
    pub gas_used: Option<u64>,
    /// Decoded call, e.g. `addMedicalRecord(patient=0x…, …)`.
    pub call: String,
    /// Decoded events.
    pub events: Vec<DecodedEvent>,
}

/// The contracts medchain deploys, by name, with their artifacts.
const ARTIFACTS: [(&str, &str); 3] = [
    ("MedicalRecords", MEDICAL_RECORDS_ARTIFACT),
    ("PrivateRecords", PRIVATE_RECORDS_ARTIFACT),
    ("Simple", SIMPLE_ARTIFACT),
];

fn abis() -> Vec<(&'static str, JsonAbi)> {
    ARTIFACTS
        .into_iter()
        .filter_map(|(name, art)| {
            let v: serde_json::Value = serde_json::from_str(art).ok()?;
            Some((name, serde_json::from_value(v["abi"].clone()).ok()?))
        })
        .collect()
}

/// Renders a decoded value readably.
pub fn show(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Address(a) => format!("{a:#x}"),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", hex::encode(&w[..*n])),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::Array(xs) | DynSolValue::FixedArray(xs) | DynSolValue::Tuple(xs) => {
            format!("[{}]", xs.iter().map(show).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Decodes calldata against the known ABIs.
pub(crate) fn decode_call(input: &[u8], to: Option<Address>) -> String {
    let abis = abis();
    if to.is_none() {
        for (name, art) in ARTIFACTS {
            let v: serde_json::Value = serde_json::from_str(art).unwrap_or_default();
            let code = v["bytecode"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("0x");
            if !code.is_empty() && hex::encode(input).starts_with(code) {
                return format!("deploy {name}");
            }
        }
        return "contract creation (unknown code)".into();
    }
    if input.len() < 4 {
        return if input.is_empty() {
            "value transfer".into()
        } else {
            format!("0x{}", hex::encode(input))
        };
    }
    for (contract, abi) in &abis {
        for f in abi.functions() {
            if f.selector().as_slice() == &input[..4] {
                if let Ok(vals) = f.abi_decode_input(&input[4..]) {
                    let args: Vec<String> = f
                        .inputs
                        .iter()
                        .zip(&vals)
                        .map(|(p, v)| format!("{}={}", p.name, show(v)))
                        .collect();
                    return format!("{contract}.{}({})", f.name, args.join(", "));
                }
            }
        }
    }
    format!("unknown call 0x{}", hex::encode(&input[..4]))
}

/// Decodes one log against the known ABIs.
pub fn decode_log(log: &alloy::primitives::Log) -> DecodedEvent {
    for (_, abi) in abis() {
        for e in abi.events() {
            if log.topics().first() == Some(&e.selector()) {
                if let Ok(d) = e.decode_log(&log.data) {
                    let mut idx = d.indexed.iter();
                    let mut body = d.body.iter();
                    let fields = e
                        .inputs
                        .iter()
                        .map(|p| {
                            let v = if p.indexed { idx.next() } else { body.next() };
                            (p.name.clone(), v.map(show).unwrap_or_default())
                        })
                        .collect();
                    return DecodedEvent {
                        address: log.address,
                        name: e.name.clone(),
                        fields,
                    };
                }
            }
        }
    }
    DecodedEvent {
        address: log.address,
        name: "unknown".into(),
        fields: vec![],
    }
}

/// Fetches and explains `hash` from `url`.
pub(crate) async fn explain(url: &str, hash: B256) -> anyhow::Result<TxInfo> {
    let provider = ProviderBuilder::new().connect_client(crate::rpc_timeout::client(url)?);
    let tx = provider
        .get_transaction_by_hash(hash)
        .await?
        .ok_or_else(|| anyhow!("no transaction {hash:#x} on this network"))?;
    use alloy::consensus::Transaction as _;
    let receipt = provider.get_transaction_receipt(hash).await?;
    let to = tx.to();
    let reverted = receipt.as_ref().is_some_and(|r| !r.status());
    let revert_reason = match (reverted, tx.block_number) {
        (true, Some(n)) => replay_reason(&provider, &tx, n).await,
        _ => None,
    };
    Ok(TxInfo {
        hash,
        block: tx.block_number,
        status: match &receipt {
            Some(r) if r.status() => "success".into(),
            Some(_) => "reverted".into(),
            None => "pending".into(),
        },
        revert_reason,
        from: tx.inner.signer(),
        to,
        gas_used: receipt.as_ref().map(|r| r.gas_used),
        call: decode_call(tx.input(), to),
        events: receipt
            .as_ref()
            .map(|r| {
                r.inner
                    .logs()
                    .iter()
                    .map(|l| decode_log(&l.inner))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The reason `tx` (mined in block `n`) reverted: its call replayed with
/// `eth_call` on the state of block `n - 1` (a node keeps no revert
/// reason in the receipt, and `debug_traceTransaction` is a control method
/// no published endpoint serves).
async fn replay_reason(
    provider: &impl Provider,
    tx: &alloy::rpc::types::Transaction,
    n: u64,
) -> Option<String> {
    use alloy::consensus::Transaction as _;
    use alloy::rpc::types::TransactionRequest;
    let mut req = TransactionRequest::default()
        .from(tx.inner.signer())
        .input(tx.input().clone().into())
        .value(tx.value())
        .gas_limit(tx.gas_limit());
    if let Some(to) = tx.to() {
        req = req.to(to);
    }
    let err = provider
        .call(req)
        .block(n.saturating_sub(1).into())
        .await
        .err()?;
    let payload = err.as_error_resp()?;
    let reason = payload
        .as_revert_data()
        .and_then(|d| alloy::sol_types::decode_revert_reason(&d))
        .unwrap_or_else(|| payload.message.to_string());
    Some(
        reason
            .trim_start_matches("revert: ")
            .trim_start_matches("execution reverted: ")
            .to_string(),
    )
}

/// The explanation as text.
pub fn text(t: &TxInfo) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "tx      {:#x}\nblock   {}\nstatus  {}\nfrom    {:#x}\nto      {}\ngas     {}\ncall    {}\n",
        t.hash,
        t.block.map(|b| b.to_string()).unwrap_or_else(|| "pending".into()),
        match &t.revert_reason {
            Some(r) => format!("{} ({r})", t.status),
            None => t.status.clone(),
        },
        t.from,
        t.to.map(|a| format!("{a:#x}")).unwrap_or_else(|| "(contract creation)".into()),
        t.gas_used.map(|g| g.to_string()).unwrap_or_else(|| "-".into()),
        t.call
    );
    for e in &t.events {
        let fields: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "event   {}({}) @ {:#x}",
            e.name,
            fields.join(", "),
            e.address
        );
    }
    out
}
