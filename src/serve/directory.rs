//! Who is connected to whom on chain, for the patient and doctor views:
//! the readers holding a patient's consent, the patients a doctor has
//! consent for or whose custodian is the doctor's hospital. Found from the
//! records contract's logs (`ConsentGranted`, `PatientRegistered`,
//! `CustodyTransferred`) and always confirmed against current storage, so
//! a revoked consent or a transferred patient drops out at once.

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use serde::Serialize;

use super::chain::ChainRef;
use crate::contract::{reverted, PrivateRecords};
use crate::topology::Privacy;

/// One of a patient's consent holders.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// The reader's address.
    pub address: Address,
    /// `doctor`, `hospital` or `reader` (neither).
    pub kind: &'static str,
}

/// A patient as their own view shows them.
#[derive(Debug, Clone, Serialize)]
pub struct PatientCard {
    /// The pseudonymous id.
    pub patient: B256,
    /// The custodian hospital (private layout).
    pub custodian: Option<Address>,
    /// Its name.
    pub custodian_name: Option<String>,
    /// The current data key version (private layout).
    pub key_version: Option<u32>,
    /// Who holds consent now.
    pub consent: Vec<Holder>,
}

fn distinct(mut v: Vec<B256>) -> Vec<B256> {
    v.sort();
    v.dedup();
    v
}

/// The topic `slot` of every log of `event` whose topic `by` is `value`.
async fn topics(
    chain: &ChainRef,
    event: B256,
    by: usize,
    value: B256,
    slot: usize,
) -> anyhow::Result<Vec<B256>> {
    let logs = chain.logs(event, by, value).await?;
    Ok(distinct(
        logs.iter().filter_map(|t| t.get(slot).copied()).collect(),
    ))
}

/// Whether `reader` holds `patient`'s consent now.
async fn has_consent(chain: &ChainRef, patient: B256, reader: Address) -> anyhow::Result<bool> {
    let r = |e| reverted("hasConsent", e);
    Ok(match chain.privacy {
        Privacy::Private => chain
            .private()?
            .hasConsent(patient, reader)
            .call()
            .await
            .map_err(r)?,
        Privacy::Clear => chain
            .clear()?
            .hasConsent(patient, reader)
            .call()
            .await
            .map_err(r)?,
    })
}

/// The patient's card: custodian, key version and consent holders.
pub async fn patient_card(chain: &ChainRef, patient: B256) -> anyhow::Result<PatientCard> {
    let granted = PrivateRecords::ConsentGranted::SIGNATURE_HASH;
    let mut consent = Vec::new();
    for t in topics(chain, granted, 1, patient, 2).await? {
        let reader = Address::from_word(t);
        if has_consent(chain, patient, reader).await? {
            consent.push(Holder {
                address: reader,
                kind: kind_of(chain, reader).await?,
            });
        }
    }
    let mut card = PatientCard {
        patient,
        custodian: None,
        custodian_name: None,
        key_version: None,
        consent,
    };
    if chain.privacy == Privacy::Private {
        let c = chain.private()?;
        let p = c
            .patients(patient)
            .call()
            .await
            .map_err(|e| reverted("patients", e))?;
        let name = c
            .hospitalName(p.custodian)
            .call()
            .await
            .map_err(|e| reverted("hospitalName", e))?;
        card.custodian = Some(p.custodian);
        card.custodian_name = Some(name);
        card.key_version = Some(p.keyVersion);
    }
    Ok(card)
}

/// `doctor`, `hospital` or `reader`.
async fn kind_of(chain: &ChainRef, who: Address) -> anyhow::Result<&'static str> {
    let r = |e| reverted("a role query", e);
    let (doctor, hospital) = match chain.privacy {
        Privacy::Private => {
            let c = chain.private()?;
            (
                c.isDoctor(who).call().await.map_err(r)?,
                c.isHospital(who).call().await.map_err(r)?,
            )
        }
        Privacy::Clear => {
            let c = chain.clear()?;
            (
                c.isDoctor(who).call().await.map_err(r)?,
                c.isHospital(who).call().await.map_err(r)?,
            )
        }
    };
    Ok(if doctor {
        "doctor"
    } else if hospital {
        "hospital"
    } else {
        "reader"
    })
}

/// A patient in a doctor's list, and why it is there.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorPatient {
    /// The pseudonymous id.
    pub patient: B256,
    /// `consent` or `custody` (both: `consent`).
    pub via: &'static str,
}

/// The patients `doctor` (of `hospital`) has consent for, or whose
/// custodian is `hospital` (private layout).
pub async fn doctor_patients(
    chain: &ChainRef,
    doctor: Address,
    hospital: Address,
) -> anyhow::Result<Vec<DoctorPatient>> {
    let granted = PrivateRecords::ConsentGranted::SIGNATURE_HASH;
    let mut out = Vec::new();
    for p in topics(chain, granted, 2, doctor.into_word(), 1).await? {
        if has_consent(chain, p, doctor).await? {
            out.push(DoctorPatient {
                patient: p,
                via: "consent",
            });
        }
    }
    if chain.privacy != Privacy::Private || hospital == Address::ZERO {
        return Ok(out);
    }
    let c = chain.private()?;
    let mut held = topics(
        chain,
        PrivateRecords::PatientRegistered::SIGNATURE_HASH,
        3,
        hospital.into_word(),
        1,
    )
    .await?;
    held.extend(
        topics(
            chain,
            PrivateRecords::CustodyTransferred::SIGNATURE_HASH,
            3,
            hospital.into_word(),
            1,
        )
        .await?,
    );
    for p in distinct(held) {
        if out.iter().any(|d| d.patient == p) {
            continue;
        }
        let now = c
            .patients(p)
            .call()
            .await
            .map_err(|e| reverted("patients", e))?;
        if now.custodian == hospital {
            out.push(DoctorPatient {
                patient: p,
                via: "custody",
            });
        }
    }
    Ok(out)
}
