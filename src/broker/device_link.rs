//! What a device needs to use the MQTT transport, taken from the account
//! `medchain broker start` issued it (`<network dir>/broker/credentials/
//! <device id>.json`): the broker's URL, its user name and password, its
//! transaction topic and the broker's CA. `device provision` writes them
//! into the device's config (0600, next to its private key) when the
//! account exists; before the first `broker start` there is none, and
//! provisioning again afterwards adds them.

use std::path::Path;

use super::accounts::Credentials;
use super::server;
pub use crate::device_config::DeviceMqtt;
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
