//! `watch`'s own Prometheus metrics, served while it runs and scraped by
//! the network's monitor (job `watch`): how far it has read the chain,
//! what it decided, and per sink what it delivered, what failed and what
//! still waits. A sink whose pending count grows is down; alarms are late.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A sink's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabel {
    sink: String,
}

/// Every metric of one `watch`.
pub struct WatchMetrics {
    registry: Registry,
    block: Gauge,
    blocks: Counter,
    alarms: Counter,
    retractions: Counter,
    reorgs: Counter,
    unreadable: Counter,
    delivered: Family<SinkLabel, Counter>,
    failures: Family<SinkLabel, Counter>,
    pending: Family<SinkLabel, Gauge>,
}

impl WatchMetrics {
    /// A fresh set, registered under `medchain_watch_`.
    pub fn new() -> Arc<WatchMetrics> {
        let mut registry = Registry::with_prefix("medchain_watch");
        let m = WatchMetrics {
            block: Gauge::default(),
            blocks: Counter::default(),
            alarms: Counter::default(),
            retractions: Counter::default(),
            reorgs: Counter::default(),
            unreadable: Counter::default(),
            delivered: Family::default(),
            failures: Family::default(),
            pending: Family::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("block", "Last block processed", m.block.clone());
        r.register("blocks_processed", "Blocks processed", m.blocks.clone());
        r.register("alarms", "Alarms decided", m.alarms.clone());
        r.register(
            "retractions",
            "Alarms retracted after a reorganisation",
            m.retractions.clone(),
        );
        r.register("reorgs", "Reorganisations followed", m.reorgs.clone());
        r.register(
            "unreadable_records",
            "Records the reader could not open or read (not alarmed)",
            m.unreadable.clone(),
        );
        r.register(
            "delivered",
            "Notices a sink acknowledged",
            m.delivered.clone(),
        );
        r.register(
            "delivery_failures",
            "Failed deliveries (each retried)",
            m.failures.clone(),
        );
        r.register(
            "pending",
            "Notices journaled but not yet delivered by a sink",
            m.pending.clone(),
        );
        Arc::new(WatchMetrics { registry, ..m })
    }

    /// Block `n` processed.
    pub fn processed(&self, n: u64) {
        self.blocks.inc();
        self.block.set(n as i64);
    }

    /// An alarm (or a retraction) journaled.
    pub fn decided(&self, retraction: bool) {
        if retraction {
            self.retractions.inc();
        } else {
            self.alarms.inc();
        }
    }

    /// A reorganisation followed.
    pub fn reorg(&self) {
        self.reorgs.inc();
    }

    /// A record the reader could not read.
    pub fn unreadable(&self) {
        self.unreadable.inc();
    }

    /// `sink` delivered one notice; `pending` still wait for it.
    pub fn delivered(&self, sink: &str, pending: usize) {
        self.delivered.get_or_create(&label(sink)).inc();
        self.pending.get_or_create(&label(sink)).set(pending as i64);
    }

    /// `sink` failed a delivery; `pending` wait for it.
    pub fn failed(&self, sink: &str, pending: usize) {
        self.failures.get_or_create(&label(sink)).inc();
        self.pending.get_or_create(&label(sink)).set(pending as i64);
    }

    /// `sink` has `pending` notices to deliver.
    pub fn waiting(&self, sink: &str, pending: usize) {
        self.pending.get_or_create(&label(sink)).set(pending as i64);
    }

    /// The text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn label(sink: &str) -> SinkLabel {
    SinkLabel {
        sink: sink.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_each_metric_and_sink() {
        let m = WatchMetrics::new();
        m.processed(42);
        m.decided(false);
        m.delivered("mqtt", 0);
        m.failed("webhook", 1);
        let t = m.encode();
        for line in [
            "medchain_watch_block 42",
            "medchain_watch_alarms_total 1",
            "medchain_watch_delivered_total{sink=\"mqtt\"} 1",
            "medchain_watch_delivery_failures_total{sink=\"webhook\"} 1",
            "medchain_watch_pending{sink=\"webhook\"} 1",
        ] {
            assert!(t.contains(line), "{line} missing from:\n{t}");
        }
    }
}
