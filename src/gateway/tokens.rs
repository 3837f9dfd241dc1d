//! Client tokens: who may use a hospital's gateway.
//!
//! A token is 32 bytes from the OS random generator, written as `mcg_` and
//! 64 hex digits. It is shown once (in a device's config file, or printed
//! by `gateway token add`); the store `<network>/gateway/tokens.json`
//! (0600) keeps only its SHA-256, the client's name, its hospital and, for
//! a device, its wallet address (which the gateway binds raw transactions
//! to). A presented token is hashed and compared with every stored hash in
//! constant time, so neither the comparison nor the lookup order reveals
//! how much of a token was right.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use alloy::primitives::Address;
use anyhow::Context;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::keys;

/// What every token starts with.
pub const PREFIX: &str = "mcg_";

/// Schema version of `tokens.json`.
pub const SCHEMA: u32 = 1;

/// The token store of the network whose directory is `net_dir`.
pub fn store_path(net_dir: &Path) -> PathBuf {
    net_dir.join("gateway").join("tokens.json")
}

/// A new token from the OS random generator.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

/// SHA-256 of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// One client as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The client's name (a device id, or a name the operator chose).
    pub name: String,
    /// The hospital whose gateway accepts it.
    pub hospital: String,
    /// The device wallet raw transactions must be signed by; `None` for an
    /// operator-minted client, which may send any sender's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Address>,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// When it was issued (Unix seconds).
    pub issued: u64,
}

/// `tokens.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFile {
    /// Schema version.
    pub schema: u32,
    /// The clients, sorted by name.
    pub tokens: Vec<Entry>,
}

/// An authenticated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its name.
    pub name: String,
    /// Its device wallet, for devices.
    pub device: Option<Address>,
}

/// A client to issue a token for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    /// Name (unique in the network).
    pub name: String,
    /// Hospital.
    pub hospital: String,
    /// Device wallet, for devices.
    pub device: Option<Address>,
}

