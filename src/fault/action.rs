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
    /// Restores every planned peer link between running nodes, direct
    /// (links a delay or bandwidth fault put through a proxy included).
    Heal,
    /// Holds every byte crossing the nodes' planned peer links for `ms`
    /// milliseconds (varying by up to ± `jitter_ms`), in each direction.
    Delay {
        /// Milliseconds added to each direction.
        ms: u32,
        /// Largest deviation from `ms`, either way.
        jitter_ms: u32,
    },
    /// Limits each direction of the nodes' planned peer links to `kbit`
    /// kilobits per second.
    Bandwidth {
        /// Kilobits per second, each direction.
        kbit: u32,
    },
}

/// A link fault's settings as given (file or command line), checked by
/// [`Action::parse`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkSettings {
    /// `ms`: the delay.
    pub ms: Option<f64>,
    /// `jitter_ms`: the delay's variation.
    pub jitter_ms: Option<f64>,
    /// `kbit`: the bandwidth.
    pub kbit: Option<f64>,
}

/// Longest delay accepted, ms (geth drops a peer whose frames stall for
/// much longer).
const MAX_DELAY_MS: u32 = 10_000;
/// Lowest bandwidth accepted, kbit/s: toxiproxy limits in whole KB/s.
const MIN_KBIT: u32 = 8;
/// Highest bandwidth accepted, kbit/s (10 Gbit/s).
const MAX_KBIT: u32 = 10_000_000;

/// `v` when it is a whole number in `lo..=hi`.
fn whole(v: f64, lo: u32, hi: u32) -> Option<u32> {
    (v.fract() == 0.0 && v >= f64::from(lo) && v <= f64::from(hi)).then_some(v as u32)
}

impl Action {
    /// Every action's name, as written in files and on the command line.
    pub const NAMES: [&'static str; 10] = [
        "kill",
        "stop",
        "resume",
        "restart",
        "pause",
        "unpause",
        "partition",
        "heal",
        "delay",
        "bandwidth",
    ];

    /// The action's name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Kill => "kill",
            Action::Stop => "stop",
            Action::Resume => "resume",
            Action::Restart => "restart",
            Action::Pause => "pause",
            Action::Unpause => "unpause",
            Action::Partition => "partition",
            Action::Heal => "heal",
            Action::Delay { .. } => "delay",
            Action::Bandwidth { .. } => "bandwidth",
        }
    }

    /// The action named `s` with its settings from `link` (delay: `ms`
    /// and optional `jitter_ms`; bandwidth: `kbit`; no other action takes
    /// any), or the field that is wrong and why.
    pub fn parse(s: &str, link: &LinkSettings) -> Result<Action, (&'static str, String)> {
        let a = match s {
            "kill" => Action::Kill,
            "stop" => Action::Stop,
            "resume" => Action::Resume,
            "restart" => Action::Restart,
            "pause" => Action::Pause,
            "unpause" => Action::Unpause,
            "partition" => Action::Partition,
            "heal" => Action::Heal,
            "delay" => delay(link)?,
            "bandwidth" => bandwidth(link)?,
            _ => {
                return Err((
                    "action",
                    format!("{s:?}: expected one of {}", Action::NAMES.join(", ")),
                ))
            }
        };
        let stray = [
            ("ms", link.ms, "delay"),
            ("jitter_ms", link.jitter_ms, "delay"),
            ("kbit", link.kbit, "bandwidth"),
        ]
        .into_iter()
        .find(|(_, v, owner)| v.is_some() && *owner != s);
        match stray {
            Some((field, _, owner)) => Err((
                field,
                format!("only {owner} takes {field}; remove it from this {s} fault (a separate {owner} fault sets it)"),
            )),
            None => Ok(a),
        }
    }

    /// What a link fault does to each direction of a link (`300 ± 20 ms
    /// each way`, `64 kbit/s each way (8 KB/s)`); `None` for the others.
    pub fn settings(self) -> Option<String> {
        Some(match self {
            Action::Delay { ms, jitter_ms: 0 } => format!("{ms} ms each way"),
            Action::Delay { ms, jitter_ms } => format!("{ms} ± {jitter_ms} ms each way"),
            Action::Bandwidth { kbit } => {
                format!("{kbit} kbit/s each way ({} KB/s)", kbit / 8)
            }
            _ => return None,
        })
    }

    /// Whether the action puts peer links through proxies (delay,
    /// bandwidth).
    pub fn shapes_links(self) -> bool {
        matches!(self, Action::Delay { .. } | Action::Bandwidth { .. })
    }

    /// Whether `later` undoes this action's effect (a recovery measured
    /// from it): resume or restart after kill or stop, unpause after
    /// pause, heal after partition, delay or bandwidth.
    pub fn ended_by(self, later: Action) -> bool {
        match (self, later) {
            (Action::Kill | Action::Stop, Action::Resume | Action::Restart) => true,
            (Action::Pause, Action::Unpause) => true,
            (a, Action::Heal) => a == Action::Partition || a.shapes_links(),
            _ => false,
        }
    }

    /// Whether the action takes part of the network away or slows it (and
    /// so has a "during" window until an action that ends it).
    pub fn disrupts(self) -> bool {
        matches!(
            self,
            Action::Kill | Action::Stop | Action::Pause | Action::Partition
        ) || self.shapes_links()
    }
}

