//! `medchain monitor`: a real Prometheus (Debian's `prometheus`) on
//! loopback that scrapes every node's geth metrics, labelled by network,
//! hospital, role and node, with bounded retention; `down` stops it.
//!
//! [`config`] renders the scrape configuration and [`rules`] the alert
//! rules from the plan (both pure);
//! [`server`] starts, finds and stops the Prometheus process.

pub mod config;
pub mod rules;
pub mod server;
