//! Topology → Plan: every node with its role, ports, directories, keys and
//! geth arguments, the rendered genesis, and the peering edges. Pure: the
//! only inputs besides the topology are the key source, the network's directory and
//! ports already known to be free, so `up --dry-run` prints exactly what
//! `up` will do.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::genesis::{self, Prefund};
use crate::geth::GethVersion;
use crate::keys::{KeyPair, KeySource};
use crate::topology::{Consensus, Peering, Topology};

/// What a node does in the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Clique signer or ethash miner.
    Sealer,
    /// Non-sealing full node.
    Member,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Sealer => "sealer",
            Role::Member => "member",
        })
    }
}

/// The ports one node listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePorts {
    /// JSON-RPC over HTTP (127.0.0.1); opened only on members (sealers
    /// serve no clients, see [`NodePlan::serves_clients`]).
    pub http: u16,
    /// JSON-RPC over WebSocket (127.0.0.1); members only, like `http`.
    pub ws: u16,
    /// devp2p TCP.
    pub p2p: u16,
    /// Engine API (unused by these chains, but geth always opens it).
    pub authrpc: u16,
    /// geth's metrics server (`/debug/metrics/prometheus`), loopback
    /// only (in Docker: published on the host's loopback); every node.
    /// 0 in a plan made before nodes served metrics: `up` then gives the
    /// network new ports.
    #[serde(default)]
    pub metrics: u16,
}

/// One planned node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodePlan {
    /// `<hospital>-<role>-<i>`.
    pub name: String,
    /// Hospital it belongs to.
    pub hospital: String,
    /// Sealer or member.
    pub role: Role,
    /// Index within its hospital and role.
    pub index: u64,
    /// Listening ports.
    pub ports: NodePorts,
    /// geth's data directory.
    pub datadir: PathBuf,
    /// Where the node's output goes.
    pub log: PathBuf,
    /// Keystore password file: Clique sealers only, the one account geth
    /// unlocks (members hold no keystore at all).
    pub password_file: Option<PathBuf>,
    /// Key whose public half is the enode ID.
    pub node_key: KeyPair,
    /// The node's own account: etherbase, and Clique signer for sealers.
    pub account: KeyPair,
    /// `--maxpeers` of a member with fewer than [`SYNC_PEERS`] planned
    /// peers: exactly that number (see [`member_args`]); `None`: geth's
    /// default.
    #[serde(default)]
    pub max_peers: Option<usize>,
    /// geth arguments after the binary (datadir, ports, APIs, sealing).
    pub args: Vec<String>,
}

impl NodePlan {
    /// Whether the node publishes client endpoints (HTTP and WS JSON-RPC,
    /// `eth,net,web3` only): members do; sealers open no RPC port at all
    /// and are driven over geth's IPC socket.
    pub fn serves_clients(&self) -> bool {
        self.role == Role::Member
    }

    /// HTTP JSON-RPC endpoint; `None` on a sealer (no TCP RPC).
    pub fn rpc_url(&self) -> Option<String> {
        self.serves_clients()
            .then(|| format!("http://127.0.0.1:{}", self.ports.http))
    }

    /// Prometheus metrics endpoint (every node; `None` in a plan made
    /// before nodes served metrics).
    pub fn metrics_url(&self) -> Option<String> {
        (self.ports.metrics != 0).then(|| {
            format!(
                "http://127.0.0.1:{}/debug/metrics/prometheus",
                self.ports.metrics
            )
        })
    }

    /// WebSocket JSON-RPC endpoint; `None` on a sealer.
    pub fn ws_url(&self) -> Option<String> {
        self.serves_clients()
            .then(|| format!("ws://127.0.0.1:{}", self.ports.ws))
    }

    /// geth's IPC socket on the host (process runtime): inside the node's
    /// 0700 directory, so only its owner can connect.
    pub fn ipc_path(&self) -> PathBuf {
        self.datadir.join(IPC_FILE)
    }

    /// The enode URL peers use to reach this node on loopback.
    pub fn enode(&self) -> String {
        format!(
            "enode://{}@127.0.0.1:{}",
            self.node_key.public_hex, self.ports.p2p
        )
    }
}

/// A planned peering: `from` calls `admin_addPeer` with `to`'s enode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Index of the node that adds the peer.
    pub from: usize,
    /// Index of the node being added.
    pub to: usize,
}

