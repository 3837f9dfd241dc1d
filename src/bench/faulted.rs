//! Rounds with `faults:`: the round runs with its faults applied at their
//! times and every node's head sampled ([`fault::timeline`]), and its
//! report row gains the recovery figures ([`fault::recovery`]).

use std::time::Instant;

use super::engine::Engine;
use super::result::RoundResult;
use super::scenario::{Round, Scenario};
use crate::error::InputError;
use crate::fault::recovery::{self, Event, Inputs, Recovery, Sample};
use crate::fault::timeline::{self, Log};
use crate::runtime::{AnyRuntime, Runtime};
use crate::state::State;
use crate::topology::Consensus;

/// The network faults act on: its runtime and its state (updated when a
/// fault starts a node again).
pub(crate) struct FaultNet {
    rt: AnyRuntime,
    state: State,
}

/// The network to apply the scenario's faults to, when any round has
/// some: every fault's names checked against its plan first (an input
/// error naming `rounds[i].faults[k]` otherwise). `None` without faults.
pub(crate) async fn prepare(
    scenario: &Scenario,
    state: Option<&State>,
    file: &str,
) -> anyhow::Result<Option<FaultNet>> {
    let faults = scenario.rounds.iter().enumerate().flat_map(|(i, r)| {
        r.faults
            .iter()
            .enumerate()
            .map(move |(k, f)| (format!("rounds[{i}].faults[{k}]"), f))
    });
    if faults.clone().next().is_none() {
        return Ok(None);
    }
    let Some(state) = state else {
        return Err(InputError::new(format!(
            "{file}: faults need a network medchain runs; --rpc drives an endpoint it does not control (remove the rounds' faults, or bench a medchain network)"
        ))
        .into());
    };
    crate::fault::select::check_all(&state.plan, file, faults.clone())?;
    let rt = state.connect_runtime().await?;
    if let Some((field, f)) = faults.clone().find(|(_, f)| f.action.shapes_links()) {
        rt.links_shapeable(&state.plan).map_err(|e| {
            InputError::new(format!(
                "{file}: {field}.action: {} {e} (network {} runs on the {} runtime)",
                f.action,
                state.plan.topology.network,
                rt.name()
            ))
        })?;
        // Found or built now, so no build runs during a round.
        crate::fault::links::prepare(&rt, &state.plan)?;
    }
    Ok(Some(FaultNet {
        rt,
        state: state.clone(),
    }))
}

/// Runs `round` on `engine`, with its faults when it has any and `net`
/// is given.
pub(crate) async fn run_round(
    net: Option<&mut FaultNet>,
    engine: &mut Engine,
    round: &Round,
    on_progress: &(dyn Fn(u64, u64) + Sync),
    say: &impl Fn(String),
) -> anyhow::Result<RoundResult> {
    let net = match net {
        Some(n) if !round.faults.is_empty() => n,
        _ => {
            engine.tracker.keep_commits(false);
            return engine.run_round(round, on_progress).await;
        }
    };
    engine.tracker.keep_commits(true);
    let tracker = engine.tracker.clone();
    let (before, _) = tracker.round_began();
    // The faults' clock starts with the round (after its wait for a block).
    let began = async move {
        loop {
            match tracker.round_began() {
                (n, start) if n > before => return start,
                _ => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    };
    let work = engine.run_round(round, on_progress);
    let (result, log) =
        timeline::during(&net.rt, &mut net.state, &round.faults, say, began, work).await;
    let mut r = result?;
    let depth = timeline::reorg_depth(&net.rt, &net.state.plan, &log.samples).await;
    r.recovery = Some(figures(&r, &log, depth, &net.state));
    Ok(r)
}

/// The recovery figures of round `r` from what `log` recorded.
fn figures(r: &RoundResult, log: &Log, reorg_depth: u64, state: &State) -> Recovery {
    let start = r.started.unwrap_or_else(Instant::now);
    let secs = |t: Instant| t.saturating_duration_since(start).as_secs_f64();
    let events: Vec<Event> = log
        .applied
        .iter()
        .map(|a| Event {
            action: a.fault.action,
            target: a.fault.who.to_string(),
            at_s: a.fault.at_s,
            applied_s: secs(a.at),
            took_s: a.done.as_ref().map_or(0.0, |d| d.took.as_secs_f64()),
            nodes: a.done.as_ref().map(|d| d.nodes.clone()).unwrap_or_default(),
            error: a.done.as_ref().err().cloned(),
        })
        .collect();
    let samples: Vec<Sample> = log
        .samples
        .iter()
        .map(|s| Sample {
            t_s: secs(s.at),
            sweep: s.sweep,
            node: s.node,
            number: s.number,
            hash: s.hash.clone(),
        })
        .collect();
    let first_fault = events.first().map_or(r.duration_s, |e| e.applied_s);
    let interval = match state.plan.topology.consensus {
        Consensus::Clique => state.plan.topology.block_period as f64,
        Consensus::Ethash => recovery::observed_interval(&samples, first_fault).unwrap_or(15.0),
    };
    let inputs = Inputs {
        events: &events,
        samples: &samples,
        commits: &r.commits,
        duration_s: r.duration_s.max(samples.last().map_or(0.0, |s| s.t_s)),
        block_interval_s: interval,
        nodes: state.plan.nodes.len(),
    };
    Recovery {
        faults: recovery::figures(&inputs),
        skipped: log
            .skipped
            .iter()
            .map(|f| format!("{} {} at {} s", f.action, f.who, f.at_s))
            .collect(),
        reorg_depth,
        lost_txs: r.failures.timed_out,
        head_samples: log.samples.len() as u64,
    }
}
