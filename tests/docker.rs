//! The docker runtime end to end on a real Docker engine (started by
//! `.ci/run`; without one these tests fail, they never skip): the offline
//! image build, a Clique network of 3 hospitals × (1 sealer + 1 member)
//! with gateway peering in containers, a bench round with container
//! resource figures, `down --purge` leaving nothing labelled behind, and
//! the compose export run with the compose tool itself.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
};
use bollard::Docker;
use common::{rpc, TestNet};
use serde_json::{json, Value};

const TOPOLOGY: &str = "network: mcdock
consensus: clique
block_period: 1
peering: gateway
hospitals:
  - {name: guadalajara, sealers: 1, members: 1}
  - {name: cairo, sealers: 1, members: 1}
  - {name: lagos, sealers: 1, members: 1}
";

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn docker() -> Docker {
    block_on(async {
        Docker::connect_with_defaults()
            .expect("docker client")
            .negotiate_version()
            .await
            .expect("a Docker engine answers (.ci/run starts dockerd)")
    })
}

fn label(network: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("medchain.network={network}")],
    )])
}

/// (containers, networks, volumes) carrying the network's label.
fn labelled(d: &Docker, network: &str) -> (usize, usize, usize) {
    block_on(async {
        let f = label(network);
        let c = d
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&f)
                    .build(),
            ))
            .await
            .unwrap()
            .len();
        let n = d
            .list_networks(Some(
                ListNetworksOptionsBuilder::default().filters(&f).build(),
            ))
            .await
            .unwrap()
            .len();
        let v = d
            .list_volumes(Some(
                ListVolumesOptionsBuilder::default().filters(&f).build(),
            ))
            .await
            .unwrap()
            .volumes
            .unwrap_or_default()
            .len();
        (c, n, v)
    })
}

