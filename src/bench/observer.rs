//! Latency from the chain itself: a `newHeads` WebSocket subscription, each
//! new block's transaction list matched against what the workers submitted.
//! A transaction is committed when its block has `confirmations` blocks on
//! top (1 = included); its latency is the time from submission to the
//! arrival of the head that commits it. Receipts are read only afterwards,
//! per block, to tell successes from reverts — never polled per transaction.
//!
//! When the subscribed node stops answering, the observer moves to another
//! target and first reads by number the blocks it missed; a transaction
//! counted failed because no node took it is a success if a block holds it.
//!
//! A head on another branch (its parent is not the block read below it) is
//! followed back to where it leaves the blocks read, and the new branch's
//! blocks are read: transactions a winning fork holds count as included
//! there. A reorg that replaces a block whose transactions were already
//! committed is not undone (with `confirmations: 1` on Clique this can happen when an
//! out-of-turn block loses); raise `confirmations` to exclude it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use alloy::primitives::{Address, B256};
use alloy::providers::{Provider, ProviderBuilder, WsConnect};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::metrics::RoundMeter;
use super::result::{BlockInfo, Cause, RoundStats};
use super::tracking::{find_tracked, unix_ms, DeviceLedger, Observation, TrackedTx};
use crate::rpc::{parse_hex_u64, Rpc};

struct Inner {
    pending: HashMap<B256, Instant>,
    /// This round's transactions counted as failed because no node took
    /// them (submission time and cause): found in a block after all, they
    /// are successes instead.
    failed: HashMap<B256, (Instant, Cause)>,
    included: BTreeMap<u64, Vec<(B256, Instant)>>,
    stats: RoundStats,
    /// Deep enough to commit, waiting for their receipts' status.
    committing: u64,
    /// Our transactions matched in the last blocks (hash → block), so a
    /// block that replaces another at the same height still counts them.
    recent: HashMap<B256, u64>,
    head: u64,
    /// Block timestamps across rounds (bounded), so a round's window can
    /// open at the parent of its first block even if that came earlier.
    timestamps: BTreeMap<u64, u64>,
    /// When each block was first seen, across rounds (bounded likewise).
    arrivals: BTreeMap<u64, Instant>,
    /// Ledgers of the round's tracked devices.
    tracked: Vec<DeviceLedger>,
    /// The contract tracked devices write to.
    tracked_contract: Address,
    /// Tracked devices' transactions seen in blocks, awaiting their status.
    tracked_seen: Vec<TrackedTx>,
    /// The round's live metrics, when the run exports them.
    meter: Option<RoundMeter>,
    /// The hash of each block read, by number (the last
    /// [`REORG_WINDOW`]), to notice a head on another branch.
    hashes: BTreeMap<u64, B256>,
}

/// What workers and the observer share.
pub struct Tracker {
    inner: Mutex<Inner>,
    /// Woken whenever transactions complete (for fixed-load and draining).
    pub completed: Notify,
    /// Woken on every new head (to align round starts with blocks).
    pub new_head: Notify,
    confirmations: u64,
    /// Whether rounds keep every commit (rounds with faults).
    keep_commits: std::sync::atomic::AtomicBool,
    /// Rounds begun so far (a round's faults wait for the next one).
    rounds_begun: std::sync::atomic::AtomicU64,
    /// Transactions mined with status 0 so far, across rounds (private
    /// devices re-read their patient's key when it grows).
    reverts: std::sync::atomic::AtomicU64,
}

