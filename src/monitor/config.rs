//! The Prometheus configuration for a network: one scrape target per node
//! (its loopback metrics port) with the labels dashboards group by, and
//! the bench exporters that runs against the network announce in target
//! files (file_sd), so a bench started before or after the monitor is
//! scraped without a reload.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::plan::Plan;

/// How often every node is scraped (and rules evaluated).
pub const SCRAPE_INTERVAL: &str = "5s";

#[derive(Serialize)]
struct Config {
    global: Global,
    rule_files: Vec<String>,
    scrape_configs: Vec<ScrapeConfig>,
}

/// The rule file's name, beside the configuration.
pub const RULES_FILE: &str = "alerts.yml";

#[derive(Serialize)]
struct Global {
    scrape_interval: &'static str,
    evaluation_interval: &'static str,
    external_labels: Labels,
}

#[derive(Serialize)]
struct ScrapeConfig {
    job_name: &'static str,
    metrics_path: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    static_configs: Vec<StaticConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    file_sd_configs: Vec<FileSd>,
}

#[derive(Serialize)]
struct FileSd {
    files: Vec<String>,
    refresh_interval: &'static str,
}

/// The monitor's directory in a network's directory.
pub const MONITOR_DIR: &str = "monitor";

/// The directory of the target files, beside the configuration.
pub const TARGETS_DIR: &str = "targets";

/// Where a bench run (process `pid`) against the network in `network_dir`
/// announces its exporter: `<monitor dir>/targets/bench-<pid>.json`.
pub fn bench_target_file(network_dir: &Path, pid: u32) -> PathBuf {
    network_dir
        .join(MONITOR_DIR)
        .join(TARGETS_DIR)
        .join(format!("bench-{pid}.json"))
}

/// Where `medchain watch` (process `pid`) on the network in `network_dir`
/// announces its exporter: `<monitor dir>/targets/watch-<pid>.json`.
pub fn watch_target_file(network_dir: &Path, pid: u32) -> PathBuf {
    network_dir
        .join(MONITOR_DIR)
        .join(TARGETS_DIR)
        .join(format!("watch-{pid}.json"))
}

/// One file_sd target file: the exporter at `address` with `labels`.
pub fn target_file(address: &str, labels: &[(&str, &str)]) -> String {
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    serde_json::json!([{ "targets": [address], "labels": labels }]).to_string()
}

#[derive(Serialize)]
struct StaticConfig {
    targets: Vec<String>,
    labels: Labels,
}

#[derive(Serialize, Default)]
struct Labels {
    network: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    hospital: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    role: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    node: String,
}

/// The `prometheus.yml` for `plan`: job `geth`, one static target per
/// node (nodes of a plan made before nodes served metrics are left out),
/// and job `bench`, the target files under [`TARGETS_DIR`].
pub fn render(plan: &Plan) -> String {
    render_for(plan, |n| format!("127.0.0.1:{}", n.ports.metrics))
}

/// [`render`] with each node's scrape address given by `address` (the
/// compose export scrapes containers by service name).
pub fn render_for(plan: &Plan, address: impl Fn(&crate::plan::NodePlan) -> String) -> String {
    let network = plan.topology.network.clone();
    let targets = plan
        .nodes
        .iter()
        .filter(|n| n.ports.metrics != 0)
        .map(|n| StaticConfig {
            targets: vec![address(n)],
            labels: Labels {
                network: network.clone(),
                hospital: n.hospital.clone(),
                role: n.role.to_string(),
                node: n.name.clone(),
            },
        })
        .collect();
    let config = Config {
        global: Global {
            scrape_interval: SCRAPE_INTERVAL,
            evaluation_interval: SCRAPE_INTERVAL,
            external_labels: Labels {
                network,
                ..Labels::default()
            },
        },
        rule_files: vec![RULES_FILE.into()],
        scrape_configs: vec![
            ScrapeConfig {
                job_name: "geth",
                metrics_path: "/debug/metrics/prometheus",
                static_configs: targets,
                file_sd_configs: Vec::new(),
            },
            ScrapeConfig {
                job_name: "bench",
                metrics_path: "/metrics",
                static_configs: Vec::new(),
                file_sd_configs: vec![FileSd {
                    files: vec![format!("{TARGETS_DIR}/bench-*.json")],
                    refresh_interval: "5s",
                }],
            },
            ScrapeConfig {
                job_name: "watch",
                metrics_path: "/metrics",
                static_configs: Vec::new(),
                file_sd_configs: vec![FileSd {
                    files: vec![format!("{TARGETS_DIR}/watch-*.json")],
                    refresh_interval: "5s",
                }],
            },
        ],
    };
    let body = serde_yaml::to_string(&config).expect("serialisable");
    format!("# Written by `medchain monitor start`; rewritten on every start.\n{body}")
}

