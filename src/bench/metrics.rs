//! The benchmark's own Prometheus metrics, so a run can be watched live
//! (and kept, through a Pushgateway) next to the nodes' metrics: what was
//! submitted, committed and failed (by cause) per round, what is in
//! flight, the latency histogram and the achieved send rate per round.
//!
//! The metric set lives in a `prometheus-client` registry. A round's
//! handles ([`RoundMeter`]) are looked up once when the round starts, so
//! each event the tracker sees costs an atomic increment (a histogram
//! observation takes the histogram's own lock), not a label lookup.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::result::Cause;

/// Upper bounds of the latency histogram's buckets, seconds: reads take
/// milliseconds, writes a block period or more.
const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0,
];

/// A round's label on every per-round series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoundLabel {
    round: String,
}

/// A failure's cause, as the report's failure columns name it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum CauseValue {
    rejected,
    reverted,
    timed_out,
    unreachable,
}

impl From<Cause> for CauseValue {
    fn from(c: Cause) -> Self {
        match c {
            Cause::Rejected => Self::rejected,
            Cause::Reverted => Self::reverted,
            Cause::TimedOut => Self::timed_out,
            Cause::Unreachable => Self::unreachable,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailLabels {
    round: String,
    cause: CauseValue,
}

/// Every metric of a bench run.
pub struct BenchMetrics {
    registry: Registry,
    submitted: Family<RoundLabel, Counter>,
    committed: Family<RoundLabel, Counter>,
    failed: Family<FailLabels, Counter>,
    latency: Family<RoundLabel, Histogram>,
    send_rate: Family<RoundLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    in_flight: Gauge,
    round: Gauge,
}

/// One round's handles: what the tracker increments as events come.
#[derive(Clone)]
pub struct RoundMeter {
    submitted: Counter,
    committed: Counter,
    failed: [Counter; 4],
    latency: Histogram,
    send_rate: Gauge<f64, std::sync::atomic::AtomicU64>,
    in_flight: Gauge,
}

impl BenchMetrics {
    /// The metric set, registered under the `medchain_bench_` prefix.
    pub fn new() -> Arc<Self> {
        let mut m = Self {
            registry: Registry::with_prefix("medchain_bench"),
            submitted: Family::default(),
            committed: Family::default(),
            failed: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            send_rate: Family::default(),
            in_flight: Gauge::default(),
            round: Gauge::default(),
        };
        m.registry.register(
            "submitted",
            "Transactions sent and reads started",
            m.submitted.clone(),
        );
        m.registry.register(
            "committed",
            "Transactions committed (with the scenario's confirmations) and reads answered",
            m.committed.clone(),
        );
        m.registry.register(
            "failed",
            "Failures by cause (rejected, reverted, timed_out, unreachable)",
            m.failed.clone(),
        );
        m.registry.register(
            "latency_seconds",
            "Latency of each success: submission to the head that commits it, or a read's round trip",
            m.latency.clone(),
        );
        m.registry.register(
            "send_rate_tps",
            "Achieved send rate of the round so far, transactions per second",
            m.send_rate.clone(),
        );
        m.registry.register(
            "in_flight",
            "Transactions submitted and not yet committed or failed",
            m.in_flight.clone(),
        );
        m.registry.register(
            "round_index",
            "The round under way, counted from 1 (0 before the first)",
            m.round.clone(),
        );
        Arc::new(m)
    }

    /// The handles of round `label` (the `index`th, from 1), created now
    /// so its series exist from the round's start.
    pub fn round(&self, index: usize, label: &str) -> RoundMeter {
        self.round.set(index as i64);
        let l = RoundLabel {
            round: label.to_string(),
        };
        let fail = |c: Cause| {
            self.failed
                .get_or_create(&FailLabels {
                    round: label.to_string(),
                    cause: c.into(),
                })
                .clone()
        };
        RoundMeter {
            submitted: self.submitted.get_or_create(&l).clone(),
            committed: self.committed.get_or_create(&l).clone(),
            failed: [
                fail(Cause::Rejected),
                fail(Cause::Reverted),
                fail(Cause::TimedOut),
                fail(Cause::Unreachable),
            ],
            latency: self.latency.get_or_create(&l).clone(),
            send_rate: self.send_rate.get_or_create(&l).clone(),
            in_flight: self.in_flight.clone(),
        }
    }

    /// Every metric in Prometheus' text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl RoundMeter {
    /// One more transaction sent or read started.
    pub fn submitted(&self) {
        self.submitted.inc();
    }

    /// One success with its latency.
    pub fn committed(&self, latency_s: f64) {
        self.committed.inc();
        self.latency.observe(latency_s);
    }

    /// `n` more failures for `cause`.
    pub fn failed(&self, cause: Cause, n: u64) {
        let i = match cause {
            Cause::Rejected => 0,
            Cause::Reverted => 1,
            Cause::TimedOut => 2,
            Cause::Unreachable => 3,
        };
        self.failed[i].inc_by(n);
    }

    /// The in-flight count and the round's achieved send rate, as sampled.
    pub fn sample(&self, in_flight: u64, send_rate_tps: f64) {
        self.in_flight.set(in_flight as i64);
        self.send_rate.set(send_rate_tps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rounds_events_show_in_the_text_format() {
        let m = BenchMetrics::new();
        let r = m.round(1, "open");
        for _ in 0..3 {
            r.submitted();
        }
        r.committed(0.3);
        r.committed(1.5);
        r.failed(Cause::Rejected, 1);
        r.sample(2, 12.5);
        let text = m.encode();
        for line in [
            "medchain_bench_submitted_total{round=\"open\"} 3",
            "medchain_bench_committed_total{round=\"open\"} 2",
            "medchain_bench_failed_total{round=\"open\",cause=\"rejected\"} 1",
            "medchain_bench_failed_total{round=\"open\",cause=\"timed_out\"} 0",
            "medchain_bench_latency_seconds_count{round=\"open\"} 2",
            "medchain_bench_latency_seconds_bucket{le=\"0.5\",round=\"open\"} 1",
            "medchain_bench_send_rate_tps{round=\"open\"} 12.5",
            "medchain_bench_in_flight 2",
            "medchain_bench_round_index 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
