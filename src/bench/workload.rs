//! What each transaction of a round does: the contract call for op ×
//! index × worker, and which worker must send it. Pure: every call is
//! derived from the run's tag and the index, so no shared state is needed
//! on the send path.
//!
//! Medical ops run with each worker registered as a hospital (custodian of
//! the EMRs it opens), an authorized reader, and a device bound to its own
//! patient. `transfer-emr` moves EMR `i` from its custodian to the next
//! worker; a round should not transfer more EMRs than were opened.

use alloy::primitives::{keccak256, Address, Bytes, B256, I256, U256};
use alloy::sol_types::SolCall;

use super::scenario::Workload;
use crate::contract::{MedicalRecords, Simple};

/// A transaction or call to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Contract to call.
    pub to: Address,
    /// ABI-encoded calldata.
    pub input: Bytes,
    /// Gas limit (fixed per op, so no estimate is needed on the send path).
    pub gas: u64,
    /// A read (eth_call) rather than a transaction.
    pub read: bool,
}

/// What a run's calls depend on.
#[derive(Debug, Clone)]
pub struct Env {
    /// Run tag: makes account names and patients unique per run.
    pub tag: u64,
    /// Simple's address.
    pub simple: Address,
    /// MedicalRecords' address.
    pub medical: Address,
    /// Worker addresses, in order.
    pub workers: Vec<Address>,
    /// Accounts opened so far on Simple (by `open` rounds).
    pub opened_accounts: u64,
    /// EMRs opened so far (by `open-emr` rounds).
    pub opened_emrs: u64,
    /// EMR transfers done so far (so later transfer rounds continue the chain).
    pub emr_transfers: u64,
    /// Next device sequence number per worker.
    pub next_sequence: Vec<u64>,
}

impl Env {
    /// Simple account name `k`.
    pub fn account(&self, k: u64) -> String {
        format!("{:x}-{k}", self.tag)
    }

    /// Patient of EMR `k`.
    pub(crate) fn emr_patient(&self, k: u64) -> B256 {
        keccak256(format!("{:x}/emr/{k}", self.tag))
    }

    /// Patient worker `w`'s device is bound to.
    pub(crate) fn device_patient(&self, w: usize) -> B256 {
        keccak256(format!("{:x}/device/{w}", self.tag))
    }
}

/// Which worker sends transaction `index` of `workload`. Most ops spread
/// round-robin; EMR transfers must come from the EMR's current custodian.
pub(crate) fn worker_for(workload: &Workload, index: u64, env: &Env) -> usize {
    let w = env.workers.len() as u64;
    match workload {
        Workload::TransferEmr => {
            let (emr, pass) = emr_transfer(index, env);
            ((emr % w + pass) % w) as usize
        }
        _ => (index % w) as usize,
    }
}

/// EMR moved by transfer `index` and how many times it moved before.
fn emr_transfer(index: u64, env: &Env) -> (u64, u64) {
    let n = env.opened_emrs.max(1);
    let k = env.emr_transfers + index;
    (k % n, k / n)
}

