//! `medchain device provision`: wallets, on-chain registration, gas and a
//! firmware config file for a hospital's ESP32 devices.
//!
//! For each device `i` (1-based) of hospital `H` the key is derived from the
//! network's key source and the label `device/H/i`, so provisioning is reproducible
//! and re-running it finds the same wallets. Each device is bound to one
//! patient (`registerDevice`, sent by the hospital's account), granted read
//! access for the device's history key (`authorizeUser`) and funded for gas
//! from the admin account. Steps already done on chain are skipped, so the
//! command is idempotent. The config file each device reads from its flash
//! (`firmware/core/include/medchain/device_config.hpp`) is written to
//! `<out>/<device-id>.json` (0600: it holds the device's private key), and
//! every provisioned device is listed in `<network>/devices/index.json`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::contract::{confirm, patient_id, reverted, signing_provider, MedicalRecords};
pub use crate::device_config::DeviceConfig;
use crate::error::InputError;
use crate::keys::{self, KeyPair};
use crate::state::State;
use crate::table::Table;

/// Most devices one `provision` call handles.
pub(crate) const MAX_DEVICES: u64 = 1000;

/// Devices whose transactions are sent together before waiting for receipts.
const BATCH: usize = 100;

/// A device holding less than this (1 ETH) is topped up.
const MIN_BALANCE_WEI: u128 = 1_000_000_000_000_000_000;

/// What a device is funded with (10 ETH), from the admin account.
const FUND_WEI: u128 = 10_000_000_000_000_000_000;

/// Schema version of `devices/index.json`.
pub(crate) const INDEX_SCHEMA: u32 = 1;

/// Which patients the devices are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patients {
    /// Device `i` gets the synthetic SSN `000-00-<i, 4 digits>` (test data).
    Synthetic,
    /// One SSN for every device, or exactly one per device.
    Given(Vec<String>),
}

/// A validated provisioning request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRequest {
    /// Hospital name.
    pub hospital: String,
    /// Number of devices, `1..=MAX_DEVICES`.
    pub count: u64,
    /// Patient binding.
    pub patients: Patients,
    /// Config directory; `None` for the network's `devices/`.
    pub out: Option<PathBuf>,
    /// The hospital's gateway the devices talk to (`--gateway`); `None`:
    /// the member node itself (loopback, for simulations on this host).
    pub gateway: Option<crate::gateway::provisioning::DeviceLink>,
}

impl ProvisionRequest {
    /// Checks what `device provision` was given (flag names in the
    /// messages) and turns it into a request: `count` defaults to one per
    /// SSN, else 1; SSNs are given once for every device or once per device.
    pub fn new(
        hospital: &str,
        count: Option<u64>,
        ssn: &[String],
        out: Option<PathBuf>,
    ) -> Result<ProvisionRequest, InputError> {
        let ssns: Vec<String> = ssn.iter().map(|s| s.trim().to_string()).collect();
        if let Some(i) = ssns.iter().position(|s| s.is_empty()) {
            return Err(InputError::new(format!(
                "--ssn #{}: must not be empty; give the patient's SSN, e.g. 123-45-6789",
                i + 1
            )));
        }
        let count = count.unwrap_or(ssns.len().max(1) as u64);
        if !(1..=MAX_DEVICES).contains(&count) {
            return Err(InputError::new(format!(
                "--count {count}: expected 1 to {MAX_DEVICES} devices; provision more in several calls"
            )));
        }
        if ssns.len() > 1 && ssns.len() as u64 != count {
            return Err(InputError::new(format!(
                "--ssn was given {} times for --count {count}: give it once (every device for one patient) or once per device",
                ssns.len()
            )));
        }
        if hospital.trim().is_empty() {
            return Err(InputError::new(
                "--hospital: must not be empty; pass a hospital name from the topology",
            ));
        }
        Ok(ProvisionRequest {
            hospital: hospital.trim().to_string(),
            count,
            patients: if ssns.is_empty() {
                Patients::Synthetic
            } else {
                Patients::Given(ssns)
            },
            out,
            gateway: None,
        })
    }

    /// The same request, with devices pointed at a gateway.
    pub fn with_gateway(self, gateway: Option<crate::gateway::provisioning::DeviceLink>) -> Self {
        ProvisionRequest { gateway, ..self }
    }
}

/// The synthetic SSN of device `index` (1-based): `000-00-0001`. The 000 area
/// number is never issued, so these never name a real person.
pub(crate) fn synthetic_ssn(index: u64) -> String {
    format!("000-00-{index:04}")
}

/// The device id (label on its OLED and its config file name) of device
/// `index` of `hospital`.
pub fn device_id(hospital: &str, index: u64) -> String {
    format!("{hospital}-device-{index}")
}

