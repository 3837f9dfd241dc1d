//! `medchain broker`: Debian's mosquitto on loopback for a network, TLS
//! only (certificates from a CA medchain generates), no anonymous access,
//! one account per device and per service, each limited by an ACL to its
//! own topics (issue 15, item 2).
//!
//! Topics: `medchain/<network>/<hospital>/devices/<address>/tx` (a device
//! publishes its signed transactions), `…/ack` (the gateway answers),
//! `medchain/<network>/<hospital>/alarms/<patient pseudonym>` (`watch`
//! publishes alarms). [`config`] renders mosquitto's configuration and ACL
//! (pure); [`accounts`] decides who gets credentials and writes them;
//! [`server`] starts, finds and stops the mosquitto process.

pub mod accounts;
pub mod client;
pub mod config;
pub mod device_link;
pub mod server;
