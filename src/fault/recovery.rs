//! Recovery figures for a round with faults (pure: computed from the
//! applied faults, the head samples and the round's commits, all as
//! seconds since the round's start).
//!
//! Definitions (docs/reliability.md repeats them):
//! - a fault that takes part of the network away (kill, stop, pause,
//!   partition) lasts until the first later fault that ends it on an
//!   overlapping set of nodes (resume or restart; unpause; heal), else to
//!   the round's end; a restart ends itself when its nodes are back;
//! - `longest_stall_s`: the longest time, from the fault to its end, in
//!   which no node's head rose above the highest head seen before;
//!   `halted` when that exceeds three block intervals;
//! - the end of a fault is when its nodes are back (resume, restart: the
//!   node answers, rejoined and sealing) or when heal or unpause begins
//!   (the time peer links take to return counts in the recovery);
//! - `blocks_again_s`: from the end of the fault until a head above the
//!   highest one at that moment appears;
//! - `one_head_s`: from the end of the fault (or the fault itself when
//!   nothing ends it) until one sweep finds every node expected to run
//!   (not killed, stopped or paused at that time) answering with the same
//!   head hash;
//! - before / during / after: committed transactions per second and their
//!   95th-percentile latency in the round's start → fault, fault → end,
//!   end → round end windows (by commit time).

use serde::{Deserialize, Serialize};

use super::Action;

/// An applied fault, in round time.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The action.
    pub action: Action,
    /// Its target, as written.
    pub target: String,
    /// When it was due.
    pub at_s: f64,
    /// When it began.
    pub applied_s: f64,
    /// How long it took.
    pub took_s: f64,
    /// The nodes it acted on (plan indices).
    pub nodes: Vec<usize>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// One node's head in one sweep, in round time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sweep's start.
    pub t_s: f64,
    /// The sweep.
    pub sweep: u32,
    /// The node.
    pub node: usize,
    /// Head number.
    pub number: u64,
    /// Head hash.
    pub hash: String,
}

/// Throughput and latency in one window of a round.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start, seconds into the round.
    pub from_s: f64,
    /// End, seconds into the round.
    pub to_s: f64,
    /// Transactions committed in the window.
    pub committed: u64,
    /// Committed per second.
    pub throughput_tps: f64,
    /// 95th-percentile latency of those, seconds.
    pub p95_latency_s: f64,
}

/// The figures of one fault.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultFigures {
    /// The action.
    pub action: String,
    /// A link fault's settings (`300 ± 20 ms each way`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
    /// Its target.
    pub target: String,
    /// When it was due, seconds into the round.
    pub at_s: f64,
    /// When it began.
    pub applied_s: f64,
    /// How long applying it took.
    pub took_s: f64,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The later fault that ended it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<String>,
    /// When it ended (its nodes back, its links restored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_s: Option<f64>,
    /// Longest time without a new highest block while it lasted.
    pub longest_stall_s: f64,
    /// Whether the chain stopped (stall above three block intervals).
    pub halted: bool,
    /// From its end until a new block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_again_s: Option<f64>,
    /// From its end until every running node has one head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_head_s: Option<f64>,
    /// Before it.
    pub before: Window,
    /// While it lasted.
    pub during: Window,
    /// After it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Window>,
}

/// A round's recovery figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// One entry per disruptive fault (with what ended it), and per fault
    /// that ended nothing.
    pub faults: Vec<FaultFigures>,
    /// Faults whose time came after the round's end (not applied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The deepest chain reorganisation any node went through, blocks.
    pub reorg_depth: u64,
    /// Transactions a node accepted that no block held by the round's end
    /// (after resubmission): the round's `timed_out` failures.
    pub lost_txs: u64,
    /// Head samples taken (every node every 250 ms).
    pub head_samples: u64,
}

