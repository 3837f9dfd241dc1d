//! A fault: what happens (`action`) to which part of a running network
//! (`target` node, `hospital` list, or the whole network) and when (`at`,
//! seconds into a round). Parsed and validated without a network; names
//! are checked against the plan by [`select`](super::select).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Problems;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Ends the nodes at once, with no grace (a crash).
    Kill,
    /// Stops the nodes gracefully (as `down` does, one node at a time).
    Stop,
    /// Starts stopped or killed nodes again and rejoins them to their
    /// planned peers (sealers seal again).
    Resume,
    /// Stops the nodes gracefully, then resumes them.
    Restart,
    /// Freezes the nodes: their connections stay open, nothing answers.
    Pause,
    /// Thaws paused nodes.
    Unpause,
    /// Cuts every planned peer link between the named nodes and the rest.
    Partition,
    /// Restores every planned peer link between running nodes.
    Heal,
}

impl Action {
    /// Every action's name, as written in files and on the command line.
    pub const NAMES: [&'static str; 8] = [
        "kill",
        "stop",
        "resume",
        "restart",
        "pause",
        "unpause",
        "partition",
        "heal",
    ];

    /// The action named `s`.
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "kill" => Action::Kill,
            "stop" => Action::Stop,
            "resume" => Action::Resume,
            "restart" => Action::Restart,
            "pause" => Action::Pause,
            "unpause" => Action::Unpause,
            "partition" => Action::Partition,
            "heal" => Action::Heal,
            _ => return None,
        })
    }

    /// Whether `later` undoes this action's effect (a recovery measured
    /// from it): resume or restart after kill or stop, unpause after
    /// pause, heal after partition.
    pub fn ended_by(self, later: Action) -> bool {
        matches!(
            (self, later),
            (
                Action::Kill | Action::Stop,
                Action::Resume | Action::Restart
            ) | (Action::Pause, Action::Unpause)
                | (Action::Partition, Action::Heal)
        )
    }

    /// Whether the action takes part of the network away (and so has a
    /// "during" window until an action that ends it).
    pub fn disrupts(self) -> bool {
        matches!(
            self,
            Action::Kill | Action::Stop | Action::Pause | Action::Partition
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = *self as usize;
        f.write_str(Action::NAMES[i])
    }
}

/// Which part of the network a fault acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    /// Every node (heal's only target).
    Network,
    /// One node by name.
    Node(String),
    /// Every node of these hospitals.
    Hospitals(Vec<String>),
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::Network => f.write_str("network"),
            Who::Node(n) => f.write_str(n),
            Who::Hospitals(h) => write!(f, "hospital {}", h.join(", ")),
        }
    }
}

/// A fault on a round's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Seconds into the round.
    pub at_s: f64,
    /// What happens.
    pub action: Action,
    /// To which nodes.
    pub who: Who,
}

/// One `faults:` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    at: Option<f64>,
    action: Option<String>,
    target: Option<String>,
    hospital: Option<OneOrMany>,
    // Accepted so that a link fault's settings do not hide the message
    // that says the action itself is not available.
    #[serde(rename = "ms")]
    _ms: Option<f64>,
    #[serde(rename = "jitter_ms")]
    _jitter_ms: Option<f64>,
    #[serde(rename = "kbit")]
    _kbit: Option<f64>,
}

/// A YAML string or list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Why `delay` and `bandwidth` are refused: what the kernel lacks and what
/// to use instead.
pub const LINK_SHAPING_UNAVAILABLE: &str = "is not available yet: this kernel has no netem (delay) and medchain does not yet shape peer links (planned: a toxiproxy per link); use partition/heal or a node fault";

/// Checks the action and target of a fault (from a file or the command
/// line): a known action, a target where one is needed (none for heal),
/// names that are valid node or hospital names.
pub fn check_target(
    action: &str,
    target: Option<String>,
    hospitals: Vec<String>,
) -> Result<(Action, Who), (&'static str, String)> {
    let Some(a) = Action::parse(action) else {
        if matches!(action, "delay" | "bandwidth") {
            return Err(("action", format!("{action} {LINK_SHAPING_UNAVAILABLE}")));
        }
        return Err((
            "action",
            format!("{action:?}: expected one of {}", Action::NAMES.join(", ")),
        ));
    };
    let bad = |n: &String| !crate::topology::is_valid_name(n);
    let who = match (target, hospitals.is_empty()) {
        (Some(_), false) => {
            return Err((
                "target",
                "give a node (target) or hospitals (hospital), not both".into(),
            ))
        }
        (Some(t), true) if bad(&t) => return Err(("target", format!("{t:?} is not a node name"))),
        (Some(t), true) => Who::Node(t),
        (None, false) if hospitals.iter().any(bad) => {
            return Err(("hospital", format!("{hospitals:?}: not hospital names")))
        }
        (None, false) => Who::Hospitals(hospitals),
        (None, true) => Who::Network,
    };
    match (a, &who) {
        (Action::Heal, Who::Network) => Ok((a, who)),
        (Action::Heal, _) => Err((
            "target",
            "heal restores every planned link; it takes no target or hospital".into(),
        )),
        (_, Who::Network) => Err((
            "target",
            format!("{a} needs a node (target: NAME) or hospitals (hospital: NAME or a list)"),
        )),
        _ => Ok((a, who)),
    }
}

