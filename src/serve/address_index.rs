//! The console's index of transactions by address, for the Explorer's
//! address history ([`super::history`]).
//!
//! A node's JSON-RPC has no "transactions of an address" call, so the
//! console keeps its own index: the (block, hash) of each transaction
//! under its sender and its recipient, built by reading every block once
//! (with its transactions) and then only the blocks added since. The index
//! lives in memory (40 bytes per transaction and address) and is rebuilt
//! from block 0 when the chain it was built on is replaced (a reorg that
//! changes the last indexed block). One catch-up reads at most
//! [`SCAN_LIMIT`] new blocks, so a first look at a long chain answers in
//! bounded time and says how far it has read.

use std::collections::HashMap;

use alloy::primitives::{Address, B256};
use futures::future::join_all;
use serde::Deserialize;
use serde_json::json;

use crate::rpc::{parse_hex_u64, Rpc};

/// Transactions per page.
pub const PAGE: usize = 25;
/// Blocks one request may add to the index.
pub const SCAN_LIMIT: u64 = 20_000;
/// Blocks read at once.
const CONCURRENCY: u64 = 16;
/// One transaction touching an address: its block and hash.
type Entry = (u64, B256);

/// The index, as far as it has read.
#[derive(Debug, Default)]
pub struct Index {
    /// The last block read and its hash.
    through: Option<(u64, B256)>,
    /// Transactions by sender and by recipient, oldest first.
    by_addr: HashMap<Address, Vec<Entry>>,
}

/// A block as the index reads it.
#[derive(Debug, Deserialize)]
struct Block {
    hash: B256,
    transactions: Vec<BlockTx>,
}

/// A transaction of a block, as the index reads it.
#[derive(Debug, Deserialize)]
struct BlockTx {
    hash: B256,
    from: Address,
    to: Option<Address>,
}

impl Index {
    /// Reads the blocks after the last indexed one, up to the head or
    /// [`SCAN_LIMIT`] of them; the head.
    pub async fn catch_up(&mut self, rpc: &Rpc) -> anyhow::Result<u64> {
        let head = parse_hex_u64(&rpc.call::<String>("eth_blockNumber", json!([])).await?)?;
        if let Some((n, hash)) = self.through {
            let now: Option<Block> = rpc
                .call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
                .await
                .ok()
                .flatten();
            if n > head || now.map(|b| b.hash) != Some(hash) {
                *self = Self::default();
            }
        }
        let start = self.through.map_or(0, |(n, _)| n + 1);
        let end = head.min(start.saturating_add(SCAN_LIMIT - 1));
        let mut next = start;
        while next <= end {
            let last = end.min(next + CONCURRENCY - 1);
            let blocks = join_all((next..=last).map(|n| read_block(rpc, n))).await;
            for (n, b) in (next..=last).zip(blocks) {
                self.add(n, b?);
            }
            next = last + 1;
        }
        Ok(head)
    }

    /// Files block `n`'s transactions under their sender and recipient.
    fn add(&mut self, n: u64, block: Block) {
        for tx in &block.transactions {
            self.by_addr.entry(tx.from).or_default().push((n, tx.hash));
            if let Some(to) = tx.to.filter(|to| *to != tx.from) {
                self.by_addr.entry(to).or_default().push((n, tx.hash));
            }
        }
        self.through = Some((n, block.hash));
    }

    /// The hashes of page `page` (0 = newest) of `addr`'s transactions, and
    /// how many there are in all.
    pub fn page(&self, addr: &Address, page: usize) -> (Vec<B256>, usize) {
        let all = self.by_addr.get(addr).map(Vec::as_slice).unwrap_or(&[]);
        let hashes = all
            .iter()
            .rev()
            .skip(page.saturating_mul(PAGE))
            .take(PAGE)
            .map(|(_, h)| *h)
            .collect();
        (hashes, all.len())
    }

    /// The last block read.
    pub fn through(&self) -> Option<u64> {
        self.through.map(|(n, _)| n)
    }
}

/// Block `n` with its transactions.
async fn read_block(rpc: &Rpc, n: u64) -> anyhow::Result<Block> {
    rpc.call::<Option<Block>>("eth_getBlockByNumber", json!([format!("{n:#x}"), true]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("block {n} is gone from the node"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(hash: u8, from: u8, to: Option<u8>) -> BlockTx {
        BlockTx {
            hash: B256::repeat_byte(hash),
            from: Address::repeat_byte(from),
            to: to.map(Address::repeat_byte),
        }
    }

    #[test]
    fn pages_are_newest_first_and_a_self_transfer_counts_once() {
        let mut idx = Index::default();
        for n in 0..30u8 {
            let block = Block {
                hash: B256::repeat_byte(200 + n % 50),
                transactions: vec![tx(n, 1, Some(2)), tx(100 + n, 3, Some(3))],
            };
            idx.add(n.into(), block);
        }
        let (first, total) = idx.page(&Address::repeat_byte(1), 0);
        assert_eq!(total, 30);
        assert_eq!(first.len(), PAGE);
        assert_eq!(first[0], B256::repeat_byte(29));
        let (second, _) = idx.page(&Address::repeat_byte(2), 1);
        assert_eq!(
            second,
            (0..5u8).rev().map(B256::repeat_byte).collect::<Vec<_>>()
        );
        assert_eq!(idx.page(&Address::repeat_byte(3), 0).1, 30);
        assert_eq!(idx.page(&Address::repeat_byte(9), 0), (vec![], 0));
        assert_eq!(idx.through(), Some(29));
    }
}
