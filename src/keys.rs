//! Keys for a network: node keys (their public halves are the enode IDs),
//! sealer accounts, prefunded test accounts, and the keystore files geth
//! unlocks to seal.
//!
//! Every key is derived from the network's [`KeySource`] and a stable
//! label, so adding a node never changes the keys of the others and a
//! resumed network finds its keys again. By default the source is a 256-bit
//! secret drawn from the operating system's random generator when the
//! network is created (`keccak256(secret ‖ label)` per key: knowing any
//! number of keys — a device's, from its config file — gives no other key
//! and not the secret). A `--seed` / `seed:` gives deterministic *test*
//! keys (`keccak256(seed ‖ label)`, 63 bits: anyone can recompute them),
//! for reproducible experiments only.

use std::fs;
use std::path::Path;

use alloy::primitives::{keccak256, Address, B256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::private_fs;

/// A secp256k1 key with what the network needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    /// The private key (32 bytes).
    pub secret: B256,
    /// The Ethereum address of the key.
    pub address: Address,
    /// Uncompressed public key without the 0x04 prefix, hex: the enode ID.
    pub public_hex: String,
}

impl KeyPair {
    /// A local signer for this key.
    pub fn signer(&self) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&self.secret).expect("secret was validated at derivation")
    }
}

/// Where a network's keys come from. Serialized in the state file as the
/// seed (a number, as older state files hold it) or the secret (hex).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeySource {
    /// Deterministic test keys from a seed (`--seed`, `seed:`).
    Seed(u64),
    /// A 256-bit secret from the OS random generator (the default).
    Secret(B256),
}

impl std::fmt::Debug for KeySource {
    /// Never prints the secret (plans are debug-printed in errors).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Seed(s) => write!(f, "Seed({s})"),
            KeySource::Secret(_) => f.write_str("Secret(…)"),
        }
    }
}

impl KeySource {
    /// A new network's source: deterministic from `seed` when one is given,
    /// else a fresh secret from the operating system's random generator.
    pub fn new(seed: Option<u64>) -> KeySource {
        match seed {
            Some(s) => KeySource::Seed(s),
            None => {
                use rand::RngCore;
                let mut secret = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                KeySource::Secret(B256::from(secret))
            }
        }
    }

    /// Whether these are deterministic test keys (anyone with the seed can
    /// recompute them); commands that print keys say so.
    pub fn is_test(&self) -> bool {
        matches!(self, KeySource::Seed(_))
    }

    /// The seed, for deterministic test keys.
    pub fn seed(&self) -> Option<u64> {
        match self {
            KeySource::Seed(s) => Some(*s),
            KeySource::Secret(_) => None,
        }
    }

    /// One line saying where the keys come from, without the secret.
    pub fn describe(&self) -> &'static str {
        match self {
            KeySource::Seed(_) => {
                "deterministic TEST keys from the network's seed (anyone with the seed can recompute them; not for patient data)"
            }
            KeySource::Secret(_) => {
                "from the OS random generator at creation (256-bit network secret, not shown)"
            }
        }
    }

    /// The bytes a key's hash input starts with.
    fn prefix(&self) -> Vec<u8> {
        match self {
            KeySource::Seed(s) => s.to_be_bytes().to_vec(),
            KeySource::Secret(b) => b.to_vec(),
        }
    }

    /// Derives the key for `label`. Deterministic and pure.
    pub fn derive(&self, label: &str) -> KeyPair {
        derive_from(&self.prefix(), label)
    }

    /// A password for a node's keystore, derived like the keys so a
    /// resumed network unlocks with the same file.
    pub(crate) fn password(&self, node: &str) -> String {
        let mut input = self.prefix();
        input.extend_from_slice(b"password/");
        input.extend_from_slice(node.as_bytes());
        hex::encode(&keccak256(&input)[..16])
    }

    /// Randomness for a keystore's salt and IV: reproducible for test keys,
    /// the OS random generator otherwise.
    fn keystore_rng(&self) -> rand_chacha::ChaCha20Rng {
        use rand::SeedableRng;
        match self {
            KeySource::Seed(s) => {
                rand_chacha::ChaCha20Rng::seed_from_u64(s ^ 0x6b65_7973_746f_7265)
            }
            KeySource::Secret(_) => rand_chacha::ChaCha20Rng::from_entropy(),
        }
    }
}

/// Derives the key for `label` from the deterministic test seed `seed`.
#[cfg(test)]
pub(crate) fn derive(seed: u64, label: &str) -> KeyPair {
    KeySource::Seed(seed).derive(label)
}

