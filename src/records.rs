//! `medchain records add|get` and `medchain authorize`: the MedicalRecords
//! calls a researcher needs on a private network without Remix or a block
//! explorer.
//!
//! `records add` without `--key` writes as a CLI device that medchain derives
//! from the network's key source per patient, registers (as admin) and funds on
//! first use, so one command stores a reading.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;

use crate::contract::{
    patient_id, reverted, signing_provider, transact, wait_receipt, MedicalRecords, RECEIPT_TIMEOUT,
};
use crate::error::InputError;
use crate::state::State;
use crate::table::Table;

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

/// Parses a hex private key given on the command line.
pub(crate) fn parse_key(hex_key: &str) -> Result<PrivateKeySigner, InputError> {
    hex_key
        .trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| InputError::new("--key: expected a 32-byte hex private key (0x…)"))
}

/// Resolves a patient reference to its id.
pub(crate) fn resolve_patient(state: &State, p: &PatientRef) -> B256 {
    match p {
        PatientRef::Ssn(ssn) => patient_id(state.plan.patient_salt, ssn),
        PatientRef::Id(id) => *id,
    }
}

/// Stores one reading for a patient, as `device` or as the CLI device.
pub async fn add(
    state: &State,
    patient: &PatientRef,
    reading: Reading,
    device: Option<PrivateKeySigner>,
) -> anyhow::Result<Added> {
    let url = state.client_rpc()?;
    let mr = state.medical_address()?;
    let patient = resolve_patient(state, patient);
    let admin = state.admin_key();
    let device = match device {
        Some(d) => d,
        None => {
            let d = state
                .plan
                .key_source
                .derive(&format!("cli-device/{patient:x}"))
                .signer();
            ensure_cli_device(&url, mr, &admin, d.address(), patient).await?;
            d
        }
    };
    let c = MedicalRecords::new(mr, signing_provider(&url, &device)?);
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
    let receipt = transact(&call, "addMedicalRecord").await?;
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
///
/// Deliberately not [`transact`]: a receipt with status 0 is not an error
/// here. A `registerDevice` that loses a race with another registration of
/// the same device reverts ("already registered") although the device ends
/// up registered; if it is unusable, `add` fails with the contract's reason.
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
    let url = state.client_rpc()?;
    let mr = state.medical_address()?;
    let patient = resolve_patient(state, patient);
    let reader = reader.unwrap_or_else(|| state.admin_key());
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
    let url = state.client_rpc()?;
    let provider = signing_provider(&url, &state.admin_key())?;
    if state.plan.topology.privacy == crate::topology::Privacy::Private {
        // A global reader still reads nothing until a patient's keys are
        // shared with it (`medchain consent share`).
        let c = crate::contract::PrivateRecords::new(state.private_address()?, provider);
        let call = c.setGlobalReader(user, !revoke);
        call.call()
            .await
            .map_err(|e| reverted("setGlobalReader", e))?;
        return Ok(transact(&call, "setGlobalReader").await?.transaction_hash);
    }
    let c = MedicalRecords::new(state.medical_address()?, provider);
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
    Ok(transact(&call, what).await?.transaction_hash)
}

/// Records as a text table: a summary line, then one row per record with
/// the numbers right-aligned.
pub fn table(total: u64, offset: u64, records: &[MedicalRecords::Record]) -> String {
    let headers = [
        "ID",
        "HR",
        "SPO2",
        "SYS",
        "DIA",
        "TEMP °C",
        "SEQ",
        "DEVICE TIME",
        "DEVICE",
    ];
    let rows = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (offset + i as u64).to_string(),
                r.heartRate.to_string(),
                r.spo2.to_string(),
                r.systolic.to_string(),
                r.diastolic.to_string(),
                format!("{:.2}", f64::from(r.temperatureCentiC) / 100.0),
                r.sequence.to_string(),
                r.deviceTimestamp.to_string(),
                format!("{:#x}", r.device),
            ]
        })
        .collect();
    let t = Table {
        title: String::new(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
        note: None,
    };
    format!(
        "{total} record(s); showing {} from offset {offset}\n{}",
        records.len(),
        t.render_plain(&[0, 1, 2, 3, 4, 5, 6, 7])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keeps_the_summary_and_right_aligns_the_numbers() {
        let r = MedicalRecords::Record {
            heartRate: 72,
            spo2: 98,
            systolic: 120,
            diastolic: 80,
            temperatureCentiC: 3750,
            deviceTimestamp: 1_700_000_000_000,
            sequence: 7,
            device: Address::repeat_byte(0xab),
            blockTimestamp: 0,
        };
        let out = table(12, 10, &[r]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "12 record(s); showing 1 from offset 10");
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[1].starts_with("ID  HR  SPO2  SYS  DIA  TEMP °C  SEQ"),
            "{out}"
        );
        assert!(
            lines[2].starts_with("10  72    98  120   80    37.50    7"),
            "{out}"
        );
        assert!(lines[2].ends_with(&format!("{:#x}", Address::repeat_byte(0xab))));
    }
}
