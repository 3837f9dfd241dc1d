//! Renders the `genesis/` templates for one network: chain id, consensus
//! parameters, gas limit and prefunded accounts filled into a template that
//! stays a valid genesis file on its own.
//!
//! Neither template carries `terminalTotalDifficulty` nor a Shanghai time:
//! the pinned geth releases would stop sealing on a merged chain.

use alloy::primitives::{Address, U256};
use serde_json::{json, Value};

use crate::topology::{Consensus, Topology};

/// The Clique template, as shipped in `genesis/clique.json`.
pub(crate) const CLIQUE_TEMPLATE: &str = include_str!("../genesis/clique.json");
/// The ethash template, as shipped in `genesis/ethash.json`.
pub(crate) const ETHASH_TEMPLATE: &str = include_str!("../genesis/ethash.json");

/// One prefunded account in the genesis `alloc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefund {
    /// Account to credit.
    pub address: Address,
    /// Balance in wei.
    pub wei: U256,
}

/// Renders the genesis document for `topo`, with `signers` as the Clique
/// signer set (ignored for ethash) and `alloc` as prefunded accounts.
pub(crate) fn render(topo: &Topology, signers: &[Address], alloc: &[Prefund]) -> Value {
    let template = match topo.consensus {
        Consensus::Clique => CLIQUE_TEMPLATE,
        Consensus::Ethash => ETHASH_TEMPLATE,
    };
    let mut g: Value =
        serde_json::from_str(template).expect("shipped genesis templates are valid JSON");
    g["config"]["chainId"] = json!(topo.chain_id);
    g["gasLimit"] = json!(format!("{:#x}", topo.gas_limit));
    match topo.consensus {
        Consensus::Clique => {
            g["config"]["clique"]["period"] = json!(topo.block_period);
            g["extraData"] = json!(clique_extra_data(signers));
        }
        Consensus::Ethash => {
            g["difficulty"] = json!(format!("{:#x}", topo.difficulty));
            g["extraData"] = json!(format!("0x{}", hex::encode(topo.network.as_bytes())));
        }
    }
    let mut accounts = serde_json::Map::new();
    for p in alloc {
        accounts.insert(
            format!("{:x}", p.address)
                .trim_start_matches("0x")
                .to_string(),
            json!({ "balance": format!("{:#x}", p.wei) }),
        );
    }
    g["alloc"] = Value::Object(accounts);
    g
}

/// Clique's genesis extraData: 32 vanity bytes, the signer addresses in
/// ascending order, then 65 zero bytes for the (absent) seal.
pub(crate) fn clique_extra_data(signers: &[Address]) -> String {
    let mut sorted = signers.to_vec();
    sorted.sort();
    let mut out = vec![0u8; 32];
    for s in &sorted {
        out.extend_from_slice(s.as_slice());
    }
    out.extend_from_slice(&[0u8; 65]);
    format!("0x{}", hex::encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology;

    #[test]
    fn clique_genesis_has_signers_period_and_no_merge_fields() {
        let topo =
            topology::parse("block_period: 5\ngas_limit: 8000000\nchain_id: 99\n", "t").unwrap();
        let a: Address = "0x00000000000000000000000000000000000000bb"
            .parse()
            .unwrap();
        let b: Address = "0x00000000000000000000000000000000000000aa"
            .parse()
            .unwrap();
        let g = render(
            &topo,
            &[a, b],
            &[Prefund {
                address: a,
                wei: U256::from(10u64),
            }],
        );
        assert_eq!(g["config"]["chainId"], 99);
        assert_eq!(g["config"]["clique"]["period"], 5);
        assert_eq!(g["gasLimit"], "0x7a1200");
        let extra = g["extraData"].as_str().unwrap();
        assert_eq!(extra.len(), 2 + 2 * (32 + 40 + 65));
        // sorted: aa before bb
        assert!(extra[2 + 64..].starts_with(&format!("{}{}", "0".repeat(38), "aa")));
        assert_eq!(
            g["alloc"]["00000000000000000000000000000000000000bb"]["balance"],
            "0xa"
        );
        let text = g.to_string();
        assert!(!text.contains("terminalTotalDifficulty"));
        assert!(!text.contains("shanghai"));
    }

    #[test]
    fn ethash_genesis_keeps_paper_fields() {
        let topo = topology::parse("consensus: ethash\ndifficulty: \"0x400\"\n", "t").unwrap();
        let g = render(&topo, &[], &[]);
        assert_eq!(g["difficulty"], "0x400");
        assert_eq!(g["nonce"], "0x0000000000000042");
        assert_eq!(g["config"]["eip150Block"], 0);
        assert_eq!(g["config"]["eip155Block"], 0);
        assert_eq!(g["config"]["eip158Block"], 0);
        assert!(g["config"].get("clique").is_none());
    }
}
