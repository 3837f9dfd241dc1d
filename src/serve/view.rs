//! The network's public view: what the console shows without sign-in.
//!
//! Only what any node's JSON-RPC already gives a caller — per node its
//! hospital and role, whether it answers, its head, peer count and pool
//! sizes; per block its number, hash, time, transaction count and gas —
//! never process ids, enode URLs, endpoints or anything from a key store.

use serde::Serialize;
use serde_json::Value;

use crate::network::status::NetworkStatus;
use crate::rpc::parse_hex_u64;

/// One node as the public view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicNode {
    /// Node name.
    pub name: String,
    /// Hospital.
    pub hospital: String,
    /// `sealer` or `member`.
    pub role: String,
    /// Answering.
    pub up: bool,
    /// Head block number.
    pub block: Option<u64>,
    /// Head block hash.
    pub head: Option<String>,
    /// Connected peers.
    pub peers: Option<u64>,
    /// Pending transactions in its pool.
    pub txpool_pending: Option<u64>,
    /// Queued transactions in its pool.
    pub txpool_queued: Option<u64>,
    /// Its hash at the common height differs from the majority's.
    pub disagrees: bool,
}

/// The whole network as the public view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicNetwork {
    /// Network name.
    pub network: String,
    /// `clique` or `ethash`.
    pub consensus: String,
    /// Chain id.
    pub chain_id: u64,
    /// Nodes, in plan order (grouped by hospital in the page).
    pub nodes: Vec<PublicNode>,
    /// Every node that answers has the same hash at the common height.
    pub agree: bool,
}

impl PublicNetwork {
    /// The public part of a status.
    pub fn of(s: &NetworkStatus) -> Self {
        Self {
            network: s.network.clone(),
            consensus: s.consensus.clone(),
            chain_id: s.chain_id,
            agree: s.agree,
            nodes: s
                .nodes
                .iter()
                .map(|n| PublicNode {
                    name: n.name.clone(),
                    hospital: n.hospital.clone(),
                    role: n.role.to_string(),
                    up: n.up,
                    block: n.block,
                    head: n.head.clone(),
                    peers: n.peers,
                    txpool_pending: n.txpool_pending,
                    txpool_queued: n.txpool_queued,
                    disagrees: n.disagrees,
                })
                .collect(),
        }
    }
}

/// One block, for the chart and the Explorer's list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockSummary {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: String,
    /// Header timestamp, s.
    pub timestamp: u64,
    /// Seconds since the previous block's timestamp (None for the first
    /// block the console saw, and for block 1: genesis has no real time).
    pub interval: Option<u64>,
    /// Transactions.
    pub txs: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Transaction hashes.
    pub tx_hashes: Vec<String>,
}

impl BlockSummary {
    /// From `eth_getBlockByNumber(…, false)`; `None` for anything else.
    pub fn of(block: &Value, previous: Option<&BlockSummary>) -> Option<Self> {
        let num = |k: &str| block[k].as_str().and_then(|h| parse_hex_u64(h).ok());
        let number = num("number")?;
        let timestamp = num("timestamp")?;
        let tx_hashes: Vec<String> = block["transactions"]
            .as_array()?
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        Some(Self {
            number,
            hash: block["hash"].as_str()?.to_string(),
            timestamp,
            // Genesis carries the template's timestamp (often 0), not a
            // time it was sealed: no interval from it.
            interval: previous
                .filter(|p| p.number + 1 == number && p.number > 0)
                .map(|p| timestamp.saturating_sub(p.timestamp)),
            txs: tx_hashes.len() as u64,
            gas_used: num("gasUsed")?,
            gas_limit: num("gasLimit")?,
            tx_hashes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_block_becomes_its_summary_with_the_interval_from_its_parent() {
        let b = |n: u64, t: u64| {
            json!({"number": format!("{n:#x}"), "hash": format!("0x{n:064x}"), "timestamp": format!("{t:#x}"),
                   "gasUsed": "0x5208", "gasLimit": "0x1c9c380", "transactions": ["0xaa", "0xbb"]})
        };
        let first = BlockSummary::of(&b(7, 100), None).unwrap();
        assert_eq!((first.number, first.interval, first.txs), (7, None, 2));
        let next = BlockSummary::of(&b(8, 102), Some(&first)).unwrap();
        assert_eq!(
            (next.interval, next.gas_used, next.gas_limit),
            (Some(2), 21000, 30_000_000)
        );
        assert_eq!(
            BlockSummary::of(&b(10, 105), Some(&next)).unwrap().interval,
            None
        );
        assert!(BlockSummary::of(&json!(null), None).is_none());
        let genesis = BlockSummary::of(&b(0, 0), None).unwrap();
        assert_eq!(
            BlockSummary::of(&b(1, 1_796_000_000), Some(&genesis))
                .unwrap()
                .interval,
            None
        );
    }
}