/// The label a device key derives from: `device/<hospital>/<index>`.
pub(crate) fn key_label(hospital: &str, index: u64) -> String {
    format!("device/{hospital}/{index}")
}

/// One device as it will be provisioned. Pure data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePlan {
    /// 1-based index within the hospital.
    pub index: u64,
    /// `<hospital>-device-<index>`.
    pub device_id: String,
    /// The device wallet.
    pub key: KeyPair,
    /// The patient's SSN.
    pub ssn: String,
    /// Whether `ssn` is a synthetic test patient.
    pub synthetic: bool,
    /// `keccak256(salt ‖ ssn)`.
    pub patient: B256,
    /// Where its config file goes.
    pub config_path: PathBuf,
    /// JSON-RPC endpoint the device talks to.
    pub rpc_url: String,
}

/// The RPC endpoint for a hospital's devices: its first member node, else
/// the network's first member (sealers serve no clients). `None` for a
/// hospital the network does not have.
pub(crate) fn hospital_rpc(state: &State, hospital: &str) -> Option<String> {
    let nodes = &state.plan.nodes;
    if !nodes.iter().any(|n| n.hospital == hospital) {
        return None;
    }
    nodes
        .iter()
        .filter(|n| n.hospital == hospital)
        .find_map(|n| n.rpc_url())
        .or_else(|| nodes.iter().find_map(|n| n.rpc_url()))
}

/// Where config files go by default, and where the index lives.
pub(crate) fn devices_dir(state: &State) -> PathBuf {
    state.plan.dir.join("devices")
}

/// Path of the network's device index.
pub(crate) fn index_path(state: &State) -> PathBuf {
    devices_dir(state).join("index.json")
}

/// Plans the devices of a request: keys, patients, files, endpoint. Pure.
pub(crate) fn plan_devices(
    state: &State,
    req: &ProvisionRequest,
) -> Result<Vec<DevicePlan>, InputError> {
    let hospitals: Vec<&str> = state
        .plan
        .hospital_keys
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    let rpc_url = hospital_rpc(state, &req.hospital)
        .filter(|_| hospitals.contains(&req.hospital.as_str()))
        .ok_or_else(|| {
            InputError::new(format!(
                "--hospital {:?}: network {} has no such hospital; hospitals: {}",
                req.hospital,
                state.plan.topology.network,
                hospitals.join(", ")
            ))
        })?;
    let rpc_url = req.gateway.as_ref().map_or(rpc_url, |g| g.url.clone());
    let out = req.out.clone().unwrap_or_else(|| devices_dir(state));
    Ok((1..=req.count)
        .map(|index| {
            let (ssn, synthetic) = match &req.patients {
                Patients::Synthetic => (synthetic_ssn(index), true),
                Patients::Given(list) if list.len() == 1 => (list[0].clone(), false),
                Patients::Given(list) => (list[(index - 1) as usize].clone(), false),
            };
            let device_id = device_id(&req.hospital, index);
            DevicePlan {
                index,
                key: state
                    .plan
                    .key_source
                    .derive(&key_label(&req.hospital, index)),
                patient: patient_id(state.plan.patient_salt, &ssn),
                config_path: out.join(format!("{device_id}.json")),
                device_id,
                ssn,
                synthetic,
                rpc_url: rpc_url.clone(),
            }
        })
        .collect())
}

/// The config file contents for one planned device.
pub(crate) fn device_config(state: &State, contract: Address, d: &DevicePlan) -> DeviceConfig {
    let private = state.plan.topology.privacy == crate::topology::Privacy::Private;
    DeviceConfig {
        rpc_url: d.rpc_url.clone(),
        chain_id: state.plan.topology.chain_id,
        contract: contract.to_checksum(None),
        device_private_key: format!("{:#x}", d.key.secret),
        // A private network's device holds its patient's id and where to
        // store sealed readings, never the salt that would reverse ids.
        patient_salt: (!private).then(|| format!("{:#x}", state.plan.patient_salt)),
        patient_id: private.then(|| format!("{:#x}", d.patient)),
        store_url: private.then(|| format!("{}/store", d.rpc_url.trim_end_matches('/'))),
        device_id: d.device_id.clone(),
        rpc_token: None,
        tls_ca: None,
        mqtt: None,
        alarms: Default::default(),
    }
}

/// One provisioned device, and what this run did for it.
#[derive(Debug, Clone, Serialize)]
pub struct Provisioned {
    /// `<hospital>-device-<index>`.
    pub device_id: String,
    /// The device wallet's address.
    pub address: Address,
    /// The patient it is bound to.
    pub patient: B256,
    /// The synthetic SSN, when no --ssn was given (given SSNs are not echoed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssn: Option<String>,
    /// Its config file.
    pub config: PathBuf,
    /// This run sent `registerDevice`.
    pub registered: bool,
    /// This run sent `authorizeUser`.
    pub authorized: bool,
    /// This run funded it.
    pub funded: bool,
    /// Its config carries an account on the network's running broker
    /// (`mqtt_*` fields).
    pub mqtt: bool,
}

