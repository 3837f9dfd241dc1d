//! `medchain records add|get` and `medchain authorize`: the MedicalRecords
//! calls a researcher needs on a private network without Remix or a block
//! explorer.
//!
//! `records add` without `--key` writes as a CLI device that medchain derives
//! from the network's seed per patient, registers (as admin) and funds on
//! first use, so one command stores a reading.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};

use crate::contract::{
    patient_id, revert_reason, signing_provider, wait_receipt, MedicalRecords, MEDICAL_KEY,
    RECEIPT_TIMEOUT,
};
use crate::error::InputError;
use crate::keys;
use crate::state::State;

/// Who a patient is on the command line.
#[derive(Debug, Clone)]
pub enum PatientRef {
    /// The SSN, hashed with the network's salt.
    Ssn(String),
    /// An already hashed patient id.
    Id(B256),
}

/// One reading to store.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Beats per minute.
    pub heart_rate: u16,
    /// Oxygen saturation, percent.
    pub spo2: u16,
    /// Systolic blood pressure, mmHg.
    pub systolic: u16,
    /// Diastolic blood pressure, mmHg.
    pub diastolic: u16,
    /// Body temperature, hundredths of a degree Celsius.
    pub temperature_centi_c: i16,
}

/// What `records add` did.
#[derive(Debug, serde::Serialize)]
pub struct Added {
    /// Patient id.
    pub patient: B256,
    /// Device that wrote it.
    pub device: Address,
    /// Record id (index in the patient's list).
    pub record_id: u64,
    /// Device sequence number used.
    pub sequence: u64,
    /// Transaction hash.
    pub tx: B256,
    /// Block it was included in.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
}

/// The MedicalRecords address, or an input error saying how to deploy.
pub fn medical_address(state: &State) -> anyhow::Result<Address> {
    state.contracts.get(MEDICAL_KEY).copied().ok_or_else(|| {
        InputError::new(format!(
            "network {} has no MedicalRecords contract; run `medchain deploy --contract medical`",
            state.plan.topology.network
        ))
        .into()
    })
}

/// The admin (deployer) key: the first test account.
pub fn admin_key(state: &State) -> PrivateKeySigner {
    state.plan.accounts[0].signer()
}

/// Parses a hex private key given on the command line.
pub fn parse_key(hex_key: &str) -> Result<PrivateKeySigner, InputError> {
    hex_key
        .trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| InputError::new("--key: expected a 32-byte hex private key (0x…)"))
}

/// Resolves a patient reference to its id.
pub fn resolve_patient(state: &State, p: &PatientRef) -> B256 {
    match p {
        PatientRef::Ssn(ssn) => patient_id(state.plan.patient_salt, ssn),
        PatientRef::Id(id) => *id,
    }
}

/// The client RPC endpoint: the first member node, else the first node.
pub fn client_rpc(state: &State) -> String {
    let nodes = &state.plan.nodes;
    nodes
        .iter()
        .find(|n| n.role == crate::plan::Role::Member)
        .unwrap_or(&nodes[0])
        .rpc_url()
}

fn reverted(what: &str, e: alloy::contract::Error) -> anyhow::Error {
    match revert_reason(&e) {
        Some(r) => anyhow!("{what} reverted: {r}"),
        None => anyhow!("{what}: {e}"),
    }
}

/// Stores one reading for a patient, as `device` or as the CLI device.
pub async fn add(
    state: &State,
    patient: &PatientRef,
    reading: Reading,
    device: Option<PrivateKeySigner>,
) -> anyhow::Result<Added> {
    let url = client_rpc(state);
    let mr = medical_address(state)?;
    let patient = resolve_patient(state, patient);
    let admin = admin_key(state);
    let device = match device {
        Some(d) => d,
        None => {
            let d = keys::derive(state.plan.seed, &format!("cli-device/{patient:x}")).signer();
            ensure_cli_device(&url, mr, &admin, d.address(), patient).await?;
            d
        }
    };
    let provider = signing_provider(&url, &device)?;
    let c = MedicalRecords::new(mr, provider.clone());
    let info = c
        .devices(device.address())
        .call()
        .await
        .map_err(|e| reverted("devices()", e))?;
    let sequence = info.lastSequence + 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let call = c.addMedicalRecord(
        patient,
        reading.heart_rate,
        reading.spo2,
        reading.systolic,
        reading.diastolic,
        reading.temperature_centi_c,
        now,
        sequence,
    );
    let record_id = call
        .call()
        .await
        .map_err(|e| reverted("addMedicalRecord", e))?;
    let pending = call
        .send()
        .await
        .map_err(|e| reverted("addMedicalRecord", e))?;
    let receipt = wait_receipt(&provider, *pending.tx_hash(), RECEIPT_TIMEOUT)
        .await
        .context("waiting for the addMedicalRecord receipt")?;
    if !receipt.status() {
        return Err(anyhow!(
            "addMedicalRecord reverted in block (tx {})",
            receipt.transaction_hash
        ));
    }
    Ok(Added {
        patient,
        device: device.address(),
        record_id: record_id.to::<u64>(),
        sequence,
        tx: receipt.transaction_hash,
        block: receipt.block_number.unwrap_or_default(),
        gas_used: receipt.gas_used,
    })
}

