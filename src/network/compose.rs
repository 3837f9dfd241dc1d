//! `medchain compose`: the network as a plain Compose project, so a
//! hospital can run it with `docker compose up -d` and no medchain.
//!
//! `compose/<network>/` receives the rendered genesis, node keys,
//! keystores and passwords (the same files `up` writes), and
//! `docker-compose.yml` with, per node, a one-shot `geth init` service and
//! the node's service (same image choice, arguments, networks, labels,
//! loopback-only member RPC and health check as the docker runtime); and
//! per node with peering edges, a one-shot peering step that runs once
//! every node is healthy: `geth attach` on the node's IPC socket through
//! the node's own volume (no network, no TCP port), trusting a member's
//! planned peers, `admin.addPeer` for its planned edges (by service name,
//! resolved by Docker's DNS), then starting a sealer's miner. Networks get
//! fixed subnets so `--netrestrict` can name them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Map, Value};

use super::compose_prometheus as prometheus;
use super::files::{load_topology, write_files};
use crate::geth;
use crate::keys::KeySource;
use crate::plan::{self, Plan, PlanInputs, Role};
use crate::ports;
use crate::runtime::container_plan as cp;
use crate::runtime::image;
use crate::state::State;

/// Where the node's exported files are mounted, read-only.
const CONFIG_DIR: &str = "/config";
/// First host port tried for the export's Prometheus.
const PROMETHEUS_PORT_BASE: u16 = 9090;

/// Writes the export for the topology in `file` under `out/<network>/`;
/// returns that directory. Keys are the test keys of `seed`, else of the
/// file's seed, else the running network's (so the export has the same
/// keys), else a fresh secret from the OS random generator; the
/// ports are that network's, else free ones found now (as `up` picks).
pub async fn export(
    home: &Path,
    file: &Path,
    out: &Path,
    seed: Option<u64>,
) -> anyhow::Result<PathBuf> {
    let topo = load_topology(file)?;
    let existing = State::load(home, &topo.network).ok();
    let key_source = match (seed.or(topo.seed), &existing) {
        (Some(s), _) => KeySource::Seed(s),
        (None, Some(state)) => state.plan.key_source.clone(),
        (None, None) => KeySource::new(None),
    };
    let out = std::path::absolute(out).with_context(|| format!("{}", out.display()))?;
    let ports = existing
        .as_ref()
        .map(|s| s.plan.nodes.iter().map(|n| n.ports).collect())
        .map(Ok)
        .unwrap_or_else(|| {
            // Reserved machine-wide like `up`'s, for as long as the export
            // directory exists: a network started from the export must not
            // collide with one `up` starts meanwhile.
            ports::Registry::machine().reserve(
                &out.join(&topo.network),
                plan::node_count(&topo),
                None,
            )
        })?;
    let plan = plan::plan(
        &topo,
        &PlanInputs {
            key_source,
            home: out.clone(),
            ports,
            dag_dir: geth::dag_dir(),
        },
    );
    write_files(&plan)?;
    prometheus::write_config(&plan)?;
    let path = plan.dir.join("docker-compose.yml");
    // Reserved with the export's nodes, so a network `up` starts later
    // does not take it.
    let prom = ports::Registry::machine().reserve_service(
        &out.join(&topo.network),
        "prometheus",
        PROMETHEUS_PORT_BASE,
    )?;
    let text = render(&plan, prom);
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(plan.dir)
}

/// A node's directory relative to the export directory.
fn rel(plan: &Plan, p: &Path) -> String {
    format!("./{}", p.strip_prefix(&plan.dir).unwrap_or(p).display())
}