/// What `device provision` did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Network name.
    pub network: String,
    /// Hospital name.
    pub hospital: String,
    /// The devices' RPC endpoint.
    pub rpc_url: String,
    /// Account that registered and authorized the devices.
    pub registrar: Address,
    /// `hospital`, or `admin` when the hospital is not registered in the contract.
    pub registrar_role: String,
    /// Whether the devices are bound to synthetic test patients.
    pub synthetic_patients: bool,
    /// Whether the device keys are deterministic test keys (`--seed`).
    pub test_keys: bool,
    /// The devices, in index order.
    pub devices: Vec<Provisioned>,
    /// The device index file.
    pub index: PathBuf,
}

/// One entry of `devices/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// `<hospital>-device-<index>`.
    pub device_id: String,
    /// Hospital name.
    pub hospital: String,
    /// 1-based index within the hospital.
    pub index: u64,
    /// Device wallet address.
    pub address: Address,
    /// Bound patient id.
    pub patient: B256,
    /// RPC endpoint in its config.
    pub rpc_url: String,
    /// Its config file.
    pub config: PathBuf,
}

/// `<network>/devices/index.json`: every device provisioned on the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIndex {
    /// Schema version.
    pub schema: u32,
    /// Devices by hospital, then index.
    pub devices: Vec<IndexEntry>,
}

/// Reads a device index; a missing file is an empty index.
pub(crate) fn load_index(path: &Path) -> anyhow::Result<DeviceIndex> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a medchain device index; delete it and provision again to rebuild it",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DeviceIndex {
            schema: INDEX_SCHEMA,
            devices: Vec::new(),
        }),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Adds or replaces entries (by device id), keeping the index sorted.
pub(crate) fn merge_index(index: &mut DeviceIndex, entries: Vec<IndexEntry>) {
    for e in entries {
        match index
            .devices
            .iter_mut()
            .find(|d| d.device_id == e.device_id)
        {
            Some(old) => *old = e,
            None => index.devices.push(e),
        }
    }
    index
        .devices
        .sort_by(|a, b| (&a.hospital, a.index).cmp(&(&b.hospital, b.index)));
}

/// What the chain already has for a device.
struct Survey {
    patient: B256,
    active: bool,
    authorized: bool,
    balance: U256,
}

/// Reads what the chain has for one planned device: its registration, its
/// read access and its balance.
async fn survey(
    c: &MedicalRecords::MedicalRecordsInstance<DynProvider>,
    d: &DevicePlan,
) -> anyhow::Result<Survey> {
    let a = d.key.address;
    let info = c
        .devices(a)
        .call()
        .await
        .map_err(|e| reverted("devices()", e))?;
    let authorized = c
        .isAuthorized(a)
        .call()
        .await
        .map_err(|e| reverted("isAuthorized()", e))?;
    let balance = c
        .provider()
        .get_balance(a)
        .await
        .with_context(|| format!("reading the balance of {a:#x}"))?;
    Ok(Survey {
        patient: info.patient,
        active: info.active,
        authorized,
        balance,
    })
}

/// The accounts and connections provisioning sends with.
struct Senders {
    /// The admin account: it funds the devices.
    admin: PrivateKeySigner,
    /// The admin's provider: reads the chain, funds, and waits for receipts.
    admin_p: DynProvider,
    /// The contract as the admin sees it (for the surveys).
    reader: MedicalRecords::MedicalRecordsInstance<DynProvider>,
    /// The contract as the registrar, who registers and authorizes.
    writer: MedicalRecords::MedicalRecordsInstance<DynProvider>,
    /// The registrar's address.
    registrar: Address,
    /// `hospital` or `admin`.
    role: &'static str,
}

