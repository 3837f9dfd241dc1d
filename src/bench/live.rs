//! What a bench run exports while it runs: its metrics
//! ([`super::metrics`]) served by the [`super::exporter`] and pushed to a
//! [`super::pushgateway`] after every round. Neither is allowed to fail
//! the benchmark: what does not work becomes a warning in the report.

use std::sync::Arc;

use super::exporter::{Announce, Exporter};
use super::metrics::BenchMetrics;
use super::observer::Tracker;
use super::pushgateway::Pushgateway;

/// A run's live metrics.
pub struct Live {
    metrics: Option<Arc<BenchMetrics>>,
    exporter: Option<Exporter>,
    push: Option<Pushgateway>,
    /// What did not work.
    pub warnings: Vec<String>,
}

/// What [`Live::start`] is asked for.
pub struct LiveOptions<'a> {
    /// Serve metrics (`--no-metrics` turns this off).
    pub serve: bool,
    /// Push to this Pushgateway.
    pub pushgateway: Option<Pushgateway>,
    /// Announce the exporter to this network's monitor.
    pub announce: Option<Announce<'a>>,
}

impl Live {
    /// Starts serving (unless off) and sets up pushing; `tracker` is
    /// what the exporter samples.
    pub async fn start(o: LiveOptions<'_>, tracker: &Arc<Tracker>, say: &impl Fn(String)) -> Self {
        let mut live = Self {
            metrics: None,
            exporter: None,
            push: o.pushgateway,
            warnings: Vec::new(),
        };
        if !o.serve && live.push.is_none() {
            return live;
        }
        let metrics = BenchMetrics::new();
        if o.serve {
            match Exporter::start(metrics.clone(), tracker.clone(), o.announce).await {
                Ok(e) => {
                    say(format!("bench metrics: {}", e.url));
                    live.exporter = Some(e);
                }
                Err(e) => live.warn(format!("bench metrics not served: {e:#}")),
            }
        }
        live.metrics = Some(metrics);
        live
    }

    /// Counts the `index`th round (from 1), labelled `label`, into the
    /// metrics from now on.
    pub fn round_starts(&self, tracker: &Tracker, index: usize, label: &str) {
        tracker.meter(self.metrics.as_ref().map(|m| m.round(index, label)));
    }

    /// A round ended: its final figures are pushed.
    pub async fn round_ended(&mut self, tracker: &Tracker) {
        tracker.sample_meter();
        self.push().await;
    }

    /// Pushes the metrics, if a gateway was given; a failed push is a
    /// warning (once per distinct cause).
    async fn push(&mut self) {
        let (Some(p), Some(m)) = (&self.push, &self.metrics) else {
            return;
        };
        if let Err(e) = p.push(m.encode()).await {
            self.warn(format!("metrics not pushed: {e:#}"));
        }
    }

    fn warn(&mut self, w: String) {
        eprintln!("warning: {w}");
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Stops serving (the monitor's target is withdrawn) and returns the
    /// warnings.
    pub fn finish(self) -> Vec<String> {
        if let Some(e) = self.exporter {
            e.finish();
        }
        self.warnings
    }
}
