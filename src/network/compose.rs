//! `medchain compose`: the network as a plain Compose project, so a
//! hospital can run it with `docker compose up -d` and no medchain.
//!
//! `compose/<network>/` receives the rendered genesis, node keys,
//! keystores and passwords (the same files `up` writes), and
//! `docker-compose.yml` with, per node, a one-shot `geth init` service and
//! the node's service (same image choice, arguments, networks, labels,
//! loopback-only RPC and health check as the docker runtime); and per node
//! with peering edges, a one-shot peering step that runs once every node
//! is healthy: `admin.addPeer` for its planned edges (by service name,
//! resolved by Docker's DNS), then starts sealing.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::{json, Map, Value};

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
        .unwrap_or_else(|| ports::allocate(plan::node_count(&topo), &BTreeSet::new()))?;
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
    let path = plan.dir.join("docker-compose.yml");
    let text = render(&plan);
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
    let mut args = cp::container_args(plan, node);
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

/// The JavaScript the peering step runs on node `i`: its planned peers,
/// then sealing (members of a Clique network start and stop the miner once
/// so geth 1.13 marks them synced).
fn peering_script(plan: &Plan, i: usize) -> String {
    let mut js = Vec::new();
    for e in plan.edges.iter().filter(|e| e.from == i) {
        let to = &plan.nodes[e.to];
        js.push(format!(
            "admin.addPeer(\"enode://{}@{}:{}\")",
            to.node_key.public_hex, to.name, to.ports.p2p
        ));
    }
    let node = &plan.nodes[i];
    let threads = if plan.geth.members_start_miner_once() {
        ""
    } else {
        "1"
    };
    match node.role {
        Role::Sealer => js.push(format!("miner.start({threads})")),
        Role::Member if plan.geth.members_start_miner_once() => {
            js.push("miner.start()".into());
            js.push("miner.stop()".into());
        }
        Role::Member => {}
    }
    js.join("; ")
}

/// The compose file's text: per node an init service and the node's
/// service, then per node with something to do a peering service, and the
/// networks and volumes they use, below a header saying how to run it.
pub(crate) fn render(plan: &Plan) -> String {
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
    for (i, n) in plan.nodes.iter().enumerate() {
        let script = peering_script(plan, i);
        if script.is_empty() {
            continue;
        }
        services.insert(
            format!("peer-{}", n.name),
            peering_service(plan, i, &script, &default_image, &healthy),
        );
    }
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

/// Node `i`'s one-shot peering step: `geth attach` to the node over its
/// networks, running `script` (see [`peering_script`]).
fn peering_service(
    plan: &Plan,
    i: usize,
    script: &str,
    img: &str,
    healthy: &Map<String, Value>,
) -> Value {
    let n = &plan.nodes[i];
    json!({
        "image": img,
        "entrypoint": [cp::GETH_BIN],
        "command": ["attach", "--exec", script, format!("http://{}:{}", n.name, n.ports.http)],
        "networks": cp::networks_of(plan, i),
        "labels": cp::labels(plan, Some(n), Some("peering")),
        "depends_on": healthy,
    })
}

/// The compose file's `networks`: every network of the plan, under its
/// own name (not prefixed by the project) and labelled as medchain's.
fn compose_networks(plan: &Plan) -> Map<String, Value> {
    cp::all_networks(plan)
        .into_iter()
        .map(|net| {
            (
                net.clone(),
                json!({"name": net, "labels": cp::labels(plan, None, None)}),
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
                    })
                    .collect(),
                dag_dir: "/dag".into(),
            },
        )
    }

    #[test]
    fn compose_has_init_node_and_peering_services_with_loopback_ports() {
        let p = demo();
        let y: serde_yaml::Value = serde_yaml::from_str(&render(&p)).unwrap();
        let services = y["services"].as_mapping().unwrap();
        for name in service_names(&p) {
            assert!(services.contains_key(name.as_str()), "{name}");
        }
        let node = &y["services"]["a-sealer-0"];
        assert_eq!(node["container_name"], "demo-a-sealer-0");
        assert_eq!(node["ports"][0], "127.0.0.1:8545:8545");
        assert_eq!(node["labels"]["medchain.network"], "demo");
        let cmd: Vec<&str> = node["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(cmd.contains(&"--password=/config/password"), "{cmd:?}");
        assert!(cmd.iter().any(|a| a.starts_with("--unlock=0x")), "{cmd:?}");
        assert!(cmd.contains(&"--nodiscover"), "{cmd:?}");
        assert!(cmd.iter().any(|a| a.starts_with("--nodekey=")));
        // Gateways join the backbone; members stay in their hospital.
        assert!(node["networks"]["demo-backbone"].is_mapping());
        assert!(y["services"]["a-member-0"]["networks"]["demo-backbone"].is_null());
        let peer = y["services"]["peer-a-sealer-0"]["command"][2]
            .as_str()
            .unwrap();
        assert!(peer.contains("@a-member-0:"), "{peer}");
        assert!(peer.contains("@b-sealer-0:"), "{peer}");
        assert!(peer.ends_with("miner.start()"), "{peer}");
        assert_eq!(y["networks"]["demo-a"]["name"], "demo-a");
    }

    #[test]
    fn compose_nodes_answer_only_their_own_names_and_no_wildcard_origin() {
        let p = demo();
        let text = render(&p);
        let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        for n in &p.nodes {
            let cmd: Vec<&str> = y["services"][n.name.as_str()]["command"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
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
            assert_eq!(
                checks,
                vec![vhosts.as_str(), "--ws.origins=http://localhost"],
                "{}",
                n.name
            );
            // The peering step dials the node by a name it answers to.
            if let Some(peer) = y["services"][format!("peer-{}", n.name).as_str()].as_mapping() {
                let url = peer[&serde_yaml::Value::from("command")][3]
                    .as_str()
                    .unwrap();
                assert_eq!(url, format!("http://{}:{}", n.name, n.ports.http));
            }
        }
        for flag in ["vhosts", "corsdomain", "origins"] {
            assert!(!text.contains(&format!("{flag}=*")), "{flag}: {text}");
            assert!(!text.contains(&format!("{flag}=\"*")), "{flag}: {text}");
        }
        assert!(!text.contains('*'), "no wildcard anywhere: {text}");
    }
}