/// Connects to `url` and picks the registrar. A hospital account sends its
/// own registrations, so the chain shows which hospital added a device; a
/// network whose contract predates the hospital (it is not registered there)
/// falls back to the admin.
async fn senders(
    state: &State,
    req: &ProvisionRequest,
    mr: Address,
    url: &str,
) -> anyhow::Result<Senders> {
    let admin = state.admin_key();
    let hospital: PrivateKeySigner = state
        .plan
        .hospital_keys
        .iter()
        .find(|(n, _)| *n == req.hospital)
        .map(|(_, k)| k.signer())
        .expect("plan_devices checked the hospital");
    let admin_p = signing_provider(url, &admin)?;
    let reader = MedicalRecords::new(mr, admin_p.clone());
    let is_hospital = reader
        .isHospital(hospital.address())
        .call()
        .await
        .map_err(|e| reverted("isHospital()", e))
        .with_context(|| format!("asking {url} about the contract at {mr:#x}"))?;
    let (registrar, registrar_p, role) = if is_hospital {
        let p = signing_provider(url, &hospital)?;
        (hospital.address(), p, "hospital")
    } else {
        (admin.address(), admin_p.clone(), "admin")
    };
    Ok(Senders {
        admin,
        admin_p,
        reader,
        writer: MedicalRecords::new(mr, registrar_p),
        registrar,
        role,
    })
}

/// Refuses the request when a planned device is already registered for
/// another patient: the contract never rebinds a device, so its
/// transactions would only revert. Every such device is listed at once,
/// before anything is sent.
fn check_conflicts(plans: &[DevicePlan], surveys: &[Survey]) -> Result<(), InputError> {
    let conflicts: Vec<String> = plans
        .iter()
        .zip(surveys)
        .filter(|(d, s)| s.active && s.patient != d.patient)
        .map(|(d, s)| {
            format!(
                "{} ({:#x}) is bound to patient {:#x}, not {:#x}",
                d.device_id, d.key.address, s.patient, d.patient
            )
        })
        .collect();
    if conflicts.is_empty() {
        return Ok(());
    }
    let mut e = InputError::new(format!(
        "--ssn: {} device(s) already registered for another patient; a registered device's patient cannot change (revoke it with MedicalRecords.revokeDevice first, or keep its earlier --ssn)",
        conflicts.len()
    ));
    e.details = conflicts;
    Err(e)
}

/// What this run changed on chain for one device.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Done {
    pub(crate) registered: bool,
    pub(crate) authorized: bool,
    pub(crate) funded: bool,
}

/// Brings the chain up to the plan, [`BATCH`] devices at a time: a batch's
/// transactions are sent together and then each is confirmed, so a batch
/// costs a few blocks rather than a block per transaction, and a revert
/// stops the run before the next batch.
async fn apply(plans: &[DevicePlan], surveys: &[Survey], s: &Senders) -> anyhow::Result<Vec<Done>> {
    let mut done = vec![Done::default(); plans.len()];
    for (chunk_no, chunk) in plans.chunks(BATCH).enumerate() {
        let base = chunk_no * BATCH;
        let end = base + chunk.len();
        let sent = send_batch(chunk, &surveys[base..end], &mut done[base..end], s).await?;
        for (what, hash) in sent {
            confirm(&s.admin_p, hash, &what).await?;
        }
    }
    Ok(done)
}

/// Sends what one batch of devices lacks: `registerDevice` and
/// `authorizeUser` from the registrar, device by device, then the funding
/// of every device below [`MIN_BALANCE_WEI`] from the admin. Marks each
/// step in `done` and returns the transactions, labelled, to confirm.
async fn send_batch(
    chunk: &[DevicePlan],
    surveys: &[Survey],
    done: &mut [Done],
    s: &Senders,
) -> anyhow::Result<Vec<(String, B256)>> {
    let mut sent: Vec<(String, B256)> = Vec::new();
    for ((d, sv), done) in chunk.iter().zip(surveys).zip(done.iter_mut()) {
        let a = d.key.address;
        if !sv.active {
            let p = s
                .writer
                .registerDevice(a, d.patient)
                .send()
                .await
                .map_err(|e| reverted("registerDevice", e))
                .with_context(|| format!("registering {} ({a:#x})", d.device_id))?;
            sent.push((format!("registerDevice for {}", d.device_id), *p.tx_hash()));
            done.registered = true;
        }
        if !sv.authorized {
            let p = s
                .writer
                .authorizeUser(a)
                .send()
                .await
                .map_err(|e| reverted("authorizeUser", e))
                .with_context(|| format!("authorizing {} ({a:#x})", d.device_id))?;
            sent.push((format!("authorizeUser for {}", d.device_id), *p.tx_hash()));
            done.authorized = true;
        }
    }
    for ((d, sv), done) in chunk.iter().zip(surveys).zip(done.iter_mut()) {
        if sv.balance < U256::from(MIN_BALANCE_WEI) {
            let tx = alloy::rpc::types::TransactionRequest::default()
                .to(d.key.address)
                .value(U256::from(FUND_WEI));
            let p = s.admin_p.send_transaction(tx).await.with_context(|| {
                format!(
                    "funding {} from the admin account {:#x} (does it hold 10 ETH per device?)",
                    d.device_id,
                    s.admin.address()
                )
            })?;
            sent.push((format!("funding {}", d.device_id), *p.tx_hash()));
            done.funded = true;
        }
    }
    Ok(sent)
}