/// geth arguments inside the compose container: the runtime's, with the
/// node key, keystore and password read from the read-only config mount.
fn compose_args(plan: &Plan, node: &plan::NodePlan) -> Vec<String> {
    let subnets: Vec<String> = cp::compose_subnets(plan)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let mut args = cp::container_args(plan, node, cp::netrestrict(plan, &subnets));
    if let Some(i) = args.iter().position(|a| a == "--password") {
        args[i + 1] = format!("{CONFIG_DIR}/password");
    }
    args.extend([
        "--nodekey".into(),
        format!("{CONFIG_DIR}/data/geth/nodekey"),
    ]);
    if node.password_file.is_some() {
        args.extend(["--keystore".into(), format!("{CONFIG_DIR}/data/keystore")]);
    }
    args
}

/// Flags joined with their values (`--unlock=0x…`): YAML 1.1 readers
/// such as docker-compose v1 would read a bare `0x…` as a number.
fn joined(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args.get(i + 1) {
            Some(v) if args[i].starts_with("--") && !v.starts_with("--") => {
                out.push(format!("{}={v}", args[i]));
                i += 2;
            }
            _ => {
                out.push(args[i].clone());
                i += 1;
            }
        }
    }
    out
}

/// The JavaScript the peering step runs on node `i` over its IPC socket:
/// a member trusts its planned peers (its `--maxpeers` is their number),
/// then its planned peers are added, then a sealer starts sealing.
fn peering_script(plan: &Plan, i: usize) -> String {
    let enode = |k: usize| {
        let to = &plan.nodes[k];
        format!(
            "enode://{}@{}:{}",
            to.node_key.public_hex, to.name, to.ports.p2p
        )
    };
    let mut js = Vec::new();
    let node = &plan.nodes[i];
    if node.role == Role::Member {
        for e in plan.edges.iter().filter(|e| e.from == i || e.to == i) {
            let other = if e.from == i { e.to } else { e.from };
            js.push(format!("admin.addTrustedPeer(\"{}\")", enode(other)));
        }
    }
    for e in plan.edges.iter().filter(|e| e.from == i) {
        js.push(format!("admin.addPeer(\"{}\")", enode(e.to)));
    }
    if node.role == Role::Sealer {
        // v1.11 takes a thread count, v1.13 none.
        let threads = match plan.geth {
            crate::geth::GethVersion::V1_13_15 => "",
            crate::geth::GethVersion::V1_11_6 => "1",
        };
        js.push(format!("miner.start({threads})"));
    }
    js.join("; ")
}

/// The sealer whose peering step runs last: on Clique the signer in turn
/// for block 1 (signers sorted by address), so the others are sealing —
/// and accept its block — when it seals at once (see `up`).
fn in_turn_sealer(plan: &Plan) -> Option<usize> {
    if plan.topology.consensus != crate::topology::Consensus::Clique {
        return None;
    }
    let mut sealers: Vec<usize> = (0..plan.nodes.len())
        .filter(|i| plan.nodes[*i].role == Role::Sealer)
        .collect();
    sealers.sort_by_key(|i| plan.nodes[*i].account.address);
    (sealers.len() > 1).then(|| sealers[1 % sealers.len()])
}

/// The compose file's text: per node an init service and the node's
/// service, then per node with something to do a peering service, the
/// Prometheus service (published on the host's `prometheus_port`), and
/// the networks and volumes they use, below a header saying how to run it.
pub(crate) fn render(plan: &Plan, prometheus_port: u16) -> String {
    let mut services = Map::new();
    let mut volumes = Map::new();
    let default_image = default_image(plan);
    for (i, n) in plan.nodes.iter().enumerate() {
        let img = cp::configured_image(plan, n)
            .map(str::to_string)
            .unwrap_or_else(|| default_image.clone());
        let volume = cp::volume_name(plan, n);
        let mounts = node_mounts(plan, n, &volume);
        volumes.insert(
            volume.clone(),
            json!({"labels": cp::labels(plan, Some(n), None)}),
        );
        let init = format!("{}-init", n.name);
        services.insert(init.clone(), init_service(plan, n, &img, &mounts));
        services.insert(n.name.clone(), node_service(plan, i, &img, &mounts, &init));
    }
    let healthy = all_healthy(plan);
    let last = in_turn_sealer(plan);
    for (i, n) in plan.nodes.iter().enumerate() {
        let script = peering_script(plan, i);
        if script.is_empty() {
            continue;
        }
        let mut deps = healthy.clone();
        if Some(i) == last {
            deps.extend(other_sealers_peered(plan, i));
        }
        services.insert(
            format!("peer-{}", n.name),
            peering_service(plan, i, &script, &default_image, &deps),
        );
    }
    services.insert(
        prometheus::SERVICE.into(),
        prometheus::service(plan, prometheus_port),
    );
    volumes.insert(
        prometheus::volume(plan),
        json!({"labels": cp::labels(plan, None, None)}),
    );
    let doc = json!({
        "services": services,
        "networks": compose_networks(plan),
        "volumes": volumes,
    });
    header(plan) + &serde_yaml::to_string(&doc).unwrap_or_default()
}

