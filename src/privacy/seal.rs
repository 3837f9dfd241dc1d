//! Sealed documents: XChaCha20-Poly1305 (RustCrypto's AEAD) under the
//! patient's 256-bit data key, with a random 192-bit nonce per document
//! (large enough that random nonces never repeat in practice).
//!
//! Stored bytes: `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`. The
//! associated data binds the document to its record — the patient id, the
//! device and the sequence — so the store cannot hand one record's bytes
//! out as another's: opening them under the wrong record fails exactly as
//! a flipped byte or a wrong key does.

use alloy::primitives::{Address, B256};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The format version byte leading every sealed document.
pub const VERSION: u8 = 1;
/// Nonce length (XChaCha20).
pub const NONCE_LEN: usize = 24;
/// Authentication tag length (Poly1305).
pub const TAG_LEN: usize = 16;

/// A patient's data key. Never printed: `Debug` shows no key material.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key (the operating system's generator).
    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// The key's bytes, for wrapping it to a reader.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

/// The record a document belongs to: what the associated data binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub patient: B256,
    pub device: Address,
    pub sequence: u64,
}

impl Binding {
    /// The associated data: a domain tag, then the fields at fixed widths.
    pub fn associated_data(&self) -> Vec<u8> {
        let mut ad = b"medchain/record/v1".to_vec();
        ad.extend_from_slice(self.patient.as_slice());
        ad.extend_from_slice(self.device.as_slice());
        ad.extend_from_slice(&self.sequence.to_be_bytes());
        ad
    }
}

/// Why a sealed document did not open. One answer for a wrong key, the
/// wrong record and tampered bytes: the AEAD cannot tell them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than a version, a nonce and a tag.
    TooShort(usize),
    /// A format version this build does not know.
    Version(u8),
    /// Authentication failed.
    NotAuthentic,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort(n) => write!(f, "sealed document of {n} bytes is too short"),
            Self::Version(v) => write!(
                f,
                "sealed document has format version {v}, expected {VERSION}"
            ),
            Self::NotAuthentic => f.write_str(
                "sealed document did not authenticate: wrong key, wrong record, or altered bytes",
            ),
        }
    }
}

impl std::error::Error for OpenError {}

/// Seals `plaintext` for `binding` under `key` with the given nonce (the
/// shared test vectors fix it; everything else uses [`seal`]).
pub fn seal_with_nonce(
    key: &DataKey,
    nonce: &[u8; NONCE_LEN],
    binding: &Binding,
    plaintext: &[u8],
) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let aad = binding.associated_data();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any length medchain stores");
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Seals `plaintext` for `binding` under `key` with a fresh random nonce.
pub fn seal(key: &DataKey, binding: &Binding, plaintext: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    seal_with_nonce(key, &nonce.into(), binding, plaintext)
}

/// Opens a sealed document of `binding` under `key`.
pub fn open(key: &DataKey, binding: &Binding, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN {
        return Err(OpenError::TooShort(sealed.len()));
    }
    if sealed[0] != VERSION {
        return Err(OpenError::Version(sealed[0]));
    }
    let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.0.as_ref().into());
    let aad = binding.associated_data();
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| OpenError::NotAuthentic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            patient: B256::repeat_byte(1),
            device: Address::repeat_byte(2),
            sequence: 3,
        }
    }

    #[test]
    fn a_sealed_document_opens_only_with_its_key_and_record() {
        let key = DataKey::generate();
        let doc = br#"{"resourceType":"Bundle"}"#;
        let sealed = seal(&key, &binding(), doc);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + doc.len() + TAG_LEN);
        assert_eq!(open(&key, &binding(), &sealed).unwrap(), doc);
        // Nothing of the plaintext shows in the stored bytes.
        assert!(!sealed.windows(8).any(|w| w == b"resource"));
        // Fresh nonces: the same document seals differently each time.
        assert_ne!(seal(&key, &binding(), doc), sealed);

        let other = DataKey::generate();
        assert_eq!(
            open(&other, &binding(), &sealed),
            Err(OpenError::NotAuthentic)
        );
        let mut moved = binding();
        moved.sequence = 4;
        assert_eq!(open(&key, &moved, &sealed), Err(OpenError::NotAuthentic));
        for i in [0, 1, 30, sealed.len() - 1] {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x01;
            assert!(
                open(&key, &binding(), &flipped).is_err(),
                "byte {i} flipped"
            );
        }
        assert_eq!(
            open(&key, &binding(), &sealed[..40]),
            Err(OpenError::TooShort(40))
        );
    }

    #[test]
    fn a_fixed_nonce_gives_fixed_bytes_and_keys_never_print() {
        let key = DataKey::from_bytes([7; 32]);
        let a = seal_with_nonce(&key, &[9; NONCE_LEN], &binding(), b"x");
        assert_eq!(a, seal_with_nonce(&key, &[9; NONCE_LEN], &binding(), b"x"));
        assert_eq!(format!("{key:?}"), "DataKey(…)");
    }
}