/// Writes each device's config file (0600: it holds the device's key) and
/// returns the devices as the outcome lists them and as the index records
/// them, in plan order.
pub(crate) fn write_configs(
    state: &State,
    req: &ProvisionRequest,
    mr: Address,
    plans: &[DevicePlan],
    done: Vec<Done>,
) -> anyhow::Result<(Vec<Provisioned>, Vec<IndexEntry>)> {
    // The network's devices directory (default configs, the index) is
    // private; a chosen --out directory is created 0700 when missing.
    crate::private_fs::create_dir(&devices_dir(state))?;
    let (tokens, tls_ca) = gateway_credentials(state, req, plans)?;
    let mut devices = Vec::with_capacity(plans.len());
    let mut entries = Vec::with_capacity(plans.len());
    for ((d, done), token) in plans.iter().zip(done).zip(tokens) {
        let config = DeviceConfig {
            rpc_token: Some(token),
            tls_ca: tls_ca.clone(),
            mqtt: crate::broker::device_link::for_device(&state.plan.dir, &d.device_id)?,
            ..device_config(state, mr, d)
        };
        keys::write_private(
            &d.config_path,
            format!("{}\n", serde_json::to_string_pretty(&config)?).as_bytes(),
        )
        .with_context(|| format!("--out: writing the config of {}", d.device_id))?;
        entries.push(IndexEntry {
            device_id: d.device_id.clone(),
            hospital: req.hospital.clone(),
            index: d.index,
            address: d.key.address,
            patient: d.patient,
            rpc_url: d.rpc_url.clone(),
            config: d.config_path.clone(),
        });
        devices.push(Provisioned {
            device_id: d.device_id.clone(),
            address: d.key.address,
            patient: d.patient,
            ssn: d.synthetic.then(|| d.ssn.clone()),
            config: d.config_path.clone(),
            registered: done.registered,
            authorized: done.authorized,
            funded: done.funded,
            mqtt: false,
        });
    }
    Ok((devices, entries))
}

/// A gateway token per device (the one its config holds while the
/// network's token store still has it, else a new one) and the CA the
/// devices pin, if any.
fn gateway_credentials(
    state: &State,
    req: &ProvisionRequest,
    plans: &[DevicePlan],
) -> anyhow::Result<(Vec<String>, Option<String>)> {
    use crate::gateway::{provisioning, tokens};
    let network = &state.plan.topology.network;
    let ca = match &req.gateway {
        Some(link) => provisioning::ca_pem(link, &state.plan.dir, network, &req.hospital)?,
        None => None,
    };
    // A device keeps the token its config already holds while the store
    // still has it (devices in the field keep working); others get one.
    let current = |p: &Path| -> Option<String> {
        let text = std::fs::read_to_string(p).ok()?;
        serde_json::from_str::<DeviceConfig>(&text).ok()?.rpc_token
    };
    let clients: Vec<(tokens::NewClient, Option<String>)> = plans
        .iter()
        .map(|d| {
            let c = tokens::NewClient {
                name: d.device_id.clone(),
                hospital: req.hospital.clone(),
                device: Some(d.key.address),
            };
            (c, current(&d.config_path))
        })
        .collect();
    let issued = tokens::issue_or_keep(&tokens::store_path(&state.plan.dir), &clients)?;
    Ok((issued, ca))
}

/// Merges `entries` into the network's device index and rewrites it
/// atomically (a temporary file renamed over it); returns its path.
pub(crate) fn save_index(state: &State, entries: Vec<IndexEntry>) -> anyhow::Result<PathBuf> {
    let index = index_path(state);
    let mut idx = load_index(&index)?;
    merge_index(&mut idx, entries);
    keys::write_private(&index, serde_json::to_string_pretty(&idx)?.as_bytes())?;
    Ok(index)
}

/// When the network's broker runs, has it issue each device an account,
/// written into the device's config, and marks the devices that have one.
pub(crate) async fn link_broker(state: &State, devices: &mut [Provisioned]) -> anyhow::Result<()> {
    let configs: Vec<(String, PathBuf)> = devices
        .iter()
        .map(|d| (d.device_id.clone(), d.config.clone()))
        .collect();
    let broker = crate::broker::device_link::refresh(&state.plan, &configs).await?;
    for d in devices {
        d.mqtt = broker
            && crate::broker::device_link::for_device(&state.plan.dir, &d.device_id)?.is_some();
    }
    Ok(())
}