/// The image of services that name none of their own (peering steps, and
/// nodes without a configured image): the first node's configured image,
/// else medchain's local build tag.
fn default_image(plan: &Plan) -> String {
    cp::configured_image(plan, &plan.nodes[0])
        .map(str::to_string)
        .unwrap_or_else(|| image::local_tag(plan.geth))
}

/// A node's mounts, shared by its init and node services: its named
/// `volume` as the datadir, its exported files read-only at
/// [`CONFIG_DIR`], and the genesis.
fn node_mounts(plan: &Plan, n: &plan::NodePlan, volume: &str) -> Vec<Value> {
    let node_dir = n.datadir.parent().unwrap_or(&n.datadir);
    vec![
        json!(format!("{volume}:{}", cp::DATA_DIR)),
        json!(format!("{}:{CONFIG_DIR}:ro", rel(plan, node_dir))),
        json!("./genesis.json:/genesis.json:ro"),
    ]
}

/// The one-shot `geth init` service of node `n`, without a network.
fn init_service(plan: &Plan, n: &plan::NodePlan, img: &str, mounts: &[Value]) -> Value {
    json!({
        "image": img,
        "entrypoint": [cp::GETH_BIN],
        "command": ["init", "--datadir", cp::DATA_DIR, "/genesis.json"],
        "volumes": mounts,
        "network_mode": "none",
        "labels": cp::labels(plan, Some(n), Some("init")),
    })
}

/// Node `i`'s service: as the docker runtime runs it (arguments, networks
/// with the node's name as alias, loopback ports, labels, health check),
/// started once its `init` service has completed.
fn node_service(plan: &Plan, i: usize, img: &str, mounts: &[Value], init: &str) -> Value {
    let n = &plan.nodes[i];
    let networks: Map<String, Value> = cp::networks_of(plan, i)
        .into_iter()
        .map(|net| (net, json!({"aliases": [n.name]})))
        .collect();
    let ports: Vec<Value> = cp::published_ports(plan, i)
        .into_iter()
        .map(|(ip, p)| json!(format!("{ip}:{p}:{p}")))
        .collect();
    let test = cp::health_check(n);
    json!({
        "image": img,
        "container_name": cp::container_name(plan, n),
        "hostname": n.name,
        "entrypoint": [cp::GETH_BIN],
        "command": joined(&compose_args(plan, n)),
        "volumes": mounts,
        "networks": networks,
        "ports": ports,
        "stop_signal": "SIGINT",
        "stop_grace_period": "20s",
        "labels": cp::labels(plan, Some(n), None),
        "healthcheck": {"test": test, "interval": "5s", "timeout": "10s", "retries": 12},
        "depends_on": {init: {"condition": "service_completed_successfully"}},
    })
}

/// `depends_on` of the peering steps: every node's service healthy, so
/// every peer they add is listening.
fn all_healthy(plan: &Plan) -> Map<String, Value> {
    plan.nodes
        .iter()
        .map(|n| (n.name.clone(), json!({"condition": "service_healthy"})))
        .collect()
}

