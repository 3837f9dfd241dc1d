//! `medchain bench`'s own metrics end to end, with Debian's real
//! Prometheus and Pushgateway and real geth: while a bench runs, the
//! network's monitor scrapes its exporter (`up == 1` for every node and
//! for the bench target) and every panel of the benchmark dashboard has
//! data; the scenario's Caliper-style Prometheus queries land in every
//! report format; stopping Prometheus mid-run leaves a warning and a
//! complete report; the Pushgateway holds the run's final counts. Bad
//! `monitors` blocks and a bad `--pushgateway` exit 2 naming the field.
//! Without `prometheus` or `prometheus-pushgateway` on the PATH these
//! tests fail, they never skip.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::prom::{dashboard_has_data, query, wait_for};
use common::TestNet;
use serde_json::Value;

const TOPO: &str = "\
network: monb-e2e
block_period: 1
hospitals:
  - {name: east, sealers: 1, members: 1}
";

/// A Pushgateway on a free loopback port, killed (by its PID) on drop.
struct Gateway {
    child: Child,
    url: String,
}

impl Gateway {
    fn start(dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus-pushgateway")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--persistence.file={}", dir.join("pgw").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-pushgateway runs (Debian's package; scripts/install-services.sh)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while get(&format!("{url}/-/ready")).is_none() {
            assert!(Instant::now() < deadline, "pushgateway not ready on {url}");
            std::thread::sleep(Duration::from_millis(200));
        }
        Self { child, url }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET's body, when it answered 2xx.
fn get(url: &str) -> Option<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.ok()?;
        r.status().is_success().then_some(())?;
        r.text().await.ok()
    })
}

/// The scenario: an open round long enough for rates and percentiles,
/// then a transfer round during which the test stops Prometheus. The
/// first round's monitor is written in Caliper's long form, whose
/// `include` keeps the member's series and the round's own.
fn scenario(prometheus: &str) -> String {
    format!(
        "\
name: watched
workers: 2
monitors:
  prometheus:
    url: {prometheus}
    queries:
      - {{name: Peers, query: p2p_peers, label: node, statistic: max}}
      - {{name: Committed, query: medchain_bench_committed_total, label: round, statistic: max}}
rounds:
  - label: load
    tx_duration: 40
    rate: {{type: fixed-rate, tps: 20}}
    workload: {{op: open, accounts: 200}}
    monitors:
      resource:
        - module: prometheus
          options:
            url: {prometheus}
            metrics:
              include: [member, '^load$']
              queries:
                - {{name: Peers, query: p2p_peers, label: node, statistic: max}}
                - {{name: Committed, query: medchain_bench_committed_total, label: round, statistic: max}}
  - label: after
    tx_duration: 20
    rate: {{type: fixed-rate, tps: 10}}
    workload: {{op: transfer}}
"
    )
}