/// Everything `up` will do, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The validated topology this plan came from.
    pub topology: Topology,
    /// geth release that runs this network.
    pub geth: GethVersion,
    /// Where every key derives from (a test seed or the network's secret;
    /// older state files call it `seed`).
    #[serde(alias = "seed")]
    pub key_source: KeySource,
    /// The network's directory (`$MEDCHAIN_HOME/<network>`).
    pub dir: PathBuf,
    /// Where the rendered genesis is written.
    pub genesis_path: PathBuf,
    /// The rendered genesis.
    pub genesis: serde_json::Value,
    /// Nodes, hospital by hospital, sealers before members.
    pub nodes: Vec<NodePlan>,
    /// Peering edges.
    pub edges: Vec<Edge>,
    /// Prefunded test accounts; the first deploys the contracts (admin).
    pub accounts: Vec<KeyPair>,
    /// Each hospital's institutional account, registered in MedicalRecords.
    pub hospital_keys: Vec<(String, KeyPair)>,
    /// Per-network salt of patient ids (`keccak256(salt ‖ ssn)`).
    pub patient_salt: alloy::primitives::B256,
    /// Shared ethash DAG directory (ethash only).
    pub dag_dir: Option<PathBuf>,
}

/// Inputs besides the topology; everything impure was resolved before.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// Where keys derive from.
    pub key_source: KeySource,
    /// `$MEDCHAIN_HOME`.
    pub home: PathBuf,
    /// Free ports, one set per node in plan order.
    pub ports: Vec<NodePorts>,
    /// Shared ethash DAG directory.
    pub dag_dir: PathBuf,
}

/// The only APIs a client endpoint (HTTP or WS) serves: no admin, debug,
/// miner, clique, txpool or personal, which would hand the node to anyone
/// who reaches the port. medchain's own control goes over IPC.
pub const CLIENT_APIS: &str = "eth,net,web3";

/// File name of geth's IPC socket in a node's datadir.
pub const IPC_FILE: &str = "geth.ipc";

/// The longest unix socket path the kernel accepts (`sun_path` is 108
/// bytes with the terminating NUL on Linux).
pub const MAX_IPC_PATH: usize = 107;

/// Number of nodes a topology plans, so callers can allocate ports first.
pub(crate) fn node_count(topo: &Topology) -> usize {
    topo.node_count() as usize
}

/// Builds the plan. `inputs.ports` must hold one entry per node.
pub fn plan(topo: &Topology, inputs: &PlanInputs) -> Plan {
    assert_eq!(
        inputs.ports.len(),
        node_count(topo),
        "one port set per planned node"
    );
    let dir = inputs.home.join(&topo.network);
    let geth = GethVersion::for_consensus(topo.consensus);
    let keys = &inputs.key_source;
    let mut nodes = plan_nodes(topo, inputs, &dir);
    let (edges, max_peers) = orient(&nodes, &edges(topo.peering, &nodes));
    for i in 0..nodes.len() {
        nodes[i].max_peers = max_peers[i];
        nodes[i].args = geth_args(
            topo,
            &nodes[i],
            &ArgLayout::process(&nodes[i], &inputs.dag_dir),
        );
    }
    let accounts: Vec<KeyPair> = (0..topo.accounts)
        .map(|i| keys.derive(&format!("dev/{i}")))
        .collect();
    let hospital_keys: Vec<(String, KeyPair)> = topo
        .hospitals
        .iter()
        .map(|h| (h.name.clone(), keys.derive(&format!("hospital/{}", h.name))))
        .collect();
    let alloc = prefunds(topo, &accounts, &nodes, &hospital_keys);
    let signers: Vec<Address> = nodes
        .iter()
        .filter(|n| n.role == Role::Sealer)
        .map(|n| n.account.address)
        .collect();

    Plan {
        genesis: genesis::render(topo, &signers, &alloc),
        genesis_path: dir.join("genesis.json"),
        edges,
        dag_dir: (topo.consensus == Consensus::Ethash).then(|| inputs.dag_dir.clone()),
        topology: topo.clone(),
        geth,
        key_source: keys.clone(),
        dir,
        nodes,
        accounts,
        hospital_keys,
        patient_salt: keys.derive("patient-salt").secret,
    }
}

/// Every node, hospital by hospital, sealers before members, each with the
/// next port set of `inputs` and its files under `dir/nodes/<name>`.
fn plan_nodes(topo: &Topology, inputs: &PlanInputs, dir: &Path) -> Vec<NodePlan> {
    let mut nodes = Vec::new();
    for h in &topo.hospitals {
        for (role, count) in [(Role::Sealer, h.sealers), (Role::Member, h.members)] {
            for index in 0..count {
                let ports = inputs.ports[nodes.len()];
                nodes.push(plan_node(topo, inputs, dir, &h.name, role, index, ports));
            }
        }
    }
    nodes
}