/// `depends_on` entries making a step wait for every other sealer's
/// peering step (which starts that sealer's miner) to complete.
fn other_sealers_peered(plan: &Plan, i: usize) -> Vec<(String, Value)> {
    plan.nodes
        .iter()
        .enumerate()
        .filter(|(k, n)| *k != i && n.role == Role::Sealer)
        .map(|(_, n)| {
            (
                format!("peer-{}", n.name),
                json!({"condition": "service_completed_successfully"}),
            )
        })
        .collect()
}

/// Node `i`'s one-shot peering step: `geth attach` on the node's IPC
/// socket, reached through the node's volume mounted at the same place
/// (no network at all), running `script` (see [`peering_script`]).
fn peering_service(
    plan: &Plan,
    i: usize,
    script: &str,
    img: &str,
    depends_on: &Map<String, Value>,
) -> Value {
    let n = &plan.nodes[i];
    json!({
        "image": img,
        "entrypoint": [cp::GETH_BIN],
        "command": ["attach", "--exec", script, cp::ipc_path()],
        "volumes": [format!("{}:{}", cp::volume_name(plan, n), cp::DATA_DIR)],
        "network_mode": "none",
        "labels": cp::labels(plan, Some(n), Some("peering")),
        "depends_on": depends_on,
    })
}

/// The compose file's `networks`: every network of the plan, under its
/// own name (not prefixed by the project) and labelled as medchain's.
fn compose_networks(plan: &Plan) -> Map<String, Value> {
    cp::compose_subnets(plan)
        .into_iter()
        .map(|(net, subnet)| {
            (
                net.clone(),
                json!({
                    "name": net,
                    "labels": cp::labels(plan, None, None),
                    "ipam": {"config": [{"subnet": subnet}]},
                }),
            )
        })
        .collect()
}