/// Whether `s` is a Prometheus duration medchain accepts for retention
/// (`<number><unit>`, unit one of m h d w y; at least one hour and at
/// most a year, so the data stays bounded and useful).
pub fn valid_retention(s: &str) -> bool {
    let Some(unit) = s.chars().last() else {
        return false;
    };
    let Ok(n) = s[..s.len() - 1].parse::<u64>() else {
        return false;
    };
    let hours = match unit {
        'm' => n as f64 / 60.0,
        'h' => n as f64,
        'd' => n as f64 * 24.0,
        'w' => n as f64 * 168.0,
        'y' => n as f64 * 8760.0,
        _ => return false,
    };
    (1.0..=8760.0).contains(&hours)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn plan() -> Plan {
        let t = crate::topology::parse(
            "network: mon\nhospitals:\n - {name: a, sealers: 1, members: 1}\n - {name: b, sealers: 1, members: 0}\n",
            "t",
        )
        .unwrap();
        let ports = (0..3u16)
            .map(|i| crate::plan::NodePorts {
                http: 9000 + i,
                ws: 9100 + i,
                p2p: 9200 + i,
                authrpc: 9300 + i,
                metrics: 6060 + i,
            })
            .collect();
        crate::plan::plan(
            &t,
            &crate::plan::PlanInputs {
                key_source: crate::keys::KeySource::Seed(1),
                home: "/h".into(),
                ports,
                dag_dir: "/dag".into(),
            },
        )
    }

    #[test]
    fn every_node_is_a_labelled_loopback_target() {
        let y: serde_yaml::Value = serde_yaml::from_str(&render(&plan())).unwrap();
        let job = &y["scrape_configs"][0];
        assert_eq!(job["metrics_path"], "/debug/metrics/prometheus");
        let sc = job["static_configs"].as_sequence().unwrap();
        assert_eq!(sc.len(), 3);
        assert_eq!(sc[0]["targets"][0], "127.0.0.1:6060");
        assert_eq!(sc[0]["labels"]["node"], "a-sealer-0");
        assert_eq!(sc[1]["labels"]["role"], "member");
        assert_eq!(sc[2]["labels"]["hospital"], "b");
        assert!(sc.iter().all(|s| s["labels"]["network"] == "mon"));
        assert_eq!(y["global"]["scrape_interval"], "5s");
        let bench = &y["scrape_configs"][1];
        assert_eq!(bench["job_name"], "bench");
        assert_eq!(
            bench["file_sd_configs"][0]["files"][0],
            "targets/bench-*.json"
        );
        let watch = &y["scrape_configs"][2];
        assert_eq!(watch["job_name"], "watch");
        assert_eq!(
            watch["file_sd_configs"][0]["files"][0],
            "targets/watch-*.json"
        );
    }

    #[test]
    fn a_target_file_is_file_sd_json() {
        let t: serde_json::Value =
            serde_json::from_str(&target_file("127.0.0.1:9470", &[("network", "mon")])).unwrap();
        assert_eq!(t[0]["targets"][0], "127.0.0.1:9470");
        assert_eq!(t[0]["labels"]["network"], "mon");
    }

    #[test]
    fn retention_is_a_bounded_prometheus_duration() {
        for ok in ["1d", "12h", "2w", "90m", "1y"] {
            assert!(valid_retention(ok), "{ok}");
        }
        for bad in ["", "d", "5x", "1.5d", "30m", "2y", "-1d", "10"] {
            assert!(!valid_retention(bad), "{bad}");
        }
    }
}
