//! `medchain accounts`: the prefunded test accounts with their private keys,
//! as anvil prints its dev accounts, so Caliper, cast or Hardhat can use the
//! network directly.

use serde_json::{json, Value};

use crate::plan::Plan;
use crate::state::State;

/// The accounts as JSON: network, chain id, RPC endpoints and accounts
/// (also what `up` writes to `keys.json`).
pub(crate) fn accounts_json(p: &Plan) -> Value {
    json!({
        "network": p.topology.network,
        "chain_id": p.topology.chain_id,
        "deterministic_test_keys": p.key_source.is_test(),
        "keys": p.key_source.describe(),
        "rpc": p.nodes.iter().filter_map(|n| n.rpc_url()).collect::<Vec<_>>(),
        "accounts": p.accounts.iter().map(|k| json!({
            "address": format!("{:#x}", k.address),
            "private_key": format!("{:#x}", k.secret),
            "balance_eth": p.topology.account_balance_eth,
        })).collect::<Vec<_>>(),
    })
}

/// The accounts as text.
pub(crate) fn accounts_text(state: &State) -> String {
    use std::fmt::Write;
    let p = &state.plan;
    let mut out = format!(
        "Test accounts of network {} (chain id {}, {} ETH each)\n\nAvailable Accounts\n==================\n",
        p.topology.network, p.topology.chain_id, p.topology.account_balance_eth
    );
    for (i, k) in p.accounts.iter().enumerate() {
        let _ = writeln!(out, "({i}) {:#x}", k.address);
    }
    let _ = writeln!(out, "\nKeys: {}", p.key_source.describe());
    out.push_str("\nPrivate Keys\n==================\n");
    for (i, k) in p.accounts.iter().enumerate() {
        let _ = writeln!(out, "({i}) {:#x}", k.secret);
    }
    let _ = write!(
        out,
        "\nRPC: {}",
        p.nodes.iter().find_map(|n| n.rpc_url()).unwrap_or_default()
    );
    out
}
