//! Pushing a bench run's metrics to a Prometheus Pushgateway, for CI
//! runners that no Prometheus scrapes while they run: after every round
//! and at the end, the whole metric set replaces the run's group
//! (`PUT /metrics/job/medchain_bench/network/<network>`), so the
//! gateway holds the latest figures of the last run per network.

use std::time::Duration;

use anyhow::Context;

/// How long one push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a run pushes to.
#[derive(Debug, Clone)]
pub struct Pushgateway {
    /// The group's URL.
    pub url: String,
    client: reqwest::Client,
}

impl Pushgateway {
    /// The group of `network`'s runs on the gateway at `base` (an
    /// http(s) URL, checked by the caller). `network` is a medchain name
    /// (`[a-z0-9-]`) or `external`, safe in a path.
    pub fn new(base: &str, network: &str) -> Self {
        Self {
            url: format!(
                "{}/metrics/job/medchain_bench/network/{network}",
                base.trim_end_matches('/')
            ),
            client: reqwest::Client::builder()
                .timeout(PUSH_TIMEOUT)
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    /// Replaces the group with `body` (Prometheus' text format).
    pub async fn push(&self, body: String) -> anyhow::Result<()> {
        let resp = self
            .client
            .put(&self.url)
            .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the Pushgateway at {}", self.url))?;
        let status = resp.status();
        if !status.is_success() {
            let why = resp.text().await.unwrap_or_default();
            anyhow::bail!(
                "the Pushgateway at {} answered {status}: {}",
                self.url,
                why.trim()
            );
        }
        Ok(())
    }
}