/// Provisions the devices of `req` on the running network: registers,
/// authorizes and funds what is not yet, writes the config files and the
/// index. Safe to re-run.
pub async fn provision(state: &State, req: &ProvisionRequest) -> anyhow::Result<Outcome> {
    let plans = plan_devices(state, req)?;
    let mr = state.medical_address_for("`medchain device provision`")?;
    let url = plans[0].rpc_url.clone();
    // Provisioning itself talks to the member, also when devices go through
    // a gateway.
    let node = hospital_rpc(state, &req.hospital).unwrap_or_else(|| url.clone());
    let s = senders(state, req, mr, &node).await?;
    let surveys: Vec<Survey> = futures::stream::iter(plans.iter())
        .map(|d| survey(&s.reader, d))
        .buffered(16)
        .try_collect()
        .await?;
    check_conflicts(&plans, &surveys)?;
    let done = apply(&plans, &surveys, &s).await?;
    let (mut devices, entries) = write_configs(state, req, mr, &plans, done)?;
    link_broker(state, &mut devices).await?;
    let index = save_index(state, entries)?;
    Ok(Outcome {
        network: state.plan.topology.network.clone(),
        hospital: req.hospital.clone(),
        rpc_url: url,
        registrar: s.registrar,
        registrar_role: s.role.to_string(),
        synthetic_patients: req.patients == Patients::Synthetic,
        test_keys: state.plan.key_source.is_test(),
        devices,
        index,
    })
}

