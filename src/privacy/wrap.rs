//! Wrapping a patient's data key to a reader: ECIES on secp256k1, the
//! curve every Ethereum account already has, so a doctor's or a device's
//! wallet key is also the key that unwraps.
//!
//! A fresh ephemeral key pair per wrap; ECDH with the reader's public key;
//! HKDF-SHA256 over the shared x-coordinate (salt: the ephemeral and the
//! reader's compressed public keys, info: a domain tag) gives a one-time
//! key that seals the data key with XChaCha20-Poly1305, the patient id and
//! the key's version as associated data (so a wrapped key cannot be
//! passed off as another patient's or another version's).
//!
//! Wrapped bytes: `0x01 ‖ ephemeral public key (33, compressed) ‖ nonce
//! (24) ‖ sealed data key (32 + 16)` = 106 bytes.

use alloy::primitives::B256;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{PublicKey, SecretKey};
use sha2::Sha256;

use super::seal::DataKey;

/// The format version byte.
pub const VERSION: u8 = 1;
/// Length of a wrapped key.
pub const WRAPPED_LEN: usize = 1 + 33 + 24 + 32 + 16;

/// What a wrapped key is for: the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFor {
    /// The patient whose data key it is.
    pub patient: B256,
    /// The key's version (a revoke rotates to the next one).
    pub version: u64,
}

impl KeyFor {
    fn associated_data(&self) -> Vec<u8> {
        let mut ad = b"medchain/key-wrap/v1".to_vec();
        ad.extend_from_slice(self.patient.as_slice());
        ad.extend_from_slice(&self.version.to_be_bytes());
        ad
    }
}

/// The one-time key from the shared secret and both public keys.
fn kek(shared: &[u8], ephemeral: &PublicKey, reader: &PublicKey) -> XChaCha20Poly1305 {
    let mut salt = ephemeral.to_encoded_point(true).as_bytes().to_vec();
    salt.extend_from_slice(reader.to_encoded_point(true).as_bytes());
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(b"medchain/key-wrap/v1", &mut okm)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    XChaCha20Poly1305::new(&okm.into())
}

/// Wraps `key` for the holder of `reader`'s secret key, with a fresh
/// ephemeral key and nonce from the operating system's generator.
pub fn wrap(key: &DataKey, reader: &PublicKey, what: &KeyFor) -> Vec<u8> {
    let ephemeral = SecretKey::random(&mut OsRng);
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    wrap_with(key, reader, what, &ephemeral, &nonce.into())
}

/// [`wrap`] with its randomness given: the ephemeral secret key and the
/// nonce. Only for the firmware's cross-language test vectors
/// (`examples/firmware_vectors.rs`), which must be reproducible; reusing
/// an ephemeral key or a nonce anywhere else breaks the wrap's secrecy.
#[doc(hidden)]
pub fn wrap_with(
    key: &DataKey,
    reader: &PublicKey,
    what: &KeyFor,
    ephemeral: &SecretKey,
    nonce: &[u8; 24],
) -> Vec<u8> {
    let eph_pub = ephemeral.public_key();
    // The x-coordinate of ephemeral·reader, as EphemeralSecret gives it.
    let shared = k256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), reader.as_affine());
    let cipher = kek(shared.raw_secret_bytes(), &eph_pub, reader);
    let aad = what.associated_data();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: key.as_bytes(),
                aad: &aad,
            },
        )
        .expect("a 32-byte key encrypts");
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.push(VERSION);
    out.extend_from_slice(eph_pub.to_encoded_point(true).as_bytes());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    out
}

