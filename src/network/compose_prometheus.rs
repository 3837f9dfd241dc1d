//! The compose export's Prometheus: the same scrape configuration and
//! alert rules as `medchain monitor start` (jobs `geth` and `bench`, the
//! same labels, interval and rules), with each node scraped by its
//! service name on the compose networks instead of the host's loopback;
//! Prometheus' own UI and API are published on the host's loopback only,
//! with the same bounded retention and its lifecycle and admin APIs off.

use std::fs;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Value};

use crate::monitor::{config, rules};
use crate::plan::Plan;
use crate::runtime::container_plan as cp;

/// The service's name in the compose file.
pub(crate) const SERVICE: &str = "prometheus";
/// The export's folder holding the configuration, mounted read-only.
const CONFIG_FOLDER: &str = "prometheus";
/// Prometheus' image, the version Debian ships for `monitor start`.
const IMAGE: &str = "prom/prometheus:v2.42.0";
/// The compose profile the service is in: the image comes from a
/// registry, so a plain `docker compose up` (offline too) starts the
/// network without it, and `--profile monitoring` adds it.
pub(crate) const PROFILE: &str = "monitoring";
/// Prometheus' port inside its container.
const PORT: u16 = 9090;

/// Writes `prometheus/prometheus.yml`, `prometheus/alerts.yml` and the
/// empty target folder of bench exporters under the export directory,
/// readable by the image's unprivileged user.
pub(crate) fn write_config(plan: &Plan) -> anyhow::Result<()> {
    let dir = plan.dir.join(CONFIG_FOLDER);
    fs::create_dir_all(dir.join(config::TARGETS_DIR))
        .with_context(|| format!("creating {}", dir.display()))?;
    write(&dir.join("prometheus.yml"), &render_config(plan))?;
    write(&dir.join(config::RULES_FILE), &rules::render(plan))
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// The scrape configuration: [`config::render`]'s, each node at
/// `<service>:<metrics port>` (the port geth listens on inside its
/// container).
pub(crate) fn render_config(plan: &Plan) -> String {
    config::render_for(plan, |n| format!("{}:{}", n.name, n.ports.metrics))
}

/// The service, on every network of the plan (so it reaches every node),
/// published on `127.0.0.1:<host_port>`.
pub(crate) fn service(plan: &Plan, host_port: u16) -> Value {
    let networks: Vec<String> = cp::compose_subnets(plan)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    json!({
        "image": IMAGE,
        "profiles": [PROFILE],
        "container_name": format!("{}-prometheus", plan.topology.network),
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=1d",
            "--storage.tsdb.retention.size=512MB",
            format!("--web.listen-address=0.0.0.0:{PORT}"),
        ],
        "volumes": [
            format!("./{CONFIG_FOLDER}:/etc/prometheus:ro"),
            format!("{}:/prometheus", volume(plan)),
        ],
        "networks": networks,
        "ports": [format!("127.0.0.1:{host_port}:{PORT}")],
        "labels": cp::labels(plan, None, Some(SERVICE)),
    })
}

/// The named volume of Prometheus' data.
pub(crate) fn volume(plan: &Plan) -> String {
    format!("{}-prometheus-data", plan.topology.network)
}
