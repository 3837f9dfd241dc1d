//! Faults on a running network, by hand (`medchain fault`) or on a
//! benchmark round's timeline (a scenario's `faults:`), and the recovery
//! figures measured around them.
//!
//! - [`action`]: what a fault is (pure: parsed and validated like every
//!   input).
//! - [`select`]: which of a plan's nodes a fault names.
//! - [`apply`]: doing it through the [`Runtime`](crate::runtime::Runtime)
//!   (signals, stop and start) and over the nodes' IPC (peer links).
//! - [`peers`]: cutting and restoring peer links (partition, heal), and
//!   rejoining a node that comes back.
//! - [`links`]: shaping peer links through toxiproxy (delay, bandwidth)
//!   and taking them off it (heal).
//! - [`timeline`]: a round's faults at their times, with the nodes' heads
//!   sampled alongside.
//! - [`recovery`]: the figures (pure), from the applied faults, the head
//!   samples and the round's commits.

pub mod action;
pub mod apply;
mod dialers;
pub(crate) mod links;
mod peer_table;
pub(crate) mod peers;
pub mod recovery;
mod resume;
pub mod select;
pub mod timeline;

pub use action::{Action, Fault, LinkSettings, Who};