impl Tracker {
    /// A tracker committing after `confirmations` blocks.
    pub fn new(confirmations: u64) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                pending: HashMap::new(),
                failed: HashMap::new(),
                included: BTreeMap::new(),
                stats: RoundStats::new(Instant::now()),
                committing: 0,
                recent: HashMap::new(),
                head: 0,
                timestamps: BTreeMap::new(),
                arrivals: BTreeMap::new(),
                tracked: Vec::new(),
                tracked_contract: Address::ZERO,
                tracked_seen: Vec::new(),
                meter: None,
                hashes: BTreeMap::new(),
            }),
            completed: Notify::new(),
            new_head: Notify::new(),
            confirmations,
            keep_commits: std::sync::atomic::AtomicBool::new(false),
            rounds_begun: std::sync::atomic::AtomicU64::new(0),
            reverts: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Transactions mined with status 0 since the tracker was made.
    pub(crate) fn reverts(&self) -> u64 {
        self.reverts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts a new round's figures; anything still pending is dropped.
    pub(crate) fn begin_round(&self, start: Instant) {
        let mut g = self.lock();
        g.pending.clear();
        g.failed.clear();
        g.included.clear();
        g.recent.clear();
        g.stats = RoundStats::new(start);
        if self.keep_commits.load(std::sync::atomic::Ordering::Relaxed) {
            g.stats.commits = Some(Vec::new());
        }
        let known = g.timestamps.clone();
        g.stats.timestamps = known;
        let seen = g.arrivals.clone();
        g.stats.arrivals = seen;
        g.stats.start_head = g.head;
        drop(g);
        self.rounds_begun
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many rounds have begun, and when the current one began.
    pub(crate) fn round_began(&self) -> (u64, Instant) {
        let start = self.lock().stats.start;
        let n = self.rounds_begun.load(std::sync::atomic::Ordering::SeqCst);
        (n, start)
    }

    /// Whether the next rounds keep every commit's time and latency (for
    /// the windows around faults). Called before [`Tracker::begin_round`].
    pub(crate) fn keep_commits(&self, keep: bool) {
        self.keep_commits
            .store(keep, std::sync::atomic::Ordering::Relaxed);
    }

    /// Follows `devices` (their `addMedicalRecord` transactions to
    /// `contract`) from now on, with fresh ledgers; an empty list stops
    /// tracking. Called before [`Tracker::begin_round`].
    pub fn track(&self, devices: &[Address], contract: Address) {
        let mut g = self.lock();
        g.tracked = devices.iter().map(|a| DeviceLedger::new(*a)).collect();
        g.tracked_contract = contract;
        g.tracked_seen.clear();
    }

    /// Counts the next round's events into `meter` (`None`: no live
    /// metrics). Called before [`Tracker::begin_round`].
    pub(crate) fn meter(&self, meter: Option<RoundMeter>) {
        self.lock().meter = meter;
    }

    /// Updates the round's sampled metrics: what is in flight and the
    /// send rate achieved so far (submitted over the submission span, as
    /// the report computes it).
    pub(crate) fn sample_meter(&self) {
        let (_, _, in_flight) = self.counts();
        let g = self.lock();
        let Some(m) = &g.meter else { return };
        let s = &g.stats;
        let rate = match (s.first_submit, s.last_submit) {
            (Some(a), Some(b)) if b > a => (s.sent as f64 - 1.0) / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        m.sample(in_flight, rate);
    }

    /// Whether any device is tracked (blocks are then read with their
    /// transactions' bodies).
    pub(crate) fn tracking(&self) -> bool {
        !self.lock().tracked.is_empty()
    }

    /// Ends the round: counts what is still unconfirmed as timed out and
    /// hands over the figures.
    pub(crate) fn end_round(&self) -> RoundStats {
        let mut g = self.lock();
        g.stats.tracked = g.tracked.iter().map(DeviceLedger::summary).collect();
        let left = g.pending.len() as u64
            + g.included.values().map(|v| v.len() as u64).sum::<u64>()
            + g.committing;
        g.stats.failures.timed_out += left;
        if let Some(m) = &g.meter {
            m.failed(Cause::TimedOut, left);
        }
        g.committing = 0;
        g.pending.clear();
        g.failed.clear();
        g.included.clear();
        std::mem::replace(&mut g.stats, RoundStats::new(Instant::now()))
    }

    /// A transaction is about to be sent (registered before sending, so
    /// the observer can never see it first).
    pub(crate) fn submit(&self, hash: B256, at: Instant) {
        let mut g = self.lock();
        g.pending.insert(hash, at);
        g.stats.submitted(at);
        if let Some(m) = &g.meter {
            m.submitted();
        }
    }

    /// A submitted transaction failed for `cause` (no node took it). Should
    /// a block hold it after all, it counts as a success instead; a hash
    /// not in flight (already counted) is ignored.
    pub(crate) fn fail(&self, hash: B256, cause: Cause) {
        let mut g = self.lock();
        let Some(at) = g.pending.remove(&hash) else {
            return;
        };
        *g.stats.failures.of(cause) += 1;
        if let Some(m) = &g.meter {
            m.failed(cause, 1);
        }
        g.failed.insert(hash, (at, cause));
        drop(g);
        self.completed.notify_waiters();
    }

    /// A transaction that vanished with a dead node's pool was resubmitted
    /// to a live one; counted when it is this round's and still in flight.
    pub(crate) fn retry(&self, hash: B256) {
        let mut g = self.lock();
        if g.pending.contains_key(&hash) {
            g.stats.retries += 1;
        }
    }

    /// A read finished (started at `start`), or failed for a cause.
    pub(crate) fn read_done(&self, start: Instant, failed: Option<Cause>) {
        let now = Instant::now();
        let mut g = self.lock();
        g.stats.submitted(start);
        match failed {
            None => g.stats.success(now - start, now),
            Some(cause) => *g.stats.failures.of(cause) += 1,
        }
        if let Some(m) = &g.meter {
            m.submitted();
            match failed {
                None => m.committed((now - start).as_secs_f64()),
                Some(cause) => m.failed(cause, 1),
            }
        }
        drop(g);
        // fixed-load rounds of reads send the next one now.
        self.completed.notify_waiters();
    }

    /// (sent, committed, in flight) for rate controllers.
    pub fn counts(&self) -> (u64, u64, u64) {
        let g = self.lock();
        let in_flight = g.pending.len() as u64
            + g.included.values().map(|v| v.len() as u64).sum::<u64>()
            + g.committing;
        let f = &g.stats.failures;
        let done = g.stats.succ + f.reverted + f.rejected + f.unreachable;
        (g.stats.sent, done, in_flight)
    }

    /// Current head number seen by the observer.
    pub fn head(&self) -> u64 {
        self.lock().head
    }

    /// Handles one block, first seen at `arrived`: matches our
    /// transactions and returns the blocks now deep enough to commit.
    fn on_block(&self, block: &Value, arrived: Instant) -> Vec<(u64, Vec<(B256, Instant)>)> {
        let number = block["number"]
            .as_str()
            .and_then(|h| parse_hex_u64(h).ok())
            .unwrap_or(0);
        let txs: &[Value] = block["transactions"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Hashes only, or whole transactions when devices are tracked.
        let hashes: Vec<B256> = txs
            .iter()
            .filter_map(|t| t.as_str().or_else(|| t["hash"].as_str())?.parse().ok())
            .collect();
        let mut g = self.lock();
        if !g.tracked.is_empty() {
            let found = find_tracked(txs, &g.tracked, g.tracked_contract);
            g.tracked_seen.extend(found);
        }
        let mut ours = Vec::new();
        let mut again = 0u64;
        for h in &hashes {
            if let Some(at) = g.pending.remove(h) {
                ours.push((*h, at));
                g.recent.insert(*h, number);
            } else if let Some((at, cause)) = g.failed.remove(h) {
                // Counted failed, but the chain holds it: a success after all.
                let n = g.stats.failures.of(cause);
                *n = n.saturating_sub(1);
                ours.push((*h, at));
                g.recent.insert(*h, number);
            } else if g.recent.contains_key(h) {
                again += 1;
            }
        }
        g.recent.retain(|_, n| *n + 64 > number);
        let info = BlockInfo {
            number,
            timestamp: hex_field(block, "timestamp"),
            txs: hashes.len() as u64,
            ours: ours.len() as u64 + again,
            gas_used: hex_field(block, "gasUsed"),
            gas_limit: hex_field(block, "gasLimit"),
            uncles: block["uncles"].as_array().map_or(0, |u| u.len() as u64),
            arrived: Some(*g.arrivals.entry(number).or_insert(arrived)),
        };
        g.stats.timestamps.insert(number, info.timestamp);
        g.stats.arrivals.entry(number).or_insert(arrived);
        g.timestamps.insert(number, info.timestamp);
        while g.timestamps.len() > 64 {
            g.timestamps.pop_first();
        }
        while g.arrivals.len() > 64 {
            g.arrivals.pop_first();
        }
        if let Some(last) = g.stats.blocks.last() {
            if last.number >= number {
                // Reorg: the replaced blocks' figures give way to the new ones.
                g.stats.blocks.retain(|b| b.number < number);
            }
        }
        g.stats.blocks.push(info);
        if !ours.is_empty() {
            g.included.entry(number).or_default().extend(ours);
        }
        g.head = g.head.max(number);
        let deep = (number + 1).saturating_sub(self.confirmations);
        let ready: Vec<u64> = g.included.range(..=deep).map(|(n, _)| *n).collect();
        let out: Vec<(u64, Vec<(B256, Instant)>)> = ready
            .into_iter()
            .filter_map(|n| g.included.remove(&n).map(|v| (n, v)))
            .collect();
        g.committing += out.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
        out
    }

    /// Records `block` as the one at its height: blocks above it were on
    /// another branch if it replaces one.
    fn record_hash(&self, block: &Value) {
        let (Some(n), Some(h)) = (
            block["number"].as_str().and_then(|h| parse_hex_u64(h).ok()),
            block["hash"].as_str().and_then(|h| h.parse::<B256>().ok()),
        ) else {
            return;
        };
        let mut g = self.lock();
        g.hashes.split_off(&n);
        g.hashes.insert(n, h);
        while g.hashes.len() as u64 > REORG_WINDOW {
            g.hashes.pop_first();
        }
    }

    /// The hash of the block read at height `n`, if it is still known.
    fn hash_at(&self, n: u64) -> Option<B256> {
        self.lock().hashes.get(&n).copied()
    }

    /// Whether `block` (at height `n`) is on another branch than the block
    /// read at `n - 1`: its parent is not that block (a reorg; on proof
    /// of work, the other side's fork after a partition).
    fn branched(&self, block: &Value, n: u64) -> bool {
        let parent = block["parentHash"]
            .as_str()
            .and_then(|h| h.parse::<B256>().ok());
        matches!((self.hash_at(n - 1), parent), (Some(known), Some(p)) if known != p)
    }

    /// Hands over the tracked devices' transactions found since the last call.
    fn take_tracked(&self) -> Vec<TrackedTx> {
        std::mem::take(&mut self.lock().tracked_seen)
    }

    /// Accounts tracked transactions with their receipt status (a missing
    /// status counts as success, as for our own transactions).
    fn record_tracked(&self, seen: &[TrackedTx], status: &HashMap<B256, bool>, observed_ms: u64) {
        let mut g = self.lock();
        for t in seen {
            let ok = status.get(&t.hash).copied().unwrap_or(true);
            if let Some(l) = g.tracked.get_mut(t.ledger) {
                l.record(&Observation {
                    sequence: t.sequence,
                    device_timestamp_ms: t.device_timestamp_ms,
                    observed_ms,
                    ok,
                });
            }
        }
    }

    /// Records committed transactions with their receipt status.
    fn commit(&self, txs: Vec<(B256, Instant)>, status: &HashMap<B256, bool>, arrived: Instant) {
        let mut g = self.lock();
        if g.committing < txs.len() as u64 {
            // The round ended (and counted these as timed out) meanwhile.
            return;
        }
        g.committing -= txs.len() as u64;
        for (h, at) in txs {
            let latency = arrived.saturating_duration_since(at);
            let reverted = status.get(&h) == Some(&false);
            if reverted {
                g.stats.failures.reverted += 1;
                self.reverts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            } else {
                g.stats.success(latency, arrived);
            }
            if let Some(m) = &g.meter {
                match reverted {
                    true => m.failed(Cause::Reverted, 1),
                    false => m.committed(latency.as_secs_f64()),
                }
            }
        }
        drop(g);
        self.completed.notify_waiters();
    }
}

fn hex_field(v: &Value, k: &str) -> u64 {
    v[k].as_str()
        .and_then(|h| parse_hex_u64(h).ok())
        .unwrap_or(0)
}

/// The fields of a receipt the observer needs, deserialised directly:
/// the rest (logs, bloom) is skipped without being built.
#[derive(Debug, serde::Deserialize)]
struct ReceiptStatus {
    #[serde(rename = "transactionHash")]
    hash: B256,
    #[serde(default)]
    status: Option<alloy::primitives::U64>,
}

/// Receipt statuses of `txs` in block `number`: one `eth_getBlockReceipts`
/// call where the node has it (geth ≥ 1.13), else one receipt per tx.
async fn statuses(rpc: &Rpc, number: u64, txs: &[B256]) -> HashMap<B256, bool> {
    let ok = |r: &ReceiptStatus| r.status.map(|s| s == alloy::primitives::U64::from(1));
    if let Ok(receipts) = rpc
        .call::<Vec<ReceiptStatus>>("eth_getBlockReceipts", json!([format!("{number:#x}")]))
        .await
    {
        return receipts
            .iter()
            .filter_map(|r| Some((r.hash, ok(r)?)))
            .collect();
    }
    let mut out = HashMap::new();
    for h in txs {
        if let Ok(Some(r)) = rpc
            .call::<Option<ReceiptStatus>>("eth_getTransactionReceipt", json!([h]))
            .await
        {
            if let Some(s) = ok(&r) {
                out.insert(*h, s);
            }
        }
    }
    out
}

/// Where the observer can follow the chain: a node's WebSocket (newHeads)
/// and HTTP (blocks, receipts) endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// WebSocket URL.
    pub ws: String,
    /// HTTP URL.
    pub http: String,
}

/// Where the observer follows the chain: `ws`/`http` (the first target's)
/// first, then each other target of a medchain network (`state`), in the
/// targets' order.
pub(crate) fn endpoints(
    state: Option<&crate::state::State>,
    targets: &[String],
    ws: &str,
    http: &str,
) -> Vec<Endpoint> {
    let mut out = vec![Endpoint {
        ws: ws.to_string(),
        http: http.to_string(),
    }];
    let nodes = state.map(|s| s.plan.nodes.as_slice()).unwrap_or_default();
    for t in targets.iter().filter(|t| *t != http) {
        let node = nodes.iter().find(|n| n.rpc_url().as_ref() == Some(t));
        if let Some(ws) = node.and_then(|n| n.ws_url()) {
            out.push(Endpoint {
                ws,
                http: t.clone(),
            });
        }
    }
    out
}

/// How long the observer waits for a head before it asks the node over
/// HTTP whether it is still there.
const QUIET: std::time::Duration = std::time::Duration::from_secs(2);
/// Most blocks read by number when the observer comes back after missing
/// some (a failover, or heads folded together).
const MAX_CATCH_UP: u64 = 10_000;
/// How far back the observer looks for where a new branch leaves the
/// blocks it read (a reorg deeper than this is read from there on only).
const REORG_WINDOW: u64 = 256;
/// Failed subscriptions in a row, over all endpoints, before the observer
/// gives up (each endpoint tried this many times).
const ATTEMPTS_PER_ENDPOINT: usize = 3;

/// Runs the observer until `stop` is notified: subscribes to new heads on
/// the first endpoint and reads blocks over its HTTP; when that node stops
/// answering, moves to the next endpoint (round-robin) and first reads by
/// number every block it missed, so inclusions no surviving subscription
/// announced are still counted. Fails only when no endpoint answers.
pub async fn run(
    tracker: Arc<Tracker>,
    endpoints: Vec<Endpoint>,
    stop: Arc<Notify>,
) -> anyhow::Result<()> {
    anyhow::ensure!(!endpoints.is_empty(), "the observer needs an endpoint");
    let mut last: Option<u64> = None;
    let mut i = 0;
    let mut failed = 0;
    loop {
        let ep = &endpoints[i % endpoints.len()];
        let before = last;
        let e = match follow(&tracker, ep, &mut last, &stop).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        failed = if last != before { 1 } else { failed + 1 };
        if failed >= ATTEMPTS_PER_ENDPOINT * endpoints.len() {
            return Err(e);
        }
        i += 1;
        tokio::select! {
            _ = stop.notified() => return Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_millis(300)) => {}
        }
    }
}

/// Follows the chain on one endpoint until `stop` (Ok) or until the node
/// stops answering (Err). `last` is the last block handled, by whichever
/// endpoint: blocks after it are read first.
async fn follow(
    tracker: &Arc<Tracker>,
    ep: &Endpoint,
    last: &mut Option<u64>,
    stop: &Notify,
) -> anyhow::Result<()> {
    let ws = &ep.ws;
    let connect = ProviderBuilder::new().connect_ws(WsConnect::new(ws.clone()));
    let limit = crate::rpc_timeout::call_timeout().min(std::time::Duration::from_secs(5));
    let provider = tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| {
            anyhow::anyhow!("subscribing to new heads on {ws}: no answer within {limit:?}")
        })?
        .map_err(|e| anyhow::anyhow!("subscribing to new heads on {ws}: {e}"))?;
    let mut heads = provider.subscribe_blocks().await?.into_stream();
    let rpc = Rpc::new(&ep.http)?;
    if last.is_some() {
        // Back after a failover: what the chain did meanwhile.
        let head: String = rpc.call("eth_blockNumber", json!([])).await?;
        catch_up(tracker, &rpc, last, parse_hex_u64(&head)?).await?;
    }
    loop {
        let announced = tokio::select! {
            _ = stop.notified() => return Ok(()),
            _ = tokio::time::sleep(QUIET) => None,
            h = heads.next() => match h {
                Some(h) => Some(h.number),
                None => anyhow::bail!("the new-heads subscription on {ws} ended"),
            },
        };
        let number = match announced {
            Some(n) => n,
            // No head for a while: a dead node's subscription may just stay
            // silent, so ask over HTTP (an error fails over), and read what
            // the subscription missed.
            None => {
                let head: String = rpc.call("eth_blockNumber", json!([])).await?;
                let n = parse_hex_u64(&head)?;
                if last.is_some_and(|l| n <= l) {
                    continue;
                }
                n
            }
        };
        catch_up(tracker, &rpc, last, number).await?;
        tracker.new_head.notify_waiters();
    }
}

