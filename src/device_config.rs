//! The firmware's config file, as `medchain device provision` writes it
//! and `firmware/core`'s `parse_device_config` reads it: the node or
//! gateway to talk to, the chain, the contract, the device's key, the
//! patient salt (clear networks) or patient id and store (private ones),
//! and optionally the gateway token and CA, the MQTT
//! broker account and the local alarm thresholds. Plain data, so the
//! broker's account list can read device configs without depending on
//! provisioning.

use serde::{Deserialize, Serialize};

use crate::device_alarms::DeviceAlarms;

/// The firmware's config file (`/medchain.json` on the device's flash). Field
/// names are those `parse_device_config` in `firmware/core` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceConfig {
    /// geth JSON-RPC endpoint (`http://`).
    pub rpc_url: String,
    /// The network's chain id.
    pub chain_id: u64,
    /// MedicalRecords address, EIP-55 checksummed.
    pub contract: String,
    /// The device wallet's private key (0x, 32 bytes).
    pub device_private_key: String,
    /// The network's patient salt (0x, 32 bytes), on a `privacy: clear`
    /// network only: a private network's device never holds a salt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_salt: Option<String>,
    /// On a private network: the one patient id (0x, 32 bytes) the device
    /// writes for, instead of a salt to derive it from an SSN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// On a private network: where the device `PUT`s its sealed readings
    /// (`<gateway>/store`, one `PUT <store_url>/<cid>` per reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_url: Option<String>,
    /// Label for logs and the OLED.
    pub device_id: String,
    /// The device's gateway token (`Authorization: Bearer`), from the OS
    /// random generator; the gateway stores only its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_token: Option<String>,
    /// PEM of the CA the device pins for an `https://` `rpc_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// The MQTT transport's broker, account, topic and CA, when the
    /// network's broker has issued the device an account.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<DeviceMqtt>,
    /// Local alarm thresholds.
    #[serde(default)]
    pub alarms: DeviceAlarms,
}

/// The `mqtt_*` fields of a device config: the broker, the device's
/// account on it, its transaction topic and the broker's CA
/// (`crate::broker::device_link` fills them from the broker's credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMqtt {
    /// `mqtts://127.0.0.1:<port>`.
    pub mqtt_url: String,
    pub mqtt_username: String,
    pub mqtt_password: String,
    /// `medchain/<network>/<hospital>/devices/<address>/tx`.
    pub mqtt_tx_topic: String,
    /// PEM of the broker's CA, which the device pins.
    pub mqtt_ca: String,
}