/// The call for transaction `index` sent by worker `w`. `sequence` is that
/// worker's device sequence for `add-record`.
pub fn call(workload: &Workload, index: u64, w: usize, env: &Env, sequence: u64) -> Call {
    let opened = env.opened_accounts.max(1);
    match workload {
        Workload::Open {
            accounts,
            initial_amount,
        } => simple(
            env,
            Simple::openCall {
                acc_id: env.account(index % accounts),
                amount: I256::try_from(*initial_amount).unwrap_or(I256::ZERO),
            }
            .abi_encode(),
            false,
        ),
        Workload::Query => simple(
            env,
            Simple::queryCall {
                acc_id: env.account(index % opened),
            }
            .abi_encode(),
            true,
        ),
        Workload::Transfer { amount } => simple(
            env,
            Simple::transferCall {
                acc_from: env.account(index % opened),
                acc_to: env.account((index + 1) % opened),
                amount: I256::try_from(*amount).unwrap_or(I256::ZERO),
            }
            .abi_encode(),
            false,
        ),
        Workload::OpenEmr => open_emr(index, w, env),
        Workload::QueryEmr => medical(
            env,
            MedicalRecords::queryEmrCall {
                patient: env.emr_patient(index % env.opened_emrs.max(1)),
            }
            .abi_encode(),
            100_000,
            true,
        ),
        Workload::TransferEmr => transfer_emr(index, w, env),
        Workload::AddRecord => medical(
            env,
            add_record_input(
                env.device_patient(w),
                index,
                1_700_000_000 + index,
                sequence,
            ),
            ADD_RECORD_GAS,
            false,
        ),
        // A fleet round is driven by `bench::fleet`, not by this engine's
        // workers; a read of nothing if one ever asks.
        Workload::DeviceFleet { .. } => medical(env, Vec::new(), 21_000, true),
        Workload::GetRecords { limit } => medical(
            env,
            MedicalRecords::getMedicalRecordsCall {
                patient: env.device_patient(w),
                offset: U256::ZERO,
                limit: U256::from(*limit),
            }
            .abi_encode(),
            5_000_000,
            true,
        ),
    }
}

/// A call to Simple: every op there fits in 100 000 gas.
fn simple(env: &Env, input: Vec<u8>, read: bool) -> Call {
    Call {
        to: env.simple,
        input: input.into(),
        gas: 100_000,
        read,
    }
}

/// A call to MedicalRecords with a gas limit fixed per op.
fn medical(env: &Env, input: Vec<u8>, gas: u64, read: bool) -> Call {
    Call {
        to: env.medical,
        input: input.into(),
        gas,
        read,
    }
}

/// `open-emr` transaction `index`: opens the next EMR (a fresh patient)
/// with worker `w` as its custodian.
fn open_emr(index: u64, w: usize, env: &Env) -> Call {
    let k = env.opened_emrs + index;
    medical(
        env,
        MedicalRecords::openEmrCall {
            patient: env.emr_patient(k),
            contentHash: keccak256(k.to_be_bytes()),
            hospital: env.workers[w],
        }
        .abi_encode(),
        200_000,
        false,
    )
}

/// `transfer-emr` transaction `index`: worker `w`, the EMR's custodian
/// (see [`worker_for`]), hands it to the next worker.
fn transfer_emr(index: u64, w: usize, env: &Env) -> Call {
    let (emr, _) = emr_transfer(index, env);
    let next = (w + 1) % env.workers.len();
    medical(
        env,
        MedicalRecords::transferEmrCall {
            patient: env.emr_patient(emr),
            toHospital: env.workers[next],
        }
        .abi_encode(),
        150_000,
        false,
    )
}

/// Gas limit of one `addMedicalRecord` (a patient's first record costs
/// the most, well below this).
pub(crate) const ADD_RECORD_GAS: u64 = 250_000;

/// `addMedicalRecord` calldata for reading number `i` of `patient`:
/// plausible vital signs that vary with `i`, the device's timestamp and
/// its sequence number.
pub(crate) fn add_record_input(
    patient: B256,
    i: u64,
    device_timestamp: u64,
    sequence: u64,
) -> Vec<u8> {
    let r = reading(i);
    MedicalRecords::addMedicalRecordCall {
        patient,
        heartRate: r.heart_rate,
        spo2: r.spo2,
        systolic: r.systolic,
        diastolic: r.diastolic,
        temperatureCentiC: r.temperature_centi_c,
        deviceTimestamp: device_timestamp,
        sequence,
    }
    .abi_encode()
}

/// Reading number `i` of an `add-record` round: plausible vital signs
/// that vary with `i`, the same on the clear and the private path (heart
/// rate 60–89 /min, SpO2 95–99 %, 110–129 / 70–84 mmHg, 36.50–36.99 °C).
pub(crate) fn reading(i: u64) -> crate::records::Reading {
    let i = i as u16;
    crate::records::Reading {
        heart_rate: 60 + i % 30,
        spo2: 95 + i % 5,
        systolic: 110 + i % 20,
        diastolic: 70 + i % 15,
        temperature_centi_c: 3650 + (i % 50) as i16,
    }
}

