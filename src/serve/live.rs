//! Keeps the console's picture of the network current: every
//! [`POLL`] it asks every node for its status and reads the blocks that
//! arrived since, and publishes a new [`Snapshot`] when anything changed.
//! Pages receive each snapshot as a Server-Sent Event (see `routes`), so
//! a block shows in the page within about one poll of its arrival.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::view::{BlockSummary, PublicNetwork};
use crate::rpc::{parse_hex_u64, Rpc};
use crate::state::State;

/// How often the nodes are asked.
pub const POLL: Duration = Duration::from_millis(500);
/// Blocks kept for the chart and the Explorer's list.
pub const KEEP_BLOCKS: usize = 64;

/// What the console knows now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// The nodes.
    pub network: PublicNetwork,
    /// The latest blocks, oldest first (at most [`KEEP_BLOCKS`]).
    pub blocks: Vec<BlockSummary>,
    /// The client endpoint's head is answering.
    pub chain_reachable: bool,
}

/// The latest snapshot, for handlers and event streams.
pub type Feed = watch::Receiver<Arc<Snapshot>>;

/// Takes the first snapshot; returns the feed and the loop that keeps it
/// current. The caller runs that loop beside its server (on the command's
/// own task: a node's status query nests deeply enough to overflow a
/// worker thread's stack in a debug build) until the feed has no readers.
pub async fn start(
    state: Arc<State>,
) -> anyhow::Result<(Feed, impl std::future::Future<Output = ()>)> {
    let rpc = Rpc::new(&state.client_rpc()?)?;
    let mut blocks = VecDeque::new();
    let first = snapshot(&state, &rpc, &mut blocks).await;
    let (tx, rx) = watch::channel(Arc::new(first));
    let refresh = async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let next = snapshot(&state, &rpc, &mut blocks).await;
            if tx.is_closed() {
                return;
            }
            tx.send_if_modified(|cur| {
                let changed = **cur != next;
                if changed {
                    *cur = Arc::new(next);
                }
                changed
            });
        }
    };
    Ok((rx, refresh))
}

/// Asks every node, reads new blocks into `blocks`, and assembles a
/// snapshot; a chain endpoint that does not answer keeps the blocks known.
async fn snapshot(state: &State, rpc: &Rpc, blocks: &mut VecDeque<BlockSummary>) -> Snapshot {
    let status = Box::pin(crate::network::status::status(state)).await;
    let chain_reachable = read_new_blocks(rpc, blocks).await.is_ok();
    Snapshot {
        network: PublicNetwork::of(&status),
        blocks: blocks.iter().cloned().collect(),
        chain_reachable,
    }
}

/// Appends the blocks after the last one known up to the head (at most
/// [`KEEP_BLOCKS`]); a reorg (the parent hash does not follow) restarts
/// the list from the head's window.
async fn read_new_blocks(rpc: &Rpc, blocks: &mut VecDeque<BlockSummary>) -> anyhow::Result<()> {
    let head: String = rpc.call("eth_blockNumber", json!([])).await?;
    let head = parse_hex_u64(&head)?;
    let floor = head.saturating_sub(KEEP_BLOCKS as u64 - 1);
    let from = blocks.back().map_or(floor, |b| (b.number + 1).max(floor));
    for n in from..=head {
        let block: Value = rpc
            .call("eth_getBlockByNumber", json!([format!("{n:#x}"), false]))
            .await?;
        let follows = blocks
            .back()
            .is_none_or(|p| block["parentHash"].as_str() == Some(p.hash.as_str()));
        if !follows {
            blocks.clear();
        }
        if let Some(b) = BlockSummary::of(&block, blocks.back()) {
            blocks.push_back(b);
        }
        while blocks.len() > KEEP_BLOCKS {
            blocks.pop_front();
        }
    }
    Ok(())
}
