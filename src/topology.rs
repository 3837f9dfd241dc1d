//! The `medchain.yaml` model: what a network looks like, with a default for
//! every key so a three-line file is a valid network, and validation that
//! refuses anything unsafe or impossible before a single process starts.
//!
//! Parsing is pure: it takes the file's text and its name (for messages) and
//! returns either a [`Topology`] or an [`InputError`] whose first line names
//! the file, the field, what was expected and what to do.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{InputError, Problems};

/// Most nodes one network may have on one machine: each geth needs roughly
/// 150–300 MB and four ports, and a 2-core machine cannot seal with more.
pub(crate) const MAX_NODES: u64 = 64;
/// Gas one plain value transfer costs; a block must fit at least one.
pub(crate) const MIN_GAS_LIMIT: u64 = 21_000;
/// Above this no geth of ours produces blocks in a sensible time.
pub(crate) const MAX_GAS_LIMIT: u64 = 1_000_000_000;
/// Most prefunded test accounts a network gets.
pub(crate) const MAX_ACCOUNTS: u64 = 10_000;

/// Chain ids of public networks (mainnets and their public testnets),
/// with the names messages use. A private network on one of these ids
/// would accept transactions signed for that public chain, and its own
/// transactions would be valid there (EIP-155 replay protection works
/// only between different chain ids), so `chain_id` refuses them.
pub(crate) const PUBLIC_CHAINS: &[(u64, &str)] = &[
    (1, "Ethereum mainnet"),
    (3, "Ropsten"),
    (4, "Rinkeby"),
    (5, "Goerli"),
    (10, "OP Mainnet"),
    (25, "Cronos"),
    (42, "Kovan"),
    (56, "BNB Smart Chain"),
    (61, "Ethereum Classic"),
    (63, "Mordor (Ethereum Classic testnet)"),
    (100, "Gnosis"),
    (137, "Polygon"),
    (250, "Fantom"),
    (324, "zkSync Era"),
    (1101, "Polygon zkEVM"),
    (1284, "Moonbeam"),
    (5000, "Mantle"),
    (8453, "Base"),
    (17000, "Holesky"),
    (42161, "Arbitrum One"),
    (42170, "Arbitrum Nova"),
    (42220, "Celo"),
    (43114, "Avalanche C-Chain"),
    (59144, "Linea"),
    (80002, "Polygon Amoy"),
    (81457, "Blast"),
    (84532, "Base Sepolia"),
    (421614, "Arbitrum Sepolia"),
    (534352, "Scroll"),
    (560048, "Hoodi"),
    (11155111, "Sepolia"),
    (11155420, "OP Sepolia"),
];

/// The public network that uses `chain_id`, if any.
pub(crate) fn public_chain(chain_id: u64) -> Option<&'static str> {
    PUBLIC_CHAINS
        .iter()
        .find(|(id, _)| *id == chain_id)
        .map(|(_, name)| *name)
}

/// Consensus engine, which also selects the pinned geth release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consensus {
    /// Proof of authority (geth v1.13.15).
    Clique,
    /// Proof of work (geth v1.11.6).
    Ethash,
}

/// Which records layout a network's contract keeps (issue 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    /// `PrivateRecords`: readings sealed off-chain, only their content
    /// digest on chain; keys follow consent (docs/privacy.md).
    #[default]
    Private,
    /// `MedicalRecords`, the published layout: vital signs in clear on
    /// chain, readable by anyone with node access. For reproducing the seed
    /// papers' gas and latency only.
    Clear,
}

impl fmt::Display for Privacy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privacy::Private => "private",
            Privacy::Clear => "clear",
        })
    }
}

impl fmt::Display for Consensus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Consensus::Clique => "clique",
            Consensus::Ethash => "ethash",
        })
    }
}

/// How nodes are peered with `admin_addPeer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Peering {
    /// Every node adds every other node.
    Mesh,
    /// Full mesh inside a hospital; each hospital's first node peers with the
    /// other hospitals' first nodes (the published study's clusters).
    Gateway,
}

impl fmt::Display for Peering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Peering::Mesh => "mesh",
            Peering::Gateway => "gateway",
        })
    }
}

/// One hospital: a cluster of sealing and non-sealing nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hospital {
    /// Name, `[a-z0-9][a-z0-9-]{0,30}`; node names derive from it.
    pub name: String,
    /// Clique signers or ethash miners in this hospital.
    pub sealers: u64,
    /// Non-sealing full nodes (RPC for clients and devices).
    pub members: u64,
    /// Docker image for this hospital's nodes (overrides the network's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Docker engine this hospital's nodes run on (`DOCKER_HOST` syntax:
    /// `unix:///…`, `https://host:2376`); default: the local engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_host: Option<String>,
    /// Whether a plaintext (`tcp://`, `http://`) `docker_host` is accepted
    /// (the engine API is root on its host and keystores travel over it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Address other hospitals' nodes reach this hospital's Docker host at
    /// (IP or DNS name) when hospitals run on several engines; default:
    /// the host of a `tcp://` `docker_host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
}

