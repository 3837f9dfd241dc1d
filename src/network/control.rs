//! Typed calls over a node's control channel ([`Runtime::admin_call`]:
//! geth's IPC socket, whatever runs the node). `up`, `status` and `down`
//! read and steer nodes through these, never through a client endpoint:
//! sealers have none, and members' serve only `eth,net,web3`.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::plan::{NodePlan, Plan};
use crate::rpc::{enode_key, parse_hex_u64};
use crate::runtime::{AnyRuntime, Runtime};

/// Calls `method` on `node` over IPC and decodes the result.
pub(crate) async fn call<T: DeserializeOwned>(
    rt: &AnyRuntime,
    plan: &Plan,
    node: &NodePlan,
    method: &str,
    params: Value,
) -> anyhow::Result<T> {
    let v = rt.admin_call(plan, node, method, params).await?;
    serde_json::from_value(v)
        .map_err(|e| anyhow::anyhow!("{}: {method}: unexpected answer ({e})", node.name))
}

/// The node's head block number.
pub(crate) async fn block_number(
    rt: &AnyRuntime,
    plan: &Plan,
    node: &NodePlan,
) -> anyhow::Result<u64> {
    let hex: String = call(rt, plan, node, "eth_blockNumber", json!([])).await?;
    parse_hex_u64(&hex)
}

/// The node's hash of block `number`, if it has that block.
pub(crate) async fn block_hash(
    rt: &AnyRuntime,
    plan: &Plan,
    node: &NodePlan,
    number: u64,
) -> anyhow::Result<Option<String>> {
    let block: Option<Value> = call(
        rt,
        plan,
        node,
        "eth_getBlockByNumber",
        json!([format!("{number:#x}"), false]),
    )
    .await?;
    Ok(block.and_then(|b| b["hash"].as_str().map(str::to_string)))
}

/// Public keys (hex, as in enode URLs) of the node's connected peers.
pub(crate) async fn peer_keys(
    rt: &AnyRuntime,
    plan: &Plan,
    node: &NodePlan,
) -> anyhow::Result<Vec<String>> {
    let peers: Vec<Value> = call(rt, plan, node, "admin_peers", json!([])).await?;
    Ok(peers
        .iter()
        .filter_map(|p| p["enode"].as_str().and_then(enode_key))
        .collect())
}