/// The round's inputs to [`figures`].
pub struct Inputs<'a> {
    /// Applied faults, in order.
    pub events: &'a [Event],
    /// Head samples, in sweep order.
    pub samples: &'a [Sample],
    /// (commit time, latency) of every committed transaction, seconds.
    pub commits: &'a [(f64, f64)],
    /// The round's length, seconds.
    pub duration_s: f64,
    /// Expected time between blocks (Clique's period; on ethash the
    /// interval observed before the first fault).
    pub block_interval_s: f64,
    /// Nodes in the plan.
    pub nodes: usize,
}

/// The figures of every fault in `inp`.
pub fn figures(inp: &Inputs) -> Vec<FaultFigures> {
    let mut ended = vec![false; inp.events.len()];
    let mut out = Vec::new();
    for (i, e) in inp.events.iter().enumerate() {
        if ended[i] {
            continue;
        }
        let end = ending(inp.events, i);
        if let Some(j) = end {
            ended[j] = true;
        }
        out.push(one(inp, e, end.map(|j| &inp.events[j])));
    }
    out
}

/// The index of the first later event that ends event `i`.
fn ending(events: &[Event], i: usize) -> Option<usize> {
    let e = &events[i];
    if !e.action.disrupts() {
        return None;
    }
    (i + 1..events.len()).find(|j| {
        let l = &events[*j];
        e.action.ended_by(l.action)
            && (l.action == Action::Heal || l.nodes.iter().any(|n| e.nodes.contains(n)))
    })
}

/// The figures of event `e`, ended by `end` (if any).
fn one(inp: &Inputs, e: &Event, end: Option<&Event>) -> FaultFigures {
    let (ended_by, ended_s) = match (e.action, end) {
        (_, Some(l)) => (Some(l.action.to_string()), Some(back_s(l))),
        (Action::Restart, None) => (Some("restart".into()), Some(e.applied_s + e.took_s)),
        _ => (None, None),
    };
    let during_to = ended_s.unwrap_or(inp.duration_s);
    let stall = longest_stall(inp.samples, e.applied_s, during_to);
    let recovered_from = ended_s.or((!e.action.disrupts()).then_some(back_s(e)));
    FaultFigures {
        action: e.action.to_string(),
        settings: e.action.settings(),
        target: e.target.clone(),
        at_s: e.at_s,
        applied_s: e.applied_s,
        took_s: e.took_s,
        // A failed end (a heal whose links did not all return) is this
        // fault's story too.
        error: e.error.clone().or_else(|| {
            let l = end?;
            Some(format!("{} failed: {}", l.action, l.error.as_ref()?))
        }),
        ended_by,
        ended_s,
        longest_stall_s: stall,
        halted: stall > 3.0 * inp.block_interval_s,
        blocks_again_s: ended_s.and_then(|t| blocks_again(inp.samples, t)),
        one_head_s: recovered_from.and_then(|t| one_head(inp, t)),
        before: window(inp.commits, 0.0, e.applied_s),
        during: window(inp.commits, e.applied_s, during_to),
        after: ended_s.map(|t| window(inp.commits, t, inp.duration_s.max(t))),
    }
}

/// When an ending event counts as done: a node started again (resume,
/// restart) once it is back; heal and unpause when they begin, so the
/// time links take to come back is part of the recovery measured.
fn back_s(e: &Event) -> f64 {
    match e.action {
        Action::Heal | Action::Unpause => e.applied_s,
        _ => e.applied_s + e.took_s,
    }
}

/// The highest head among samples taken at or before `t`.
fn highest_by(samples: &[Sample], t: f64) -> u64 {
    samples
        .iter()
        .filter(|s| s.t_s <= t)
        .map(|s| s.number)
        .max()
        .unwrap_or(0)
}

/// The longest time in `from..to` with no head above the highest so far.
fn longest_stall(samples: &[Sample], from: f64, to: f64) -> f64 {
    let mut high = highest_by(samples, from);
    let mut last = from;
    let mut longest: f64 = 0.0;
    for s in samples.iter().filter(|s| s.t_s > from && s.t_s <= to) {
        if s.number > high {
            high = s.number;
            longest = longest.max(s.t_s - last);
            last = s.t_s;
        }
    }
    longest.max(to - last)
}