/// Registers and funds the CLI device for `patient` if it is not yet.
async fn ensure_cli_device(
    url: &str,
    mr: Address,
    admin: &PrivateKeySigner,
    device: Address,
    patient: B256,
) -> anyhow::Result<()> {
    let provider = signing_provider(url, admin)?;
    let c = MedicalRecords::new(mr, provider.clone());
    let info = c
        .devices(device)
        .call()
        .await
        .map_err(|e| reverted("devices()", e))?;
    if !info.active {
        let pending = c
            .registerDevice(device, patient)
            .send()
            .await
            .map_err(|e| reverted("registerDevice", e))?;
        wait_receipt(&provider, *pending.tx_hash(), RECEIPT_TIMEOUT).await?;
    }
    if provider.get_balance(device).await? == U256::ZERO {
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(device)
            .value(U256::from(10u64).pow(U256::from(18u64)));
        let pending = provider.send_transaction(tx).await?;
        wait_receipt(&provider, *pending.tx_hash(), RECEIPT_TIMEOUT).await?;
    }
    Ok(())
}

/// A page of a patient's records, read as `reader` (default: admin).
pub async fn get(
    state: &State,
    patient: &PatientRef,
    offset: u64,
    limit: u64,
    reader: Option<PrivateKeySigner>,
) -> anyhow::Result<(u64, Vec<MedicalRecords::Record>)> {
    let url = client_rpc(state);
    let mr = medical_address(state)?;
    let patient = resolve_patient(state, patient);
    let reader = reader.unwrap_or_else(|| admin_key(state));
    let c = MedicalRecords::new(mr, signing_provider(&url, &reader)?);
    let total = c
        .medicalRecordCount(patient)
        .from(reader.address())
        .call()
        .await
        .map_err(|e| reverted("medicalRecordCount", e))?;
    let page = c
        .getMedicalRecords(patient, U256::from(offset), U256::from(limit))
        .from(reader.address())
        .call()
        .await
        .map_err(|e| reverted("getMedicalRecords", e))?;
    Ok((total.to::<u64>(), page))
}

/// Grants (or with `revoke`, removes) global read access, as admin.
pub async fn authorize(state: &State, user: Address, revoke: bool) -> anyhow::Result<B256> {
    let url = client_rpc(state);
    let provider = signing_provider(&url, &admin_key(state))?;
    let c = MedicalRecords::new(medical_address(state)?, provider.clone());
    let call = if revoke {
        c.revokeUser(user).clear_decoder()
    } else {
        c.authorizeUser(user).clear_decoder()
    };
    let what = if revoke {
        "revokeUser"
    } else {
        "authorizeUser"
    };
    call.call().await.map_err(|e| reverted(what, e))?;
    let pending = call.send().await.map_err(|e| reverted(what, e))?;
    let r = wait_receipt(&provider, *pending.tx_hash(), RECEIPT_TIMEOUT).await?;
    if !r.status() {
        return Err(anyhow!("{what} reverted (tx {})", r.transaction_hash));
    }
    Ok(r.transaction_hash)
}

/// Records as a text table.
pub fn table(total: u64, offset: u64, records: &[MedicalRecords::Record]) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{total} record(s); showing {} from offset {offset}\n{:>5} {:>4} {:>5} {:>7} {:>7} {:>8} {:>10} {:>12}  {}\n",
        records.len(),
        "ID",
        "HR",
        "SPO2",
        "SYS",
        "DIA",
        "TEMP °C",
        "SEQ",
        "DEVICE TIME",
        "DEVICE"
    );
    for (i, r) in records.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>5} {:>4} {:>5} {:>7} {:>7} {:>8.2} {:>10} {:>12}  {:#x}",
            offset + i as u64,
            r.heartRate,
            r.spo2,
            r.systolic,
            r.diastolic,
            f64::from(r.temperatureCentiC) / 100.0,
            r.sequence,
            r.deviceTimestamp,
            r.device
        );
    }
    out
}
