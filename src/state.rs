//! The single file later invocations read (`status`, `down`, `logs`,
//! `accounts`, `bench`): `$MEDCHAIN_HOME/<network>/state.json`. It holds the
//! plan that was applied, the runtime that ran it, the processes it started
//! and the contracts deployed, so everything a user needs to reach the
//! network is in one place.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::plan::Plan;
use crate::runtime::{self, AnyRuntime, Handle, Kind};

/// Current schema version of `state.json`.
pub(crate) const SCHEMA: u32 = 1;

/// A network's recorded state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Schema version.
    pub schema: u32,
    /// Runtime that runs the nodes (`process` or `docker`; older files'
    /// free strings are migrated on reading).
    #[serde(deserialize_with = "Kind::deserialize_legacy")]
    pub runtime: Kind,
    /// The geth binary used.
    pub geth_path: PathBuf,
    /// The applied plan.
    pub plan: Plan,
    /// Process ids of running nodes, by node name (process runtime).
    #[serde(default)]
    pub pids: BTreeMap<String, u32>,
    /// Container ids of running nodes, by node name (docker runtime).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub containers: BTreeMap<String, String>,
    /// Deployed contracts by role (`medical_records`, `simple`).
    #[serde(default)]
    pub contracts: BTreeMap<String, Address>,
}

impl State {
    /// Path of a network's state file.
    pub fn path(home: &Path, network: &str) -> PathBuf {
        home.join(network).join("state.json")
    }

    /// Loads a network's state; a missing network is an input error that
    /// lists the networks that do exist.
    pub fn load(home: &Path, network: &str) -> anyhow::Result<State> {
        let path = Self::path(home, network);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && path.parent().is_some_and(|d| d.join("nodes").is_dir()) =>
            {
                return Err(InputError::new(format!(
                    "{} is missing (deleted, or never written): `medchain down --network {network}` stops the network's nodes without it, `--purge` also removes its data",
                    path.display()
                ))
                .into());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let known = list_networks(home);
                return Err(InputError::new(format!(
                    "network {network:?} has no state in {}: {}",
                    home.display(),
                    if known.is_empty() {
                        "no network was brought up here; run `medchain up` (or pass --home)"
                            .to_string()
                    } else {
                        format!("known networks: {}; pass --network NAME", known.join(", "))
                    }
                ))
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is corrupt or from another version ({e}): `medchain down --network {network}` stops the network's nodes without it, `--purge` also removes its data",
                path.display()
            )
        })
    }

    /// The runtime that runs this network.
    pub fn kind(&self) -> Kind {
        self.runtime
    }

    /// Connects the runtime that runs this network.
    pub(crate) async fn connect_runtime(&self) -> anyhow::Result<AnyRuntime> {
        runtime::connect(self.runtime, &self.plan.topology).await
    }

    /// The recorded handle of a node, if it was started.
    pub(crate) fn handle(&self, node: &str) -> Option<Handle> {
        self.pids.get(node).map(|p| Handle::Pid(*p)).or_else(|| {
            self.containers
                .get(node)
                .map(|c| Handle::Container(c.clone()))
        })
    }

    /// Records a started node's handle.
    pub(crate) fn set_handle(&mut self, node: &str, handle: Handle) {
        match handle {
            Handle::Pid(p) => {
                self.pids.insert(node.to_string(), p);
            }
            Handle::Container(c) => {
                self.containers.insert(node.to_string(), c);
            }
        }
    }

    /// Forgets every node's handle (after stopping them).
    pub(crate) fn clear_handles(&mut self) {
        self.pids.clear();
        self.containers.clear();
    }

    /// Number of nodes with a recorded handle.
    pub fn started(&self) -> usize {
        self.pids.len() + self.containers.len()
    }

    /// Writes the state file atomically and durably (synced, then renamed
    /// over the old one, then the directory synced: a crash leaves the old
    /// state or the new, never a torn file), readable only by the owner (it
    /// holds private keys of test accounts).
    pub(crate) fn save(&self) -> anyhow::Result<()> {
        let path = Self::path(
            self.plan.dir.parent().unwrap_or(Path::new(".")),
            &self.plan.topology.network,
        );
        crate::private_fs::replace_durably(&path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Networks with a state file under `home`, sorted.
pub fn list_networks(home: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(home) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("state.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    out.sort();
    out
}

/// How to reach a network from its state: the endpoint, key and contract
/// address that CLI commands (`records`, `authorize`, `tx`, `deploy`,
/// `device provision`) talk to.
impl State {
    /// The client RPC endpoint: the first member node's (every network
    /// has one; sealers serve no clients). A state file from before that
    /// rule with no member yields an error saying what to do.
    pub(crate) fn client_rpc(&self) -> anyhow::Result<String> {
        self.plan
            .nodes
            .iter()
            .find_map(|n| n.rpc_url())
            .ok_or_else(|| {
                InputError::new(format!(
                    "network {} has no member node, and sealers serve no clients; add `members: 1` to a hospital, then `medchain down --purge` and `medchain up`",
                    self.plan.topology.network
                ))
                .into()
            })
    }

    /// The admin (deployer) key: the first test account.
    pub(crate) fn admin_key(&self) -> alloy::signers::local::PrivateKeySigner {
        self.plan.accounts[0].signer()
    }

    /// The MedicalRecords (clear layout) address, or an input error saying
    /// how to deploy it, or that the network keeps its records private and
    /// `what` exists only for the clear layout so far.
    pub(crate) fn medical_address_for(&self, what: &str) -> anyhow::Result<Address> {
        let network = &self.plan.topology.network;
        if let Some(a) = self.contracts.get(crate::contract::MEDICAL_KEY) {
            return Ok(*a);
        }
        if self.plan.topology.privacy == crate::topology::Privacy::Private {
            return Err(InputError::new(format!(
                "network {network} keeps its records private (privacy: private, the PrivateRecords contract), but {what} works only with the published clear layout so far; use `medchain records` on this network, or bring up a network with `privacy: clear` in its topology (records then public)"
            ))
            .into());
        }
        Err(InputError::new(format!(
            "network {network} has no MedicalRecords contract; run `medchain deploy --contract medical`"
        ))
        .into())
    }

    /// The MedicalRecords address (clear layout); see
    /// [`State::medical_address_for`].
    pub(crate) fn medical_address(&self) -> anyhow::Result<Address> {
        self.medical_address_for("this command")
    }

    /// The PrivateRecords address, or an input error saying how to deploy it.
    pub(crate) fn private_address(&self) -> anyhow::Result<Address> {
        self.contracts
            .get(crate::contract::PRIVATE_KEY)
            .copied()
            .ok_or_else(|| {
                InputError::new(format!(
                    "network {} has no PrivateRecords contract; run `medchain deploy --contract medical`",
                    self.plan.topology.network
                ))
                .into()
            })
    }
}
