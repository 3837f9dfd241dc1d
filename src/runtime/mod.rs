//! Runtimes execute a plan's nodes: start, stop, and tell whether a node is
//! running. They hold no policy — which nodes, in what order, with which
//! arguments is all in the [`Plan`](crate::plan::Plan).

pub mod process;

use std::path::Path;
use std::time::Duration;

use crate::plan::NodePlan;

/// A handle to a started node that a later invocation can find again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle {
    /// Operating-system process id.
    pub pid: u32,
}

/// Something that can run geth nodes.
pub trait Runtime: Send + Sync {
    /// Name recorded in the state file and shown by `status`.
    fn name(&self) -> &'static str;

    /// Initialises a node's datadir from the genesis file, unless it already
    /// holds a chain (so `up` after `down` resumes the same chain).
    fn init(&self, geth: &Path, node: &NodePlan, genesis: &Path) -> anyhow::Result<()>;

    /// Starts a node; it keeps running after medchain exits.
    fn start(&self, geth: &Path, node: &NodePlan) -> anyhow::Result<Handle>;

    /// Whether the node behind `handle` is still running.
    fn is_running(&self, node: &NodePlan, handle: Handle) -> bool;

    /// Stops a node gracefully, forcefully after `grace`.
    fn stop(&self, node: &NodePlan, handle: Handle, grace: Duration) -> anyhow::Result<()>;
}
