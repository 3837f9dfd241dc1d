//! How a [`Plan`] maps onto Docker objects, as pure data: container,
//! network and volume names, labels, which networks each node joins, the
//! geth arguments inside the container, published ports and the health
//! check. The docker runtime and the compose export both read it, so a
//! network brought up by `up --runtime docker` and one started from the
//! exported compose file look the same.
//!
//! Layout (the published study's clusters): one bridge network per
//! hospital, plus a backbone network joined by the nodes that peer across
//! hospitals — each hospital's first node under `peering: gateway`, every
//! node under `peering: mesh`. JSON-RPC is published on 127.0.0.1 only;
//! devp2p stays inside the project's own networks.

use std::collections::BTreeMap;

use crate::plan::{self, ArgLayout, NodePlan, Plan};
use crate::topology::{Consensus, Peering};

/// Label every Docker object of a network carries: `status` and `down`
/// find containers, networks and volumes by it alone.
pub(crate) const LABEL_NETWORK: &str = "medchain.network";
/// Label naming the node a container or volume belongs to.
pub(crate) const LABEL_NODE: &str = "medchain.node";
/// Label naming the hospital of a container or network.
pub(crate) const LABEL_HOSPITAL: &str = "medchain.hospital";
/// Label naming the role of a container (`sealer`, `member`, `init`).
pub(crate) const LABEL_ROLE: &str = "medchain.role";

/// Where a node's volume is mounted inside its container.
pub(crate) const DATA_DIR: &str = "/data";
/// Where the shared ethash DAG is mounted (read-only).
pub(crate) const DAG_DIR: &str = "/dag";
/// Where geth lives in both the official and medchain's images.
pub(crate) const GETH_BIN: &str = "/usr/local/bin/geth";

/// Container name: `<network>-<hospital>-<role>-<i>`.
pub fn container_name(plan: &Plan, node: &NodePlan) -> String {
    format!("{}-{}", plan.topology.network, node.name)
}

/// Name of the one-shot container that runs `geth init` for a node.
pub(crate) fn init_container_name(plan: &Plan, node: &NodePlan) -> String {
    format!("{}-init", container_name(plan, node))
}

/// Named volume holding a node's datadir.
pub(crate) fn volume_name(plan: &Plan, node: &NodePlan) -> String {
    format!("{}-{}-data", plan.topology.network, node.name)
}

/// Bridge network of a hospital.
pub(crate) fn hospital_network(plan: &Plan, hospital: &str) -> String {
    format!("{}-{hospital}", plan.topology.network)
}

/// Backbone network joined by the nodes that peer across hospitals.
pub(crate) fn backbone_network(plan: &Plan) -> String {
    format!("{}-backbone", plan.topology.network)
}

/// Whether node `i` joins the backbone.
pub(crate) fn on_backbone(plan: &Plan, i: usize) -> bool {
    plan.topology.hospitals.len() > 1
        && (plan.topology.peering == Peering::Mesh || plan::is_gateway(&plan.nodes, i))
}

/// Networks node `i` joins, its hospital's first.
pub(crate) fn networks_of(plan: &Plan, i: usize) -> Vec<String> {
    let mut out = vec![hospital_network(plan, &plan.nodes[i].hospital)];
    if on_backbone(plan, i) {
        out.push(backbone_network(plan));
    }
    out
}

/// Every network the plan needs, each once.
pub(crate) fn all_networks(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = plan
        .topology
        .hospitals
        .iter()
        .map(|h| hospital_network(plan, &h.name))
        .collect();
    if (0..plan.nodes.len()).any(|i| on_backbone(plan, i)) {
        out.push(backbone_network(plan));
    }
    out
}

/// The network over which node `from` dials node `to`: their hospital's
/// when they share one, else the backbone (both are on it for every
/// planned cross-hospital edge).
pub(crate) fn shared_network(plan: &Plan, from: usize, to: usize) -> String {
    if plan.nodes[from].hospital == plan.nodes[to].hospital {
        hospital_network(plan, &plan.nodes[to].hospital)
    } else {
        backbone_network(plan)
    }
}

