//! A round's faults at their times, and every node's head sampled while
//! the round runs: what the recovery figures are computed from.
//!
//! Everything here runs on the round's own task, next to the round (the
//! runtime's futures are not `Send`): [`during`] drives the round, the
//! fault timeline and the head sampler together and stops the latter two
//! when the round ends. A fault whose time comes after the round's end is
//! not applied (listed as skipped).

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::apply::{apply, Done};
use super::Fault;
use crate::network::control;
use crate::plan::Plan;
use crate::rpc::parse_hex_u64;
use crate::runtime::AnyRuntime;
use crate::state::State;

/// Time between two sweeps of the head sampler.
const SWEEP: Duration = Duration::from_millis(250);
/// How long one node may take to give its head in a sweep.
const SAMPLE_TIMEOUT: Duration = Duration::from_secs(1);
/// Most sweeps kept (an hour-long round at 4 per second).
const MAX_SWEEPS: u32 = 14_400;

/// A fault as it was applied.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The fault.
    pub fault: Fault,
    /// When it began.
    pub at: Instant,
    /// What it did, or why it failed.
    pub done: Result<Done, String>,
}

/// One node's head in one sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadSample {
    /// When the sweep began.
    pub at: Instant,
    /// The sweep's number (samples of one sweep are compared together).
    pub sweep: u32,
    /// The node, by plan index.
    pub node: usize,
    /// Its head's number.
    pub number: u64,
    /// Its head's hash.
    pub hash: String,
}

/// What happened during a round with faults.
#[derive(Debug, Default)]
pub struct Log {
    /// Faults applied, in order.
    pub applied: Vec<Applied>,
    /// Faults whose time came after the round ended.
    pub skipped: Vec<Fault>,
    /// Every node's head, sweep by sweep (nodes that did not answer have
    /// no sample in that sweep).
    pub samples: Vec<HeadSample>,
}

/// Runs `work` (the round) with the heads sampled and `faults` applied at
/// their times from the instant `began` yields (the round's start), until
/// `work` ends. `say` reports each fault.
pub async fn during<F: Future>(
    rt: &AnyRuntime,
    state: &mut State,
    faults: &[Fault],
    say: &impl Fn(String),
    began: impl Future<Output = Instant>,
    work: F,
) -> (F::Output, Log) {
    let (tx, rx) = watch::channel(false);
    let plan = state.plan.clone();
    let work = async {
        let out = work.await;
        let _ = tx.send(true);
        out
    };
    let side = async {
        tokio::join!(
            sample(rt, &plan, rx.clone()),
            run_faults(rt, state, faults, began, rx.clone(), say)
        )
    };
    let (out, (samples, (applied, skipped))) = tokio::join!(work, side);
    (
        out,
        Log {
            applied,
            skipped,
            samples,
        },
    )
}

/// Applies each fault (sorted by time) at `start + at`, `start` being
/// what `began` yields, until `ended`.
async fn run_faults(
    rt: &AnyRuntime,
    state: &mut State,
    faults: &[Fault],
    began: impl Future<Output = Instant>,
    mut ended: watch::Receiver<bool>,
    say: &impl Fn(String),
) -> (Vec<Applied>, Vec<Fault>) {
    let start = tokio::select! {
        s = began => s,
        _ = ended.wait_for(|e| *e) => return (Vec::new(), faults.to_vec()),
    };
    let mut order: Vec<&Fault> = faults.iter().collect();
    order.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    let mut applied = Vec::new();
    let mut rest = order.into_iter();
    for f in rest.by_ref() {
        let due = start + Duration::from_secs_f64(f.at_s);
        let over = tokio::select! {
            _ = tokio::time::sleep_until(due.into()) => false,
            _ = ended.wait_for(|e| *e) => true,
        };
        if over {
            return (applied, std::iter::once(f).chain(rest).cloned().collect());
        }
        let at = Instant::now();
        let done = apply(rt, state, f).await.map_err(|e| format!("{e:#}"));
        say(match &done {
            Ok(d) => format!("fault at {:.1} s: {} {}", f.at_s, f.action, d.detail),
            Err(e) => format!(
                "fault at {:.1} s: {} {} failed: {e}",
                f.at_s, f.action, f.who
            ),
        });
        applied.push(Applied {
            fault: f.clone(),
            at,
            done,
        });
    }
    (applied, Vec::new())
}