impl Hospital {
    /// The address other engines' nodes dial this hospital's nodes at.
    pub fn address(&self) -> Option<String> {
        self.advertise.clone().or_else(|| {
            let host = self.docker_host.as_deref()?;
            let rest = ["tcp://", "http://", "https://"]
                .iter()
                .find_map(|s| host.strip_prefix(s))?;
            let authority = rest.split('/').next()?;
            let h = match authority.rsplit_once(':') {
                Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
                _ => authority,
            };
            (!h.is_empty()).then(|| h.trim_matches(['[', ']']).to_string())
        })
    }
}

/// A validated network description with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Network name; directories and labels derive from it.
    pub network: String,
    /// EIP-155 chain id, also used as the devp2p network id.
    pub chain_id: u64,
    /// Consensus engine.
    pub consensus: Consensus,
    /// Clique: seconds between blocks.
    pub block_period: u64,
    /// Ethash: genesis difficulty.
    pub difficulty: u128,
    /// Block gas limit, kept by the sealers.
    pub gas_limit: u64,
    /// Peering pattern.
    pub peering: Peering,
    /// Prefunded test accounts (for deployers, load workers, other tools).
    pub accounts: u64,
    /// Balance of each prefunded account, in ether.
    pub account_balance_eth: u64,
    /// Hospitals, in file order.
    pub hospitals: Vec<Hospital>,
    /// Seed for deterministic keys, when the file fixes one.
    pub seed: Option<u64>,
    /// Docker image for every node (runtime docker); default: medchain's
    /// local build when present, else the official `ethereum/client-go` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Records layout: `private` (default) or `clear` (published layout,
    /// records public).
    #[serde(default)]
    pub privacy: Privacy,
}

impl Topology {
    /// Total number of nodes across hospitals.
    pub(crate) fn node_count(&self) -> u64 {
        self.hospitals.iter().fold(0u64, |n, h| {
            n.saturating_add(h.sealers).saturating_add(h.members)
        })
    }

    /// Total number of sealers across hospitals.
    pub(crate) fn sealer_count(&self) -> u64 {
        self.hospitals
            .iter()
            .fold(0u64, |n, h| n.saturating_add(h.sealers))
    }
}

/// The default of every topology key: what a key the file leaves out means.
/// The parser takes each default from [`DEFAULTS`] and nowhere else, and a
/// unit test holds the key table in docs/topology.md to it. Keys without a
/// field here have no value by default and are settled later: `seed`
/// (drawn at `up`), `image`, `hospitals[].image`, `hospitals[].docker_host`
/// and `hospitals[].advertise` (resolved by the runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// `network`.
    pub network: &'static str,
    /// `chain_id`.
    pub chain_id: u64,
    /// `consensus`.
    pub consensus: Consensus,
    /// `block_period` (clique), seconds.
    pub block_period: u64,
    /// `difficulty` (ethash).
    pub difficulty: u128,
    /// `gas_limit`.
    pub gas_limit: u64,
    /// `peering`.
    pub peering: Peering,
    /// `accounts`.
    pub accounts: u64,
    /// `account_balance_eth`.
    pub account_balance_eth: u64,
    /// `hospitals[].name` is this prefix followed by the hospital's index;
    /// a file without `hospitals` gets one hospital with every default.
    pub hospital_name_prefix: &'static str,
    /// `hospitals[].sealers`.
    pub sealers: u64,
    /// `hospitals[].members`.
    pub members: u64,
    /// `hospitals[].insecure`: plaintext Docker endpoints are refused.
    pub insecure: bool,
    /// `privacy`.
    pub privacy: Privacy,
}

/// The topology defaults: an empty file is a one-hospital Clique network
/// with one sealer and one member.
pub(crate) const DEFAULTS: Defaults = Defaults {
    network: "medchain",
    chain_id: 1337,
    consensus: Consensus::Clique,
    block_period: 2,
    difficulty: 0x200,
    gas_limit: 30_000_000,
    peering: Peering::Mesh,
    accounts: 10,
    account_balance_eth: 1_000_000,
    hospital_name_prefix: "hospital-",
    sealers: 1,
    members: 1,
    insecure: false,
    privacy: Privacy::Private,
};

impl Defaults {
    /// The name hospital `i` gets when the file gives it none.
    pub(crate) fn hospital_name(&self, i: usize) -> String {
        format!("{}{i}", self.hospital_name_prefix)
    }
}

/// The file as written: every key optional so defaults can apply, unknown
/// keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    network: Option<String>,
    chain_id: Option<u64>,
    consensus: Option<Consensus>,
    block_period: Option<u64>,
    difficulty: Option<Difficulty>,
    gas_limit: Option<u64>,
    peering: Option<Peering>,
    accounts: Option<u64>,
    account_balance_eth: Option<u64>,
    hospitals: Option<Vec<RawHospital>>,
    seed: Option<u64>,
    image: Option<String>,
    privacy: Option<Privacy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHospital {
    name: Option<String>,
    sealers: Option<u64>,
    members: Option<u64>,
    image: Option<String>,
    docker_host: Option<String>,
    insecure: Option<bool>,
    advertise: Option<String>,
}