/// Reads the store; a missing file is an empty store.
pub fn load(path: &Path) -> anyhow::Result<TokenFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a medchain gateway token store; move it away and re-issue the tokens \
                 (device provision, gateway token add)",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile {
            schema: SCHEMA,
            tokens: Vec::new(),
        }),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenFile {
    /// Adds or replaces (by name) the clients and returns their new tokens,
    /// in order. A replaced client's old token stops working.
    pub fn issue(&mut self, clients: &[NewClient]) -> Vec<String> {
        let issued = now();
        let tokens: Vec<String> = clients.iter().map(|_| generate()).collect();
        for (c, t) in clients.iter().zip(&tokens) {
            self.tokens.retain(|e| e.name != c.name);
            self.tokens.push(Entry {
                name: c.name.clone(),
                hospital: c.hospital.clone(),
                device: c.device,
                sha256: hex::encode(hash(t)),
                issued,
            });
        }
        self.tokens.sort_by(|a, b| a.name.cmp(&b.name));
        tokens
    }

    /// Like [`issue`](Self::issue), but a client whose `current` token is
    /// still the one stored for it (same name, hospital and device) keeps
    /// it, so re-provisioning does not lock out devices already in the field.
    pub fn issue_or_keep(&mut self, clients: &[(NewClient, Option<String>)]) -> Vec<String> {
        let valid = |c: &NewClient, t: &str| {
            let h = hex::encode(hash(t));
            self.tokens.iter().any(|e| {
                e.name == c.name
                    && e.hospital == c.hospital
                    && e.device == c.device
                    && e.sha256 == h
            })
        };
        let kept: Vec<Option<String>> = clients
            .iter()
            .map(|(c, cur)| cur.clone().filter(|t| valid(c, t)))
            .collect();
        let fresh: Vec<NewClient> = clients
            .iter()
            .zip(&kept)
            .filter(|(_, k)| k.is_none())
            .map(|((c, _), _)| c.clone())
            .collect();
        let mut new = self.issue(&fresh).into_iter();
        kept.into_iter()
            .map(|k| k.unwrap_or_else(|| new.next().unwrap_or_default()))
            .collect()
    }

    /// Removes a client; whether it was there.
    pub fn revoke(&mut self, name: &str) -> bool {
        let before = self.tokens.len();
        self.tokens.retain(|e| e.name != name);
        before != self.tokens.len()
    }

    /// Writes the store (0600, atomically).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        keys::write_private(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

/// Issues tokens for `clients` in the store at `path` (read, changed,
/// written back) and returns them in order. The caller holds the network's
/// lock.
pub fn issue(path: &Path, clients: &[NewClient]) -> anyhow::Result<Vec<String>> {
    let mut file = load(path)?;
    let tokens = file.issue(clients);
    file.save(path)?;
    Ok(tokens)
}

/// [`TokenFile::issue_or_keep`] on the store at `path`, written back.
/// The caller holds the network's lock.
pub fn issue_or_keep(
    path: &Path,
    clients: &[(NewClient, Option<String>)],
) -> anyhow::Result<Vec<String>> {
    let mut file = load(path)?;
    let tokens = file.issue_or_keep(clients);
    file.save(path)?;
    Ok(tokens)
}

/// The clients one hospital's gateway accepts, with their hashes decoded.
#[derive(Debug, Clone, Default)]
pub struct Accepted {
    entries: Vec<([u8; 32], Client)>,
}

impl Accepted {
    /// The entries of `file` for `hospital`; entries with a malformed hash
    /// are skipped (they match nothing).
    pub fn for_hospital(file: &TokenFile, hospital: &str) -> Accepted {
        let entries = file
            .tokens
            .iter()
            .filter(|e| e.hospital == hospital)
            .filter_map(|e| {
                let mut h = [0u8; 32];
                hex::decode_to_slice(&e.sha256, &mut h).ok()?;
                Some((
                    h,
                    Client {
                        name: e.name.clone(),
                        device: e.device,
                    },
                ))
            })
            .collect();
        Accepted { entries }
    }

    /// How many clients.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The client `token` belongs to. Every stored hash is compared, in
    /// constant time, whatever matched before.
    pub fn verify(&self, token: &str) -> Option<Client> {
        let presented = hash(token);
        let mut found = None;
        for (h, client) in &self.entries {
            if bool::from(h.ct_eq(&presented)) {
                found = Some(client);
            }
        }
        found.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str, hospital: &str) -> NewClient {
        NewClient {
            name: name.into(),
            hospital: hospital.into(),
            device: None,
        }
    }

    #[test]
    fn tokens_are_random_prefixed_and_stored_only_hashed() {
        let a = generate();
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 64, "{a}");
        assert_ne!(a, generate());
        let mut f = TokenFile::default();
        let t = f.issue(&[client("d1", "h")]);
        let text = serde_json::to_string(&f).unwrap();
        assert!(!text.contains(&t[0][PREFIX.len()..]), "{text}");
        assert!(text.contains(&hex::encode(hash(&t[0]))));
    }

    #[test]
    fn verify_finds_the_client_of_its_hospital_only() {
        let mut f = TokenFile::default();
        let addr = Address::repeat_byte(7);
        let t = f.issue(&[
            NewClient {
                device: Some(addr),
                ..client("d1", "h")
            },
            client("ops", "h"),
            client("d9", "other"),
        ]);
        let h = Accepted::for_hospital(&f, "h");
        assert_eq!(h.len(), 2);
        let c = h.verify(&t[0]).unwrap();
        assert_eq!((c.name.as_str(), c.device), ("d1", Some(addr)));
        assert_eq!(h.verify(&t[1]).unwrap().name, "ops");
        assert_eq!(h.verify(&t[2]), None, "another hospital's token");
        assert_eq!(h.verify(""), None);
        assert_eq!(h.verify(&generate()), None);
        // One character off.
        let mut wrong = t[0].clone();
        wrong.pop();
        wrong.push(if t[0].ends_with('0') { '1' } else { '0' });
        assert_eq!(h.verify(&wrong), None);
    }

    #[test]
    fn reissuing_replaces_the_old_token_and_revoke_removes_it() {
        let mut f = TokenFile::default();
        let old = f.issue(&[client("d1", "h")]);
        let new = f.issue(&[client("d1", "h")]);
        assert_eq!(f.tokens.len(), 1);
        let h = Accepted::for_hospital(&f, "h");
        assert_eq!(h.verify(&old[0]), None);
        assert!(h.verify(&new[0]).is_some());
        assert!(f.revoke("d1"));
        assert!(!f.revoke("d1"));
        assert!(Accepted::for_hospital(&f, "h").is_empty());
    }

    #[test]
    fn a_current_token_is_kept_and_a_stale_or_missing_one_replaced() {
        let mut f = TokenFile::default();
        let dev = |n: &str| NewClient {
            device: Some(Address::repeat_byte(n.len() as u8)),
            ..client(n, "h")
        };
        let first = f.issue(&[dev("d1"), dev("d22")]);
        let again = f.issue_or_keep(&[
            (dev("d1"), Some(first[0].clone())),
            (dev("d22"), Some("mcg_stale".into())),
            (dev("d333"), None),
        ]);
        assert_eq!(again[0], first[0], "kept");
        assert_ne!(again[1], first[1]);
        assert!(again[2].starts_with(PREFIX));
        let h = Accepted::for_hospital(&f, "h");
        assert!(again.iter().all(|t| h.verify(t).is_some()));
        assert!(
            h.verify(&first[1]).is_none(),
            "d22's old token was replaced"
        );
        // A token is only kept for the same device.
        let moved = NewClient {
            device: Some(Address::repeat_byte(9)),
            ..client("d1", "h")
        };
        assert_ne!(
            f.issue_or_keep(&[(moved, Some(first[0].clone()))])[0],
            first[0]
        );
    }

    #[test]
    fn the_store_is_written_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = store_path(dir.path());
        assert!(load(&path).unwrap().tokens.is_empty());
        let t = issue(&path, &[client("a", "h"), client("b", "h")]).unwrap();
        assert_eq!(t.len(), 2);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let back = load(&path).unwrap();
        assert_eq!(back.schema, SCHEMA);
        assert!(Accepted::for_hospital(&back, "h").verify(&t[1]).is_some());
        std::fs::write(&path, "nope").unwrap();
        assert!(load(&path).is_err());
    }
}