/// Labels of an object belonging to `node` (or to the network, when
/// `None`).
pub(crate) fn labels(
    plan: &Plan,
    node: Option<&NodePlan>,
    role: Option<&str>,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert(LABEL_NETWORK.to_string(), plan.topology.network.clone());
    if let Some(n) = node {
        l.insert(LABEL_NODE.to_string(), n.name.clone());
        l.insert(LABEL_HOSPITAL.to_string(), n.hospital.clone());
        l.insert(
            LABEL_ROLE.to_string(),
            role.map(str::to_string)
                .unwrap_or_else(|| n.role.to_string()),
        );
    }
    l
}

/// The image configured for a node's hospital (or the whole network), if
/// the topology names one.
pub(crate) fn configured_image<'a>(plan: &'a Plan, node: &NodePlan) -> Option<&'a str> {
    plan.topology
        .hospitals
        .iter()
        .find(|h| h.name == node.hospital)
        .and_then(|h| h.image.as_deref())
        .or(plan.topology.image.as_deref())
}

/// The Docker engine endpoint of a node's hospital (`None`: the local
/// default engine).
pub(crate) fn engine_of<'a>(plan: &'a Plan, hospital: &str) -> Option<&'a str> {
    plan.topology
        .hospitals
        .iter()
        .find(|h| h.name == hospital)
        .and_then(|h| h.docker_host.as_deref())
}

/// Host names node's HTTP JSON-RPC answers to in a container: `localhost`
/// (and, as always in geth, any IP literal: the host reaches it at
/// `127.0.0.1:<port>`, the health check at `127.0.0.1` inside) plus the
/// node's name, which the compose export's peering step dials
/// (`http://<node>:<port>`, Docker's DNS alias on the node's networks).
pub(crate) fn http_vhosts(node: &NodePlan) -> Vec<String> {
    vec!["localhost".into(), node.name.clone()]
}

/// geth's IPC socket inside a node's container: on its volume, never
/// published; medchain reaches it through the engine's exec.
pub(crate) fn ipc_path() -> String {
    format!("{DATA_DIR}/{}", plan::IPC_FILE)
}

/// geth's arguments inside the container: datadir and IPC socket on the
/// volume, client RPC (members) on every interface of the container
/// (published on the host's loopback only, answering only
/// [`http_vhosts`]), devp2p restricted to `netrestrict` (the subnets of
/// the network's Docker networks, and the advertised addresses of other
/// engines), the DAG from the shared read-only mount.
pub(crate) fn container_args(
    plan: &Plan,
    node: &NodePlan,
    netrestrict: Option<String>,
) -> Vec<String> {
    let layout = ArgLayout {
        datadir: DATA_DIR.into(),
        password: node
            .password_file
            .as_ref()
            .map(|_| format!("{DATA_DIR}/password")),
        dag_dir: DAG_DIR.into(),
        rpc_addr: "0.0.0.0".into(),
        ipc_path: ipc_path(),
        netrestrict,
        nat: "none".into(),
        http_vhosts: http_vhosts(node),
    };
    plan::geth_args(&plan.topology, node, &layout)
}

/// `--netrestrict` for the docker runtime and the compose export: the
/// `subnets` of the network's own Docker networks plus, for hospitals on
/// other engines, their advertised IP addresses (a DNS `advertise` cannot
/// be expressed as a network; its hospital then needs an IP to peer).
pub(crate) fn netrestrict(plan: &Plan, subnets: &[String]) -> Option<String> {
    let mut nets: Vec<String> = subnets.to_vec();
    for (i, _) in plan.nodes.iter().enumerate() {
        if !cross_engine(plan, i) {
            continue;
        }
        if let Some(ip) =
            advertised_address(plan, i).and_then(|a| a.parse::<std::net::IpAddr>().ok())
        {
            let net = match ip {
                std::net::IpAddr::V4(_) => format!("{ip}/32"),
                std::net::IpAddr::V6(_) => format!("{ip}/128"),
            };
            if !nets.contains(&net) {
                nets.push(net);
            }
        }
    }
    (!nets.is_empty()).then(|| nets.join(","))
}