/// Seconds from `t` until a head above the highest at `t`.
fn blocks_again(samples: &[Sample], t: f64) -> Option<f64> {
    let high = highest_by(samples, t);
    samples
        .iter()
        .find(|s| s.t_s > t && s.number > high)
        .map(|s| s.t_s - t)
}

/// Seconds from `t` until a sweep in which every node expected to run
/// answers with one head hash.
fn one_head(inp: &Inputs, t: f64) -> Option<f64> {
    let mut sweeps: Vec<u32> = inp
        .samples
        .iter()
        .filter(|s| s.t_s >= t)
        .map(|s| s.sweep)
        .collect();
    sweeps.dedup();
    sweeps.into_iter().find_map(|w| {
        let of: Vec<&Sample> = inp.samples.iter().filter(|s| s.sweep == w).collect();
        let when = of.first()?.t_s;
        let expected = running_at(inp.events, inp.nodes, when);
        let agree = expected
            .iter()
            .enumerate()
            .filter(|(_, r)| **r)
            .all(|(n, _)| of.iter().any(|s| s.node == n && s.hash == of[0].hash));
        (agree && !of.is_empty()).then_some(when - t)
    })
}

/// Which nodes should be running at `t`: not killed, stopped or paused by
/// an event before `t` without a later resume, restart or unpause.
fn running_at(events: &[Event], nodes: usize, t: f64) -> Vec<bool> {
    let mut up = vec![true; nodes];
    for e in events
        .iter()
        .filter(|e| e.applied_s + e.took_s <= t && e.error.is_none())
    {
        let value = match e.action {
            Action::Kill | Action::Stop | Action::Pause => false,
            Action::Resume | Action::Restart | Action::Unpause => true,
            Action::Partition | Action::Heal | Action::Delay { .. } | Action::Bandwidth { .. } => {
                continue
            }
        };
        for n in e.nodes.iter().filter(|n| **n < nodes) {
            up[*n] = value;
        }
    }
    up
}

/// Commits in `from..to`: count, rate and 95th-percentile latency.
fn window(commits: &[(f64, f64)], from: f64, to: f64) -> Window {
    let mut lat: Vec<f64> = commits
        .iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .map(|(_, l)| *l)
        .collect();
    lat.sort_by(f64::total_cmp);
    let n = lat.len();
    let p95 = if n == 0 {
        0.0
    } else {
        lat[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1]
    };
    let span = to - from;
    Window {
        from_s: from,
        to_s: to,
        committed: n as u64,
        throughput_tps: if span > 0.0 { n as f64 / span } else { 0.0 },
        p95_latency_s: p95,
    }
}

