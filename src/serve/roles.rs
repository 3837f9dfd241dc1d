//! An address's roles, read from the records contract when it signs in —
//! never taken from the page: admin (`admin()`), hospital (`isHospital`,
//! with its `hospitalName`), doctor (`isDoctor`, with `doctorHospital`),
//! patient (every id whose registered wallet is the address, found from
//! `PatientRegistered` logs and checked against current storage), device
//! (an active `devices` entry, with its patient) and global reader
//! (`isGlobalReader` on PrivateRecords, `isAuthorized` on MedicalRecords).
//!
//! Roles decide which views a session may open (403 otherwise). Access
//! to a patient's records is checked again on chain on every request
//! (`canRead`), so a consent revoked after sign-in takes effect at once.

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use serde::Serialize;

use super::chain::ChainRef;
use crate::contract::{reverted, MedicalRecords, PrivateRecords};
use crate::topology::Privacy;

/// A role a view can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Hospital,
    Doctor,
    Patient,
    Device,
}

impl Role {
    /// Its name, as the page and the 403 message say it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Hospital => "hospital",
            Self::Doctor => "doctor",
            Self::Patient => "patient",
            Self::Device => "device",
        }
    }
}

/// What the chain says an address is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Roles {
    /// The consortium's admin.
    pub admin: bool,
    /// A registered hospital: its name.
    pub hospital: Option<String>,
    /// A registered doctor: the hospital it belongs to.
    pub doctor: Option<Address>,
    /// The patient ids whose wallet this is.
    pub patient: Vec<B256>,
    /// An active device: the patient it writes for.
    pub device: Option<B256>,
    /// Reads every patient (auditors, research).
    pub global_reader: bool,
}

impl Roles {
    /// Whether the address holds `role`.
    pub fn has(&self, role: Role) -> bool {
        match role {
            Role::Admin => self.admin,
            Role::Hospital => self.hospital.is_some(),
            Role::Doctor => self.doctor.is_some(),
            Role::Patient => !self.patient.is_empty(),
            Role::Device => self.device.is_some(),
        }
    }

    /// The names of the roles held, e.g. `["doctor"]`.
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            Role::Admin,
            Role::Hospital,
            Role::Doctor,
            Role::Patient,
            Role::Device,
        ];
        let mut out: Vec<&str> = all
            .into_iter()
            .filter(|r| self.has(*r))
            .map(Role::name)
            .collect();
        if self.global_reader {
            out.push("global reader");
        }
        out
    }
}

/// The roles of `who` on `chain`.
pub async fn read(chain: &ChainRef, who: Address) -> anyhow::Result<Roles> {
    match chain.privacy {
        Privacy::Private => read_private(chain, who).await,
        Privacy::Clear => read_clear(chain, who).await,
    }
}

/// The patient ids a `PatientRegistered` log names with `who` as wallet
/// (its second indexed topic in both layouts).
async fn registered_as(chain: &ChainRef, event: B256, who: Address) -> anyhow::Result<Vec<B256>> {
    let logs = chain.logs(event, 2, who.into_word()).await?;
    let mut ids: Vec<B256> = logs.iter().filter_map(|t| t.get(1).copied()).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

async fn read_private(chain: &ChainRef, who: Address) -> anyhow::Result<Roles> {
    let c = chain.private()?;
    let r = |e| reverted("a role query", e);
    let mut roles = Roles {
        admin: c.admin().call().await.map_err(r)? == who,
        global_reader: c.isGlobalReader(who).call().await.map_err(r)?,
        ..Roles::default()
    };
    if c.isHospital(who).call().await.map_err(r)? {
        roles.hospital = Some(c.hospitalName(who).call().await.map_err(r)?);
    }
    if c.isDoctor(who).call().await.map_err(r)? {
        roles.doctor = Some(c.doctorHospital(who).call().await.map_err(r)?);
    }
    let d = c.devices(who).call().await.map_err(r)?;
    roles.device = d.active.then_some(d.patient);
    for id in registered_as(
        chain,
        PrivateRecords::PatientRegistered::SIGNATURE_HASH,
        who,
    )
    .await?
    {
        if c.patients(id).call().await.map_err(r)?.wallet == who {
            roles.patient.push(id);
        }
    }
    Ok(roles)
}

async fn read_clear(chain: &ChainRef, who: Address) -> anyhow::Result<Roles> {
    let c = chain.clear()?;
    let r = |e| reverted("a role query", e);
    let mut roles = Roles {
        admin: c.admin().call().await.map_err(r)? == who,
        global_reader: c.isAuthorized(who).call().await.map_err(r)?,
        ..Roles::default()
    };
    if c.isHospital(who).call().await.map_err(r)? {
        roles.hospital = Some(c.hospitalName(who).call().await.map_err(r)?);
    }
    if c.isDoctor(who).call().await.map_err(r)? {
        roles.doctor = Some(c.doctorHospital(who).call().await.map_err(r)?);
    }
    let d = c.devices(who).call().await.map_err(r)?;
    roles.device = d.active.then_some(d.patient);
    for id in registered_as(
        chain,
        MedicalRecords::PatientRegistered::SIGNATURE_HASH,
        who,
    )
    .await?
    {
        if c.patientWallet(id).call().await.map_err(r)? == who {
            roles.patient.push(id);
        }
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_named_as_the_page_shows_them() {
        let none = Roles::default();
        assert!(none.names().is_empty());
        assert!(!none.has(Role::Patient));
        let r = Roles {
            doctor: Some(Address::repeat_byte(1)),
            patient: vec![B256::repeat_byte(2)],
            global_reader: true,
            ..Roles::default()
        };
        assert_eq!(r.names(), ["doctor", "patient", "global reader"]);
        assert!(r.has(Role::Doctor) && !r.has(Role::Hospital));
    }
}
