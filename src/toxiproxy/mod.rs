//! toxiproxy, the TCP proxy that shapes peer links for the `delay` and
//! `bandwidth` faults (docs/reliability.md): this kernel has no netem, so
//! latency and throughput limits are added by a proxy placed on each
//! shaped devp2p link rather than by the kernel.
//!
//! - [`install`]: the pinned release, found on PATH or in medchain's cache,
//!   or built once with Go into `~/.cache/medchain/toxiproxy/v2.5.0/`.
//! - [`server`]: a network's own `toxiproxy-server`, on a loopback port
//!   from the machine-wide registry, recorded in the network's directory
//!   and stopped by `heal` and `down`.
//! - [`api`]: its HTTP API (proxies and their toxics).

pub mod api;
pub mod install;
pub mod server;
