//! `medchain monitor` end to end with Debian's real Prometheus: it scrapes
//! every node of a running network on loopback, labelled by network,
//! hospital, role and node; each node's scraped head is within 1 of its
//! own eth_blockNumber and its peers are the planned ones; its
//! configuration passes `promtool check config`, its alert rules
//! `promtool check rules`, and killing one of two Clique signers fires
//! the node-down and head-stalled alerts (none fires on the healthy
//! network); `status` shows it; a second start reloads instead of
//! starting another; `down` stops it. Without `prometheus` and `promtool`
//! on the PATH these tests fail, they never skip.
mod common;

use std::time::{Duration, Instant};

use common::prom::{dashboard_has_data, every_node_up, heads_and_peers_match, query};
use common::{alive, TestNet};

const TOPO: &str = "\
network: mon-e2e
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 1, members: 0}
";

#[test]
fn prometheus_scrapes_every_node_with_labels_and_down_stops_it() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "35", "--quiet", "--no-deploy"]);
    let r = net.run(&["monitor", "start", "--retention", "5x"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--retention \"5x\""), "{}", r.stderr);

    let out = net.ok(&["monitor", "start"]).stdout;
    assert!(
        out.starts_with("monitor: prometheus started on http://127.0.0.1:"),
        "{out}"
    );
    let st = net.status();
    let url = st["monitor"]["url"]
        .as_str()
        .expect("status shows the monitor")
        .to_string();
    let pid = st["monitor"]["pid"].as_u64().unwrap();
    let config = st["monitor"]["config"].as_str().unwrap().to_string();
    let check = std::process::Command::new("promtool")
        .args(["check", "config", &config])
        .output()
        .expect("promtool runs (Debian's prometheus package)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let rules = std::path::Path::new(&config).with_file_name("alerts.yml");
    let check = std::process::Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // Every node up, with its labels; its head and peers as the node has them.
    every_node_up(&url, &st, Duration::from_secs(60));
    heads_and_peers_match(&url, &net, "mon-e2e", Duration::from_secs(60));

    dashboard_has_data(
        &url,
        "medchain-network.json",
        "mon-e2e",
        Duration::from_secs(60),
    );
    assert_eq!(
        query(&url, "p2p_peers").len(),
        3,
        "the peers rule's metric exists"
    );
    assert_eq!(
        query(&url, "txpool_pending").len(),
        3,
        "the txpool rule's metric exists"
    );
    let firing = query(&url, "ALERTS{alertstate=\"firing\"}");
    assert!(firing.is_empty(), "alerts on a healthy network: {firing:?}");

    // One of two Clique signers killed: it is down, and the chain stalls.
    net.ok(&["fault", "kill", "south-sealer-0"]);
    let deadline = Instant::now() + Duration::from_secs(90);
    let fired = |name: &str| {
        query(
            &url,
            &format!("ALERTS{{alertstate=\"firing\",alertname=\"{name}\"}}"),
        )
    };
    let (down, stalled) = loop {
        let (d, s) = (fired("MedchainNodeDown"), fired("MedchainHeadStalled"));
        if (!d.is_empty() && !s.is_empty()) || Instant::now() > deadline {
            break (d, s);
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0]["metric"]["node"], "south-sealer-0");
    assert!(
        !stalled.is_empty(),
        "no head-stalled alert within 90 s of halting the chain"
    );
    net.ok(&["fault", "resume", "south-sealer-0"]);

    // A second start keeps the one Prometheus (and reloads it).
    let again = net.ok(&["monitor", "start"]).stdout;
    assert!(again.contains("already running"), "{again}");
    assert_eq!(net.status()["monitor"]["pid"].as_u64(), Some(pid));

    net.ok(&["down"]);
    let gone = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "prometheus {pid} survived down");
}
