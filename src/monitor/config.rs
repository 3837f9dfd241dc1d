//! The Prometheus configuration for a network: one scrape target per node
//! (its loopback metrics port) with the labels dashboards group by.

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
    static_configs: Vec<StaticConfig>,
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
/// node (nodes of a plan made before nodes served metrics are left out).
pub fn render(plan: &Plan) -> String {
    let network = plan.topology.network.clone();
    let targets = plan
        .nodes
        .iter()
        .filter(|n| n.ports.metrics != 0)
        .map(|n| StaticConfig {
            targets: vec![format!("127.0.0.1:{}", n.ports.metrics)],
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
        scrape_configs: vec![ScrapeConfig {
            job_name: "geth",
            metrics_path: "/debug/metrics/prometheus",
            static_configs: targets,
        }],
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
