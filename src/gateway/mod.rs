//! `medchain gateway`: a JSON-RPC front for one hospital's member node, so
//! devices on a hospital LAN never reach geth itself. It serves only the
//! calls devices and load clients need ([`allow`]), to clients holding a
//! token of that hospital ([`tokens`], with raw transactions bound to the
//! token's device, [`binding`]), within a body size and a per-client rate
//! ([`rate`]), over TLS ([`tls`]), and logs every request ([`access_log`]).
//! [`options`] checks what it was asked to serve; [`server`] serves it,
//! forwarding through [`upstream`]; on a private network it also takes
//! devices' sealed readings into the store ([`store_put`]). With `--mqtt`, [`mqtt`] also answers
//! devices over the network's broker ([`mqtt_message`]: what they send).
//! See docs/devices.md and docs/mqtt.md.

pub mod access_log;
pub mod allow;
pub mod binding;
pub mod mqtt;
pub mod mqtt_message;
pub mod options;
pub mod provisioning;
pub mod rate;
pub mod server;
pub mod store_put;
pub mod tls;
pub mod tokens;
pub mod upstream;
pub mod utc;