/// Samples every node's head each [`SWEEP`] until `ended`.
async fn sample(rt: &AnyRuntime, plan: &Plan, mut ended: watch::Receiver<bool>) -> Vec<HeadSample> {
    let mut out = Vec::new();
    for sweep in 0..MAX_SWEEPS {
        let at = Instant::now();
        let heads =
            futures::future::join_all((0..plan.nodes.len()).map(|i| head(rt, plan, i))).await;
        for (node, h) in heads.into_iter().enumerate() {
            if let Some((number, hash)) = h {
                out.push(HeadSample {
                    at,
                    sweep,
                    node,
                    number,
                    hash,
                });
            }
        }
        let next = at + SWEEP;
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = ended.wait_for(|e| *e) => break,
        }
    }
    out
}

/// Node `i`'s head (number, hash), if it answers within [`SAMPLE_TIMEOUT`].
async fn head(rt: &AnyRuntime, plan: &Plan, i: usize) -> Option<(u64, String)> {
    let call = control::call::<Value>(
        rt,
        plan,
        &plan.nodes[i],
        "eth_getBlockByNumber",
        json!(["latest", false]),
    );
    let block = tokio::time::timeout(SAMPLE_TIMEOUT, call)
        .await
        .ok()?
        .ok()?;
    let number = parse_hex_u64(block["number"].as_str()?).ok()?;
    Some((number, block["hash"].as_str()?.to_string()))
}

/// Most non-canonical heads walked back by [`reorg_depth`].
const MAX_WALKS: usize = 50;

/// The deepest reorganisation the samples show: for each head a node
/// reported that is not on the final chain of the highest live node, how
/// many of its blocks were replaced (walked back by parent hash on the
/// node that reported it, at most 64 blocks, at most [`MAX_WALKS`] heads).
pub async fn reorg_depth(rt: &AnyRuntime, plan: &Plan, samples: &[HeadSample]) -> u64 {
    let last = samples.iter().map(|s| s.sweep).max().unwrap_or(0);
    let Some(reference) = samples
        .iter()
        .filter(|s| s.sweep == last)
        .max_by_key(|s| s.number)
        .map(|s| s.node)
    else {
        return 0;
    };
    let mut chain = Canonical {
        rt,
        plan,
        reference,
        known: HashMap::new(),
    };
    let mut seen = std::collections::HashSet::new();
    let (mut deepest, mut walks) = (0, 0);
    for s in samples {
        if !seen.insert(&s.hash) || chain.holds(s.number, &s.hash).await {
            continue;
        }
        if walks == MAX_WALKS {
            break;
        }
        walks += 1;
        deepest = deepest.max(fork_depth(&mut chain, s).await);
    }
    deepest
}

/// The reference node's chain, read block by block and remembered.
struct Canonical<'a> {
    rt: &'a AnyRuntime,
    plan: &'a Plan,
    reference: usize,
    known: HashMap<u64, Option<String>>,
}

impl Canonical<'_> {
    /// Whether block `number` of the reference chain is `hash` (block 0
    /// always is: every node shares the genesis).
    async fn holds(&mut self, number: u64, hash: &str) -> bool {
        if number == 0 {
            return true;
        }
        if !self.known.contains_key(&number) {
            let node = &self.plan.nodes[self.reference];
            let h = control::block_hash(self.rt, self.plan, node, number)
                .await
                .ok()
                .flatten();
            self.known.insert(number, h);
        }
        self.known[&number].as_deref() == Some(hash)
    }
}

/// How many blocks of sample `s`'s chain, from its head back, are not on
/// the reference chain.
async fn fork_depth(chain: &mut Canonical<'_>, s: &HeadSample) -> u64 {
    let (mut number, mut hash) = (s.number, s.hash.clone());
    for depth in 0..64 {
        if chain.holds(number, &hash).await {
            return depth;
        }
        let block = control::call::<Value>(
            chain.rt,
            chain.plan,
            &chain.plan.nodes[s.node],
            "eth_getBlockByHash",
            json!([hash, false]),
        )
        .await;
        let Some(parent) = block
            .ok()
            .and_then(|b| b["parentHash"].as_str().map(str::to_string))
        else {
            return depth;
        };
        (number, hash) = (number - 1, parent);
    }
    64
}