/// A delay from `ms` and `jitter_ms`.
fn delay(link: &LinkSettings) -> Result<Action, (&'static str, String)> {
    let Some(v) = link.ms else {
        return Err((
            "ms",
            "missing: milliseconds added to each direction of the target's peer links, e.g. ms: 100".into(),
        ));
    };
    let ms = whole(v, 1, MAX_DELAY_MS).ok_or_else(|| {
        (
            "ms",
            format!("{v} is out of range: expected whole milliseconds, 1 to {MAX_DELAY_MS}"),
        )
    })?;
    let jitter_ms = match link.jitter_ms {
        None => 0,
        Some(j) => whole(j, 0, ms).ok_or_else(|| {
            (
                "jitter_ms",
                format!("{j} is out of range: expected whole milliseconds, 0 to ms ({ms}); the delay varies by up to ± jitter_ms around ms"),
            )
        })?,
    };
    Ok(Action::Delay { ms, jitter_ms })
}

/// A bandwidth limit from `kbit`.
fn bandwidth(link: &LinkSettings) -> Result<Action, (&'static str, String)> {
    let out_of_range = |v: f64| {
        format!("{v} is out of range: expected whole kilobits per second, {MIN_KBIT} to {MAX_KBIT} (toxiproxy limits in whole KB/s: 8 kbit each)")
    };
    match link.kbit {
        None => Err((
            "kbit",
            "missing: kilobits per second allowed each way on the target's peer links, e.g. kbit: 512".into(),
        )),
        Some(v) => whole(v, MIN_KBIT, MAX_KBIT)
            .map(|kbit| Action::Bandwidth { kbit })
            .ok_or_else(|| ("kbit", out_of_range(v))),
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
    ms: Option<f64>,
    jitter_ms: Option<f64>,
    kbit: Option<f64>,
}

/// A YAML string or list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Checks the action and target of a fault (from a file or the command
/// line): a known action with its settings (`link`: a delay's `ms` and
/// `jitter_ms`, a bandwidth's `kbit`), a target where one is needed (none
/// for heal), names that are valid node or hospital names.
pub fn check_target(
    action: &str,
    link: &LinkSettings,
    target: Option<String>,
    hospitals: Vec<String>,
) -> Result<(Action, Who), (&'static str, String)> {
    let a = Action::parse(action, link)?;
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
    let link = LinkSettings {
        ms: raw.ms,
        jitter_ms: raw.jitter_ms,
        kbit: raw.kbit,
    };
    match check_target(&action, &link, raw.target, hospitals) {
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
        with(action, LinkSettings::default(), t, h)
    }

    fn with(
        action: &str,
        link: LinkSettings,
        t: Option<&str>,
        h: &[&str],
    ) -> Result<(Action, Who), String> {
        check_target(
            action,
            &link,
            t.map(str::to_string),
            h.iter().map(|s| s.to_string()).collect(),
        )
        .map_err(|(k, m)| format!("{k}: {m}"))
    }

    fn ms(ms: f64, jitter: Option<f64>) -> LinkSettings {
        LinkSettings {
            ms: Some(ms),
            jitter_ms: jitter,
            kbit: None,
        }
    }

    fn kbit(kbit: f64) -> LinkSettings {
        LinkSettings {
            kbit: Some(kbit),
            ..LinkSettings::default()
        }
    }

    #[test]
    fn every_action_name_parses_and_prints_back() {
        for n in Action::NAMES {
            let link = match n {
                "delay" => ms(10.0, None),
                "bandwidth" => kbit(64.0),
                _ => LinkSettings::default(),
            };
            assert_eq!(Action::parse(n, &link).unwrap().to_string(), n);
        }
        assert!(Action::parse("explode", &LinkSettings::default()).is_err());
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
        assert!(with("delay", ms(5.0, None), None, &[])
            .unwrap_err()
            .contains("needs a node"));
        assert!(target("kill", Some("x"), &["h"])
            .unwrap_err()
            .contains("not both"));
        assert!(target("kill", Some("Bad Name"), &[])
            .unwrap_err()
            .contains("not a node name"));
        let e = target("jam", Some("x"), &[]).unwrap_err();
        assert!(
            e.contains("action: \"jam\": expected one of kill, stop"),
            "{e}"
        );
        assert!(e.contains("delay, bandwidth"), "{e}");
    }

    #[test]
    fn a_delay_takes_whole_ms_and_a_jitter_up_to_it() {
        assert_eq!(
            with("delay", ms(300.0, Some(20.0)), Some("x"), &[])
                .unwrap()
                .0,
            Action::Delay {
                ms: 300,
                jitter_ms: 20
            }
        );
        assert_eq!(
            with("delay", ms(1.0, None), None, &["h"]).unwrap().0,
            Action::Delay {
                ms: 1,
                jitter_ms: 0
            }
        );
        let e = target("delay", Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("ms: missing: milliseconds"), "{e}");
        for bad in [0.0, 2.5, -1.0, 10_001.0] {
            let e = with("delay", ms(bad, None), Some("x"), &[]).unwrap_err();
            assert!(e.starts_with("ms: "), "{e}");
            assert!(e.contains("expected whole milliseconds, 1 to 10000"), "{e}");
        }
        let e = with("delay", ms(50.0, Some(80.0)), Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("jitter_ms: 80 is out of range"), "{e}");
        assert!(e.contains("0 to ms (50)"), "{e}");
        let mut both = ms(50.0, None);
        both.kbit = Some(64.0);
        let e = with("delay", both, Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("kbit: only bandwidth takes kbit"), "{e}");
    }

    #[test]
    fn a_bandwidth_takes_whole_kbit_of_at_least_one_kilobyte() {
        assert_eq!(
            with("bandwidth", kbit(512.0), Some("x"), &[]).unwrap().0,
            Action::Bandwidth { kbit: 512 }
        );
        let e = target("bandwidth", Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("kbit: missing"), "{e}");
        for bad in [4.0, 0.5, 1e9] {
            let e = with("bandwidth", kbit(bad), Some("x"), &[]).unwrap_err();
            assert!(
                e.contains("expected whole kilobits per second, 8 to"),
                "{e}"
            );
        }
        let mut both = kbit(64.0);
        both.jitter_ms = Some(3.0);
        let e = with("bandwidth", both, Some("x"), &[]).unwrap_err();
        assert!(
            e.starts_with("jitter_ms: only delay takes jitter_ms"),
            "{e}"
        );
        let e = with("stop", ms(3.0, None), Some("x"), &[]).unwrap_err();
        assert!(e.starts_with("ms: only delay takes ms"), "{e}");
    }

    #[test]
    fn undo_pairs_are_the_documented_ones() {
        assert!(Action::Kill.ended_by(Action::Resume));
        assert!(Action::Stop.ended_by(Action::Restart));
        assert!(Action::Pause.ended_by(Action::Unpause));
        assert!(Action::Partition.ended_by(Action::Heal));
        let delay = Action::Delay {
            ms: 5,
            jitter_ms: 0,
        };
        assert!(delay.ended_by(Action::Heal) && delay.disrupts());
        assert!(Action::Bandwidth { kbit: 8 }.ended_by(Action::Heal));
        assert!(!delay.ended_by(Action::Resume));
        assert!(!Action::Pause.ended_by(Action::Resume));
        assert!(!Action::Heal.disrupts() && Action::Partition.disrupts());
        assert!(!Action::Stop.ended_by(Action::Heal));
    }

    #[test]
    fn link_settings_read_per_direction() {
        let d = |ms, jitter_ms| Action::Delay { ms, jitter_ms }.settings();
        assert_eq!(d(300, 0).unwrap(), "300 ms each way");
        assert_eq!(d(300, 20).unwrap(), "300 ± 20 ms each way");
        assert_eq!(
            Action::Bandwidth { kbit: 100 }.settings().unwrap(),
            "100 kbit/s each way (12 KB/s)"
        );
        assert_eq!(Action::Heal.settings(), None);
    }
}
