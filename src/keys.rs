//! Keys for a network: node keys (their public halves are the enode IDs),
//! sealer accounts, prefunded test accounts, and the keystore files geth
//! unlocks to seal.
//!
//! Every key is derived from the network's seed and a stable label
//! (`keccak256(seed ‖ label)`), so the same seed gives the same enodes and
//! addresses for a reproducible experiment, and adding a node never changes
//! the keys of the others.

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

/// Derives the key for `label` from `seed`. Deterministic and pure.
pub(crate) fn derive(seed: u64, label: &str) -> KeyPair {
    let mut counter = 0u32;
    loop {
        let mut input = Vec::with_capacity(8 + label.len() + 4);
        input.extend_from_slice(&seed.to_be_bytes());
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

/// A password for a node's keystore, derived like the keys so a resumed
/// network unlocks with the same file.
pub(crate) fn password(seed: u64, node: &str) -> String {
    let mut input = seed.to_be_bytes().to_vec();
    input.extend_from_slice(b"password/");
    input.extend_from_slice(node.as_bytes());
    hex::encode(&keccak256(&input)[..16])
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
    seed: u64,
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
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ 0x6b65_7973_746f_7265);
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
        write_keystore(&dir, &k, "pw", 3).unwrap();
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
}