/// One node: its name, keys derived from the seed and that name and its
/// directories; [`plan`] fills in its peers and geth arguments.
fn plan_node(
    topo: &Topology,
    inputs: &PlanInputs,
    dir: &Path,
    hospital: &str,
    role: Role,
    index: u64,
    ports: NodePorts,
) -> NodePlan {
    let keys = &inputs.key_source;
    let name = format!("{hospital}-{role}-{index}");
    let node_dir = dir.join("nodes").join(&name);
    // Only Clique sealers hold a keystore (unlocked by geth to sign
    // blocks); members hold no account at all.
    let password_file = (topo.consensus == Consensus::Clique && role == Role::Sealer)
        .then(|| node_dir.join("password"));
    NodePlan {
        node_key: keys.derive(&format!("node/{name}")),
        account: keys.derive(&format!("account/{name}")),
        datadir: node_dir.join("data"),
        log: node_dir.join("geth.log"),
        name,
        hospital: hospital.to_string(),
        role,
        index,
        ports,
        password_file,
        max_peers: None,
        args: Vec::new(),
    }
}

/// The first node whose IPC socket path is too long for a unix socket,
/// with that path: `up` refuses such a plan before creating anything.
pub fn ipc_path_too_long(plan: &Plan) -> Option<(&NodePlan, PathBuf)> {
    plan.nodes
        .iter()
        .map(|n| (n, n.ipc_path()))
        .find(|(_, p)| p.as_os_str().len() > MAX_IPC_PATH)
}

/// The genesis allocation: each test account gets the topology's balance,
/// each node's and each hospital's account 1000 ether.
fn prefunds(
    topo: &Topology,
    accounts: &[KeyPair],
    nodes: &[NodePlan],
    hospital_keys: &[(String, KeyPair)],
) -> Vec<Prefund> {
    let wei = U256::from(topo.account_balance_eth) * U256::from(10u64).pow(U256::from(18u64));
    let mut alloc: Vec<Prefund> = accounts
        .iter()
        .map(|k| Prefund {
            address: k.address,
            wei,
        })
        .collect();
    alloc.extend(
        nodes
            .iter()
            .map(|n| n.account.address)
            .chain(hospital_keys.iter().map(|(_, k)| k.address))
            .map(|address| Prefund {
                address,
                wei: U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64)),
            }),
    );
    alloc
}

/// Where a node's files are and which addresses it uses, as the geth
/// process sees them: host paths and loopback for the process runtime,
/// paths inside the container and the container's interfaces for Docker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgLayout {
    /// `--datadir`.
    pub datadir: String,
    /// `--password` (Clique).
    pub password: Option<String>,
    /// `--ethash.dagdir` (ethash sealers).
    pub dag_dir: String,
    /// Address HTTP and WebSocket JSON-RPC listen on (members).
    pub rpc_addr: String,
    /// `--ipcpath`: geth's IPC socket, medchain's control channel.
    pub ipc_path: String,
    /// `--netrestrict`: the only networks peers may come from.
    pub netrestrict: Option<String>,
    /// `--nat`: the address geth advertises (`none`, or `extip:<ip>`).
    pub nat: String,
    /// `--http.vhosts`: the host names the HTTP JSON-RPC answers to (geth
    /// always answers IP-literal Host headers). Never `*`: a web page could
    /// then reach the node's accounts through DNS rebinding.
    pub http_vhosts: Vec<String>,
}

impl ArgLayout {
    /// A local process: host paths, everything on loopback.
    pub fn process(node: &NodePlan, dag_dir: &Path) -> Self {
        Self {
            datadir: node.datadir.display().to_string(),
            password: node.password_file.as_ref().map(|p| p.display().to_string()),
            dag_dir: dag_dir.display().to_string(),
            rpc_addr: "127.0.0.1".into(),
            ipc_path: node.ipc_path().display().to_string(),
            netrestrict: Some("127.0.0.1/32".into()),
            nat: "none".into(),
            http_vhosts: vec!["localhost".into()],
        }
    }
}

/// `--ws.origins`: the only browser origin whose pages may open the
/// WebSocket JSON-RPC (clients that send no Origin, i.e. every non-browser
/// tool, are not affected). Geth's default adds `http://<hostname>`.
pub(crate) const WS_ORIGINS: &str = "http://localhost";

