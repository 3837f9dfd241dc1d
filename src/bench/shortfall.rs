//! Why a round missed the send rate its controller asked for. A round
//! whose achieved send rate is more than [`MISS`] below its target gets a
//! [`Shortfall`] naming the cause, from what was measured while it ran:
//!
//! - **chain full**: a write round whose blocks were at least
//!   [`FULL_BLOCKS`] full: the pool backs up and the node slows down
//!   taking transactions, whatever the driver does;
//! - otherwise the wall time the workers fell behind their schedule (how
//!   late their last requests left) is split by where it went: waiting
//!   for a free slot in the in-flight window, writing to a node that does
//!   not read as fast as requests are due, or neither (the driver itself
//!   did not get to them in time: its CPU). The largest share names the
//!   cause. Time spent waiting for the window is the
//!   **in-flight cap** when the window could not carry the target even at
//!   the node's fastest round trip (Little's law), else the node answered
//!   too slowly: **node RPC latency**, as is time spent writing.
//!
//! Pure: the engine gathers the [`Evidence`]; this module knows nothing
//! of the scheduler, so reports can depend on it freely.

use serde::{Deserialize, Serialize};

/// A round whose send rate is more than this fraction below its target
/// missed it.
pub const MISS: f64 = 0.05;
/// Blocks at least this full (mean gas used ÷ limit) make the chain the
/// bound of a write round.
pub const FULL_BLOCKS: f64 = 0.95;

/// What bounded a round's send rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The driver could not prepare and send requests in time.
    DriverCpu,
    /// The node took or answered requests more slowly than they were due.
    NodeRpcLatency,
    /// The in-flight window was too small for the rate.
    InFlightCap,
    /// The blocks were full.
    ChainFull,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cause::DriverCpu => "driver CPU",
            Cause::NodeRpcLatency => "node RPC latency",
            Cause::InFlightCap => "in-flight cap",
            Cause::ChainFull => "chain full",
        })
    }
}

/// A missed target and its cause (`send_shortfall` in the JSON report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shortfall {
    /// What bounded the send rate.
    pub cause: Cause,
    /// Achieved send rate ÷ target, percent.
    pub achieved_pct: f64,
    /// The figures behind the cause, one line.
    pub detail: String,
}

/// What the engine measured of a round's sending (`send_figures` in the
/// JSON report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// The controller's target, transactions per second.
    pub target_tps: f64,
    /// The achieved send rate.
    pub achieved_tps: f64,
    /// Whether the round writes to the chain.
    pub write: bool,
    /// Mean gas used ÷ gas limit of the round's blocks.
    pub gas_utilization: f64,
    /// Wall time the workers fell behind their schedule (how late each
    /// one's last request left, summed), s.
    pub behind_s: f64,
    /// Of which waiting for a free slot in the window, s.
    pub window_wait_s: f64,
    /// Of which writing requests, s.
    pub write_s: f64,
    /// Workers.
    pub workers: u64,
    /// In-flight window per worker.
    pub window: u64,
    /// Shortest and mean request round trip, s.
    pub rtt_min_s: f64,
    /// Mean request round trip, s.
    pub rtt_avg_s: f64,
    /// Driver CPU over the round, percent of one core.
    pub driver_cpu_pct: f64,
    /// Most requests one worker had in flight.
    pub max_in_flight: u64,
}