/// `keccak256(prefix ‖ label [‖ counter])`, the first valid secp256k1 key.
fn derive_from(prefix: &[u8], label: &str) -> KeyPair {
    let mut counter = 0u32;
    loop {
        let mut input = Vec::with_capacity(prefix.len() + label.len() + 4);
        input.extend_from_slice(prefix);
        input.extend_from_slice(label.as_bytes());
        if counter > 0 {
            input.extend_from_slice(&counter.to_be_bytes());
        }
        let secret = keccak256(&input);
        // A hash outside the curve order (probability ~2^-128) is skipped.
        if let Ok(signer) = PrivateKeySigner::from_bytes(&secret) {
            let point = signer.credential().verifying_key().to_encoded_point(false);
            return KeyPair {
                secret,
                address: signer.address(),
                public_hex: hex::encode(&point.as_bytes()[1..]),
            };
        }
        counter += 1;
    }
}

/// Writes `contents` to `path` readable only by the owner (0600), without
/// a window of wider permissions and without following a symlink there
/// ([`private_fs::write`]).
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    private_fs::write(path, contents)
}

/// Writes a geth-compatible V3 keystore for `key` into `dir` (0700),
/// encrypted with `password`, unless one for that address is already there.
/// The keystore library writes with default permissions, so it writes into
/// a private staging directory; the file is then written 0600 into `dir`.
pub(crate) fn write_keystore(
    dir: &Path,
    key: &KeyPair,
    password: &str,
    source: &KeySource,
) -> anyhow::Result<()> {
    private_fs::create_dir(dir)?;
    let name = format!("medchain-{}", hex::encode(key.address));
    let path = dir.join(&name);
    if path.exists() {
        // Written by an older medchain, perhaps with wider permissions.
        return private_fs::tighten_file(&path);
    }
    // Beside the keystore directory, which geth and the Docker runtime read
    // whole.
    let staging = private_fs::Staging::new(dir.parent().unwrap_or(dir))?;
    let mut rng = source.keystore_rng();
    PrivateKeySigner::encrypt_keystore(staging.path(), &mut rng, key.secret, password, Some(&name))
        .with_context(|| format!("writing keystore {}", path.display()))?;
    // geth's keystore scanner skips files without an `address` field.
    let mut json: serde_json::Value =
        serde_json::from_slice(&fs::read(staging.path().join(&name))?)?;
    json["address"] = serde_json::Value::String(hex::encode(key.address));
    write_private(&path, serde_json::to_string(&json)?.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn derivation_is_deterministic_and_label_separated() {
        let a = derive(7, "node/a");
        assert_eq!(a, derive(7, "node/a"));
        assert_ne!(a.address, derive(7, "node/b").address);
        assert_ne!(a.address, derive(8, "node/a").address);
        assert_eq!(a.public_hex.len(), 128);
    }

    #[test]
    fn public_key_matches_address() {
        let k = derive(1, "x");
        let public = hex::decode(&k.public_hex).unwrap();
        let hash = keccak256(&public);
        assert_eq!(Address::from_slice(&hash[12..]), k.address);
    }

    #[test]
    fn known_private_key_gives_known_address() {
        // Hardhat/anvil's first dev key, to pin the derivation of addresses.
        let secret: B256 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            .parse()
            .unwrap();
        let signer = PrivateKeySigner::from_bytes(&secret).unwrap();
        assert_eq!(
            signer.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn keystore_round_trips_with_password() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("keystore");
        let k = derive(3, "sealer");
        write_keystore(&dir, &k, "pw", &KeySource::Seed(3)).unwrap();
        let file = dir.join(format!("medchain-{}", hex::encode(k.address)));
        let meta = fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir_mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        // Only the keystore file, and no staging directory left beside it.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        assert_eq!(fs::read_dir(data.path()).unwrap().count(), 1);
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
        assert_eq!(
            json["address"],
            hex::encode(k.address),
            "geth needs the address field"
        );
        let back = PrivateKeySigner::decrypt_keystore(&file, "pw").unwrap();
        assert_eq!(back.address(), k.address);
        assert!(PrivateKeySigner::decrypt_keystore(&file, "wrong").is_err());
    }

    #[test]
    fn seeded_derivation_is_unchanged_and_secrets_are_independent() {
        // Pinned: test networks keep the keys older releases derived.
        let mut input = 7u64.to_be_bytes().to_vec();
        input.extend_from_slice(b"node/a");
        assert_eq!(derive(7, "node/a").secret, keccak256(&input));
        let (a, b) = (KeySource::new(None), KeySource::new(None));
        assert_ne!(a, b);
        assert_ne!(a.derive("node/a"), b.derive("node/a"));
        assert_ne!(a.derive("node/a"), a.derive("node/b"));
        assert_ne!(a.password("n"), b.password("n"));
        assert!(KeySource::new(Some(3)).is_test() && !a.is_test());
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<KeySource>(&json).unwrap(), a);
        assert_eq!(serde_json::to_string(&KeySource::Seed(5)).unwrap(), "5");
        assert_eq!(format!("{a:?}"), "Secret(…)");
    }
}
