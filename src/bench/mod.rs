//! `medchain bench`: Caliper-style rounds (rate controller × workload)
//! against a running network, latency from block subscriptions, reports in
//! Caliper's columns, and a regression gate for CI.

pub mod alarms;
pub mod baseline;
mod caliper_resource;
pub mod endpoint;
pub mod engine;
pub mod exporter;
pub mod failover;
mod faulted;
pub mod fleet;
mod fleet_failover;
pub mod fleet_mqtt;
pub mod fresh_http;
mod funding;
pub mod live;
pub mod metrics;
pub mod observer;
mod pipeline;
pub mod private;
pub mod prom_queries;
mod prom_raw;
pub mod pushgateway;
pub mod rate;
pub mod report;
pub mod resources;
pub mod result;
pub mod run;
pub mod scenario;
pub mod shortfall;
pub mod signer;
pub mod sweep;
pub mod tracking;
mod transport;
mod worker;
pub mod workload;