/// The subnets the compose export gives its networks (Docker picks them
/// at `docker compose up`, too late for `--netrestrict`): one /24 per
/// network in `10.<b>.0.0/16`, `b` from the network's name so two exported
/// networks rarely collide (compose refuses an overlapping pool).
pub(crate) fn compose_subnets(plan: &Plan) -> Vec<(String, String)> {
    let h = plan
        .topology
        .network
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    let b = 64 + h % 128;
    all_networks(plan)
        .into_iter()
        .enumerate()
        .map(|(k, net)| (net, format!("10.{b}.{k}.0/24")))
        .collect()
}

/// Arguments of the one-shot `geth init` container.
pub(crate) fn init_args() -> Vec<String> {
    vec![
        "init".into(),
        "--datadir".into(),
        DATA_DIR.into(),
        format!("{DATA_DIR}/genesis.json"),
    ]
}

/// Whether node `i` peers with a node on another Docker engine.
pub(crate) fn cross_engine(plan: &Plan, i: usize) -> bool {
    let engine = |k: usize| engine_of(plan, &plan.nodes[k].hospital);
    plan.edges
        .iter()
        .filter(|e| e.from == i || e.to == i)
        .any(|e| engine(e.from) != engine(e.to))
}

/// The address nodes on other engines dial node `i` at (its hospital's
/// `advertise`, else the host of its `docker_host`).
pub(crate) fn advertised_address(plan: &Plan, i: usize) -> Option<String> {
    plan.topology
        .hospitals
        .iter()
        .find(|h| h.name == plan.nodes[i].hospital)
        .and_then(|h| h.address())
}

/// Ports published on the host, as (host address, port), each mapped to
/// the same port inside the container: every node's metrics and a
/// member's HTTP and WS JSON-RPC on loopback only (a sealer has no RPC); devp2p only for a node that peers
/// across engines, on its advertised address when that is an IP (else on
/// every interface).
pub(crate) fn published_ports(plan: &Plan, i: usize) -> Vec<(String, u16)> {
    let node = &plan.nodes[i];
    // Every node's metrics, loopback only.
    let mut out = vec![("127.0.0.1".to_string(), node.ports.metrics)];
    if node.serves_clients() {
        out.push(("127.0.0.1".to_string(), node.ports.http));
        out.push(("127.0.0.1".to_string(), node.ports.ws));
    }
    if cross_engine(plan, i) {
        let ip = advertised_address(plan, i)
            .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
            .unwrap_or_else(|| "0.0.0.0".into());
        out.push((ip, node.ports.p2p));
    }
    out
}

/// The enode URL node `from` dials to reach node `to`: by `to`'s address
/// on their shared network (filled in by the runtime from the engine)
/// when both run on one engine, else by `to`'s advertised address and
/// published devp2p port.
pub(crate) fn enode_across_engines(plan: &Plan, from: usize, to: usize) -> Option<String> {
    let engine = |k: usize| engine_of(plan, &plan.nodes[k].hospital);
    if engine(from) == engine(to) {
        return None;
    }
    let node = &plan.nodes[to];
    advertised_address(plan, to).map(|a| {
        format!(
            "enode://{}@{a}:{}",
            node.node_key.public_hex, node.ports.p2p
        )
    })
}

/// Health check: geth answers JSON-RPC on its IPC socket inside its
/// container (sealers have no RPC port). Every 30 s, as each check starts
/// a short-lived `geth attach`.
pub(crate) fn health_check(_node: &NodePlan) -> Vec<String> {
    vec![
        "CMD".into(),
        GETH_BIN.into(),
        "attach".into(),
        "--exec".into(),
        "eth.blockNumber".into(),
        ipc_path(),
    ]
}