/// The shortfall of a round, when its send rate missed the target by more
/// than [`MISS`]; `None` when it did not (or had no target).
pub fn classify(e: &Evidence) -> Option<Shortfall> {
    if e.target_tps <= 0.0 || e.achieved_tps >= e.target_tps * (1.0 - MISS) {
        return None;
    }
    let achieved_pct = 100.0 * e.achieved_tps / e.target_tps;
    let ms = |s: f64| s * 1e3;
    let (cause, detail) = if e.write && e.gas_utilization >= FULL_BLOCKS {
        (
            Cause::ChainFull,
            format!("blocks {:.1}% full", e.gas_utilization * 100.0),
        )
    } else {
        let driver_s = (e.behind_s - e.window_wait_s - e.write_s).max(0.0);
        if e.window_wait_s >= e.write_s && e.window_wait_s >= driver_s {
            let carry = if e.rtt_min_s > 0.0 {
                (e.window * e.workers) as f64 / e.rtt_min_s
            } else {
                f64::INFINITY
            };
            let cause = if carry < e.target_tps * (1.0 + MISS) {
                Cause::InFlightCap
            } else {
                Cause::NodeRpcLatency
            };
            (
                cause,
                format!(
                    "window full for {:.2} s; {} in flight per worker, round trip {:.3} ms mean, {:.3} ms fastest (the window carries {:.0} TPS at the fastest)",
                    e.window_wait_s,
                    e.window,
                    ms(e.rtt_avg_s),
                    ms(e.rtt_min_s),
                    carry
                ),
            )
        } else if e.write_s >= driver_s {
            (
                Cause::NodeRpcLatency,
                format!(
                    "{:.2} s blocked writing requests the node did not read; round trip {:.3} ms mean",
                    e.write_s,
                    ms(e.rtt_avg_s)
                ),
            )
        } else {
            (
                Cause::DriverCpu,
                format!(
                    "fell {:.2} s behind with room to send; driver CPU {:.0}% of one core",
                    driver_s, e.driver_cpu_pct
                ),
            )
        }
    };
    Some(Shortfall {
        cause,
        achieved_pct,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missed() -> Evidence {
        Evidence {
            target_tps: 1000.0,
            achieved_tps: 900.0,
            write: true,
            gas_utilization: 0.5,
            workers: 1,
            window: 64,
            rtt_min_s: 0.001,
            rtt_avg_s: 0.002,
            ..Default::default()
        }
    }

    #[test]
    fn within_five_percent_or_without_a_target_is_no_shortfall() {
        let e = Evidence {
            achieved_tps: 951.0,
            ..missed()
        };
        assert_eq!(classify(&e), None);
        let e = Evidence {
            target_tps: 0.0,
            ..missed()
        };
        assert_eq!(classify(&e), None);
    }

    #[test]
    fn each_cause_is_named_from_where_the_time_went() {
        let cause = |e: Evidence| classify(&e).unwrap().cause;
        let full = Evidence {
            gas_utilization: 0.97,
            ..missed()
        };
        assert_eq!(cause(full), Cause::ChainFull);
        let read_full = Evidence {
            write: false,
            ..full
        };
        assert_ne!(cause(read_full), Cause::ChainFull, "reads fill no blocks");
        let driver = Evidence {
            behind_s: 10.0,
            window_wait_s: 1.0,
            write_s: 1.0,
            ..missed()
        };
        assert_eq!(cause(driver), Cause::DriverCpu);
        let writes = Evidence {
            behind_s: 10.0,
            write_s: 8.0,
            ..missed()
        };
        assert_eq!(cause(writes), Cause::NodeRpcLatency);
        // The window waited: 64 in flight at 1 ms carries 64,000 TPS, so
        // the node's slow answers filled it.
        let slow_node = Evidence {
            behind_s: 10.0,
            window_wait_s: 9.0,
            ..missed()
        };
        assert_eq!(cause(slow_node), Cause::NodeRpcLatency);
        // 1 in flight at 1.2 ms carries 833 TPS: the cap binds.
        let cap = Evidence {
            window: 1,
            rtt_min_s: 0.0012,
            ..slow_node
        };
        assert_eq!(cause(cap), Cause::InFlightCap);
        let s = classify(&cap).unwrap();
        assert!((s.achieved_pct - 90.0).abs() < 1e-9);
        assert!(s.detail.contains("833 TPS"), "{}", s.detail);
    }
}