/// Checks `faults` entry `field` (e.g. `rounds[0].faults[1]`): `at` from 0
/// to `max_at` seconds, and [`check_target`]. Problems are recorded in
/// `p`; `None` when any was found.
pub(crate) fn check(field: &str, raw: RawFault, max_at: f64, p: &mut Problems) -> Option<Fault> {
    let at_s = match raw.at {
        Some(a) if a.is_finite() && (0.0..=max_at).contains(&a) => Some(a),
        Some(a) => {
            p.add(
                &format!("{field}.at"),
                format!("{a} is out of range: expected seconds into the round, 0 to {max_at}"),
            );
            None
        }
        None => {
            p.add(
                &format!("{field}.at"),
                "missing: seconds into the round, e.g. at: 5",
            );
            None
        }
    };
    let Some(action) = raw.action else {
        p.add(
            &format!("{field}.action"),
            format!("missing: one of {}", Action::NAMES.join(", ")),
        );
        return None;
    };
    let hospitals = match raw.hospital {
        None => Vec::new(),
        Some(OneOrMany::One(h)) => vec![h],
        Some(OneOrMany::Many(h)) => h,
    };
    match check_target(&action, raw.target, hospitals) {
        Ok((action, who)) => Some(Fault {
            at_s: at_s?,
            action,
            who,
        }),
        Err((key, msg)) => {
            p.add(&format!("{field}.{key}"), msg);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(action: &str, t: Option<&str>, h: &[&str]) -> Result<(Action, Who), String> {
        check_target(
            action,
            t.map(str::to_string),
            h.iter().map(|s| s.to_string()).collect(),
        )
        .map_err(|(k, m)| format!("{k}: {m}"))
    }

    #[test]
    fn every_action_name_parses_and_prints_back() {
        for n in Action::NAMES {
            assert_eq!(Action::parse(n).unwrap().to_string(), n);
        }
        assert_eq!(Action::parse("explode"), None);
    }

    #[test]
    fn targets_are_required_except_for_heal() {
        assert_eq!(
            target("stop", Some("a-sealer-0"), &[]).unwrap(),
            (Action::Stop, Who::Node("a-sealer-0".into()))
        );
        assert_eq!(
            target("partition", None, &["a", "b"]).unwrap().1,
            Who::Hospitals(vec!["a".into(), "b".into()])
        );
        assert_eq!(target("heal", None, &[]).unwrap().1, Who::Network);
        assert!(target("heal", Some("x"), &[])
            .unwrap_err()
            .starts_with("target: heal"));
        assert!(target("kill", None, &[])
            .unwrap_err()
            .contains("needs a node"));
        assert!(target("kill", Some("x"), &["h"])
            .unwrap_err()
            .contains("not both"));
        assert!(target("kill", Some("Bad Name"), &[])
            .unwrap_err()
            .contains("not a node name"));
    }

    #[test]
    fn link_shaping_is_refused_with_the_reason() {
        let e = target("delay", Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("action: delay is not available yet"), "{e}");
        assert!(e.contains("netem"), "{e}");
        let e = target("jam", Some("x"), &[]).unwrap_err();
        assert!(e.contains("expected one of kill, stop"), "{e}");
    }

    #[test]
    fn undo_pairs_are_the_documented_ones() {
        assert!(Action::Kill.ended_by(Action::Resume));
        assert!(Action::Stop.ended_by(Action::Restart));
        assert!(Action::Pause.ended_by(Action::Unpause));
        assert!(Action::Partition.ended_by(Action::Heal));
        assert!(!Action::Pause.ended_by(Action::Resume));
        assert!(!Action::Heal.disrupts() && Action::Partition.disrupts());
    }
}