/// The mean time between new highest blocks in the samples before `until`
/// (ethash's expected block interval), if at least two blocks appeared.
pub fn observed_interval(samples: &[Sample], until: f64) -> Option<f64> {
    let mut firsts: Vec<(u64, f64)> = Vec::new();
    for s in samples.iter().filter(|s| s.t_s < until) {
        if firsts.last().is_none_or(|(n, _)| s.number > *n) {
            firsts.push((s.number, s.t_s));
        }
    }
    let (first, last) = (firsts.first()?, firsts.last()?);
    (last.0 > first.0).then(|| (last.1 - first.1) / (last.0 - first.0) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two nodes sampled every 0.25 s for 15 s; a new block every second
    /// except while `halt` holds; node 1 does not answer in `gone`.
    fn samples(halt: (f64, f64), gone: (f64, f64)) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut number = 0;
        for sweep in 0..60u32 {
            let t = sweep as f64 * 0.25;
            if sweep % 4 == 0 && !(halt.0..halt.1).contains(&t) {
                number += 1;
            }
            for node in 0..2 {
                if node == 1 && (gone.0..gone.1).contains(&t) {
                    continue;
                }
                let hash = format!("h{number}");
                out.push(Sample {
                    t_s: t,
                    sweep,
                    node,
                    number,
                    hash,
                });
            }
        }
        out
    }

    fn event(action: Action, applied_s: f64, took_s: f64) -> Event {
        Event {
            action,
            target: "n1".into(),
            at_s: applied_s,
            applied_s,
            took_s,
            nodes: vec![1],
            error: None,
        }
    }

    fn run(events: &[Event], samples: &[Sample], commits: &[(f64, f64)]) -> Vec<FaultFigures> {
        figures(&Inputs {
            events,
            samples,
            commits,
            duration_s: 15.0,
            block_interval_s: 1.0,
            nodes: 2,
        })
    }

    #[test]
    fn a_stop_ended_by_resume_gives_stall_and_recovery_times() {
        let s = samples((3.1, 9.0), (3.0, 9.0));
        let events = [
            event(Action::Stop, 3.0, 0.1),
            event(Action::Resume, 8.5, 0.5),
        ];
        let commits: Vec<(f64, f64)> = (0..15)
            .map(|t| (t as f64 + 0.5, 1.0 + t as f64 / 10.0))
            .collect();
        let f = run(&events, &s, &commits);
        assert_eq!(f.len(), 1, "the resume is folded into the stop: {f:?}");
        let f = &f[0];
        assert_eq!(f.ended_by.as_deref(), Some("resume"));
        assert_eq!(f.ended_s, Some(9.0));
        assert!(f.halted && (f.longest_stall_s - 6.0).abs() < 0.01, "{f:?}");
        // Blocks again at the 9.0 s sweep's successor: the first sample
        // after 9.0 s with a higher number (the block at 9.0 s counts at 9.0).
        assert_eq!(f.blocks_again_s, Some(1.0), "{f:?}");
        assert_eq!(f.one_head_s, Some(0.0), "{f:?}");
        assert_eq!(f.before.committed, 3);
        assert_eq!(f.during.committed, 6);
        let after = f.after.as_ref().unwrap();
        assert_eq!(after.committed, 6);
        assert!((after.p95_latency_s - 2.4).abs() < 1e-9, "{after:?}");
    }

    #[test]
    fn a_fault_without_an_end_lasts_the_round_and_may_not_halt() {
        let s = samples((99.0, 99.0), (5.0, 99.0));
        let f = run(&[event(Action::Kill, 5.0, 0.0)], &s, &[]);
        let f = &f[0];
        assert!(f.ended_by.is_none() && f.after.is_none() && f.blocks_again_s.is_none());
        assert!(!f.halted && f.longest_stall_s <= 1.0, "{f:?}");
        assert_eq!(f.during.to_s, 15.0);
    }

    #[test]
    fn one_head_waits_for_every_running_node_to_agree() {
        let mut s = samples((99.0, 99.0), (0.0, 0.0));
        // Node 1 lags on its own fork until 12 s.
        for x in s.iter_mut().filter(|x| x.node == 1 && x.t_s < 12.0) {
            x.hash = format!("fork{}", x.number);
        }
        let events = [
            event(Action::Partition, 2.0, 0.0),
            event(Action::Heal, 10.0, 1.5),
        ];
        let f = &run(&events, &s, &[])[0];
        assert_eq!(f.ended_by.as_deref(), Some("heal"));
        assert_eq!(f.ended_s, Some(10.0), "heal counts from when it begins");
        assert_eq!(f.one_head_s, Some(2.0), "{f:?}");
        assert_eq!(f.error, None);
        let mut failed = events.clone();
        failed[1].error = Some("links not restored".into());
        let f = &run(&failed, &s, &[])[0];
        assert_eq!(f.error.as_deref(), Some("heal failed: links not restored"));
    }

    #[test]
    fn ethash_interval_is_read_from_the_samples_before_the_first_fault() {
        let s = samples((99.0, 99.0), (0.0, 0.0));
        assert_eq!(observed_interval(&s, 8.1), Some(1.0));
        assert_eq!(observed_interval(&s, 0.1), None);
    }
}