#[test]
fn a_running_bench_is_scraped_pushed_and_queried_and_survives_prometheus_stopping() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "36", "--quiet"]);
    net.ok(&["monitor", "start"]);
    let url = net.status()["monitor"]["url"].as_str().unwrap().to_string();
    let gateway = Gateway::start(net.dir.path());
    let scen = net.dir.path().join("watched.yaml");
    std::fs::write(&scen, scenario(&url)).unwrap();
    let json = net.dir.path().join("out/report.json");
    let html = net.dir.path().join("out/report.html");
    let bench = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(net.dir.path())
        .env("MEDCHAIN_HOME", net.home())
        .env("MEDCHAIN_RUNTIME", "process")
        .arg("bench")
        .arg(&scen)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .args(["--pushgateway", &gateway.url, "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bench = KillOnDrop(Some(bench));

    // Every node and the bench's exporter up, the exporter with its labels.
    let ups = wait_for(&url, "up == 1", 3, Duration::from_secs(90));
    let jobs: Vec<(&str, &str)> = ups
        .iter()
        .map(|s| {
            let m = &s["metric"];
            (m["job"].as_str().unwrap(), m["network"].as_str().unwrap())
        })
        .collect();
    assert_eq!(ups.len(), 3, "{ups:?}");
    assert_eq!(jobs.iter().filter(|j| j.0 == "geth").count(), 2, "{jobs:?}");
    let b = ups.iter().find(|s| s["metric"]["job"] == "bench").unwrap();
    assert_eq!(b["metric"]["network"], "monb-e2e");
    assert_eq!(b["metric"]["scenario"], "watched");
    dashboard_has_data(
        &url,
        "medchain-bench.json",
        "monb-e2e",
        Duration::from_secs(45),
    );
    assert!(!query(&url, "medchain_bench_committed_total{round=\"load\"} > 0").is_empty());

    // Round 1 reported: Prometheus stops while round 2 runs.
    let deadline = Instant::now() + Duration::from_secs(120);
    while rounds_in(&json) < 1 {
        assert!(Instant::now() < deadline, "round 1 never reported");
        std::thread::sleep(Duration::from_millis(500));
    }
    net.ok(&["monitor", "stop"]);
    let out = bench.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["partial"], false);
    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2, "a complete report");
    let first = &rounds[0]["prometheus"];
    assert_eq!(first["warnings"].as_array().unwrap().len(), 0, "{first}");
    let figures = first["figures"].as_array().unwrap();
    let peers: Vec<&Value> = figures.iter().filter(|f| f["name"] == "Peers").collect();
    assert_eq!(peers.len(), 1, "the member's figure only: {figures:?}");
    assert!(peers[0]["series"].as_str().unwrap().contains("member"));
    assert!(peers.iter().all(|f| f["value"] == 1.0), "{peers:?}");
    let committed = figures
        .iter()
        .find(|f| f["name"] == "Committed" && f["series"] == "load")
        .expect("the bench's own series, queried");
    assert!(committed["value"].as_f64().unwrap() > 0.0, "{committed}");
    let second = &rounds[1]["prometheus"]["warnings"];
    assert!(
        second[0]
            .as_str()
            .unwrap()
            .contains("cannot reach Prometheus"),
        "{second}"
    );
    assert!(stdout.contains("### Prometheus ###"), "{stdout}");
    assert!(stdout.contains("WARNING: after: "), "{stdout}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h2>Prometheus</h2>") && page.contains("cannot reach Prometheus"));

    // The gateway holds the run's final counts, as the report has them.
    let pushed = get(&format!("{}/metrics", gateway.url)).unwrap();
    for (i, label) in ["load", "after"].iter().enumerate() {
        let succ = rounds[i]["succ"].as_u64().unwrap();
        let line = format!(
            "medchain_bench_committed_total{{instance=\"\",job=\"medchain_bench\",network=\"monb-e2e\",round=\"{label}\"}} {succ}"
        );
        assert!(pushed.contains(&line), "{line} not in:\n{pushed}");
    }
    // The exporter withdrew its target file.
    let targets = net.home().join("monb-e2e/monitor/targets");
    assert_eq!(std::fs::read_dir(targets).unwrap().count(), 0);
}

/// Rounds in the JSON report so far (0 while it does not exist).
fn rounds_in(json: &std::path::Path) -> usize {
    std::fs::read_to_string(json)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["rounds"].as_array().map(Vec::len))
        .unwrap_or(0)
}

/// The bench process, killed (by its PID) if the test fails first.
struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    fn wait(mut self) -> std::process::Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn bad_monitors_and_pushgateway_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let write = |name: &str, monitors: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!("{monitors}rounds:\n  - {{tx_number: 1, rate: {{type: fixed-rate, tps: 1}}, workload: {{op: open}}}}\n"),
        )
        .unwrap();
        p.display().to_string()
    };
    let cases = [
        (
            write("stat.yaml", "monitors:\n  prometheus:\n    url: http://127.0.0.1:9090\n    queries: [{name: a, query: up, statistic: median}]\n"),
            "monitors.prometheus.queries[0].statistic: \"median\": expected max, avg, min or sum",
        ),
        (
            write("url.yaml", "monitors:\n  prometheus:\n    queries: [{name: a, query: up, statistic: max}]\n"),
            "monitors.prometheus.url: missing",
        ),
        (
            write("docker.yaml", "monitors:\n  resource:\n    - {module: docker, options: {interval: 1, containers: [all]}}\n    - {module: prometheus, options: {url: http://127.0.0.1:9090, metrics: {queries: [{name: a, query: up, statistic: max}]}}}\n"),
            "monitors.resource[0].module: \"docker\": medchain samples the nodes' processes and containers itself",
        ),
    ];
    for (file, want) in &cases {
        let r = common::medchain(dir.path(), &home, &["bench", file]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(file.as_str()) && first.contains(want),
            "{}",
            r.stderr
        );
    }
    let ok = write("ok.yaml", "");
    let r = common::medchain(
        dir.path(),
        &home,
        &["bench", &ok, "--pushgateway", "ftp://x"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--pushgateway \"ftp://x\""),
        "{}",
        r.stderr
    );
}