/// The comment lines at the top of the compose file.
fn header(plan: &Plan) -> String {
    format!(
        "# medchain network {} — generated by `medchain compose`; run: docker compose up -d\n\
         # Images are never pulled by medchain: build {} offline with `medchain image build`.\n",
        plan.topology.network,
        image::local_tag(plan.geth)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::NodePorts;
    use crate::topology;
    use std::collections::BTreeSet;

    /// Every node's service and its init service.
    fn service_names(plan: &Plan) -> BTreeSet<String> {
        let mut s: BTreeSet<String> = plan.nodes.iter().map(|n| n.name.clone()).collect();
        s.extend(plan.nodes.iter().map(|n| format!("{}-init", n.name)));
        s
    }

    fn demo() -> Plan {
        let topo = topology::parse(
            "network: demo\npeering: gateway\nhospitals:\n  - {name: a, sealers: 1, members: 1}\n  - {name: b, sealers: 1, members: 1}\n",
            "t.yaml",
        )
        .unwrap();
        plan::plan(
            &topo,
            &PlanInputs {
                key_source: crate::keys::KeySource::Seed(3),
                home: "/out".into(),
                ports: (0..4u16)
                    .map(|i| NodePorts {
                        http: 8545 + 2 * i,
                        ws: 8546 + 2 * i,
                        p2p: 30303 + i,
                        authrpc: 18551 + i,
                        metrics: 6060 + i,
                    })
                    .collect(),
                dag_dir: "/dag".into(),
            },
        )
    }

    /// The `command` of service `name`, as strings.
    fn command<'a>(y: &'a serde_yaml::Value, name: &str) -> Vec<&'a str> {
        y["services"][name]["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    #[test]
    fn compose_has_init_node_and_peering_services_with_loopback_ports() {
        let p = demo();
        let y: serde_yaml::Value = serde_yaml::from_str(&render(&p, 9090)).unwrap();
        let services = y["services"].as_mapping().unwrap();
        for name in service_names(&p) {
            assert!(services.contains_key(name.as_str()), "{name}");
        }
        let node = &y["services"]["a-sealer-0"];
        assert_eq!(node["container_name"], "demo-a-sealer-0");
        // A sealer publishes only its metrics; a member also its RPC; all
        // on the host's loopback.
        let m = p.nodes[0].ports.metrics;
        assert_eq!(
            node["ports"],
            serde_yaml::to_value([format!("127.0.0.1:{m}:{m}")]).unwrap()
        );
        let member_ports = y["services"]["a-member-0"]["ports"].as_sequence().unwrap();
        assert!(
            member_ports.iter().any(|v| v == "127.0.0.1:8547:8547"),
            "{member_ports:?}"
        );
        assert!(member_ports
            .iter()
            .all(|v| v.as_str().unwrap().starts_with("127.0.0.1:")));
        // geth ignores `--metrics=true`: the flag must stay bare.
        let cmd = command(&y, "a-member-0");
        assert!(cmd.contains(&"--metrics"), "{cmd:?}");
        assert!(cmd.contains(&"--metrics.addr=0.0.0.0"), "{cmd:?}");
        assert_eq!(node["labels"]["medchain.network"], "demo");
        let cmd = command(&y, "a-sealer-0");
        assert!(cmd.contains(&"--password=/config/password"), "{cmd:?}");
        assert!(cmd.iter().any(|a| a.starts_with("--unlock=0x")), "{cmd:?}");
        assert!(cmd.contains(&"--nodiscover"), "{cmd:?}");
        assert!(cmd.iter().any(|a| a.starts_with("--nodekey=")));
        // Gateways join the backbone; members stay in their hospital.
        assert!(node["networks"]["demo-backbone"].is_mapping());
        assert!(y["services"]["a-member-0"]["networks"]["demo-backbone"].is_null());
        let peer = &y["services"]["peer-a-sealer-0"];
        let script = peer["command"][2].as_str().unwrap();
        assert!(script.contains("@a-member-0:"), "{script}");
        assert!(script.contains("@b-sealer-0:"), "{script}");
        assert!(script.ends_with("miner.start()"), "{script}");
        let member = y["services"]["peer-a-member-0"]["command"][2]
            .as_str()
            .unwrap();
        assert!(
            member.starts_with("admin.addTrustedPeer(\"enode://"),
            "{member}"
        );
        assert!(!member.contains("miner"), "{member}");
        assert_eq!(y["networks"]["demo-a"]["name"], "demo-a");
    }

    #[test]
    fn compose_peers_over_ipc_on_the_volume_and_serves_clients_eth_net_web3_only() {
        let p = demo();
        let text = render(&p, 9090);
        let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let subnets: Vec<String> = cp::compose_subnets(&p)
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        for n in &p.nodes {
            let cmd = command(&y, &n.name);
            assert!(!cmd.contains(&"--allow-insecure-unlock"), "{cmd:?}");
            let apis: Vec<&str> = cmd
                .iter()
                .copied()
                .filter(|a| a.starts_with("--http.api=") || a.starts_with("--ws.api="))
                .collect();
            let rpc = cmd.contains(&"--http") || cmd.contains(&"--ws");
            assert_eq!(rpc, n.serves_clients(), "{}: {cmd:?}", n.name);
            match rpc {
                true => {
                    assert_eq!(apis, ["--http.api=eth,net,web3", "--ws.api=eth,net,web3"]);
                    assert!(!cmd.iter().any(|a| a.starts_with("--unlock")), "{cmd:?}");
                }
                false => assert!(apis.is_empty(), "{cmd:?}"),
            }
            let restrict = format!("--netrestrict={}", subnets.join(","));
            assert!(cmd.contains(&restrict.as_str()), "{cmd:?}");
            assert!(cmd.contains(&"--ipcpath=/data/geth.ipc"), "{cmd:?}");
            let peer = &y["services"][format!("peer-{}", n.name).as_str()];
            assert_eq!(peer["command"][3], "/data/geth.ipc");
            assert_eq!(peer["network_mode"], "none", "no TCP for control");
            assert_eq!(
                peer["volumes"][0],
                format!("{}:/data", cp::volume_name(&p, n)).as_str()
            );
        }
        for (net, subnet) in cp::compose_subnets(&p) {
            assert_eq!(
                y["networks"][net.as_str()]["ipam"]["config"][0]["subnet"],
                subnet.as_str()
            );
        }
        // The signer in turn for block 1 starts last: its step waits for
        // the other sealer's.
        let last = in_turn_sealer(&p).unwrap();
        let other = if last == 0 { 2 } else { 0 };
        let deps = &y["services"][format!("peer-{}", p.nodes[last].name).as_str()]["depends_on"];
        assert_eq!(
            deps[format!("peer-{}", p.nodes[other].name).as_str()]["condition"],
            "service_completed_successfully"
        );
    }

    #[test]
    fn compose_nodes_answer_only_their_own_names_and_no_wildcard_origin() {
        let p = demo();
        let text = render(&p, 9090);
        let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        for n in &p.nodes {
            let cmd = command(&y, &n.name);
            let checks: Vec<&str> = cmd
                .iter()
                .copied()
                .filter(|a| {
                    ["--http.vhosts=", "--http.corsdomain=", "--ws.origins="]
                        .iter()
                        .any(|f| a.starts_with(f))
                })
                .collect();
            let vhosts = format!("--http.vhosts=localhost,{}", n.name);
            let want = match n.serves_clients() {
                true => vec![vhosts.as_str(), "--ws.origins=http://localhost"],
                false => vec![],
            };
            assert_eq!(checks, want, "{}", n.name);
        }
        for flag in ["vhosts", "corsdomain", "origins"] {
            assert!(!text.contains(&format!("{flag}=*")), "{flag}: {text}");
            assert!(!text.contains(&format!("{flag}=\"*")), "{flag}: {text}");
        }
        assert!(!text.contains('*'), "no wildcard anywhere: {text}");
    }

    #[test]
    fn compose_prometheus_scrapes_every_node_as_monitor_start_does() {
        let p = demo();
        let y: serde_yaml::Value = serde_yaml::from_str(&render(&p, 9191)).unwrap();
        let svc = &y["services"]["prometheus"];
        assert_eq!(svc["ports"][0], "127.0.0.1:9191:9090");
        assert_eq!(
            svc["profiles"][0], "monitoring",
            "opt-in: its image is pulled"
        );
        assert_eq!(svc["volumes"][0], "./prometheus:/etc/prometheus:ro");
        let nets: Vec<&str> = svc["networks"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        for (net, _) in cp::compose_subnets(&p) {
            assert!(nets.contains(&net.as_str()), "{net} missing: {nets:?}");
        }
        assert!(y["volumes"]["demo-prometheus-data"].is_mapping());
        let cmd = svc["command"].as_sequence().unwrap();
        assert!(cmd
            .iter()
            .any(|a| a == "--storage.tsdb.retention.size=512MB"));
        assert!(!cmd.iter().any(|a| a.as_str().unwrap().contains("enable")));

        // The same configuration as `monitor start`, each node by its
        // service name.
        let compose: serde_yaml::Value =
            serde_yaml::from_str(&super::prometheus::render_config(&p)).unwrap();
        let host: serde_yaml::Value =
            serde_yaml::from_str(&crate::monitor::config::render(&p)).unwrap();
        let targets = compose["scrape_configs"][0]["static_configs"]
            .as_sequence()
            .unwrap();
        for (i, n) in p.nodes.iter().enumerate() {
            let want = format!("{}:{}", n.name, n.ports.metrics);
            assert_eq!(targets[i]["targets"][0], want.as_str());
            assert_eq!(
                targets[i]["labels"],
                host["scrape_configs"][0]["static_configs"][i]["labels"]
            );
        }
        let mut same = compose.clone();
        same["scrape_configs"][0]["static_configs"] =
            host["scrape_configs"][0]["static_configs"].clone();
        assert_eq!(same, host, "only the node addresses differ");
    }
}
