//! Patient pseudonyms for MQTT topics. A topic is seen by more parties
//! than a payload (the broker's log, `$SYS`, anyone allowed to subscribe
//! with a wildcard), so alarm topics name a patient by
//! `HMAC-SHA256(key, patient id)`, first 8 bytes in hex, with a key kept in
//! `<network dir>/watch/pseudonym.key` (0600). Without the key the
//! pseudonym cannot be linked to a patient id, even by someone who can
//! enumerate SSNs; the alarm's body, which only subscribers see, carries
//! the patient id itself.

use std::path::Path;

use alloy::primitives::B256;
use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::private_fs;

/// The key pseudonyms are made with.
#[derive(Clone)]
pub struct PseudonymKey([u8; 32]);

impl PseudonymKey {
    /// The key in `path`, created (random, 0600) when missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<PseudonymKey> {
        match std::fs::read_to_string(path) {
            Ok(t) => {
                let bytes = hex::decode(t.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .with_context(|| {
                        format!("{} is corrupt: expected 32 bytes in hex", path.display())
                    })?;
                Ok(PseudonymKey(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut k);
                private_fs::write(path, format!("{}\n", hex::encode(k)).as_bytes())?;
                Ok(PseudonymKey(k))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// The pseudonym of `patient`: 16 hex digits.
    pub fn of(&self, patient: B256) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(patient.as_slice());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_key_and_differ_across_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let a = PseudonymKey::load_or_create(&p).unwrap();
        let again = PseudonymKey::load_or_create(&p).unwrap();
        let other = PseudonymKey::load_or_create(&dir.path().join("k2")).unwrap();
        let id = B256::with_last_byte(1);
        assert_eq!(a.of(id), again.of(id));
        assert_eq!(a.of(id).len(), 16);
        assert_ne!(a.of(id), other.of(id));
        assert_ne!(a.of(id), a.of(B256::with_last_byte(2)));
    }
}