/// Handles the blocks after `last` up to `number` (only `number` when
/// `last` is unknown, or more than [`MAX_CATCH_UP`] behind); fails when the
/// node does not answer.
async fn catch_up(
    tracker: &Tracker,
    rpc: &Rpc,
    last: &mut Option<u64>,
    number: u64,
) -> anyhow::Result<()> {
    let arrived = Instant::now();
    let observed_ms = unix_ms();
    let full = tracker.tracking();
    let from = match *last {
        Some(l) if number > l && number - l <= MAX_CATCH_UP => l + 1,
        _ => number,
    };
    let floor = from.saturating_sub(REORG_WINDOW).max(1);
    let mut n = from;
    while n <= number {
        let block: Value = rpc
            .call("eth_getBlockByNumber", json!([format!("{n:#x}"), full]))
            .await?;
        if block.is_null() {
            n += 1;
            continue;
        }
        // On another branch than the block read below it: read from where
        // the branch leaves the blocks read.
        if n > floor && tracker.branched(&block, n) {
            n -= 1;
            continue;
        }
        tracker.record_hash(&block);
        for (bn, txs) in tracker.on_block(&block, arrived) {
            let hashes: Vec<B256> = txs.iter().map(|(h, _)| *h).collect();
            let st = statuses(rpc, bn, &hashes).await;
            tracker.commit(txs, &st, arrived);
        }
        let seen = tracker.take_tracked();
        if !seen.is_empty() {
            let hashes: Vec<B256> = seen.iter().map(|t| t.hash).collect();
            let st = statuses(rpc, n, &hashes).await;
            tracker.record_tracked(&seen, &st, observed_ms);
        }
        *last = Some(n.max(last.unwrap_or(0)));
        n += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::Failures;
    use std::time::Duration;

    fn block(n: u64, txs: &[B256]) -> Value {
        json!({
            "number": format!("{n:#x}"), "timestamp": format!("{:#x}", 1000 + n),
            "gasUsed": "0x5208", "gasLimit": "0x1c9c380", "uncles": [],
            "transactions": txs.iter().map(|h| format!("{h:#x}")).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn a_block_read_again_at_a_height_forgets_the_blocks_above_it() {
        let t = Tracker::new(1);
        let at = |n: u64, h: u8| {
            let mut b = block(n, &[]);
            b["hash"] = json!(format!("{:#x}", B256::repeat_byte(h)));
            b
        };
        for n in 1..=5u64 {
            t.record_hash(&at(n, n as u8));
        }
        assert_eq!(t.hash_at(4), Some(B256::repeat_byte(4)));
        // The other branch's block 3: 4 and 5 were on the losing one.
        t.record_hash(&at(3, 0xb3));
        assert_eq!(t.hash_at(3), Some(B256::repeat_byte(0xb3)));
        assert_eq!(t.hash_at(2), Some(B256::repeat_byte(2)));
        assert_eq!((t.hash_at(4), t.hash_at(5)), (None, None));
        // A block 4 whose parent is the new 3 follows on; one whose parent
        // is the old 3 is on another branch.
        let mut b4 = at(4, 4);
        b4["parentHash"] = json!(format!("{:#x}", B256::repeat_byte(0xb3)));
        assert!(!t.branched(&b4, 4));
        b4["parentHash"] = json!(format!("{:#x}", B256::repeat_byte(3)));
        assert!(t.branched(&b4, 4));
    }

    #[test]
    fn confirmations_delay_commits_and_latency_counts_from_submit() {
        let t = Tracker::new(2);
        let start = Instant::now();
        t.begin_round(start);
        let a = B256::repeat_byte(1);
        let other = B256::repeat_byte(9);
        t.submit(a, start);
        assert_eq!(t.counts(), (1, 0, 1));
        let ready = t.on_block(&block(5, &[a, other]), Instant::now());
        assert!(ready.is_empty(), "needs one more block on top");
        let later = start + Duration::from_millis(1500);
        let ready = t.on_block(&block(6, &[]), Instant::now());
        assert_eq!(ready.len(), 1);
        t.commit(
            ready.into_iter().flat_map(|(_, v)| v).collect(),
            &HashMap::new(),
            later,
        );
        let s = t.end_round();
        assert_eq!(s.succ, 1);
        assert!((s.hist.max() as f64 / 1e6 - 1.5).abs() < 0.01);
        assert_eq!(s.blocks.len(), 2);
        assert_eq!(s.blocks[0].ours, 1);
        assert_eq!(s.blocks[0].txs, 2);
        assert_eq!(s.failures.timed_out, 0);
    }

    #[test]
    fn a_block_replacing_another_at_the_same_height_keeps_our_count() {
        let t = Tracker::new(1);
        let now = Instant::now();
        t.begin_round(now);
        let (a, b) = (B256::repeat_byte(1), B256::repeat_byte(2));
        t.submit(a, now);
        t.submit(b, now);
        let ready = t.on_block(&block(7, &[a, b]), Instant::now());
        t.commit(
            ready.into_iter().flat_map(|(_, v)| v).collect(),
            &HashMap::new(),
            now,
        );
        // An out-of-turn block 7 loses to an in-turn block 7 with the same txs.
        let mut replacement = block(7, &[a, b]);
        replacement["timestamp"] = json!("0x3f0");
        assert!(
            t.on_block(&replacement, Instant::now()).is_empty(),
            "already committed"
        );
        let s = t.end_round();
        assert_eq!(s.succ, 2);
        assert_eq!(s.blocks.len(), 1);
        assert_eq!(s.blocks[0].ours, 2, "the replacement still holds our two");
    }

    #[test]
    fn transactions_awaiting_receipts_stay_in_flight() {
        let t = Tracker::new(1);
        let now = Instant::now();
        t.begin_round(now);
        let a = B256::repeat_byte(1);
        t.submit(a, now);
        let ready = t.on_block(&block(1, &[a]), Instant::now());
        assert_eq!(t.counts().2, 1, "still in flight until its status is known");
        t.commit(
            ready.into_iter().flat_map(|(_, v)| v).collect(),
            &HashMap::new(),
            now,
        );
        assert_eq!(t.counts().2, 0);
        assert_eq!(t.end_round().succ, 1);
    }

    #[test]
    fn what_the_chain_holds_is_a_success_whatever_was_counted_before() {
        let t = Tracker::new(1);
        let now = Instant::now();
        t.begin_round(now);
        let (a, b, c) = (
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        for h in [a, b, c] {
            t.submit(h, now);
        }
        // a: its node died before it answered, yet it had propagated.
        t.fail(a, Cause::Unreachable);
        t.fail(a, Cause::Unreachable);
        // b: vanished with the dead pool, resubmitted once (twice is one retry).
        t.retry(b);
        // c: refused by a dead node, never on chain.
        t.fail(c, Cause::Unreachable);
        assert_eq!(t.counts(), (3, 2, 1));
        let ready = t.on_block(&block(4, &[a, b]), Instant::now());
        t.commit(
            ready.into_iter().flat_map(|(_, v)| v).collect(),
            &HashMap::new(),
            now,
        );
        t.retry(b);
        let s = t.end_round();
        assert_eq!((s.succ, s.retries, s.sent), (2, 1, 3));
        assert_eq!(s.failures.unreachable, 1);
        assert_eq!(s.failures.total(), 1);
        assert_eq!(s.blocks[0].ours, 2);
    }

    #[test]
    fn failed_reads_keep_their_cause() {
        let t = Tracker::new(1);
        let now = Instant::now();
        t.begin_round(now);
        t.read_done(now, None);
        t.read_done(now, Some(Cause::Unreachable));
        t.read_done(now, Some(Cause::Reverted));
        let s = t.end_round();
        assert_eq!(s.succ, 1);
        assert_eq!((s.failures.unreachable, s.failures.reverted), (1, 1));
    }

    #[test]
    fn reverts_rejects_and_leftovers_are_classified() {
        let t = Tracker::new(1);
        let now = Instant::now();
        t.begin_round(now);
        let (a, b, c) = (
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        for h in [a, b, c] {
            t.submit(h, now);
        }
        t.fail(b, Cause::Rejected);
        let ready = t.on_block(&block(1, &[a]), Instant::now());
        let status = HashMap::from([(a, false)]);
        t.commit(
            ready.into_iter().flat_map(|(_, v)| v).collect(),
            &status,
            now,
        );
        let s = t.end_round();
        assert_eq!(s.succ, 0);
        assert_eq!(
            s.failures,
            Failures {
                rejected: 1,
                reverted: 1,
                timed_out: 1,
                unreachable: 0,
            }
        );
        assert_eq!(s.sent, 3);
    }
}
