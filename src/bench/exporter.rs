//! Serving a bench run's metrics ([`super::metrics`]) while it runs: a
//! small HTTP server on a loopback port reserved in the machine-wide port
//! registry (`GET /metrics`, Prometheus' text format), a target file that
//! the network's monitor picks up (file_sd, so no reload is needed, and a
//! bench started before the monitor is scraped too), and a task that
//! samples what is in flight and the achieved send rate every second.
//! [`Exporter::finish`] stops all three and removes the target file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::metrics::BenchMetrics;
use super::observer::Tracker;
use crate::monitor::config::{bench_target_file, target_file};
use crate::ports::ServicePort;

/// First port tried for a bench exporter.
pub const PORT_BASE: u16 = 9470;
/// How often in-flight and send rate are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// A running exporter.
pub struct Exporter {
    /// `http://127.0.0.1:<port>/metrics`.
    pub url: String,
    _port: ServicePort,
    target: Option<PathBuf>,
    server: tokio::task::JoinHandle<()>,
    sampler: tokio::task::JoinHandle<()>,
}

/// Who the exporter announces itself to: the network's directory (its
/// monitor's target files) and the labels of its target.
pub struct Announce<'a> {
    /// The network's directory.
    pub network_dir: &'a Path,
    /// The network's name.
    pub network: &'a str,
    /// The scenario's name.
    pub scenario: &'a str,
}

impl Exporter {
    /// Serves `metrics` on a reserved loopback port, samples `tracker`
    /// every second, and writes the target file of `announce`, if any.
    pub async fn start(
        metrics: Arc<BenchMetrics>,
        tracker: Arc<Tracker>,
        announce: Option<Announce<'_>>,
    ) -> anyhow::Result<Self> {
        let crate::metrics_http::Served {
            port,
            address,
            task: server,
        } = crate::metrics_http::start("bench", PORT_BASE, Arc::new(move || metrics.encode()))
            .await?;
        let sampler = tokio::spawn(async move {
            loop {
                tokio::time::sleep(SAMPLE_EVERY).await;
                tracker.sample_meter();
            }
        });
        let mut exporter = Self {
            url: format!("http://{address}/metrics"),
            _port: port,
            target: None,
            server,
            sampler,
        };
        if let Some(a) = announce {
            let file = bench_target_file(a.network_dir, std::process::id());
            let body = target_file(
                &address,
                &[
                    ("network", a.network),
                    ("scenario", a.scenario),
                    ("role", "bench"),
                ],
            );
            crate::private_fs::write(&file, body.as_bytes())?;
            exporter.target = Some(file);
        }
        Ok(exporter)
    }

    /// Stops serving and sampling and withdraws the target file (the port
    /// is released as the reservation drops).
    pub fn finish(self) {
        self.server.abort();
        self.sampler.abort();
        if let Some(f) = &self.target {
            let _ = std::fs::remove_file(f);
        }
    }
}
