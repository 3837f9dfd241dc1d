//! A hospital's register of the patients in its custody: for each, the SSN
//! it knows them by and the random salt of their pseudonymous id
//! (`keccak256(salt ‖ SSN)`). Only the custodian holds it, so the id cannot
//! be reversed by trying every SSN, and ids of one patient at two networks
//! or hospitals never link.
//!
//! Kept at `<network dir>/custody/<hospital>.json`, 0600 in a 0700
//! directory, written atomically. The register holds no key: data keys are
//! on chain, wrapped to their readers.

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::contract::patient_id;
use crate::private_fs;

/// One patient in a hospital's custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The SSN the hospital knows the patient by.
    pub ssn: String,
    /// The patient's own random salt.
    pub salt: B256,
    /// `keccak256(salt ‖ SSN)`: the id on chain.
    pub patient: B256,
}

/// A hospital's register file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Register {
    /// The patients, in registration order.
    pub patients: Vec<Entry>,
}

/// The register file of `hospital` on the network at `dir`.
pub fn path(dir: &Path, hospital: &str) -> PathBuf {
    dir.join("custody").join(format!("{hospital}.json"))
}

/// Reads a hospital's register (empty when it has none yet).
pub fn load(dir: &Path, hospital: &str) -> anyhow::Result<Register> {
    let p = path(dir, hospital);
    match std::fs::read(&p) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a custody register", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Register::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

/// The entry for `ssn` in `hospital`'s register, creating it with a fresh
/// salt (and saving the register) when the hospital does not hold the
/// patient yet. The entry is on disk before any transaction names its id.
pub fn entry_for(dir: &Path, hospital: &str, ssn: &str) -> anyhow::Result<(Entry, bool)> {
    let mut reg = load(dir, hospital)?;
    if let Some(e) = reg.patients.iter().find(|e| e.ssn == ssn) {
        return Ok((e.clone(), false));
    }
    let mut salt = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    let salt = B256::from(salt);
    let e = Entry {
        ssn: ssn.to_string(),
        salt,
        patient: patient_id(salt, ssn),
    };
    reg.patients.push(e.clone());
    private_fs::create_dir(&dir.join("custody"))?;
    private_fs::write(&path(dir, hospital), &serde_json::to_vec_pretty(&reg)?)?;
    Ok((e, true))
}

/// Which of `hospitals` holds a patient known by `ssn`, with the entry.
pub fn find(
    dir: &Path,
    hospitals: &[String],
    ssn: &str,
) -> anyhow::Result<Option<(String, Entry)>> {
    for h in hospitals {
        if let Some(e) = load(dir, h)?.patients.into_iter().find(|e| e.ssn == ssn) {
            return Ok(Some((h.clone(), e)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn each_patient_gets_a_salt_of_their_own_kept_privately() {
        let dir = tempfile::tempdir().unwrap();
        let (a, new_a) = entry_for(dir.path(), "north", "000-00-0001").unwrap();
        let (b, _) = entry_for(dir.path(), "north", "000-00-0002").unwrap();
        assert!(new_a);
        assert_ne!(a.salt, b.salt);
        assert_eq!(a.patient, patient_id(a.salt, "000-00-0001"));
        let (again, new_again) = entry_for(dir.path(), "north", "000-00-0001").unwrap();
        assert_eq!((again, new_again), (a.clone(), false));
        let names = ["south".to_string(), "north".to_string()];
        assert_eq!(
            find(dir.path(), &names, "000-00-0001").unwrap(),
            Some(("north".into(), a))
        );
        assert_eq!(find(dir.path(), &names, "999").unwrap(), None);
        let file = std::fs::metadata(path(dir.path(), "north")).unwrap();
        assert_eq!(file.permissions().mode() & 0o777, 0o600);
        let d = std::fs::metadata(dir.path().join("custody")).unwrap();
        assert_eq!(d.permissions().mode() & 0o777, 0o700);
    }
}
