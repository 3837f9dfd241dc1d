//! The `medchain.yaml` model: what a network looks like, with a default for
//! every key so a three-line file is a valid network, and validation that
//! refuses anything unsafe or impossible before a single process starts.
//!
//! Parsing is pure: it takes the file's text and its name (for messages) and
//! returns either a [`Topology`] or an [`InputError`] whose first line names
//! the file, the field, what was expected and what to do.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// Most nodes one network may have on one machine: each geth needs roughly
/// 150–300 MB and four ports, and a 2-core machine cannot seal with more.
pub const MAX_NODES: u64 = 64;
/// Gas one plain value transfer costs; a block must fit at least one.
pub const MIN_GAS_LIMIT: u64 = 21_000;
/// Above this no geth of ours produces blocks in a sensible time.
pub const MAX_GAS_LIMIT: u64 = 1_000_000_000;
/// Most prefunded test accounts a network gets.
pub const MAX_ACCOUNTS: u64 = 10_000;

/// Consensus engine, which also selects the pinned geth release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consensus {
    /// Proof of authority (geth v1.13.15).
    Clique,
    /// Proof of work (geth v1.11.6).
    Ethash,
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
    /// `unix:///…`, `tcp://host:2376`); default: the local engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_host: Option<String>,
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
}

impl Topology {
    /// Total number of nodes across hospitals.
    pub fn node_count(&self) -> u64 {
        self.hospitals.iter().fold(0u64, |n, h| {
            n.saturating_add(h.sealers).saturating_add(h.members)
        })
    }

