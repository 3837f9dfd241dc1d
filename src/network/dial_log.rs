//! When medchain last had a node dial each of its peers.
//!
//! geth does not dial a node it dialled in the last 35 s (its dial
//! history, `dialHistoryExpiration` in p2p/dial.go), whether that dial
//! succeeded or not. Which end of a link can dial it again at once
//! therefore depends on who dialled it last and when, across commands:
//! `up`, then a `fault partition` and a `fault heal` seconds later. Every
//! `admin_addPeer` medchain sends is recorded here (`dials.json` in the
//! network's directory) and faults read it to dial from an end not held
//! back. It is advice, not state: a missing or unreadable file means
//! nothing is known to be held back, and geth's own redials of a static
//! peer are not in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

/// How long geth holds a dialled peer back (35 s), and a second for the
/// clocks of two processes.
pub(crate) const HISTORY: Duration = Duration::from_secs(36);

/// Dialler name → peer name → when it last dialled (ms since the epoch).
#[derive(Debug, Default, Serialize, Deserialize)]
struct DialLog {
    dials: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The log's path in the network's directory.
fn path(plan: &Plan) -> PathBuf {
    plan.dir.join("dials.json")
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn load(file: &Path) -> DialLog {
    std::fs::read(file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save(file: &Path, log: &DialLog) {
    // Advice only: a log that cannot be written costs a later fault at
    // most one dial history's wait, so it never fails the command.
    if let Ok(bytes) = serde_json::to_vec_pretty(log) {
        let _ = crate::private_fs::write(file, &bytes);
    }
}

/// Records that each `(dialler, peer)` of `dials` was dialled now.
pub(crate) fn record(plan: &Plan, dials: &[(usize, usize)]) {
    if dials.is_empty() {
        return;
    }
    let file = path(plan);
    let mut log = load(&file);
    let now = now_ms();
    for &(x, y) in dials {
        log.dials
            .entry(plan.nodes[x].name.clone())
            .or_default()
            .insert(plan.nodes[y].name.clone(), now);
    }
    save(&file, &log);
}

/// Forgets what node `i` dialled: it was started again, and a new geth
/// process has an empty dial history.
pub(crate) fn forget(plan: &Plan, i: usize) {
    let file = path(plan);
    let mut log = load(&file);
    if log.dials.remove(&plan.nodes[i].name).is_some() {
        save(&file, &log);
    }
}

/// Starts the log again: every node of `plan` was just started.
pub(crate) fn reset(plan: &Plan) {
    save(&path(plan), &DialLog::default());
}

/// Whether the network has a log (it was brought up by a medchain that
/// keeps one).
pub(crate) fn known(plan: &Plan) -> bool {
    path(plan).exists()
}

/// The `(dialler, peer)` pairs dialled less than [`HISTORY`] ago, which
/// geth holds back, with how much longer.
pub(crate) fn held(plan: &Plan) -> Vec<(usize, usize, Duration)> {
    held_at(plan, &load(&path(plan)), now_ms())
}

fn held_at(plan: &Plan, log: &DialLog, now: u64) -> Vec<(usize, usize, Duration)> {
    let index = |name: &str| plan.nodes.iter().position(|n| n.name == name);
    let mut out = Vec::new();
    for (x, peers) in &log.dials {
        for (y, at) in peers {
            let left = (at + HISTORY.as_millis() as u64).saturating_sub(now);
            if let (true, Some(x), Some(y)) = (left > 0, index(x), index(y)) {
                out.push((x, y, Duration::from_millis(left)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_in(dir: &Path) -> Plan {
        let yaml = "network: t\nhospitals:\n  - {name: a, sealers: 1, members: 1}\n";
        crate::plan::for_tests(yaml, dir)
    }

    #[test]
    fn a_dial_is_held_back_for_geths_history_and_then_free() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan_in(dir.path());
        assert!(held(&plan).is_empty(), "no log: nothing known");
        assert!(!known(&plan));
        record(&plan, &[(0, 1)]);
        assert!(known(&plan));
        let h = held(&plan);
        assert_eq!((h.len(), h[0].0, h[0].1), (1, 0, 1), "{h:?}");
        assert!(h[0].2 > HISTORY - Duration::from_secs(5), "{h:?}");
        let log = load(&path(&plan));
        let at = log.dials[&plan.nodes[0].name][&plan.nodes[1].name];
        let later = at + HISTORY.as_millis() as u64;
        assert!(held_at(&plan, &log, later).is_empty());
        forget(&plan, 0);
        assert!(held(&plan).is_empty(), "a restarted node dials afresh");
        record(&plan, &[(1, 0)]);
        reset(&plan);
        assert!(held(&plan).is_empty());
    }
}