/// An abnormal reading of a device fleet's alarm measurement: heart rate
/// 150 /min, above the default 130; the other vitals normal.
pub(crate) fn abnormal_reading() -> crate::records::Reading {
    crate::records::Reading {
        heart_rate: 150,
        spo2: 97,
        systolic: 120,
        diastolic: 80,
        temperature_centi_c: 3680,
    }
}

/// [`abnormal_reading`] as a clear-layout `addMedicalRecord`.
pub(crate) fn abnormal_record_input(
    patient: B256,
    device_timestamp: u64,
    sequence: u64,
) -> Vec<u8> {
    let r = abnormal_reading();
    MedicalRecords::addMedicalRecordCall {
        patient,
        heartRate: r.heart_rate,
        spo2: r.spo2,
        systolic: r.systolic,
        diastolic: r.diastolic,
        temperatureCentiC: r.temperature_centi_c,
        deviceTimestamp: device_timestamp,
        sequence,
    }
    .abi_encode()
}

/// Updates `env` after a round so later rounds see what it created.
pub(crate) fn after_round(workload: &Workload, sent: u64, env: &mut Env) {
    match workload {
        Workload::Open { accounts, .. } => {
            env.opened_accounts = env.opened_accounts.max(sent.min(*accounts))
        }
        Workload::OpenEmr => env.opened_emrs += sent,
        Workload::TransferEmr => env.emr_transfers += sent,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(workers: usize) -> Env {
        Env {
            tag: 0xabc,
            simple: Address::repeat_byte(1),
            medical: Address::repeat_byte(2),
            workers: (0..workers)
                .map(|i| Address::repeat_byte(10 + i as u8))
                .collect(),
            opened_accounts: 0,
            opened_emrs: 0,
            emr_transfers: 0,
            next_sequence: vec![1; workers],
        }
    }

    #[test]
    fn simple_ops_encode_caliper_calls() {
        let mut e = env(2);
        let open = Workload::Open {
            accounts: 3,
            initial_amount: 500,
        };
        let c = call(&open, 4, 0, &e, 0);
        let decoded = Simple::openCall::abi_decode(&c.input).unwrap();
        assert_eq!(decoded.acc_id, "abc-1");
        assert_eq!(decoded.amount, I256::try_from(500).unwrap());
        assert!(!c.read);
        after_round(&open, 10, &mut e);
        assert_eq!(e.opened_accounts, 3);
        let t = call(&Workload::Transfer { amount: 7 }, 2, 0, &e, 0);
        let d = Simple::transferCall::abi_decode(&t.input).unwrap();
        assert_eq!((d.acc_from.as_str(), d.acc_to.as_str()), ("abc-2", "abc-0"));
        assert!(call(&Workload::Query, 0, 0, &e, 0).read);
    }

    #[test]
    fn emr_transfers_come_from_the_custodian() {
        let mut e = env(3);
        after_round(&Workload::OpenEmr, 6, &mut e);
        // EMR k was opened by worker k % 3; its first transfer is sent by that worker.
        for i in 0..6u64 {
            assert_eq!(worker_for(&Workload::TransferEmr, i, &e), (i % 3) as usize);
        }
        // The second pass over the same EMRs starts from the next worker.
        assert_eq!(worker_for(&Workload::TransferEmr, 6, &e), 1);
        let c = call(&Workload::TransferEmr, 6, 1, &e, 0);
        let d = MedicalRecords::transferEmrCall::abi_decode(&c.input).unwrap();
        assert_eq!(d.patient, e.emr_patient(0));
        assert_eq!(d.toHospital, e.workers[2]);
    }

    #[test]
    fn add_record_uses_the_workers_patient_and_sequence() {
        let e = env(2);
        let c = call(&Workload::AddRecord, 5, 1, &e, 42);
        let d = MedicalRecords::addMedicalRecordCall::abi_decode(&c.input).unwrap();
        assert_eq!(d.patient, e.device_patient(1));
        assert_eq!(d.sequence, 42);
    }
}