/// geth's arguments for one node. Every node: IPC socket at the layout's
/// path (medchain's only control channel), devp2p restricted to the
/// layout's networks, no discovery, full sync, sealing set up but not
/// started (peering comes first, then `miner_start` over IPC, so no sealer
/// builds a lonely fork).
///
/// Members serve clients: HTTP and WS JSON-RPC on the layout's address
/// with [`CLIENT_APIS`] only, answering only the layout's host names and
/// browser pages from localhost (no `--http.corsdomain`: geth then sends
/// no CORS headers). They hold no account, and take at most their planned
/// peers (see [`member_args`]).
///
/// Sealers open no RPC port: a Clique sealer unlocks its signing account
/// with `--unlock`/`--password`, which geth allows only when no HTTP/WS
/// endpoint is open (`--allow-insecure-unlock` is never used).
pub(crate) fn geth_args(topo: &Topology, node: &NodePlan, layout: &ArgLayout) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |k: &str, v: String| {
        a.push(k.to_string());
        a.push(v);
    };
    push("--datadir", layout.datadir.clone());
    push("--ipcpath", layout.ipc_path.clone());
    push("--networkid", topo.chain_id.to_string());
    push("--port", node.ports.p2p.to_string());
    push("--nat", layout.nat.clone());
    if let Some(net) = &layout.netrestrict {
        push("--netrestrict", net.clone());
    }
    push("--syncmode", "full".into());
    push("--authrpc.addr", "127.0.0.1".into());
    push("--authrpc.port", node.ports.authrpc.to_string());
    push("--metrics.addr", layout.rpc_addr.clone());
    push("--metrics.port", node.ports.metrics.to_string());
    push("--miner.gaslimit", topo.gas_limit.to_string());
    push("--miner.etherbase", format!("{:#x}", node.account.address));
    // Starting the miner raises the pool's minimum tip to this price (1 gwei
    // by default), so remote peers would drop transactions whose tip was
    // estimated on empty blocks; a test network accepts any tip.
    push("--miner.gasprice", "1".into());
    push("--verbosity", "3".into());
    a.push("--nodiscover".into());
    // Bare: both pinned geth versions ignore `--metrics=true` (go-ethereum
    // #24178, #28118), and then serve no metrics at all.
    a.push("--metrics".into());
    match node.role {
        Role::Member => a.extend(member_args(node, layout)),
        Role::Sealer => a.extend(sealer_args(topo, node, layout)),
    }
    // Sealers run with geth's default limit; a sealer started again by a
    // fault gets one (`fault::apply`), so it syncs at its first peer.
    if let (Role::Sealer, Some(n)) = (node.role, node.max_peers) {
        a.push("--maxpeers".into());
        a.push(n.to_string());
    }
    a
}

/// A member's client endpoints and peer limit. geth v1.13 drops
/// propagated blocks until its first sync, which it starts as soon as it
/// has `min(5, maxpeers)` peers and one is ahead (else only 10 s after
/// start). A member with fewer than five planned peers therefore gets
/// `--maxpeers` equal to their number ([`orient`]), so it syncs the first
/// block it hears of without holding an account (the older way,
/// `miner_start`, needs one); `up` adds the planned peers as trusted so
/// none is turned away by the limit.
fn member_args(node: &NodePlan, layout: &ArgLayout) -> Vec<String> {
    let mut a: Vec<String> = vec!["--http".into(), "--ws".into()];
    let mut push = |k: &str, v: String| {
        a.push(k.to_string());
        a.push(v);
    };
    push("--http.addr", layout.rpc_addr.clone());
    push("--http.port", node.ports.http.to_string());
    push("--http.api", CLIENT_APIS.into());
    push("--http.vhosts", layout.http_vhosts.join(","));
    push("--ws.addr", layout.rpc_addr.clone());
    push("--ws.port", node.ports.ws.to_string());
    push("--ws.api", CLIENT_APIS.into());
    push("--ws.origins", WS_ORIGINS.into());
    if let Some(n) = node.max_peers {
        push("--maxpeers", n.to_string());
    }
    a
}

/// A sealer's sealing set-up: the Clique signer's account unlocked from
/// its keystore, or the ethash miner's thread and shared DAG.
fn sealer_args(topo: &Topology, node: &NodePlan, layout: &ArgLayout) -> Vec<String> {
    match topo.consensus {
        Consensus::Clique => vec![
            "--unlock".into(),
            format!("{:#x}", node.account.address),
            "--password".into(),
            layout
                .password
                .clone()
                .expect("clique sealers have a password file"),
        ],
        Consensus::Ethash => vec![
            "--miner.threads".into(),
            "1".into(),
            "--ethash.dagdir".into(),
            layout.dag_dir.clone(),
        ],
    }
}

/// The plan of topology `yaml` under `home`, keys from seed 7 and ports
/// from 9000 (HTTP, WS), 31000 (devp2p), 32000 and 33000: for unit tests
/// that need a real plan but no network.
#[cfg(test)]
pub(crate) fn for_tests(yaml: &str, home: &std::path::Path) -> Plan {
    let topo = crate::topology::parse(yaml, "t.yaml").expect("test topology parses");
    let inputs = PlanInputs {
        key_source: KeySource::Seed(7),
        home: home.to_path_buf(),
        ports: test_ports(node_count(&topo)),
        dag_dir: "/dag".into(),
    };
    plan(&topo, &inputs)
}

/// `n` port sets for unit tests: HTTP and WS from 9000, devp2p from
/// 31000, auth RPC from 32000, metrics from 33000.
#[cfg(test)]
pub(crate) fn test_ports(n: usize) -> Vec<NodePorts> {
    (0..n as u16)
        .map(|i| NodePorts {
            http: 9000 + i * 2,
            ws: 9001 + i * 2,
            p2p: 31000 + i,
            authrpc: 32000 + i,
            metrics: 33000 + i,
        })
        .collect()
}