/// Whether a node mounts the shared ethash DAG.
pub(crate) fn needs_dag(plan: &Plan, node: &NodePlan) -> bool {
    plan.topology.consensus == Consensus::Ethash && node.role == plan::Role::Sealer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan, PlanInputs};
    use crate::topology;

    fn demo(peering: &str) -> Plan {
        let topo = topology::parse(
            &format!(
                "network: demo\npeering: {peering}\nhospitals:\n  - {{name: a, sealers: 1, members: 1}}\n  - {{name: b, sealers: 1, members: 1}}\n  - {{name: c, sealers: 1, members: 1}}\n"
            ),
            "t.yaml",
        )
        .unwrap();
        let ports = crate::plan::test_ports(6);
        plan(
            &topo,
            &PlanInputs {
                key_source: crate::keys::KeySource::Seed(7),
                home: "/h".into(),
                ports,
                dag_dir: "/dag-cache".into(),
            },
        )
    }

    #[test]
    fn names_follow_network_hospital_role_index() {
        let p = demo("gateway");
        assert_eq!(container_name(&p, &p.nodes[3]), "demo-b-member-0");
        assert_eq!(volume_name(&p, &p.nodes[0]), "demo-a-sealer-0-data");
        assert_eq!(init_container_name(&p, &p.nodes[0]), "demo-a-sealer-0-init");
        assert_eq!(
            all_networks(&p),
            vec!["demo-a", "demo-b", "demo-c", "demo-backbone"]
        );
    }

    #[test]
    fn gateway_puts_only_first_nodes_on_the_backbone_and_every_edge_has_a_network() {
        let p = demo("gateway");
        let on: Vec<bool> = (0..6).map(|i| on_backbone(&p, i)).collect();
        assert_eq!(on, vec![true, false, true, false, true, false]);
        for e in &p.edges {
            let net = shared_network(&p, e.from, e.to);
            assert!(networks_of(&p, e.from).contains(&net), "{e:?}");
            assert!(networks_of(&p, e.to).contains(&net), "{e:?}");
        }
        let m = demo("mesh");
        assert!((0..6).all(|i| on_backbone(&m, i)));
        for e in &m.edges {
            let net = shared_network(&m, e.from, e.to);
            assert!(networks_of(&m, e.to).contains(&net));
        }
    }

    #[test]
    fn container_args_listen_inside_and_use_the_volume() {
        let p = demo("gateway");
        let sealer = container_args(&p, &p.nodes[0], None).join(" ");
        assert!(sealer.contains("--datadir /data "), "{sealer}");
        assert!(sealer.contains("--ipcpath /data/geth.ipc "), "{sealer}");
        assert!(sealer.contains("--password /data/password"), "{sealer}");
        assert!(!sealer.contains("--http"), "sealers open no RPC: {sealer}");
        let member = container_args(&p, &p.nodes[1], Some("10.1.0.0/24".into())).join(" ");
        assert!(member.contains("--http.addr 0.0.0.0"), "{member}");
        assert!(member.contains("--http.port 9002"), "{member}");
        assert!(member.contains("--netrestrict 10.1.0.0/24"), "{member}");
        assert!(!sealer.contains("--netrestrict"), "{sealer}");
        assert!(
            !member.contains("/h/") && !sealer.contains("/h/"),
            "no host path leaks in"
        );
        // Bare (geth ignores `--metrics=true`), inside the container on
        // every interface, published on the host's loopback only.
        assert!(
            sealer.contains("--metrics.addr 0.0.0.0 --metrics.port 33000 "),
            "{sealer}"
        );
        assert!(sealer.split(' ').any(|a| a == "--metrics"), "{sealer}");
        let lo = |port: u16| ("127.0.0.1".to_string(), port);
        assert_eq!(published_ports(&p, 0), vec![lo(33000)]);
        assert_eq!(published_ports(&p, 1), vec![lo(33001), lo(9002), lo(9003)]);
        assert!((0..6).all(|i| !cross_engine(&p, i)));
        assert_eq!(enode_across_engines(&p, 0, 2), None);
    }

    #[test]
    fn netrestrict_is_the_subnets_and_other_engines_advertised_ips() {
        let mut p = demo("gateway");
        assert_eq!(
            netrestrict(&p, &["172.18.0.0/16".into()]).as_deref(),
            Some("172.18.0.0/16")
        );
        p.topology.hospitals[2].docker_host = Some("tcp://10.0.0.9:2376".into());
        p.topology.hospitals[0].advertise = Some("10.0.0.5".into());
        p.topology.hospitals[1].advertise = Some("cairo.example".into());
        assert_eq!(
            netrestrict(&p, &["172.18.0.0/16".into()]).as_deref(),
            Some("172.18.0.0/16,10.0.0.5/32,10.0.0.9/32")
        );
        let subnets = compose_subnets(&p);
        assert_eq!(subnets.len(), 4);
        assert!(subnets
            .iter()
            .all(|(_, s)| s.starts_with("10.") && s.ends_with(".0/24")));
    }

    #[test]
    fn containers_check_host_and_origin_with_no_wildcard() {
        for peering in ["gateway", "mesh"] {
            let p = demo(peering);
            for n in &p.nodes {
                let args = container_args(&p, n, None);
                let got: Vec<(&str, &str)> = args
                    .windows(2)
                    .filter(|w| {
                        ["--http.vhosts", "--http.corsdomain", "--ws.origins"]
                            .contains(&w[0].as_str())
                    })
                    .map(|w| (w[0].as_str(), w[1].as_str()))
                    .collect();
                let vhosts = format!("localhost,{}", n.name);
                let want = match n.serves_clients() {
                    true => vec![
                        ("--http.vhosts", vhosts.as_str()),
                        ("--ws.origins", "http://localhost"),
                    ],
                    false => vec![],
                };
                assert_eq!(got, want, "{}", n.name);
                assert!(!args.iter().any(|a| a.contains('*')), "{args:?}");
            }
        }
        // The health check uses the IPC socket: no port, no vhost.
        let p = demo("gateway");
        assert_eq!(health_check(&p.nodes[0])[5], "/data/geth.ipc");
    }

    #[test]
    fn hospitals_on_other_engines_peer_through_advertised_published_ports() {
        let mut p = demo("gateway");
        p.topology.hospitals[2].docker_host = Some("tcp://10.0.0.9:2376".into());
        p.topology.hospitals[0].advertise = Some("10.0.0.5".into());
        p.topology.hospitals[1].advertise = Some("cairo.example".into());
        // Gateways peer across engines; members do not.
        let cross: Vec<bool> = (0..6).map(|i| cross_engine(&p, i)).collect();
        assert_eq!(cross, vec![true, false, true, false, true, false]);
        // After each node's loopback metrics port: devp2p where it peers
        // across engines.
        let ports = published_ports(&p, 4);
        assert_eq!(
            ports,
            vec![
                ("127.0.0.1".to_string(), 33004),
                ("10.0.0.9".to_string(), 31004)
            ]
        );
        assert_eq!(published_ports(&p, 2)[1].0, "0.0.0.0");
        assert_eq!(published_ports(&p, 0)[1].0, "10.0.0.5");
        assert_eq!(published_ports(&p, 1).len(), 3);
        let e = enode_across_engines(&p, 0, 4).unwrap();
        assert!(e.ends_with("@10.0.0.9:31004"), "{e}");
        let e = enode_across_engines(&p, 4, 2).unwrap();
        assert!(e.ends_with("@cairo.example:31002"), "{e}");
        assert_eq!(enode_across_engines(&p, 0, 2), None);
    }

    #[test]
    fn labels_name_network_and_node() {
        let p = demo("gateway");
        let l = labels(&p, Some(&p.nodes[1]), None);
        assert_eq!(l[LABEL_NETWORK], "demo");
        assert_eq!(l[LABEL_NODE], "a-member-0");
        assert_eq!(l[LABEL_ROLE], "member");
        assert_eq!(labels(&p, None, None).len(), 1);
    }
}
