//! What a device stores for one reading: the document sealed under a fresh
//! content key, and that content key wrapped to the patient's data public
//! key of the current version.
//!
//! So a device needs only the patient's *public* data key to write: it
//! forgets the content key once the reading is sealed, and it never holds
//! anything that opens the patient's history, not even its own past
//! readings. Whoever holds the data secret key of that version (the
//! patient, the custodian hospital, and the readers it was wrapped to on
//! chain) opens the content key, then the document.
//!
//! Stored bytes: `0x02 ‖ key version (4, big-endian) ‖ wrapped content key
//! (106, see [`super::wrap`]) ‖ sealed document (see [`super::seal`])`.

use k256::{PublicKey, SecretKey};

use super::seal::{self, Binding, DataKey};
use super::wrap::{self, KeyFor, WRAPPED_LEN};

/// The format byte leading every envelope.
pub const VERSION: u8 = 2;
const HEADER: usize = 1 + 4;

/// The data key version an envelope says it was sealed to, when the bytes
/// are an envelope at all.
pub fn key_version(stored: &[u8]) -> Option<u32> {
    (stored.len() > HEADER + WRAPPED_LEN && stored[0] == VERSION)
        .then(|| u32::from_be_bytes([stored[1], stored[2], stored[3], stored[4]]))
}

/// Seals `document` (the record `binding`) to version `version` of the
/// patient's data public key `patient_key`, with fresh randomness from the
/// operating system's generator.
pub fn seal_to(
    patient_key: &PublicKey,
    version: u32,
    binding: &Binding,
    document: &[u8],
) -> Vec<u8> {
    let random = Randomness {
        content_key: DataKey::generate(),
        ephemeral: SecretKey::random(&mut chacha20poly1305::aead::OsRng),
        wrap_nonce: random_nonce(),
        seal_nonce: random_nonce(),
    };
    seal_to_with(patient_key, version, binding, document, &random)
}

/// Everything random in an envelope, in the order the firmware draws it
/// from its random source: the content key, the wrap's ephemeral secret
/// key, the wrap's nonce and the document's nonce.
#[doc(hidden)]
pub struct Randomness {
    pub content_key: DataKey,
    pub ephemeral: SecretKey,
    pub wrap_nonce: [u8; seal::NONCE_LEN],
    pub seal_nonce: [u8; seal::NONCE_LEN],
}

/// A 24-byte nonce from the operating system's generator.
fn random_nonce() -> [u8; seal::NONCE_LEN] {
    use chacha20poly1305::aead::{AeadCore, OsRng};
    chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng).into()
}

/// [`seal_to`] with its randomness given. Only for the firmware's
/// cross-language test vectors (`examples/firmware_vectors.rs`), which must
/// be reproducible; fixed keys or nonces anywhere else break the envelope.
#[doc(hidden)]
pub fn seal_to_with(
    patient_key: &PublicKey,
    version: u32,
    binding: &Binding,
    document: &[u8],
    random: &Randomness,
) -> Vec<u8> {
    let what = KeyFor {
        patient: binding.patient,
        version: u64::from(version),
    };
    let wrapped = wrap::wrap_with(
        &random.content_key,
        patient_key,
        &what,
        &random.ephemeral,
        &random.wrap_nonce,
    );
    let sealed = seal::seal_with_nonce(&random.content_key, &random.seal_nonce, binding, document);
    let mut out = Vec::with_capacity(HEADER + wrapped.len() + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&sealed);
    out
}

/// Opens an envelope of the record `binding` with the patient's data
/// secret key of the version it was sealed to.
pub fn open(
    patient_secret: &SecretKey,
    binding: &Binding,
    stored: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let version = key_version(stored).ok_or_else(|| {
        anyhow::anyhow!(
            "the stored reading is not a sealed envelope (format {VERSION}, at least {} bytes)",
            HEADER + WRAPPED_LEN + 1
        )
    })?;
    let what = KeyFor {
        patient: binding.patient,
        version: u64::from(version),
    };
    let content = wrap::unwrap(&stored[HEADER..HEADER + WRAPPED_LEN], patient_secret, &what)
        .map_err(|e| anyhow::anyhow!("the reading's content key did not open: {e}"))?;
    seal::open(&content, binding, &stored[HEADER + WRAPPED_LEN..])
        .map_err(|e| anyhow::anyhow!("the reading did not open: {e}"))
}

/// A fresh data key pair for one version: the secret half and the public
/// half in the 33-byte compressed form the contract keeps.
pub fn new_data_key() -> (SecretKey, Vec<u8>) {
    let secret = SecretKey::random(&mut chacha20poly1305::aead::OsRng);
    let public = compressed(&secret.public_key());
    (secret, public)
}

/// A public key in 33-byte compressed SEC1 form.
pub fn compressed(key: &PublicKey) -> Vec<u8> {
    use k256::elliptic_curve::sec1::ToEncodedPoint;
    key.to_encoded_point(true).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, B256};

    fn binding(sequence: u64) -> Binding {
        Binding {
            patient: B256::repeat_byte(3),
            device: Address::repeat_byte(4),
            sequence,
        }
    }

    #[test]
    fn only_the_data_secret_of_the_version_opens_the_record_it_was_sealed_for() {
        let (secret, public) = new_data_key();
        let pk = PublicKey::from_sec1_bytes(&public).unwrap();
        let stored = seal_to(&pk, 7, &binding(1), b"{\"resourceType\":\"Bundle\"}");
        assert_eq!(key_version(&stored), Some(7));
        assert_eq!(
            open(&secret, &binding(1), &stored).unwrap(),
            b"{\"resourceType\":\"Bundle\"}"
        );
        let (other, _) = new_data_key();
        assert!(
            open(&other, &binding(1), &stored).is_err(),
            "another key opened it"
        );
        assert!(
            open(&secret, &binding(2), &stored).is_err(),
            "opened as another record"
        );
        let mut relabelled = stored.clone();
        relabelled[4] = 8;
        assert!(
            open(&secret, &binding(1), &relabelled).is_err(),
            "passed off as another version"
        );
        for i in [0, 10, 120, stored.len() - 1] {
            let mut bad = stored.clone();
            bad[i] ^= 1;
            assert!(
                open(&secret, &binding(1), &bad).is_err(),
                "byte {i} flipped"
            );
        }
    }

    #[test]
    fn fixed_randomness_gives_fixed_bytes_that_open() {
        let secret = SecretKey::from_slice(&[5; 32]).unwrap();
        let random = || Randomness {
            content_key: DataKey::from_bytes([1; 32]),
            ephemeral: SecretKey::from_slice(&[2; 32]).unwrap(),
            wrap_nonce: [3; seal::NONCE_LEN],
            seal_nonce: [4; seal::NONCE_LEN],
        };
        let pk = secret.public_key();
        let a = seal_to_with(&pk, 2, &binding(1), b"doc", &random());
        assert_eq!(a, seal_to_with(&pk, 2, &binding(1), b"doc", &random()));
        assert_eq!(key_version(&a), Some(2));
        assert_eq!(open(&secret, &binding(1), &a).unwrap(), b"doc");
    }

    #[test]
    fn the_same_reading_sealed_twice_gives_different_bytes() {
        let (_, public) = new_data_key();
        let pk = PublicKey::from_sec1_bytes(&public).unwrap();
        assert_eq!(public.len(), 33);
        assert_ne!(
            seal_to(&pk, 1, &binding(1), b"x"),
            seal_to(&pk, 1, &binding(1), b"x")
        );
    }
}