/// Peering edges for `pattern`; each unordered pair appears once.
pub fn edges(pattern: Peering, nodes: &[NodePlan]) -> Vec<Edge> {
    let mut out = Vec::new();
    for i in 0..nodes.len() {
        for j in (i + 1)..nodes.len() {
            let same_hospital = nodes[i].hospital == nodes[j].hospital;
            let gateways = is_gateway(nodes, i) && is_gateway(nodes, j);
            if pattern == Peering::Mesh || same_hospital || gateways {
                out.push(Edge { from: i, to: j });
            }
        }
    }
    out
}

/// Peers at which geth v1.13 starts syncing without waiting (its
/// `defaultMinSyncPeers`).
pub const SYNC_PEERS: usize = 5;

/// Who dials each edge, and each member's `--maxpeers`. A member with
/// fewer than [`SYNC_PEERS`] planned peers runs with `--maxpeers` equal to
/// their number, and geth then dials at most one peer itself
/// (`maxpeers / 3`, at least 1): sealers dial members, and each such
/// member dials at most one other member. A member that would have to
/// dial more keeps geth's default limit (it then syncs by geth's 10 s
/// timer: slower, never wrong).
pub(crate) fn orient(nodes: &[NodePlan], pairs: &[Edge]) -> (Vec<Edge>, Vec<Option<usize>>) {
    let degree = |i: usize| pairs.iter().filter(|e| e.from == i || e.to == i).count();
    let member = |i: usize| nodes[i].role == Role::Member;
    let mut limited: Vec<bool> = (0..nodes.len())
        .map(|i| member(i) && degree(i) < SYNC_PEERS)
        .collect();
    let mut dials = vec![0usize; nodes.len()];
    let mut out = Vec::new();
    for e in pairs {
        let (a, b) = (e.from, e.to);
        let from = match (limited[a], limited[b]) {
            (false, true) => a,
            (true, false) => b,
            (false, false) if member(a) && !member(b) => b,
            (false, false) => a,
            (true, true) if dials[a] == 0 => a,
            (true, true) if dials[b] == 0 => b,
            (true, true) => {
                limited[a] = false;
                a
            }
        };
        dials[from] += 1;
        let to = if from == a { b } else { a };
        out.push(Edge { from, to });
    }
    let max_peers = (0..nodes.len())
        .map(|i| limited[i].then(|| degree(i).max(1)))
        .collect();
    (out, max_peers)
}

/// Whether node `i` is the first node of its hospital.
pub(crate) fn is_gateway(nodes: &[NodePlan], i: usize) -> bool {
    nodes.iter().position(|n| n.hospital == nodes[i].hospital) == Some(i)
}

