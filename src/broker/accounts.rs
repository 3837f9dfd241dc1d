//! Who may use a network's broker, and their credentials: every
//! provisioned device (its config under `<network dir>/devices/`), the
//! gateway, `watch`, one alarm reader per hospital and one for all alarms. Each gets a random
//! password, kept across restarts so devices need not be re-provisioned,
//! written to `<network dir>/broker/credentials/<user>.json` (0600) with
//! the broker's URL, the CA to pin and its topics. mosquitto's password
//! file holds only salted hashes (`mosquitto_passwd -U`).

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::device_config::DeviceConfig;
use crate::plan::Plan;
use crate::private_fs;

/// What an account is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A device of `hospital` with wallet `address` (0x, lowercase).
    Device { hospital: String, address: String },
    /// `medchain gateway`: reads devices' transactions, answers acks.
    Gateway,
    /// `medchain watch`: publishes alarms.
    Watch,
    /// A hospital's alarm reader (its doctors' client).
    Alarms { hospital: String },
    /// The operator's alarm reader: every hospital's alarms, and those of
    /// devices medchain did not provision (`unassigned`), such as a
    /// benchmark's simulated fleet, which `bench` measures through it.
    AllAlarms,
    /// `medchain bench`'s simulated fleets (`transport: mqtt`): publishes
    /// on every device's transaction topic, reads every device's acks.
    Bench,
}

/// One broker account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub role: Role,
}

/// One account's credentials file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// `mqtts://127.0.0.1:<port>`.
    pub url: String,
    /// The CA certificate (PEM file) to pin.
    pub ca_file: PathBuf,
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

/// A device's transaction topic.
pub fn device_tx(network: &str, hospital: &str, address: &str) -> String {
    format!("medchain/{network}/{hospital}/devices/{address}/tx")
}

/// The topics `a` may publish to and subscribe to.
pub fn topics(network: &str, a: &Account) -> (Vec<String>, Vec<String>) {
    let n = network;
    match &a.role {
        Role::Device { hospital, address } => {
            let tx = device_tx(n, hospital, address);
            (vec![tx.clone()], vec![tx.replace("/tx", "/ack")])
        }
        Role::Gateway => (
            vec![format!("medchain/{n}/+/devices/+/ack")],
            vec![format!("medchain/{n}/+/devices/+/tx")],
        ),
        Role::Watch => (vec![format!("medchain/{n}/+/alarms/#")], vec![]),
        Role::Alarms { hospital } => (vec![], vec![format!("medchain/{n}/{hospital}/alarms/#")]),
        Role::AllAlarms => (vec![], vec![format!("medchain/{n}/+/alarms/#")]),
        Role::Bench => (
            vec![format!("medchain/{n}/+/devices/+/tx")],
            vec![format!("medchain/{n}/+/devices/+/ack")],
        ),
    }
}

/// The hospital a device id (`<hospital>-device-<n>`) belongs to.
fn hospital_of<'a>(plan: &'a Plan, device_id: &str) -> Option<&'a str> {
    plan.topology
        .hospitals
        .iter()
        .map(|h| h.name.as_str())
        .filter(|h| device_id.starts_with(&format!("{h}-device-")))
        .max_by_key(|h| h.len())
}

/// Every account of the network: services, then provisioned devices.
pub fn accounts(plan: &Plan) -> anyhow::Result<Vec<Account>> {
    let mut out = vec![
        Account {
            username: "gateway".into(),
            role: Role::Gateway,
        },
        Account {
            username: "watch".into(),
            role: Role::Watch,
        },
        Account {
            username: "bench".into(),
            role: Role::Bench,
        },
    ];
    out.push(Account {
        username: "all-alarms".into(),
        role: Role::AllAlarms,
    });
    for h in &plan.topology.hospitals {
        out.push(Account {
            username: format!("{}-alarms", h.name),
            role: Role::Alarms {
                hospital: h.name.clone(),
            },
        });
    }
    let dir = plan.dir.join("devices");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("index.json"));
    files.sort();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let cfg: DeviceConfig = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a device config", f.display()))?;
        let key: PrivateKeySigner = cfg
            .device_private_key
            .parse()
            .with_context(|| format!("{}: device_private_key", f.display()))?;
        let Some(hospital) = hospital_of(plan, &cfg.device_id) else {
            continue;
        };
        out.push(Account {
            username: cfg.device_id.clone(),
            role: Role::Device {
                hospital: hospital.to_string(),
                address: format!("{:#x}", key.address()),
            },
        });
    }
    Ok(out)
}

/// A fresh password: 128 bits from the operating system, hex.
fn new_password() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Writes every account's credentials file (keeping a password already
/// issued) and returns them.
pub fn write_credentials(
    dir: &Path,
    network: &str,
    accounts: &[Account],
    url: &str,
    ca_file: &Path,
) -> anyhow::Result<Vec<Credentials>> {
    let cred_dir = dir.join("credentials");
    private_fs::create_dir(&cred_dir)?;
    let mut out = Vec::new();
    for a in accounts {
        let path = cred_dir.join(format!("{}.json", a.username));
        let old: Option<Credentials> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let (publish, subscribe) = topics(network, a);
        let c = Credentials {
            username: a.username.clone(),
            password: old.map_or_else(new_password, |o| o.password),
            url: url.to_string(),
            ca_file: ca_file.to_path_buf(),
            publish,
            subscribe,
        };
        private_fs::write(&path, &serde_json::to_vec_pretty(&c)?)?;
        out.push(c);
    }
    Ok(out)
}

/// mosquitto's password file at `path`: written 0600, then hashed in
/// place by Debian's `mosquitto_passwd -U` (no password on a command
/// line, where other users could read it).
pub fn write_password_file(path: &Path, creds: &[Credentials]) -> anyhow::Result<()> {
    let text: String = creds
        .iter()
        .map(|c| format!("{}:{}\n", c.username, c.password))
        .collect();
    private_fs::write(path, text.as_bytes())?;
    let status = Command::new("mosquitto_passwd")
        .arg("-U")
        .arg(path)
        .status()
        .context(
            "running mosquitto_passwd (Debian's mosquitto package: apt-get install mosquitto)",
        )?;
    if !status.success() {
        let _ = std::fs::remove_file(path);
        bail!("mosquitto_passwd -U {} failed ({status})", path.display());
    }
    Ok(())
}