/// Difficulty as the user may write it: `"0x200"`, `0x200` (YAML reads that as
/// an integer) or `512`.
#[derive(Debug)]
struct Difficulty(Result<u128, String>);

impl<'de> Deserialize<'de> for Difficulty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Difficulty;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a positive integer or a hex string such as \"0x200\"")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Difficulty, E> {
                Ok(Difficulty(Ok(v as u128)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Difficulty, E> {
                Ok(Difficulty(if v < 0 {
                    Err(v.to_string())
                } else {
                    Ok(v as u128)
                }))
            }
            fn visit_str<E>(self, v: &str) -> Result<Difficulty, E> {
                Ok(Difficulty(parse_quantity(v).ok_or_else(|| v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses `0x`-prefixed hex or plain decimal (difficulties in topology and
/// sweep files).
pub(crate) fn parse_quantity(s: &str) -> Option<u128> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(hex, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Whether `name` is a safe network, hospital or node name: it becomes a path
/// and a process argument, so only `[a-z0-9][a-z0-9-]{0,30}` passes.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 31
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Checks a Docker image reference: `name[:tag]`, no spaces.
fn check_image(image: &str) -> Result<(), String> {
    let ok = !image.is_empty()
        && image.len() <= 255
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
        && !image.starts_with(['-', ':', '/']);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{image:?} is not an image reference: expected e.g. \"ethereum/client-go:v1.13.15\" or \"medchain/geth:v1.13.15\""
        ))
    }
}

/// Checks a Docker engine endpoint in `DOCKER_HOST` syntax.
fn check_docker_host(host: &str) -> Result<(), String> {
    let schemes = ["unix://", "https://"].into_iter().chain(PLAINTEXT_SCHEMES);
    match schemes.into_iter().find(|s| host.starts_with(*s)) {
        Some(s) if host.len() > s.len() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!(
            "{host:?} is not a Docker endpoint: expected unix:///var/run/docker.sock or https://HOST:2376 (as DOCKER_HOST)"
        )),
    }
}

/// `docker_host` schemes that reach the engine without TLS: bollard
/// (`Docker::connect_with_host`) speaks TLS on `tcp://` only when
/// DOCKER_TLS_VERIFY happens to be set where medchain runs, which the file
/// cannot promise, so only `https://` counts as TLS.
const PLAINTEXT_SCHEMES: [&str; 2] = ["tcp://", "http://"];

/// A plaintext engine endpoint is refused unless the hospital says
/// `insecure: true`, and `insecure` is refused where it means nothing.
/// `field` is the hospital's (`hospitals[i]`); `host` a well-formed
/// `docker_host`, if any.
fn check_transport(field: &str, host: Option<&str>, insecure: bool, p: &mut Problems) {
    let plain = host.and_then(|h| {
        PLAINTEXT_SCHEMES
            .iter()
            .find_map(|s| h.strip_prefix(s).map(|rest| (h, rest)))
    });
    match (plain, insecure) {
        (Some((h, rest)), false) => p.add(
            &format!("{field}.docker_host"),
            format!(
                "{h:?} is a plaintext Docker endpoint, refused: the engine API is root on that host and medchain uploads node keystores and passwords over it, so anyone on the network path could read them or take over the host; use TLS: run dockerd with --tlsverify, write docker_host: \"https://{rest}\" and put the client's ca.pem, cert.pem and key.pem in $DOCKER_CERT_PATH (default ~/.docker); or, only on a network you trust, set `insecure: true` on this hospital"
            ),
        ),
        (None, true) => p.add(
            &format!("{field}.insecure"),
            "applies only to a plaintext tcp:// or http:// docker_host; remove it",
        ),
        _ => {}
    }
}

/// Parses and validates a topology file's text. `file` names the file in
/// messages.
pub fn parse(text: &str, file: &str) -> Result<Topology, InputError> {
    let raw: RawTopology = crate::error::from_yaml(text, file, &[])?;
    validate(raw, file)
}

/// Applies [`DEFAULTS`] and checks every rule, collecting every problem
/// rather than stopping at the first: the first found becomes the headline,
/// later ones details. Keys are checked in the order the reference lists
/// them, then the rules that span hospitals.
fn validate(raw: RawTopology, file: &str) -> Result<Topology, InputError> {
    let mut p = Problems::new(file);
    let network = raw.network.unwrap_or_else(|| DEFAULTS.network.to_string());
    let chain_id = raw.chain_id.unwrap_or(DEFAULTS.chain_id);
    check_identity(&network, chain_id, &mut p);
    let (consensus, block_period, difficulty) =
        check_consensus(raw.consensus, raw.block_period, raw.difficulty, &mut p);
    let gas_limit = raw.gas_limit.unwrap_or(DEFAULTS.gas_limit);
    let accounts = raw.accounts.unwrap_or(DEFAULTS.accounts);
    let account_balance_eth = raw
        .account_balance_eth
        .unwrap_or(DEFAULTS.account_balance_eth);
    check_limits(gas_limit, accounts, account_balance_eth, &mut p);
    let hospitals = check_hospitals(raw.hospitals, &mut p);
    let topo = Topology {
        network,
        chain_id,
        consensus,
        block_period,
        difficulty,
        gas_limit,
        peering: raw.peering.unwrap_or(DEFAULTS.peering),
        accounts,
        account_balance_eth,
        hospitals,
        seed: raw.seed,
        image: raw.image,
        privacy: raw.privacy.unwrap_or(DEFAULTS.privacy),
    };
    if let Some(image) = &topo.image {
        if let Err(why) = check_image(image) {
            p.add("image", why);
        }
    }
    check_addresses(&topo, &mut p);
    check_size(&topo, &mut p);
    p.finish(topo)
}

/// What identifies the network: its name (a path and a label) and its chain
/// id (what wallets sign for).
fn check_identity(network: &str, chain_id: u64, p: &mut Problems) {
    if !is_valid_name(network) {
        p.add(
            "network",
            format!(
                "{network:?} is not a valid name: expected 1-31 of a-z, 0-9 and '-', starting with a letter or digit; rename it"
            ),
        );
    }
    if chain_id == 0 {
        p.add(
            "chain_id",
            "0 is not a valid chain id (EIP-155 needs a positive id); use e.g. 1337",
        );
    } else if let Some(name) = public_chain(chain_id) {
        p.add(
            "chain_id",
            format!(
                "{chain_id} is the chain id of {name}, a public network: transactions signed for this private network would be replayable on {name}, and {name}'s transactions on this network; use an id no public network uses, e.g. 1337"
            ),
        );
    } else if chain_id > (1u64 << 53) {
        p.add(
            "chain_id",
            format!("{chain_id} is too large for wallets and JSON clients; use at most 2^53"),
        );
    }
}

/// The consensus engine and the keys that belong to it: `block_period`
/// only means something to Clique and `difficulty` only to ethash, so a
/// key given for the other engine is refused rather than silently ignored.
/// Returns the engine, period and difficulty with defaults applied (the
/// default stands in for a value that was refused).
fn check_consensus(
    consensus: Option<Consensus>,
    block_period: Option<u64>,
    difficulty: Option<Difficulty>,
    p: &mut Problems,
) -> (Consensus, u64, u128) {
    let consensus = consensus.unwrap_or(DEFAULTS.consensus);
    if consensus == Consensus::Ethash && block_period.is_some() {
        p.add(
            "block_period",
            "applies only to consensus: clique (ethash block times follow difficulty); remove it or set consensus: clique",
        );
    }
    if consensus == Consensus::Clique && difficulty.is_some() {
        p.add(
            "difficulty",
            "applies only to consensus: ethash; remove it or set consensus: ethash",
        );
    }
    let block_period = block_period.unwrap_or(DEFAULTS.block_period);
    if !(1..=3600).contains(&block_period) {
        p.add(
            "block_period",
            format!("{block_period} is out of range: expected 1 to 3600 seconds (0 would seal only on demand)"),
        );
    }
    let difficulty = match difficulty {
        None => DEFAULTS.difficulty,
        Some(Difficulty(Ok(d))) if d > 0 && d <= u64::MAX as u128 => d,
        Some(Difficulty(Ok(d))) => {
            p.add(
                "difficulty",
                format!(
                    "{d} is out of range: expected 1 to 2^64-1, e.g. \"0x200\" (the paper's value)"
                ),
            );
            DEFAULTS.difficulty
        }
        Some(Difficulty(Err(s))) => {
            p.add(
                "difficulty",
                format!(
                    "{s:?} is not a number: expected a positive integer or hex such as \"0x200\""
                ),
            );
            DEFAULTS.difficulty
        }
    };
    (consensus, block_period, difficulty)
}

/// The chain's quantities: a block must fit one transfer without being
/// absurd, and the prefunded accounts must exist and hold something.
fn check_limits(gas_limit: u64, accounts: u64, account_balance_eth: u64, p: &mut Problems) {
    if gas_limit < MIN_GAS_LIMIT {
        p.add(
            "gas_limit",
            format!(
                "{gas_limit} cannot fit a single transfer ({MIN_GAS_LIMIT} gas); use e.g. 30000000"
            ),
        );
    } else if gas_limit > MAX_GAS_LIMIT {
        p.add(
            "gas_limit",
            format!("{gas_limit} is absurdly large: expected at most {MAX_GAS_LIMIT}; use e.g. 30000000"),
        );
    }
    if !(1..=MAX_ACCOUNTS).contains(&accounts) {
        p.add(
            "accounts",
            format!("{accounts} is out of range: expected 1 to {MAX_ACCOUNTS}"),
        );
    }
    if account_balance_eth == 0 || account_balance_eth > 1_000_000_000_000 {
        p.add(
            "account_balance_eth",
            format!("{account_balance_eth} is out of range: expected 1 to 10^12 ether"),
        );
    }
}

/// The `hospitals` list, each hospital checked on its own: no list means
/// one default hospital, an empty list is a mistake.
fn check_hospitals(raw: Option<Vec<RawHospital>>, p: &mut Problems) -> Vec<Hospital> {
    let raw = raw.unwrap_or_else(|| vec![RawHospital::default()]);
    if raw.is_empty() {
        p.add(
            "hospitals",
            "the list is empty: add at least one hospital, e.g. `- name: guadalajara`",
        );
    }
    let mut hospitals: Vec<Hospital> = Vec::with_capacity(raw.len());
    for (i, h) in raw.into_iter().enumerate() {
        let hospital = check_hospital(i, h, &hospitals, p);
        hospitals.push(hospital);
    }
    hospitals
}

/// Hospital `i` with defaults applied: a safe name no earlier hospital
/// uses, at least one node, and well-formed Docker settings.
fn check_hospital(i: usize, h: RawHospital, earlier: &[Hospital], p: &mut Problems) -> Hospital {
    let field = format!("hospitals[{i}]");
    let name = h.name.unwrap_or_else(|| DEFAULTS.hospital_name(i));
    if !is_valid_name(&name) {
        p.add(
            &format!("{field}.name"),
            format!("{name:?} is not a valid name: expected 1-31 of a-z, 0-9 and '-', starting with a letter or digit; rename it"),
        );
    } else if earlier.iter().any(|o| o.name == name) {
        p.add(
            &format!("{field}.name"),
            format!("{name:?} is used by two hospitals; give each hospital its own name"),
        );
    }
    let sealers = h.sealers.unwrap_or(DEFAULTS.sealers);
    let members = h.members.unwrap_or(DEFAULTS.members);
    if sealers.saturating_add(members) == 0 {
        p.add(
            &field,
            format!("hospital {name:?} has no nodes: set sealers or members to at least 1"),
        );
    }
    if let Some(Err(why)) = h.image.as_deref().map(check_image) {
        p.add(&format!("{field}.image"), why);
    }
    let insecure = h.insecure.unwrap_or(DEFAULTS.insecure);
    match h.docker_host.as_deref().map(check_docker_host) {
        Some(Err(why)) => p.add(&format!("{field}.docker_host"), why),
        _ => check_transport(&field, h.docker_host.as_deref(), insecure, p),
    }
    Hospital {
        name,
        sealers,
        members,
        image: h.image,
        docker_host: h.docker_host,
        insecure,
        advertise: h.advertise,
    }
}

/// Once hospitals run on several Docker engines their nodes dial each other
/// across hosts, so every hospital needs an address the others can reach
/// (given with `advertise` or taken from a `tcp://` `docker_host`).
fn check_addresses(topo: &Topology, p: &mut Problems) {
    let engines: std::collections::BTreeSet<Option<&str>> = topo
        .hospitals
        .iter()
        .map(|h| h.docker_host.as_deref())
        .collect();
    if engines.len() <= 1 {
        return;
    }
    for (i, h) in topo.hospitals.iter().enumerate() {
        match h.address() {
            Some(a) if !a.contains(char::is_whitespace) && !a.contains('/') => {}
            Some(a) => p.add(
                &format!("hospitals[{i}].advertise"),
                format!("{a:?} is not a host address: expected an IP or DNS name, e.g. 10.0.0.5"),
            ),
            None => p.add(
                &format!("hospitals[{i}].advertise"),
                format!(
                    "hospital {:?} needs an address other hospitals can reach it at, because hospitals run on several Docker engines: set `advertise: <IP or DNS name of its Docker host>`",
                    h.name
                ),
            ),
        }
    }
}

/// The network as a whole: someone must seal, and the machine must be able
/// to run every node.
fn check_size(topo: &Topology, p: &mut Problems) {
    if !topo.hospitals.is_empty() && topo.sealer_count() == 0 {
        p.add(
            "hospitals[*].sealers",
            format!(
                "no hospital has a sealer, so no {} would ever produce a block; give at least one hospital `sealers: 1`",
                if topo.consensus == Consensus::Clique { "signer" } else { "miner" }
            ),
        );
    }
    let members = topo.hospitals.iter().map(|h| h.members).sum::<u64>();
    if !topo.hospitals.is_empty() && members == 0 {
        p.add(
            "hospitals[*].members",
            "no hospital has a member, and sealers serve no clients (no RPC port), so nothing could deploy, bench or store records; give at least one hospital `members: 1`",
        );
    }
    if topo.node_count() > MAX_NODES {
        p.add(
            "hospitals",
            format!(
                "{} nodes is more than this machine can run (at most {MAX_NODES}); lower sealers/members",
                topo.node_count()
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "t.yaml").unwrap_err().message
    }

    #[test]
    fn docker_fields_are_checked_and_several_engines_need_addresses() {
        let t = parse(
            "image: medchain/geth:v1.13.15\nhospitals:\n  - {name: a, image: ethereum/client-go:v1.13.15}\n  - {name: b, docker_host: \"https://10.1.2.3:2376\", advertise: 192.168.1.9}\n  - {name: c, docker_host: \"tcp://[fd00::1]:2376\", insecure: true}\n",
            "t.yaml",
        );
        let e = t.unwrap_err().message;
        assert!(e.contains("hospitals[0].advertise"), "{e}");
        let t = parse(
            "hospitals:\n  - {name: a, advertise: 10.0.0.1}\n  - {name: b, docker_host: \"https://host-b.example:2376\"}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(t.hospitals[0].address().as_deref(), Some("10.0.0.1"));
        assert_eq!(t.hospitals[1].address().as_deref(), Some("host-b.example"));
        // One engine for every hospital: no address needed.
        assert!(parse("hospitals:\n  - {name: a}\n  - {name: b}\n", "t.yaml").is_ok());
        assert!(err("image: \"bad image\"\n")
            .contains("image: \"bad image\" is not an image reference"));
        assert!(err("hospitals:\n  - {name: a, docker_host: \"ftp://x\"}\n")
            .contains("hospitals[0].docker_host"));
        assert!(err("hospitals:\n  - {name: a, dockerhost: x}\n")
            .contains("did you mean `docker_host`"));
    }

    #[test]
    fn plaintext_docker_engines_need_insecure_and_tls_ones_do_not() {
        for host in ["tcp://10.0.0.2:2376", "http://10.0.0.2:2375"] {
            let e = err(&format!(
                "hospitals:\n  - {{name: a, docker_host: \"{host}\"}}\n"
            ));
            assert!(
                e.starts_with(&format!(
                    "t.yaml: hospitals[0].docker_host: \"{host}\" is a plaintext Docker endpoint"
                )),
                "{e}"
            );
            for words in [
                "the engine API is root on that host",
                "keystores and passwords",
                "docker_host: \"https://10.0.0.2:",
                "$DOCKER_CERT_PATH",
                "`insecure: true`",
            ] {
                assert!(e.contains(words), "{words}: {e}");
            }
            let t = parse(
                &format!("hospitals:\n  - {{name: a, docker_host: \"{host}\", insecure: true}}\n"),
                "t.yaml",
            )
            .unwrap();
            assert!(t.hospitals[0].insecure);
        }
        for host in ["https://10.0.0.2:2376", "unix:///var/run/docker.sock"] {
            let t = parse(
                &format!("hospitals:\n  - {{name: a, docker_host: \"{host}\"}}\n"),
                "t.yaml",
            )
            .unwrap();
            assert!(!t.hospitals[0].insecure);
        }
        // `insecure` where nothing is plaintext is a leftover, not a setting.
        for h in [
            "{name: a, insecure: true}",
            "{name: a, docker_host: \"https://h:2376\", insecure: true}",
        ] {
            let e = err(&format!("hospitals:\n  - {h}\n"));
            assert!(
                e.starts_with("t.yaml: hospitals[0].insecure: applies only to a plaintext"),
                "{e}"
            );
        }
        assert!(parse("hospitals:\n  - {name: a, insecure: false}\n", "t.yaml").is_ok());
        // Each hospital is judged on its own, and all at once.
        let e = parse(
            "hospitals:\n  - {name: a, docker_host: \"tcp://h1:2376\", insecure: true}\n  - {name: b, docker_host: \"tcp://h2:2376\"}\n  - {name: c, docker_host: \"http://h3:2375\"}\n",
            "t.yaml",
        )
        .unwrap_err();
        assert!(e.message.contains("hospitals[1].docker_host"), "{e}");
        assert!(
            e.details
                .iter()
                .any(|d| d.contains("hospitals[2].docker_host")),
            "{e}"
        );
        assert!(!e.to_string().contains("hospitals[0]"), "{e}");
    }

    #[test]
    fn public_chain_ids_are_refused_with_the_replay_reason() {
        for (id, name) in [
            (1, "Ethereum mainnet"),
            (5, "Goerli"),
            (11155111, "Sepolia"),
            (17000, "Holesky"),
            (560048, "Hoodi"),
            (61, "Ethereum Classic"),
            (137, "Polygon"),
            (42161, "Arbitrum One"),
            (534352, "Scroll"),
        ] {
            let e = err(&format!("chain_id: {id}\n"));
            assert_eq!(
                e,
                format!("t.yaml: chain_id: {id} is the chain id of {name}, a public network: transactions signed for this private network would be replayable on {name}, and {name}'s transactions on this network; use an id no public network uses, e.g. 1337"),
            );
        }
        let required = [
            1, 3, 4, 5, 42, 11155111, 17000, 560048, 61, 63, 10, 56, 100, 137, 250, 324, 8453,
            42161, 43114, 59144, 534352,
        ];
        for id in required {
            assert!(public_chain(id).is_some(), "{id} missing");
        }
        let mut ids: Vec<u64> = PUBLIC_CHAINS.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PUBLIC_CHAINS.len(), "an id is listed twice");
        // The default and the ids medchain's own files use stay private.
        for id in [DEFAULTS.chain_id, 1337, 99, 48152, 48153, 48154] {
            assert_eq!(public_chain(id), None, "{id}");
        }
        assert!(parse("chain_id: 31337\n", "t.yaml").is_ok());
        // Found together with the file's other problems.
        let e = parse("chain_id: 1\nnetwork: Bad\n", "t.yaml").unwrap_err();
        assert!(
            e.details
                .iter()
                .any(|d| d.contains("chain_id: 1 is the chain id of Ethereum mainnet")),
            "{e}"
        );
    }

    #[test]
    fn empty_file_is_a_valid_default_network() {
        let t = parse("", "t.yaml").unwrap();
        assert_eq!(t.network, "medchain");
        assert_eq!(t.chain_id, 1337);
        assert_eq!(t.consensus, Consensus::Clique);
        assert_eq!(t.node_count(), 2);
    }

    #[test]
    fn three_lines_are_enough() {
        let t = parse(
            "network: x\nconsensus: ethash\ndifficulty: 0x400\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(t.difficulty, 0x400);
        assert_eq!(t.consensus, Consensus::Ethash);
    }

    #[test]
    fn difficulty_accepts_hex_string_and_integer() {
        let t = parse("consensus: ethash\ndifficulty: \"0x200\"\n", "t").unwrap();
        assert_eq!(t.difficulty, 512);
        let t = parse("consensus: ethash\ndifficulty: 1000\n", "t").unwrap();
        assert_eq!(t.difficulty, 1000);
    }

    #[test]
    fn unknown_key_gets_a_hint_and_a_location() {
        let e = err("network: a\nhospitalz: []\n");
        assert!(
            e.starts_with("t.yaml:2:1: unknown key `hospitalz`; did you mean `hospitals`?"),
            "{e}"
        );
        let e = err("hospitals:\n  - name: a\n    sealer: 1\n");
        assert!(e.contains("did you mean `sealers`?"), "{e}");
    }

    #[test]
    fn names_are_restricted() {
        for bad in [
            "Cairo",
            "a b",
            "-a",
            "a/../b",
            "",
            "x$(rm -rf)",
            &"a".repeat(32),
        ] {
            let e = err(&format!("network: {bad:?}\n"));
            assert!(
                e.contains("network:") && e.contains("not a valid name"),
                "{bad}: {e}"
            );
        }
        assert!(is_valid_name("imss-demo"));
        assert!(is_valid_name("0a"));
    }

    #[test]
    fn semantic_errors_name_the_field() {
        assert!(err("chain_id: 0\n").contains("chain_id: 0 is not a valid chain id"));
        assert!(err("gas_limit: 20000\n").contains("gas_limit:"));
        assert!(err("block_period: 0\n").contains("block_period:"));
        assert!(err("consensus: ethash\nblock_period: 3\n")
            .contains("applies only to consensus: clique"));
        assert!(err("hospitals: []\n").contains("hospitals: the list is empty"));
        assert!(err("hospitals:\n - {name: a, sealers: 0}\n").contains("no hospital has a sealer"));
        assert!(
            err("hospitals:\n - {name: a, members: 0}\n - {name: b, members: 0}\n")
                .contains("hospitals[*].members: no hospital has a member")
        );
        assert!(err("hospitals:\n - {name: a}\n - {name: a}\n").contains("used by two hospitals"));
        assert!(err("hospitals:\n - {name: a, sealers: 70}\n")
            .contains("more than this machine can run"));
        assert!(err("consensus: ethash\ndifficulty: zero\n").contains("difficulty:"));
    }

    #[test]
    fn type_errors_carry_line_and_column() {
        let e = err("hospitals:\n  - name: a\n    sealers: two\n");
        assert!(e.starts_with("t.yaml:3:"), "{e}");
        assert!(e.contains("sealers"), "{e}");
        let e = err("consensus: raft\n");
        assert!(e.contains("unknown variant `raft`"), "{e}");
    }

    #[test]
    fn broken_yaml_reports_position() {
        let e = err("network: [a\n");
        assert!(e.starts_with("t.yaml:"), "{e}");
    }

    #[test]
    fn every_problem_in_a_file_is_reported() {
        let e = parse(
            "network: Bad Name\nchain_id: 0\nconsensus: ethash\nblock_period: 5\nhospitals:\n  - {name: a, sealers: 0, members: 0}\n  - {name: a, image: \"x y\"}\n",
            "t.yaml",
        )
        .unwrap_err();
        assert!(
            e.message
                .starts_with("t.yaml: network: \"Bad Name\" is not a valid name"),
            "{e}"
        );
        let details = e.details.join("\n");
        for (field, words) in [
            ("chain_id", "not a valid chain id"),
            ("block_period", "applies only to consensus: clique"),
            ("hospitals[0]", "has no nodes"),
            ("hospitals[1].name", "used by two hospitals"),
            ("hospitals[1].image", "not an image reference"),
        ] {
            assert!(
                details.contains(&format!("t.yaml: {field}: ")) && details.contains(words),
                "{field}: {e}"
            );
        }
        assert_eq!(e.details.len(), 5, "{e}");
    }

    #[test]
    fn an_empty_file_gets_exactly_the_defaults() {
        let t = parse("", "t.yaml").unwrap();
        let d = DEFAULTS;
        assert_eq!(
            (t.network.as_str(), t.chain_id, t.consensus, t.block_period),
            (d.network, d.chain_id, d.consensus, d.block_period)
        );
        assert_eq!(
            (t.difficulty, t.gas_limit, t.peering),
            (d.difficulty, d.gas_limit, d.peering)
        );
        assert_eq!(
            (t.accounts, t.account_balance_eth),
            (d.accounts, d.account_balance_eth)
        );
        assert_eq!(
            t.hospitals,
            vec![Hospital {
                name: d.hospital_name(0),
                sealers: d.sealers,
                members: d.members,
                image: None,
                docker_host: None,
                insecure: d.insecure,
                advertise: None,
            }]
        );
        assert_eq!((t.seed, t.image), (None, None));
    }

    /// docs/topology.md's key table as (key, default) pairs, backticks and
    /// quotes stripped.
    fn doc_defaults() -> Vec<(String, String)> {
        include_str!("../docs/topology.md")
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let strip = |c: &str| c.replace(['`', '"'], "");
                (strip(cells[1]), strip(cells.get(2).copied().unwrap_or("")))
            })
            .collect()
    }

    /// Every key the parser accepts, named as the reference names them
    /// (`hospitals[].name`), from serde's own list of the raw structs' keys.
    fn accepted_keys() -> Vec<String> {
        let list = |text: &str| -> Vec<String> {
            let e = serde_yaml::from_str::<RawTopology>(text)
                .unwrap_err()
                .to_string();
            let u = crate::error::UnknownKey::parse(&e).expect("an unknown-key error");
            u.expected.iter().map(|k| k.to_string()).collect()
        };
        let mut keys = list("not_a_key: 1\n");
        keys.extend(
            list("hospitals: [{not_a_key: 1}]\n")
                .into_iter()
                .map(|k| format!("hospitals[].{k}")),
        );
        keys
    }

    #[test]
    fn docs_key_table_matches_the_defaults() {
        // Destructured so a new default cannot be left out of this test.
        let Defaults {
            network,
            chain_id,
            consensus,
            block_period,
            difficulty,
            gas_limit,
            peering,
            accounts,
            account_balance_eth,
            hospital_name_prefix,
            sealers,
            members,
            insecure,
            privacy,
        } = DEFAULTS;
        // Keys whose default is a value, written as the table writes it;
        // the others (seed, image, ...) default to "not set".
        let expected: Vec<(&str, String)> = vec![
            ("network", network.to_string()),
            ("chain_id", chain_id.to_string()),
            ("consensus", consensus.to_string()),
            ("block_period", block_period.to_string()),
            ("difficulty", format!("{difficulty:#x}")),
            ("gas_limit", gas_limit.to_string()),
            ("peering", peering.to_string()),
            ("accounts", accounts.to_string()),
            ("account_balance_eth", account_balance_eth.to_string()),
            (
                "hospitals",
                format!("one hospital {}", DEFAULTS.hospital_name(0)),
            ),
            ("hospitals[].name", format!("{hospital_name_prefix}<i>")),
            ("hospitals[].sealers", sealers.to_string()),
            ("hospitals[].members", members.to_string()),
            ("hospitals[].insecure", insecure.to_string()),
            ("privacy", privacy.to_string()),
        ];
        let doc = doc_defaults();
        let accepted = accepted_keys();
        let mut wrong = Vec::new();
        for key in &accepted {
            if !doc.iter().any(|(k, _)| k == key) {
                wrong.push(format!(
                    "`{key}` is a topology key but has no row in the table"
                ));
            }
        }
        for (key, _) in &doc {
            if !accepted.contains(key) {
                wrong.push(format!(
                    "`{key}` has a row but the parser refuses it as unknown"
                ));
            }
        }
        for (key, want) in &expected {
            assert!(
                accepted.iter().any(|k| k == key),
                "test lists unknown key {key}"
            );
            if let Some((_, got)) = doc.iter().find(|(k, _)| k == key) {
                if got != want {
                    wrong.push(format!(
                        "`{key}` is documented with default {got:?} but topology::DEFAULTS gives {want:?}"
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "docs/topology.md's key table is out of step with topology::DEFAULTS:\n  {}",
            wrong.join("\n  ")
        );
    }
}