    /// Total number of sealers across hospitals.
    pub fn sealer_count(&self) -> u64 {
        self.hospitals
            .iter()
            .fold(0u64, |n, h| n.saturating_add(h.sealers))
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHospital {
    name: Option<String>,
    sealers: Option<u64>,
    members: Option<u64>,
    image: Option<String>,
    docker_host: Option<String>,
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

/// Parses `0x`-prefixed hex or plain decimal.
fn parse_quantity(s: &str) -> Option<u128> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u128::from_str_radix(hex, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Top-level keys, for did-you-mean hints.
const TOP_KEYS: &[&str] = &[
    "network",
    "chain_id",
    "consensus",
    "block_period",
    "difficulty",
    "gas_limit",
    "peering",
    "accounts",
    "account_balance_eth",
    "hospitals",
    "seed",
    "image",
];
/// Keys of one hospital, for did-you-mean hints.
const HOSPITAL_KEYS: &[&str] = &[
    "name",
    "sealers",
    "members",
    "image",
    "docker_host",
    "advertise",
];

/// Whether `name` is a safe network, hospital or node name: it becomes a path
/// and a process argument, so only `[a-z0-9][a-z0-9-]{0,30}` passes.
pub fn is_valid_name(name: &str) -> bool {
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
    let schemes = ["unix://", "tcp://", "http://", "https://"];
    match schemes.iter().find(|s| host.starts_with(**s)) {
        Some(s) if host.len() > s.len() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!(
            "{host:?} is not a Docker endpoint: expected unix:///var/run/docker.sock or tcp://HOST:2376 (as DOCKER_HOST)"
        )),
    }
}

/// Parses and validates a topology file's text. `file` names the file in
/// messages.
pub fn parse(text: &str, file: &str) -> Result<Topology, InputError> {
    let raw: RawTopology = if text.trim().is_empty() {
        RawTopology::default()
    } else {
        serde_yaml::from_str(text).map_err(|e| yaml_error(&e, file))?
    };
    validate(raw, file)
}

/// Turns a serde_yaml error into one clear line: file:line:column, the field
/// path, the cause and, for an unknown key, the closest known key.
fn yaml_error(e: &serde_yaml::Error, file: &str) -> InputError {
    let (loc, core) = crate::error::yaml_location(e, file);
    let core = core.as_str();
    let mut line = format!("{loc}: {core}");
    if let Some(unknown) = unknown_field(core) {
        let known = if core.contains("`sealers`") {
            HOSPITAL_KEYS
        } else {
            TOP_KEYS
        };
        match did_you_mean(unknown, known) {
            Some(hint) => line = format!("{loc}: unknown key `{unknown}`; did you mean `{hint}`?"),
            None => {
                line = format!(
                    "{loc}: unknown key `{unknown}`; expected one of {}",
                    known.join(", ")
                )
            }
        }
    } else if core.contains("unknown variant") {
        line.push_str("; fix the value");
    } else {
        line.push_str("; fix the file's syntax or the value's type");
    }
    InputError::new(line)
}

/// Extracts `x` from serde's "unknown field `x`, expected …".
fn unknown_field(msg: &str) -> Option<&str> {
    let rest = &msg[msg.find("unknown field `")? + "unknown field `".len()..];
    Some(&rest[..rest.find('`')?])
}

/// The known key closest to `unknown`, when it is close enough to be a typo.
fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Applies defaults and checks every rule; the first problem found becomes
/// the headline, later ones become details.
fn validate(raw: RawTopology, file: &str) -> Result<Topology, InputError> {
    let mut problems: Vec<String> = Vec::new();
    let mut bad = |field: &str, msg: String| problems.push(format!("{file}: {field}: {msg}"));

    let network = raw.network.unwrap_or_else(|| "medchain".to_string());
    if !is_valid_name(&network) {
        bad(
            "network",
            format!(
                "{network:?} is not a valid name: expected 1-31 of a-z, 0-9 and '-', starting with a letter or digit; rename it"
            ),
        );
    }

    let chain_id = raw.chain_id.unwrap_or(1337);
    if chain_id == 0 {
        bad(
            "chain_id",
            "0 is not a valid chain id (EIP-155 needs a positive id); use e.g. 1337".into(),
        );
    } else if chain_id > (1u64 << 53) {
        bad(
            "chain_id",
            format!("{chain_id} is too large for wallets and JSON clients; use at most 2^53"),
        );
    }

    let consensus = raw.consensus.unwrap_or(Consensus::Clique);
    if consensus == Consensus::Ethash && raw.block_period.is_some() {
        bad(
            "block_period",
            "applies only to consensus: clique (ethash block times follow difficulty); remove it or set consensus: clique".into(),
        );
    }
    if consensus == Consensus::Clique && raw.difficulty.is_some() {
        bad(
            "difficulty",
            "applies only to consensus: ethash; remove it or set consensus: ethash".into(),
        );
    }
    let block_period = raw.block_period.unwrap_or(2);
    if !(1..=3600).contains(&block_period) {
        bad(
            "block_period",
            format!("{block_period} is out of range: expected 1 to 3600 seconds (0 would seal only on demand)"),
        );
    }
    let difficulty = match raw.difficulty {
        None => 0x200,
        Some(Difficulty(Ok(d))) if d > 0 && d <= u64::MAX as u128 => d,
        Some(Difficulty(Ok(d))) => {
            bad(
                "difficulty",
                format!(
                    "{d} is out of range: expected 1 to 2^64-1, e.g. \"0x200\" (the paper's value)"
                ),
            );
            0x200
        }
        Some(Difficulty(Err(s))) => {
            bad(
                "difficulty",
                format!(
                    "{s:?} is not a number: expected a positive integer or hex such as \"0x200\""
                ),
            );
            0x200
        }
    };

    let gas_limit = raw.gas_limit.unwrap_or(30_000_000);
    if gas_limit < MIN_GAS_LIMIT {
        bad(
            "gas_limit",
            format!(
                "{gas_limit} cannot fit a single transfer ({MIN_GAS_LIMIT} gas); use e.g. 30000000"
            ),
        );
    } else if gas_limit > MAX_GAS_LIMIT {
        bad(
            "gas_limit",
            format!("{gas_limit} is absurdly large: expected at most {MAX_GAS_LIMIT}; use e.g. 30000000"),
        );
    }

    let accounts = raw.accounts.unwrap_or(10);
    if !(1..=MAX_ACCOUNTS).contains(&accounts) {
        bad(
            "accounts",
            format!("{accounts} is out of range: expected 1 to {MAX_ACCOUNTS}"),
        );
    }
    let account_balance_eth = raw.account_balance_eth.unwrap_or(1_000_000);
    if account_balance_eth == 0 || account_balance_eth > 1_000_000_000_000 {
        bad(
            "account_balance_eth",
            format!("{account_balance_eth} is out of range: expected 1 to 10^12 ether"),
        );
    }

    let raw_hospitals = raw.hospitals.unwrap_or_else(|| {
        vec![RawHospital {
            name: None,
            sealers: None,
            members: None,
            image: None,
            docker_host: None,
            advertise: None,
        }]
    });
    if raw_hospitals.is_empty() {
        bad(
            "hospitals",
            "the list is empty: add at least one hospital, e.g. `- name: guadalajara`".into(),
        );
    }
    let mut hospitals = Vec::new();
    for (i, h) in raw_hospitals.into_iter().enumerate() {
        let name = h.name.unwrap_or_else(|| format!("hospital-{i}"));
        let field = format!("hospitals[{i}]");
        if !is_valid_name(&name) {
            bad(
                &format!("{field}.name"),
                format!("{name:?} is not a valid name: expected 1-31 of a-z, 0-9 and '-', starting with a letter or digit; rename it"),
            );
        } else if hospitals.iter().any(|o: &Hospital| o.name == name) {
            bad(
                &format!("{field}.name"),
                format!("{name:?} is used by two hospitals; give each hospital its own name"),
            );
        }
        let sealers = h.sealers.unwrap_or(1);
        let members = h.members.unwrap_or(1);
        if sealers.saturating_add(members) == 0 {
            bad(
                &field,
                format!("hospital {name:?} has no nodes: set sealers or members to at least 1"),
            );
        }
        if let Some(image) = &h.image {
            if let Err(why) = check_image(image) {
                bad(&format!("{field}.image"), why);
            }
        }
        if let Some(host) = &h.docker_host {
            if let Err(why) = check_docker_host(host) {
                bad(&format!("{field}.docker_host"), why);
            }
        }
        hospitals.push(Hospital {
            name,
            sealers,
            members,
            image: h.image,
            docker_host: h.docker_host,
            advertise: h.advertise,
        });
    }

    let topo = Topology {
        network,
        chain_id,
        consensus,
        block_period,
        difficulty,
        gas_limit,
        peering: raw.peering.unwrap_or(Peering::Mesh),
        accounts,
        account_balance_eth,
        hospitals,
        seed: raw.seed,
        image: raw.image,
    };
    if let Some(image) = &topo.image {
        if let Err(why) = check_image(image) {
            bad("image", why);
        }
    }
    let engines: std::collections::BTreeSet<Option<&str>> = topo
        .hospitals
        .iter()
        .map(|h| h.docker_host.as_deref())
        .collect();
    if engines.len() > 1 {
        for (i, h) in topo.hospitals.iter().enumerate() {
            match h.address() {
                Some(a) if !a.contains(char::is_whitespace) && !a.contains('/') => {}
                Some(a) => bad(
                    &format!("hospitals[{i}].advertise"),
                    format!("{a:?} is not a host address: expected an IP or DNS name, e.g. 10.0.0.5"),
                ),
                None => bad(
                    &format!("hospitals[{i}].advertise"),
                    format!(
                        "hospital {:?} needs an address other hospitals can reach it at, because hospitals run on several Docker engines: set `advertise: <IP or DNS name of its Docker host>`",
                        h.name
                    ),
                ),
            }
        }
    }
    if !topo.hospitals.is_empty() && topo.sealer_count() == 0 {
        bad(
            "hospitals[*].sealers",
            format!(
                "no hospital has a sealer, so no {} would ever produce a block; give at least one hospital `sealers: 1`",
                if consensus == Consensus::Clique { "signer" } else { "miner" }
            ),
        );
    }
    if topo.node_count() > MAX_NODES {
        bad(
            "hospitals",
            format!(
                "{} nodes is more than this machine can run (at most {MAX_NODES}); lower sealers/members",
                topo.node_count()
            ),
        );
    }

    if problems.is_empty() {
        Ok(topo)
    } else {
        let mut it = problems.into_iter();
        let mut err = InputError::new(it.next().unwrap_or_default());
        err.details = it.collect();
        Err(err)
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
            "image: medchain/geth:v1.13.15\nhospitals:\n  - {name: a, image: ethereum/client-go:v1.13.15}\n  - {name: b, docker_host: \"tcp://10.1.2.3:2376\", advertise: 192.168.1.9}\n  - {name: c, docker_host: \"tcp://[fd00::1]:2376\"}\n",
            "t.yaml",
        );
        let e = t.unwrap_err().message;
        assert!(e.contains("hospitals[0].advertise"), "{e}");
        let t = parse(
            "hospitals:\n  - {name: a, advertise: 10.0.0.1}\n  - {name: b, docker_host: \"tcp://host-b.example:2376\"}\n",
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
}
