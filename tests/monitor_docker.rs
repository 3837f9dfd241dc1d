//! `medchain monitor` on a Docker-runtime network, with Debian's real
//! Prometheus on the host: it scrapes every container's metrics port as
//! published on the host's loopback, labelled by network, hospital, role
//! and node, and each node's scraped head and peers match the node itself
//! (the checks `tests/monitor.rs` makes on processes). Without a Docker
//! engine (`scripts/docker-engine.sh start`) or `prometheus` on the PATH
//! this test fails, it never skips.

mod common;

use std::time::{Duration, Instant};

use common::prom::{every_node_up, heads_and_peers_match};
use common::{alive, TestNet};

/// Two hospitals, gateway peering: the gateways (sealers) have two
/// planned peers, the members one, so a label on the wrong target shows.
const TOPO: &str = "\
network: mondock
block_period: 1
peering: gateway
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 1, members: 1}
";

#[test]
fn prometheus_scrapes_every_container_and_agrees_with_the_nodes() {
    let net = TestNet::new(TOPO);
    net.ok(&["image", "build", "--version", "1.13.15"]);
    net.ok(&[
        "up",
        "--runtime",
        "docker",
        "--seed",
        "36",
        "--quiet",
        "--no-deploy",
    ]);
    let st = net.status();
    assert_eq!(st["runtime"], "docker", "{st}");
    assert_eq!(st["nodes"].as_array().unwrap().len(), 4, "{st}");

    let out = net.ok(&["monitor", "start"]).stdout;
    assert!(out.contains("scraping 4 node(s)"), "{out}");
    let url = net.status()["monitor"]["url"]
        .as_str()
        .expect("status shows the monitor")
        .to_string();
    every_node_up(&url, &st, Duration::from_secs(60));
    heads_and_peers_match(&url, &net, "mondock", Duration::from_secs(60));

    let pid = net.status()["monitor"]["pid"].as_u64().unwrap();
    net.ok(&["down"]);
    let gone = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "prometheus {pid} survived down");
}