/// The outcome as text: a summary, a note on synthetic patients, a table of
/// the devices and a closing line on where their keys and index are.
pub fn table(o: &Outcome) -> String {
    let mut out = String::new();
    let new = o
        .devices
        .iter()
        .filter(|d| d.registered || d.authorized || d.funded)
        .count();
    let _ = writeln!(
        out,
        "network {}, hospital {}: {} device(s), {new} changed on chain; RPC {}; registered by the {} account {:#x}",
        o.network,
        o.hospital,
        o.devices.len(),
        o.rpc_url,
        o.registrar_role,
        o.registrar
    );
    if o.synthetic_patients {
        let first = o
            .devices
            .first()
            .and_then(|d| d.ssn.clone())
            .unwrap_or_default();
        let last = o
            .devices
            .last()
            .and_then(|d| d.ssn.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "no --ssn given: devices are bound to SYNTHETIC test patients {first} … {last} (device i → 000-00-<i>); pass --ssn to bind real patients"
        );
    }
    let t = Table {
        title: String::new(),
        headers: ["DEVICE", "ADDRESS", "PATIENT", "THIS RUN", "CONFIG"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows: o
            .devices
            .iter()
            .map(|d| {
                vec![
                    d.device_id.clone(),
                    d.address.to_checksum(None),
                    format!("{:#x}", d.patient),
                    this_run(d),
                    d.config.display().to_string(),
                ]
            })
            .collect(),
        note: None,
    };
    out.push_str(&t.render_plain(&[]));
    let _ = write!(
        out,
        "config files hold the devices' private keys (0600); index: {}",
        o.index.display()
    );
    match o.devices.iter().filter(|d| d.mqtt).count() {
        0 => out.push_str("\nMQTT: no broker account in the configs (the network's broker is not running; `medchain broker start`, then provision again)"),
        n => {
            let _ = write!(out, "\nMQTT: {n} config(s) carry the device's account on the network's broker (mqtt_* fields)");
        }
    }
    if o.test_keys {
        out.push_str("\nkeys: ");
        out.push_str(crate::keys::KeySource::Seed(0).describe());
    }
    out
}

/// The THIS RUN cell: the steps this run took for a device, or
/// `already done`.
fn this_run(d: &Provisioned) -> String {
    let did: Vec<&str> = [
        (d.registered, "registered"),
        (d.authorized, "authorized"),
        (d.funded, "funded"),
    ]
    .into_iter()
    .filter_map(|(yes, step)| yes.then_some(step))
    .collect();
    if did.is_empty() {
        "already done".to_string()
    } else {
        did.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{NodePorts, PlanInputs};

    fn state(yaml: &str) -> State {
        let topo = crate::topology::parse(yaml, "t.yaml").unwrap();
        let n = crate::plan::node_count(&topo);
        let ports = (0..n as u16)
            .map(|i| NodePorts {
                http: 9000 + 10 * i,
                ws: 9001 + 10 * i,
                p2p: 9002 + 10 * i,
                authrpc: 9003 + 10 * i,
                metrics: 9004 + 10 * i,
            })
            .collect();
        let plan = crate::plan::plan(
            &topo,
            &PlanInputs {
                key_source: crate::keys::KeySource::Seed(9),
                home: PathBuf::from("/h"),
                ports,
                dag_dir: PathBuf::from("/dag"),
            },
        );
        State {
            schema: crate::state::SCHEMA,
            runtime: crate::runtime::Kind::Process,
            geth_path: PathBuf::from("geth"),
            plan,
            pids: Default::default(),
            containers: Default::default(),
            contracts: Default::default(),
        }
    }

    const TOPO: &str = "network: n\nhospitals:\n  - {name: a, sealers: 1, members: 1}\n  - {name: b, sealers: 1, members: 0}\n";

    /// What `device provision --hospital H [--count N] [--ssn S]…` asks.
    struct Args(Result<ProvisionRequest, InputError>);

    impl Args {
        fn into_request(self) -> Result<ProvisionRequest, InputError> {
            self.0
        }
    }

    fn args(hospital: &str, count: Option<u64>, ssn: &[&str]) -> Args {
        let ssn: Vec<String> = ssn.iter().map(|s| s.to_string()).collect();
        Args(ProvisionRequest::new(hospital, count, &ssn, None))
    }

    #[test]
    fn counts_and_ssn_lists_are_checked() {
        assert_eq!(args("a", None, &[]).into_request().unwrap().count, 1);
        assert_eq!(
            args("a", None, &["1", "2", "3"])
                .into_request()
                .unwrap()
                .count,
            3
        );
        let one = args("a", Some(4), &["123-45-6789"]).into_request().unwrap();
        assert_eq!(one.patients, Patients::Given(vec!["123-45-6789".into()]));
        for bad in [
            args("a", Some(0), &[]),
            args("a", Some(1001), &[]),
            args("a", Some(3), &["1", "2"]),
            args("a", Some(1), &[" "]),
            args(" ", Some(1), &[]),
        ] {
            let e = bad.into_request().unwrap_err();
            assert!(e.message.starts_with("--"), "{}", e.message);
        }
        assert!(args("a", Some(1000), &[]).into_request().is_ok());
    }

    #[test]
    fn plan_is_deterministic_and_uses_the_hospital_member() {
        let s = state(TOPO);
        let req = args("a", Some(2), &[]).into_request().unwrap();
        let p = plan_devices(&s, &req).unwrap();
        assert_eq!(p, plan_devices(&s, &req).unwrap());
        assert_eq!(p[0].device_id, "a-device-1");
        assert_eq!(p[1].ssn, "000-00-0002");
        assert!(p[1].synthetic);
        assert_eq!(p[0].key, keys::derive(9, "device/a/1"));
        assert_eq!(p[0].patient, patient_id(s.plan.patient_salt, "000-00-0001"));
        assert_eq!(
            p[0].config_path,
            PathBuf::from("/h/n/devices/a-device-1.json")
        );
        let member = s
            .plan
            .nodes
            .iter()
            .find(|n| n.name == "a-member-0")
            .unwrap();
        assert_eq!(Some(&p[0].rpc_url), member.rpc_url().as_ref());
        // Hospital b has no member (sealers serve no clients): the
        // network's first member.
        let pb = plan_devices(&s, &args("b", Some(1), &[]).into_request().unwrap()).unwrap();
        assert_eq!(Some(&pb[0].rpc_url), member.rpc_url().as_ref());
        assert_ne!(pb[0].key.address, p[0].key.address);
    }

    #[test]
    fn given_ssns_bind_one_each_or_all_to_one() {
        let s = state(TOPO);
        let each = plan_devices(
            &s,
            &args("a", None, &["111-11-1111", "222-22-2222"])
                .into_request()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(each[1].ssn, "222-22-2222");
        assert!(!each[1].synthetic);
        let all = plan_devices(
            &s,
            &args("a", Some(3), &["111-11-1111"]).into_request().unwrap(),
        )
        .unwrap();
        assert!(all.iter().all(|d| d.patient == all[0].patient));
    }

    #[test]
    fn unknown_hospital_lists_the_hospitals() {
        let s = state(TOPO);
        let e = plan_devices(&s, &args("zz", Some(1), &[]).into_request().unwrap()).unwrap_err();
        assert!(e.message.contains("--hospital \"zz\""), "{}", e.message);
        assert!(e.message.contains("hospitals: a, b"), "{}", e.message);
    }

    #[test]
    fn config_has_the_fields_the_firmware_reads() {
        let mr: Address = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
            .parse()
            .unwrap();
        let parser = include_str!("../firmware/core/src/device_config.cpp");
        assert!(parser.contains("config.find(\"alarms\")"));
        let clear_topo = format!("privacy: clear\n{TOPO}");
        let mut configs = Vec::new();
        // A clear network's device derives ids from the salt; a private
        // one's holds its patient's id and the store, never the salt.
        for (topo, clear) in [(clear_topo.as_str(), true), (TOPO, false)] {
            let s = state(topo);
            let d = &plan_devices(&s, &args("a", Some(1), &[]).into_request().unwrap()).unwrap()[0];
            let c = device_config(&s, mr, d);
            let v = serde_json::to_value(&c).unwrap();
            assert_eq!(v["contract"], "0x5FbDB2315678afecb367f032d93F642f64180aa3");
            assert_eq!(v["chain_id"], 1337);
            assert_eq!(v["device_private_key"].as_str().unwrap().len(), 66);
            assert_eq!(v.get("patient_salt").is_some(), clear, "{v}");
            assert_eq!(v.get("patient_id").is_some(), !clear, "{v}");
            assert_eq!(v.get("store_url").is_some(), !clear, "{v}");
            // Every field written is one the firmware's parser reads.
            for f in v.as_object().unwrap().keys().filter(|k| *k != "alarms") {
                assert!(
                    parser.contains(&format!("config, \"{f}\"")),
                    "firmware parser does not read {f}"
                );
            }
            configs.push(c);
        }
        let c = configs.remove(0);
        // The gateway's token and CA are optional fields the firmware reads.
        let full = DeviceConfig {
            rpc_token: Some("mcg_x".into()),
            tls_ca: Some("-----BEGIN CERTIFICATE-----".into()),
            mqtt: Some(crate::device_config::DeviceMqtt {
                mqtt_url: "mqtts://127.0.0.1:8883".into(),
                mqtt_username: "h-device-1".into(),
                mqtt_password: "p".into(),
                mqtt_tx_topic: "medchain/n/h/devices/0xab/tx".into(),
                mqtt_ca: "-----BEGIN CERTIFICATE-----".into(),
            }),
            ..c
        };
        let v = serde_json::to_value(&full).unwrap();
        let back: DeviceConfig = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, full, "the MQTT fields read back");
        for f in [
            "rpc_token",
            "tls_ca",
            "mqtt_url",
            "mqtt_username",
            "mqtt_password",
            "mqtt_tx_topic",
            "mqtt_ca",
        ] {
            assert!(v.get(f).is_some(), "{f}");
            assert!(
                parser.contains(&format!("optional_string(config, \"{f}\")")),
                "firmware parser does not read {f}"
            );
        }
    }

    #[test]
    fn table_keeps_the_summary_lines_around_aligned_columns() {
        let d = |id: &str, new: bool| Provisioned {
            device_id: id.into(),
            address: Address::ZERO,
            patient: B256::ZERO,
            ssn: Some("000-00-0001".into()),
            config: PathBuf::from(format!("/d/{id}.json")),
            registered: new,
            authorized: new,
            funded: false,
            mqtt: new,
        };
        let o = Outcome {
            network: "n".into(),
            hospital: "a".into(),
            rpc_url: "http://x".into(),
            registrar: Address::ZERO,
            registrar_role: "hospital".into(),
            synthetic_patients: true,
            test_keys: false,
            devices: vec![d("a-device-1", true), d("a-device-10", false)],
            index: PathBuf::from("/d/index.json"),
        };
        let out = table(&o);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("network n, hospital a: 2 device(s), 1 changed"));
        assert!(lines[1].contains("SYNTHETIC"));
        let cols = |l: &str| l.find("0x").unwrap();
        assert_eq!(lines[2].find("ADDRESS"), Some(cols(lines[3])));
        assert_eq!(cols(lines[3]), cols(lines[4]));
        assert!(lines[3].contains("registered,authorized"), "{out}");
        assert!(lines[4].contains("already done"), "{out}");
        assert_eq!(
            lines[5],
            "config files hold the devices' private keys (0600); index: /d/index.json"
        );
        assert!(lines[6].starts_with("MQTT: 1 config(s) carry"), "{out}");
        assert!(!out.ends_with('\n'));
    }

    #[test]
    fn index_merges_by_device_id_and_sorts() {
        let e = |h: &str, i: u64, rpc: &str| IndexEntry {
            device_id: device_id(h, i),
            hospital: h.into(),
            index: i,
            address: Address::ZERO,
            patient: B256::ZERO,
            rpc_url: rpc.into(),
            config: PathBuf::from("x"),
        };
        let mut idx = DeviceIndex {
            schema: INDEX_SCHEMA,
            devices: vec![e("b", 1, "old"), e("a", 10, "old")],
        };
        merge_index(&mut idx, vec![e("a", 2, "new"), e("b", 1, "new")]);
        let ids: Vec<&str> = idx.devices.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(ids, ["a-device-2", "a-device-10", "b-device-1"]);
        assert_eq!(idx.devices[2].rpc_url, "new");
        let dir = tempfile::tempdir().unwrap();
        assert!(load_index(&dir.path().join("none.json"))
            .unwrap()
            .devices
            .is_empty());
    }
}
