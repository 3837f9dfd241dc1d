//! medchain: bring a private, multi-hospital Ethereum network online (real
//! geth nodes, Clique or ethash, peered hospital to hospital) and measure it.
//!
//! Data flows one way: topology file → [`topology::Topology`] →
//! [`plan::Plan`] (pure) → a [`runtime::Runtime`] applies it →
//! [`state::State`], which every later command reads.

pub mod bench;
pub mod broker;
pub mod cli;
pub mod cmd;
pub mod contract;
pub(crate) mod daemon;
pub mod device;
pub mod device_alarms;
pub mod device_config;
pub mod error;
pub mod fault;
pub mod gateway;
pub mod genesis;
pub mod geth;
pub mod interrupt;
pub mod keys;
pub mod metrics_http;
pub mod monitor;
pub mod network;
pub(crate) mod pid;
pub mod plan;
pub mod ports;
pub mod privacy;
pub(crate) mod private_fs;
pub mod progress;
pub mod records;
pub mod rpc;
pub mod rpc_timeout;
pub mod runtime;
pub mod serve;
pub mod state;
pub mod table;
pub mod task;
pub mod topology;
pub mod toxiproxy;
pub mod txinfo;
pub mod watch;
