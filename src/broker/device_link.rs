//! What a device needs to use the MQTT transport, taken from the account
//! `medchain broker start` issued it (`<network dir>/broker/credentials/
//! <device id>.json`): the broker's URL, its user name and password, its
//! transaction topic and the broker's CA. `device provision` writes them
//! into the device's config (0600, next to its private key) when the
//! account exists. When the broker runs, provisioning first has it issue
//! accounts to the devices just provisioned ([`refresh`], what `broker
//! start` does on a running broker); when it does not, the configs get no
//! MQTT fields until `broker start` and provisioning again.

use std::path::{Path, PathBuf};

use super::accounts::Credentials;
use super::server;
use crate::device_config::DeviceConfig;
pub use crate::device_config::DeviceMqtt;
use crate::plan::Plan;
use anyhow::Context;

/// The broker account of device `device_id`, when the broker has issued
/// one.
pub fn for_device(net_dir: &Path, device_id: &str) -> anyhow::Result<Option<DeviceMqtt>> {
    let path = server::dir_of(net_dir)
        .join("credentials")
        .join(format!("{device_id}.json"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let c: Credentials = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a broker credentials file", path.display()))?;
    let topic = c
        .publish
        .first()
        .with_context(|| format!("{}: no transaction topic", path.display()))?;
    let ca = std::fs::read_to_string(&c.ca_file)
        .with_context(|| format!("reading the broker's CA {}", c.ca_file.display()))?;
    Ok(Some(DeviceMqtt {
        mqtt_url: c.url,
        mqtt_username: c.username,
        mqtt_password: c.password,
        mqtt_tx_topic: topic.clone(),
        mqtt_ca: ca,
    }))
}

/// When the network's broker runs: has it issue accounts to devices that
/// have none yet (it reloads them), then writes each device's account
/// into its config file (`(device id, config path)`). Whether the broker
/// runs.
pub async fn refresh(plan: &Plan, configs: &[(String, PathBuf)]) -> anyhow::Result<bool> {
    if server::running(&plan.dir).is_none() {
        return Ok(false);
    }
    server::start(plan).await?;
    for (id, path) in configs {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut cfg: DeviceConfig = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a device config", path.display()))?;
        let account = for_device(&plan.dir, id)?;
        if account != cfg.mqtt {
            cfg.mqtt = account;
            let text = format!("{}\n", serde_json::to_string_pretty(&cfg)?);
            crate::keys::write_private(path, text.as_bytes())?;
        }
    }
    Ok(true)
}