/// Unwraps a key wrapped for `reader`; an error for any other reader, any
/// other patient or version, or altered bytes.
pub fn unwrap(wrapped: &[u8], reader: &SecretKey, what: &KeyFor) -> anyhow::Result<DataKey> {
    if wrapped.len() != WRAPPED_LEN || wrapped[0] != VERSION {
        anyhow::bail!(
            "a wrapped key is {WRAPPED_LEN} bytes starting with version {VERSION}; got {} bytes",
            wrapped.len()
        );
    }
    let eph_pub = PublicKey::from_sec1_bytes(&wrapped[1..34]).map_err(|_| {
        anyhow::anyhow!("the wrapped key's ephemeral public key is not on secp256k1")
    })?;
    let shared = k256::ecdh::diffie_hellman(reader.to_nonzero_scalar(), eph_pub.as_affine());
    let cipher = kek(shared.raw_secret_bytes(), &eph_pub, &reader.public_key());
    let aad = what.associated_data();
    let key = cipher
        .decrypt(
            XNonce::from_slice(&wrapped[34..58]),
            Payload { msg: &wrapped[58..], aad: &aad },
        )
        .map_err(|_| {
            anyhow::anyhow!("the wrapped key did not open: not wrapped for this reader, this patient and version, or altered")
        })?;
    let bytes: [u8; 32] = key
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("the wrapped key is not 32 bytes"))?;
    Ok(DataKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reader_unwraps_for_the_patient_and_version_wrapped() {
        let doctor = SecretKey::random(&mut OsRng);
        let other = SecretKey::random(&mut OsRng);
        let key = DataKey::generate();
        let what = KeyFor {
            patient: B256::repeat_byte(9),
            version: 1,
        };
        let w = wrap(&key, &doctor.public_key(), &what);
        assert_eq!(w.len(), WRAPPED_LEN);
        assert_eq!(unwrap(&w, &doctor, &what).unwrap(), key);
        // Fresh ephemeral keys: wrapping twice gives different bytes.
        assert_ne!(wrap(&key, &doctor.public_key(), &what), w);

        assert!(
            unwrap(&w, &other, &what).is_err(),
            "another reader unwrapped"
        );
        let next = KeyFor { version: 2, ..what };
        assert!(
            unwrap(&w, &doctor, &next).is_err(),
            "passed off as another version"
        );
        let elsewhere = KeyFor {
            patient: B256::repeat_byte(8),
            ..what
        };
        assert!(
            unwrap(&w, &doctor, &elsewhere).is_err(),
            "passed off as another patient"
        );
        for i in [0, 5, 40, WRAPPED_LEN - 1] {
            let mut bad = w.clone();
            bad[i] ^= 1;
            assert!(unwrap(&bad, &doctor, &what).is_err(), "byte {i} flipped");
        }
        assert!(unwrap(&w[..50], &doctor, &what).is_err());
    }

    #[test]
    fn fixed_randomness_gives_fixed_bytes_that_unwrap() {
        let reader = SecretKey::from_slice(&[5; 32]).unwrap();
        let ephemeral = SecretKey::from_slice(&[6; 32]).unwrap();
        let key = DataKey::from_bytes([7; 32]);
        let what = KeyFor {
            patient: B256::repeat_byte(1),
            version: 3,
        };
        let a = wrap_with(&key, &reader.public_key(), &what, &ephemeral, &[8; 24]);
        let b = wrap_with(&key, &reader.public_key(), &what, &ephemeral, &[8; 24]);
        assert_eq!(a, b);
        assert_eq!(a.len(), WRAPPED_LEN);
        assert_eq!(&a[34..58], &[8; 24]);
        assert_eq!(unwrap(&a, &reader, &what).unwrap(), key);
    }

    #[test]
    fn an_ethereum_wallet_key_is_a_reader_key() {
        let wallet = alloy::signers::local::PrivateKeySigner::random();
        let secret = SecretKey::from_slice(wallet.to_bytes().as_slice()).unwrap();
        let key = DataKey::generate();
        let what = KeyFor {
            patient: B256::ZERO,
            version: 0,
        };
        let w = wrap(&key, &secret.public_key(), &what);
        assert_eq!(unwrap(&w, &secret, &what).unwrap(), key);
    }
}