/// Runs `js` in `container`'s geth console over its IPC socket (sealers
/// serve no RPC port; admin calls are IPC-only everywhere), returning what
/// it printed.
fn attach(d: &Docker, container: &str, js: &str) -> String {
    use bollard::exec::{CreateExecOptions, StartExecResults};
    use futures::StreamExt;
    block_on(async {
        let exec = d
            .create_exec(
                container,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(vec![
                        "/usr/local/bin/geth",
                        "attach",
                        "--exec",
                        js,
                        "/data/geth.ipc",
                    ]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let StartExecResults::Attached { mut output, .. } =
            d.start_exec(&exec.id, None).await.unwrap()
        else {
            panic!("exec did not attach");
        };
        let mut text = String::new();
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        text
    })
}

/// Number of peers of `container`'s node, asked over IPC.
fn peer_count(d: &Docker, container: &str) -> u64 {
    let out = attach(d, container, "admin.peers.length");
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{container}: {out}"))
}

fn heights(urls: &[String]) -> Vec<u64> {
    urls.iter()
        .map(|u| {
            let h = rpc(u, "eth_blockNumber", json!([]));
            u64::from_str_radix(h.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        })
        .collect()
}

/// Waits until every endpoint is past `past` and all agree on the hash at
/// the lowest head. On timeout the message carries `status` and the last
/// lines of every member's geth log, so a CI failure says which link or
/// import stalled.
fn wait_advancing_and_agreeing(net: &TestNet, urls: &[String], past: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let hs = heights(urls);
        let low = *hs.iter().min().unwrap();
        if low > past {
            let hashes: BTreeSet<String> = urls
                .iter()
                .map(|u| {
                    rpc(
                        u,
                        "eth_getBlockByNumber",
                        json!([format!("{low:#x}"), false]),
                    )["hash"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            if hashes.len() == 1 {
                return low;
            }
        }
        if Instant::now() >= deadline {
            panic!(
                "nodes did not advance past {past} and agree: heights {hs:?}\n{}",
                stall_report(net)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `status` and the tail of each node's geth log, for a failure message.
fn stall_report(net: &TestNet) -> String {
    let mut out = net.run(&["status"]).stdout;
    let st: Value =
        serde_json::from_str(&net.run(&["status", "--json"]).stdout).unwrap_or(Value::Null);
    for n in st["nodes"].as_array().into_iter().flatten() {
        let name = n["name"].as_str().unwrap_or_default();
        let log = net.run(&["logs", name]).stdout;
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(25)..].join("\n");
        out.push_str(&format!("\n--- {name} (last 25 log lines)\n{tail}"));
    }
    out
}

/// Whether container `name` is (running, paused).
fn container_state(d: &Docker, name: &str) -> (bool, bool) {
    block_on(async {
        let st = d
            .inspect_container(name, None)
            .await
            .unwrap()
            .state
            .unwrap();
        (st.running.unwrap_or(false), st.paused.unwrap_or(false))
    })
}

/// `medchain fault` on containers: pause and unpause (the cgroup
/// freezer), kill (SIGKILL) and resume (a new container on the same
/// volume, rejoined), partition and heal a hospital; the network then
/// advances with every node agreeing.
fn container_faults(d: &Docker, net: &TestNet, urls: &[String]) {
    let member = "mcdock-lagos-member-0";
    net.ok(&["fault", "pause", "lagos-member-0"]);
    assert_eq!(container_state(d, member), (true, true));
    net.ok(&["fault", "unpause", "lagos-member-0"]);
    assert_eq!(container_state(d, member), (true, false));
    net.ok(&["fault", "kill", "lagos-member-0"]);
    assert!(!container_state(d, member).0, "killed");
    let r = net.ok(&["fault", "resume", "lagos-member-0"]);
    assert!(
        r.stdout
            .contains("started and rejoined (1 were not running)"),
        "{}",
        r.stdout
    );
    assert_eq!(container_state(d, member), (true, false));
    let r = net.ok(&["fault", "partition", "--hospital", "lagos"]);
    assert!(r.stdout.contains("planned links cut"), "{}", r.stdout);
    net.ok(&["fault", "heal"]);
    let st = net.status();
    assert!(
        st["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["up"] == true),
        "{st}"
    );
    let h = heights(urls);
    wait_advancing_and_agreeing(net, urls, *h.iter().max().unwrap());
}

#[test]
fn docker_network_comes_up_benches_with_container_figures_and_purges() {
    let d = docker();
    let net = TestNet::new(TOPOLOGY);
    std::fs::write(
        net.dir.path().join("short.yaml"),
        "name: short\ncontract: simple\nworkers: 2\nrounds:\n  - label: open\n    tx_number: 60\n    rate: { type: fixed-rate, tps: 20 }\n    workload: { op: open, accounts: 30 }\n  - label: transfer\n    tx_number: 60\n    rate: { type: fixed-rate, tps: 20 }\n    workload: { op: transfer }\n",
    )
    .unwrap();

    let built = net.ok(&["image", "build", "--version", "1.13.15"]);
    assert!(
        built.stdout.contains("medchain/geth:v1.13.15"),
        "{}",
        built.stdout
    );

    net.ok(&["up", "--runtime", "docker"]);
    let st = net.status();
    assert_eq!(st["runtime"], "docker");
    // A network keeps its runtime.
    let other = net.run(&["up", "--runtime", "process"]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(
        other.stderr.contains("was created with runtime docker"),
        "{}",
        other.stderr
    );
    let nodes = st["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 6);
    assert!(nodes.iter().all(|n| n["up"] == true), "{st}");
    assert_eq!(st["agree"], true);
    // Members serve clients; sealers have no RPC endpoint (IPC only).
    let urls: Vec<String> = nodes
        .iter()
        .filter_map(|n| n["rpc"].as_str().map(str::to_string))
        .collect();
    assert_eq!(urls.len(), 3, "{st}");
    assert!(urls.iter().all(|u| u.starts_with("http://127.0.0.1:")));
    let names: Vec<&str> = nodes
        .iter()
        .map(|n| n["container"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "mcdock-guadalajara-sealer-0");
    assert_eq!(names[5], "mcdock-lagos-member-0");

    // Every node advances and agrees on the head.
    let h = heights(&urls);
    wait_advancing_and_agreeing(&net, &urls, *h.iter().max().unwrap());

    // Every node's metrics and members' RPC are published on the host's
    // loopback only, sealers publish no RPC; gateways (and only they) join the backbone; every
    // object carries the label.
    block_on(async {
        for (i, name) in names.iter().enumerate() {
            let c = d.inspect_container(name, None).await.unwrap();
            let bindings = c.host_config.unwrap().port_bindings.unwrap_or_default();
            let published = if i % 2 == 0 { 1 } else { 3 };
            assert_eq!(bindings.len(), published, "{name}: {bindings:?}");
            for b in bindings.values().flatten().flatten() {
                assert_eq!(b.host_ip.as_deref(), Some("127.0.0.1"), "{name}");
            }
            let nets: BTreeSet<String> = c
                .network_settings
                .unwrap()
                .networks
                .unwrap()
                .into_keys()
                .collect();
            let hospital = name.split('-').nth(1).unwrap();
            assert!(
                nets.contains(&format!("mcdock-{hospital}")),
                "{name}: {nets:?}"
            );
            assert_eq!(
                nets.contains("mcdock-backbone"),
                i % 2 == 0,
                "{name}: {nets:?}"
            );
            let health = c.config.unwrap().healthcheck.unwrap().test.unwrap();
            assert!(health.iter().any(|t| t == "attach"), "{health:?}");
        }
    });
    assert_eq!(labelled(&d, "mcdock"), (6, 4, 6));

    // A short bench round with the containers' resource figures.
    let report_path = net.dir.path().join("report.json");
    let out = net.ok(&[
        "bench",
        "short.yaml",
        "--json",
        report_path.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.stdout.contains("Docker stats API"), "{}", out.stdout);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["runtime"], "docker");
    for r in report["rounds"].as_array().unwrap() {
        assert_eq!(r["fail"], 0, "{r}");
        assert_eq!(r["succ"], 60, "{r}");
    }
    let resources = report["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 6, "{resources:?}");
    for r in resources {
        assert!(r["mem_max_mb"].as_f64().unwrap() > 5.0, "{r}");
        assert!(r["cpu_max_pct"].as_f64().unwrap() > 0.0, "{r}");
        // Each container has its own namespace: a peer sees block traffic.
        assert!(r["net_rx_mb"].as_f64().unwrap() > 0.0, "{r}");
    }

    container_faults(&d, &net, &urls);

    // down keeps the volumes (the chain); --purge leaves nothing labelled.
    net.ok(&["down"]);
    assert_eq!(labelled(&d, "mcdock"), (0, 0, 6));
    net.ok(&["down", "--purge"]);
    assert_eq!(labelled(&d, "mcdock"), (0, 0, 0));
}

#[test]
fn compose_export_runs_with_the_compose_tool() {
    let d = docker();
    let net = TestNet::new(&TOPOLOGY.replace("mcdock", "mccompose"));
    net.ok(&["image", "build", "--version", "1.13.15"]);
    let out_dir = net.dir.path().join("compose");
    net.ok(&["compose", "--out", out_dir.to_str().unwrap()]);
    let dir = out_dir.join("mccompose");
    let file = dir.join("docker-compose.yml");
    for f in ["genesis.json", "keys.json", "docker-compose.yml"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let compose = |args: &[&str]| {
        Command::new("docker-compose")
            .arg("-f")
            .arg(&file)
            .args(args)
            .output()
            .expect("docker-compose is installed (.ci/run installs Debian's docker-compose)")
    };
    let check = compose(&["config", "-q"]);
    assert!(
        check.status.success(),
        "compose config: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Run it: every node comes up, the peering steps run, the chain
    // advances with every node agreeing.
    struct Down<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["down", "-v", "--timeout", "5"]);
        }
    }
    let _down = Down(&compose);
    let up = compose(&["up", "-d"]);
    assert!(
        up.status.success(),
        "compose up: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let urls: Vec<String> = y["services"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.as_str().is_some_and(|n| !n.starts_with("peer-")))
        .filter_map(|(_, s)| s["ports"][1].as_str())
        .map(|p| format!("http://127.0.0.1:{}", p.split(':').nth(1).unwrap()))
        .collect();
    assert_eq!(
        urls.len(),
        3,
        "members publish RPC after metrics, sealers only metrics"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ready = urls
            .iter()
            .all(|u| std::panic::catch_unwind(|| rpc(u, "net_peerCount", json!([]))).is_ok());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "compose nodes did not answer");
        std::thread::sleep(Duration::from_secs(1));
    }
    wait_advancing_and_agreeing(&net, &urls, 2);
    // The export's published endpoints refuse control and account methods
    // and foreign Host headers, as the runtimes' do.
    for u in &urls {
        let port: u16 = u.rsplit(':').next().unwrap().parse().unwrap();
        common::surface::check_http(u, port);
    }
    let peers: Vec<u64> = ["guadalajara", "cairo", "lagos"]
        .iter()
        .flat_map(|h| ["sealer", "member"].map(|r| format!("mccompose-{h}-{r}-0")))
        .map(|c| peer_count(&d, &c))
        .collect();
    // Gateways: own member + two other gateways; members: their gateway.
    let mut sorted = peers.clone();
    sorted.sort();
    assert_eq!(sorted, vec![1, 1, 1, 3, 3, 3], "{peers:?}");
    drop(_down);
    assert_eq!(labelled(&d, "mccompose").0, 0);
}

/// A second endpoint to the same engine: TCP on 127.0.0.1 forwarded to the
/// engine's Unix socket, as a remote `tcp://` Docker host is reached. Lives
/// as long as the test process.
fn tcp_endpoint() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let Ok(unix) = std::os::unix::net::UnixStream::connect("/var/run/docker.sock") else {
                continue;
            };
            let (mut a, mut b) = (conn.try_clone().unwrap(), unix.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut a, &mut b);
                let _ = b.shutdown(std::net::Shutdown::Write);
            });
            let (mut a, mut b) = (unix, conn);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut a, &mut b);
                let _ = b.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

/// The host's address on Docker's default bridge, reachable from every
/// container: what a hospital's Docker host is advertised as here.
fn bridge_gateway(d: &Docker) -> String {
    block_on(async {
        let n = d.inspect_network("bridge", None).await.unwrap();
        let cfg = n.ipam.unwrap().config.unwrap();
        if let Some(g) = cfg.iter().find_map(|c| c.gateway.clone()) {
            return g;
        }
        let subnet = cfg[0].subnet.clone().unwrap();
        let base: std::net::Ipv4Addr = subnet.split('/').next().unwrap().parse().unwrap();
        std::net::Ipv4Addr::from(u32::from(base) + 1).to_string()
    })
}

#[test]
fn hospitals_on_two_engine_endpoints_peer_through_advertised_ports() {
    let d = docker();
    let port = tcp_endpoint();
    let gw = bridge_gateway(&d);
    let net = TestNet::new(&format!(
        "network: mcmulti\nconsensus: clique\nblock_period: 1\npeering: gateway\nhospitals:\n  - {{name: north, sealers: 1, members: 1, advertise: \"{gw}\"}}\n  - {{name: south, sealers: 1, members: 1, docker_host: \"tcp://127.0.0.1:{port}\", insecure: true, advertise: \"{gw}\"}}\n"
    ));
    net.ok(&["image", "build", "--version", "1.13.15"]);
    net.ok(&["up", "--runtime", "docker", "--no-deploy"]);
    let st = net.status();
    let nodes = st["nodes"].as_array().unwrap();
    assert!(nodes.iter().all(|n| n["up"] == true), "{st}");
    let urls: Vec<String> = nodes
        .iter()
        .filter_map(|n| n["rpc"].as_str().map(str::to_string))
        .collect();
    let h = heights(&urls);
    wait_advancing_and_agreeing(&net, &urls, *h.iter().max().unwrap());

    // The gateways peer through the advertised address and the published
    // devp2p port, not through a shared Docker network.
    let state = net.state("mcmulti");
    let south_gw_p2p = state["plan"]["nodes"][2]["ports"]["p2p"].as_u64().unwrap();
    let printed = attach(
        &d,
        "mcmulti-north-sealer-0",
        "console.log(JSON.stringify(admin.peers))",
    );
    let peers: Value = serde_json::from_str(printed.lines().next().unwrap()).unwrap();
    let remote: Vec<&str> = peers
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["network"]["remoteAddress"].as_str())
        .collect();
    assert!(
        remote.contains(&format!("{gw}:{south_gw_p2p}").as_str()),
        "north's gateway should reach south's at {gw}:{south_gw_p2p}: {remote:?}"
    );
    block_on(async {
        let c = d
            .inspect_container("mcmulti-south-sealer-0", None)
            .await
            .unwrap();
        let b = c.host_config.unwrap().port_bindings.unwrap();
        let p2p = b[&format!("{south_gw_p2p}/tcp")].clone().unwrap();
        assert_eq!(p2p[0].host_ip.as_deref(), Some(gw.as_str()));
        // Members publish no devp2p port: metrics, HTTP and WS only.
        let m = d
            .inspect_container("mcmulti-south-member-0", None)
            .await
            .unwrap();
        assert_eq!(m.host_config.unwrap().port_bindings.unwrap().len(), 3);
    });
    net.ok(&["down", "--purge"]);
    assert_eq!(labelled(&d, "mcmulti"), (0, 0, 0));
}