impl fmt::Display for Plan {
    /// The human-readable plan printed by `up --dry-run`. It shows no
    /// secret: not the seed every key derives from, no private key, no
    /// keystore password (addresses, enodes and file paths are public).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.topology;
        writeln!(
            f,
            "network {} — {} (geth {}), chain id {}, gas limit {}, peering {}",
            t.network, t.consensus, self.geth, t.chain_id, t.gas_limit, t.peering
        )?;
        writeln!(f, "keys: {}", self.key_source.describe())?;
        match t.consensus {
            Consensus::Clique => writeln!(f, "block period {} s", t.block_period)?,
            Consensus::Ethash => writeln!(
                f,
                "genesis difficulty {:#x}, shared DAG in {}",
                t.difficulty,
                self.dag_dir.as_deref().unwrap_or(Path::new("?")).display()
            )?,
        }
        writeln!(f, "directory {}", self.dir.display())?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<28} {:<12} {:<7} {:>6} {:>6} {:>6} {:>6} {:>7}  {:<42}",
            "NODE", "HOSPITAL", "ROLE", "HTTP", "WS", "P2P", "AUTH", "METRICS", "ACCOUNT"
        )?;
        for n in &self.nodes {
            // Sealers open no RPC port (IPC only).
            let rpc_port = |p: u16| match n.serves_clients() {
                true => p.to_string(),
                false => "-".into(),
            };
            writeln!(
                f,
                "{:<28} {:<12} {:<7} {:>6} {:>6} {:>6} {:>6} {:>7}  {:#x}",
                n.name,
                n.hospital,
                n.role,
                rpc_port(n.ports.http),
                rpc_port(n.ports.ws),
                n.ports.p2p,
                n.ports.authrpc,
                n.ports.metrics,
                n.account.address
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "peering ({} edges, admin_addPeer from → to):",
            self.edges.len()
        )?;
        for e in &self.edges {
            writeln!(
                f,
                "  {} → {}",
                self.nodes[e.from].name, self.nodes[e.to].name
            )?;
        }
        writeln!(f)?;
        writeln!(f, "geth commands:")?;
        for n in &self.nodes {
            let mut line = String::new();
            let _ = write!(line, "  [{}] geth {}", n.name, n.args.join(" "));
            writeln!(f, "{line}")?;
            writeln!(f, "      enode {}", n.enode())?;
        }
        writeln!(f)?;
        write!(
            f,
            "{} prefunded accounts ({} ETH each); keys are written to {} at `up`",
            self.accounts.len(),
            t.account_balance_eth,
            self.dir.join("keys.json").display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology;

    fn ports(n: usize) -> Vec<NodePorts> {
        test_ports(n)
    }

    fn make(yaml: &str) -> Plan {
        let t = topology::parse(yaml, "t").unwrap();
        let n = node_count(&t);
        plan(
            &t,
            &PlanInputs {
                key_source: crate::keys::KeySource::Seed(42),
                home: "/h".into(),
                ports: ports(n),
                dag_dir: "/dag".into(),
            },
        )
    }

    const THREE: &str =
        "network: n\npeering: gateway\nhospitals:\n - {name: a}\n - {name: b}\n - {name: c}\n";

    #[test]
    fn nodes_are_named_and_ordered() {
        let p = make(THREE);
        let names: Vec<_> = p.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a-sealer-0",
                "a-member-0",
                "b-sealer-0",
                "b-member-0",
                "c-sealer-0",
                "c-member-0"
            ]
        );
        assert_eq!(
            p.nodes[3].datadir,
            PathBuf::from("/h/n/nodes/b-member-0/data")
        );
    }

    #[test]
    fn gateway_peers_inside_hospitals_and_between_first_nodes() {
        let p = make(THREE);
        let pairs: Vec<_> = p.edges.iter().map(|e| (e.from, e.to)).collect();
        // a0-a1, a0-b0, a0-c0, b0-b1, b0-c0, c0-c1
        assert_eq!(pairs, [(0, 1), (0, 2), (0, 4), (2, 3), (2, 4), (4, 5)]);
    }

    #[test]
    fn every_node_serves_metrics_with_the_bare_flag_on_loopback() {
        let p = make(THREE);
        for n in &p.nodes {
            let a = &n.args;
            // geth ignores `--metrics=true`: only the bare flag works.
            assert!(a.iter().any(|x| x == "--metrics"), "{}: {a:?}", n.name);
            assert!(!a.iter().any(|x| x.starts_with("--metrics=")), "{a:?}");
            let after = |k: &str| a.iter().position(|x| x == k).map(|i| a[i + 1].as_str());
            assert_eq!(after("--metrics.addr"), Some("127.0.0.1"));
            assert_eq!(
                after("--metrics.port"),
                Some(n.ports.metrics.to_string().as_str())
            );
            assert_eq!(
                n.metrics_url(),
                Some(format!(
                    "http://127.0.0.1:{}/debug/metrics/prometheus",
                    n.ports.metrics
                ))
            );
        }
    }

    #[test]
    fn mesh_peers_every_pair() {
        let p = make("hospitals:\n - {name: a}\n - {name: b}\n");
        assert_eq!(p.edges.len(), 6);
    }

    #[test]
    fn same_seed_same_plan() {
        assert_eq!(make(THREE), make(THREE));
        let p = make(THREE);
        assert_ne!(p.nodes[0].node_key, p.nodes[1].node_key);
    }

    #[test]
    fn clique_sealers_unlock_over_no_rpc_and_do_not_seal_before_peering() {
        let p = make(THREE);
        let sealer = p.nodes[0].args.join(" ");
        let member = p.nodes[1].args.join(" ");
        assert!(
            sealer.contains("--unlock 0x")
                && sealer.contains("--password /h/n/nodes/a-sealer-0/password")
        );
        assert!(
            sealer.contains("--ipcpath /h/n/nodes/a-sealer-0/data/geth.ipc"),
            "{sealer}"
        );
        for flag in ["--http", "--ws", "--http.addr", "--ws.addr", "--http.api"] {
            assert!(!p.nodes[0].args.iter().any(|a| a == flag), "{sealer}");
        }
        assert!(!member.contains("--unlock") && !member.contains("--password"));
        assert!(
            p.nodes[1].password_file.is_none(),
            "members hold no keystore"
        );
        assert!(
            !p.nodes[0].args.iter().any(|a| a == "--mine"),
            "sealing starts after peering"
        );
        assert!(member.contains("--http.addr 127.0.0.1") && member.contains("--ws.addr 127.0.0.1"));
        assert!(sealer.contains("--nodiscover") && !sealer.contains("--ipcdisable"));
        assert!(
            member.contains("--http.vhosts localhost ")
                && member.contains("--ws.origins http://localhost "),
            "{member}"
        );
        // a-member-0 peers with a-sealer-0 only (gateway).
        assert!(member.contains("--maxpeers 1"), "{member}");
        assert!(
            sealer.contains("--miner.gasprice 1"),
            "otherwise low-tip txs stay on the member"
        );
        assert_eq!(p.geth, GethVersion::V1_13_15);
        assert_eq!(
            p.nodes[1].rpc_url().as_deref(),
            Some("http://127.0.0.1:9002")
        );
        assert_eq!(p.nodes[0].rpc_url(), None);
    }

    #[test]
    fn client_endpoints_serve_eth_net_web3_only_and_no_node_unlocks_insecurely() {
        for yaml in [
            THREE,
            "peering: mesh\nhospitals:\n - {name: a, sealers: 2, members: 2}\n - {name: b}\n",
            "consensus: ethash\nhospitals:\n - {name: a, sealers: 2}\n",
        ] {
            let p = make(yaml);
            for n in &p.nodes {
                let a = &n.args;
                assert!(!a.iter().any(|x| x == "--allow-insecure-unlock"), "{a:?}");
                let rpc = a.iter().any(|x| x == "--http" || x == "--ws");
                assert_eq!(rpc, n.role == Role::Member, "{}: {a:?}", n.name);
                if rpc {
                    assert!(!a.iter().any(|x| x == "--unlock"), "{}: {a:?}", n.name);
                }
                let apis: Vec<_> = flag_values(a, &["--http.api", "--ws.api"]);
                let want = match rpc {
                    true => vec![("--http.api", "eth,net,web3"), ("--ws.api", "eth,net,web3")],
                    false => vec![],
                };
                assert_eq!(apis, want, "{}", n.name);
                assert_eq!(
                    flag_values(a, &["--netrestrict"]),
                    vec![("--netrestrict", "127.0.0.1/32")],
                    "{}",
                    n.name
                );
            }
        }
    }

    #[test]
    fn members_with_few_peers_are_limited_to_them_and_dial_at_most_one() {
        for yaml in [
            THREE,
            "hospitals:\n - {name: a}\n - {name: b}\n",
            "peering: mesh\nhospitals:\n - {name: a, members: 2}\n - {name: b, members: 2}\n",
            "hospitals:\n - {name: a, sealers: 1, members: 4}\n",
            "peering: gateway\nhospitals:\n - {name: a, members: 3}\n - {name: b, sealers: 0, members: 2}\n",
        ] {
            let p = make(yaml);
            let mut pairs: Vec<(usize, usize)> = p
                .edges
                .iter()
                .map(|e| (e.from.min(e.to), e.from.max(e.to)))
                .collect();
            pairs.sort();
            pairs.dedup();
            assert_eq!(pairs.len(), p.edges.len(), "each pair once: {yaml}");
            for (i, n) in p.nodes.iter().enumerate() {
                let degree = p.edges.iter().filter(|e| e.from == i || e.to == i).count();
                let dials = p.edges.iter().filter(|e| e.from == i).count();
                let flag = flag_values(&n.args, &["--maxpeers"]);
                match n.max_peers {
                    Some(m) => {
                        assert_eq!(m, degree.max(1), "{yaml}: {}", n.name);
                        assert!(dials <= 1, "{yaml}: {} dials {dials}", n.name);
                        assert_eq!(n.role, Role::Member);
                        assert_eq!(flag, vec![("--maxpeers", m.to_string().as_str())]);
                    }
                    None => assert!(flag.is_empty(), "{yaml}: {}", n.name),
                }
            }
        }
        // The default network: every member limited, so every one syncs at
        // its first block.
        let p = make("hospitals:\n - {name: a}\n - {name: b}\n");
        let limited: Vec<_> = p.nodes.iter().map(|n| n.max_peers).collect();
        assert_eq!(limited, vec![None, Some(3), None, Some(3)]);
    }

    #[test]
    fn overlong_ipc_paths_are_found_before_anything_starts() {
        assert!(ipc_path_too_long(&make(THREE)).is_none());
        let t = topology::parse(THREE, "t").unwrap();
        let p = plan(
            &t,
            &PlanInputs {
                key_source: KeySource::Seed(1),
                home: PathBuf::from(format!("/{}", "h".repeat(80))),
                ports: ports(node_count(&t)),
                dag_dir: "/dag".into(),
            },
        );
        let (n, path) = ipc_path_too_long(&p).unwrap();
        assert_eq!(n.name, "a-sealer-0");
        assert!(path.as_os_str().len() > MAX_IPC_PATH);
    }

    /// The value each of `flags` has in `args` (every occurrence).
    fn flag_values<'a>(args: &'a [String], flags: &[&str]) -> Vec<(&'a str, &'a str)> {
        args.windows(2)
            .filter(|w| flags.contains(&w[0].as_str()))
            .map(|w| (w[0].as_str(), w[1].as_str()))
            .collect()
    }

    #[test]
    fn process_nodes_check_host_and_origin_with_no_wildcard() {
        for yaml in [
            THREE,
            "consensus: ethash\nhospitals:\n - {name: a, sealers: 2}\n",
        ] {
            for n in &make(yaml).nodes {
                let got = flag_values(
                    &n.args,
                    &["--http.vhosts", "--http.corsdomain", "--ws.origins"],
                );
                let want = match n.role {
                    Role::Member => vec![
                        ("--http.vhosts", "localhost"),
                        ("--ws.origins", "http://localhost"),
                    ],
                    Role::Sealer => vec![],
                };
                assert_eq!(got, want, "{}", n.name);
                assert!(!n.args.iter().any(|a| a.contains('*')), "{:?}", n.args);
            }
        }
    }

    #[test]
    fn ethash_miners_share_the_dag() {
        let p = make("consensus: ethash\nhospitals:\n - {name: a, sealers: 2}\n - {name: b}\n");
        let miner = p.nodes[0].args.join(" ");
        assert!(miner.contains("--ethash.dagdir /dag") && miner.contains("--miner.threads 1"));
        assert!(!miner.contains("--unlock"));
        assert_eq!(p.geth, GethVersion::V1_11_6);
        assert_eq!(p.genesis["difficulty"], "0x200");
    }

    #[test]
    fn genesis_signers_are_the_sealers() {
        let p = make(THREE);
        let extra = p.genesis["extraData"].as_str().unwrap();
        for n in &p.nodes {
            let hexaddr = hex::encode(n.account.address);
            assert_eq!(
                extra.contains(&hexaddr),
                n.role == Role::Sealer,
                "{}",
                n.name
            );
        }
        assert_eq!(p.genesis["alloc"].as_object().unwrap().len(), 10 + 6 + 3);
    }

    #[test]
    fn dry_run_text_lists_nodes_edges_and_commands_without_secrets() {
        let p = make(THREE);
        let text = p.to_string();
        assert!(text.contains("b-member-0"));
        assert!(text.contains("a-sealer-0 → b-sealer-0"));
        assert!(text.contains("geth --datadir"));
        assert!(!text.contains(&hex::encode(p.accounts[0].secret)));
    }

    #[test]
    fn dry_run_text_shows_no_seed_key_or_password() {
        let seed = 7_340_912_885_163_u64;
        let t = topology::parse(THREE, "t").unwrap();
        let source = KeySource::Seed(seed);
        let p = plan(
            &t,
            &PlanInputs {
                key_source: source.clone(),
                home: "/h".into(),
                ports: ports(node_count(&t)),
                dag_dir: "/dag".into(),
            },
        );
        let text = p.to_string();
        assert!(text.contains("keys: deterministic TEST keys from the network's seed"));
        let mut secrets = vec![
            seed.to_string(),
            format!("{seed:x}"),
            hex::encode(p.patient_salt),
        ];
        let keys = p.nodes.iter().flat_map(|n| [&n.node_key, &n.account]);
        let keys = keys
            .chain(&p.accounts)
            .chain(p.hospital_keys.iter().map(|(_, k)| k));
        secrets.extend(keys.map(|k| hex::encode(k.secret)));
        secrets.extend(p.nodes.iter().map(|n| source.password(&n.name)));
        let lower = text.to_lowercase();
        for s in &secrets {
            assert!(
                !lower.contains(s.as_str()),
                "the dry run shows {s}:\n{text}"
            );
        }
    }

    #[test]
    fn default_keys_are_random_per_network_and_not_shown() {
        let t = topology::parse(THREE, "t").unwrap();
        let make = || {
            plan(
                &t,
                &PlanInputs {
                    key_source: KeySource::new(None),
                    home: "/h".into(),
                    ports: ports(node_count(&t)),
                    dag_dir: "/dag".into(),
                },
            )
        };
        let (a, b) = (make(), make());
        assert!(!a.key_source.is_test());
        assert_ne!(a.nodes[0].account, b.nodes[0].account);
        assert_ne!(a.patient_salt, b.patient_salt);
        let text = a.to_string();
        assert!(
            text.contains("keys: from the OS random generator"),
            "{text}"
        );
        let KeySource::Secret(secret) = &a.key_source else {
            unreachable!()
        };
        assert!(!text.to_lowercase().contains(&hex::encode(secret)));
        assert!(!format!("{a:?}").contains(&hex::encode(secret)));
    }

    #[test]
    fn state_files_with_a_seed_still_read() {
        let mut v = serde_json::to_value(make(THREE)).unwrap();
        let o = v.as_object_mut().unwrap();
        let source = o.remove("key_source").unwrap();
        assert_eq!(source, serde_json::json!(42));
        o.insert("seed".into(), source);
        let back: Plan = serde_json::from_value(v).unwrap();
        assert_eq!(back, make(THREE));
    }
}
