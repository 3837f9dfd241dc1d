//! Runtimes execute a plan's nodes: prepare what nodes share, initialise a
//! node's chain, start and stop it, tell whether it runs, and say how one
//! node reaches another. They hold no policy — which nodes, in what order,
//! with which arguments is all in the [`Plan`](crate::plan::Plan).
//!
//! Two runtimes exist: [`process::ProcessRuntime`] (geth as local child
//! processes) and [`docker::DockerRuntime`] (one container per node,
//! through the Docker Engine API). Callers get one from [`connect`] as an
//! [`AnyRuntime`] and use only the trait: this folder is the only place
//! that knows which backend runs a network.

mod any;
mod available;
pub mod container_plan;
pub mod docker;
mod docker_signal;
pub mod docker_stats;
pub mod image;
pub(crate) mod init_marker;
pub(crate) mod ipc;
mod labelled;
pub mod monitor;
pub(crate) mod proc_scan;
pub mod process;

pub use any::{connect, default_kind, AnyRuntime};
pub use available::available;
pub use docker::build_local_image;
pub use monitor::NodeMonitor;

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::plan::{NodePlan, Plan};
use monitor::NodeMonitor as Monitor;

/// A handle to a started node that a later invocation can find again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handle {
    /// Operating-system process id (process runtime).
    Pid(u32),
    /// Container id (docker runtime).
    Container(String),
}

/// A running process or container of a network, found without its state
/// (see [`Runtime::orphans`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// How to reach it.
    pub handle: Handle,
    /// What it is, for messages (`geth process 123 (…/nodes/a/data)`).
    pub what: String,
}

/// What a fault does to a running node (`medchain fault`, a scenario's
/// `faults:`), beyond starting and stopping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeSignal {
    /// Ends it at once, with no grace: a crash (SIGKILL; `docker kill`).
    Kill,
    /// Freezes every thread; connections stay open but nothing answers
    /// (SIGSTOP; `docker pause`, the cgroup freezer).
    Pause,
    /// Thaws a paused node (SIGCONT; `docker unpause`).
    Unpause,
}

/// Which runtime runs a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// geth as local processes.
    Process,
    /// One Docker container per node.
    Docker,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Process => "process",
            Kind::Docker => "docker",
        })
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    /// Parses `process` or `docker` (the `--runtime` flag and
    /// `MEDCHAIN_RUNTIME`).
    fn from_str(s: &str) -> Result<Kind, String> {
        match s {
            "process" => Ok(Kind::Process),
            "docker" => Ok(Kind::Docker),
            _ => Err(format!("expected process or docker, got {s:?}")),
        }
    }
}

impl Kind {
    /// Every runtime's name, for help texts and flag values.
    pub const NAMES: [&'static str; 2] = ["process", "docker"];

    /// Reads the `runtime` field of a state file of any version: older
    /// files hold a free string, and anything but `docker` was the process
    /// runtime (the only one before Docker), so existing networks keep
    /// working after an upgrade.
    pub(crate) fn deserialize_legacy<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Kind, D::Error> {
        let s = String::deserialize(d)?;
        Ok(s.parse().unwrap_or(Kind::Process))
    }
}

/// Something that can run geth nodes.
///
/// The futures are awaited on the caller's task (never spawned), so no
/// `Send` bound is needed.
/// Where a link's TCP proxy listens and forwards (see
/// [`Runtime::link_proxy`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkProxy {
    /// The host address the proxy listens on (port chosen at creation).
    pub listen_host: String,
    /// `host:port` it forwards to.
    pub upstream: String,
}

#[allow(async_fn_in_trait)]
pub trait Runtime {
    /// Name recorded in the state file and shown by `status`.
    fn name(&self) -> &'static str;

    /// Refuses a plan this runtime cannot run, before anything is created
    /// (the process runtime: an IPC socket path over the kernel's limit).
    fn check_plan(&self, _plan: &Plan) -> Result<(), crate::error::InputError> {
        Ok(())
    }

    /// Creates what the nodes share before any starts (docker: the image,
    /// networks and volumes). `geth` is the provisioned binary.
    async fn prepare(&self, plan: &Plan, geth: &Path) -> anyhow::Result<()>;

    /// Initialises a node's chain from the genesis, unless it already holds
    /// one (so `up` after `down` resumes the same chain).
    async fn init(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()>;

    /// Starts a node; it keeps running after medchain exits.
    async fn start(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<Handle>;

    /// Whether the node behind `handle` is still running.
    async fn is_running(&self, node: &NodePlan, handle: &Handle) -> bool;

    /// Stops a node gracefully, forcefully after `grace`.
    async fn stop(&self, node: &NodePlan, handle: &Handle, grace: Duration) -> anyhow::Result<()>;

    /// Sends `signal` to the node behind `handle` (see [`NodeSignal`]);
    /// returns once a kill has ended it.
    async fn signal(
        &self,
        node: &NodePlan,
        handle: &Handle,
        signal: NodeSignal,
    ) -> anyhow::Result<()>;

    /// Calls JSON-RPC `method` on `node` over geth's IPC socket — the one
    /// control channel medchain uses for what client endpoints do not
    /// serve (admin, miner, txpool) and for sealers, which have no RPC
    /// port. Never goes over TCP. A JSON-RPC error is an error.
    async fn admin_call(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value>;

    /// Calls `method` once for each of `params` as one JSON-RPC batch over
    /// the same control channel, and returns the results in order (or the
    /// first error). geth runs a batch's calls back to back, with no round
    /// trip to medchain between them: `heal` needs that when one node must
    /// start several dials before the first completes (`fault::dialers`).
    async fn admin_batch(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: &[serde_json::Value],
    ) -> anyhow::Result<Vec<serde_json::Value>>;

    /// The enode URL node `from` dials to reach node `to`.
    async fn enode(&self, plan: &Plan, from: usize, to: usize) -> anyhow::Result<String>;

    /// Removes what [`prepare`](Self::prepare) and the nodes left behind
    /// once every node is stopped; `purge` also removes the chain data.
    async fn teardown(&self, plan: &Plan, purge: bool) -> anyhow::Result<()>;

    /// The last `lines` lines of a node's output, for error messages.
    async fn log_tail(&self, plan: &Plan, node: &NodePlan, lines: usize) -> String;

    /// Writes a node's whole output to stdout; with `follow`, keeps
    /// writing new output until Ctrl-C (or the node's container ends).
    async fn print_log(&self, plan: &Plan, node: &NodePlan, follow: bool) -> anyhow::Result<()>;

    /// The container a node runs in, for display (`None`: not a container).
    fn container_name(&self, plan: &Plan, node: &NodePlan) -> Option<String>;

    /// Whether a TCP proxy run on this machine can sit on `plan`'s peer
    /// links (the `delay` and `bandwidth` faults put one on each shaped
    /// link), or why not (one line, completing "delay …").
    fn links_shapeable(&self, plan: &Plan) -> Result<(), String>;

    /// Where the proxy of the link between nodes `listener` and `dialer`
    /// listens (an address of this machine that `dialer` can dial) and
    /// where it forwards (`listener`'s devp2p endpoint as this machine
    /// reaches it), for a running `listener`.
    async fn link_proxy(
        &self,
        plan: &Plan,
        listener: usize,
        dialer: usize,
    ) -> anyhow::Result<LinkProxy>;

    /// Starts sampling the resource use of `nodes` (each with its handle)
    /// until [`NodeMonitor::finish`](monitor::NodeMonitor::finish).
    fn start_monitor(&self, plan: &Plan, nodes: &[(&NodePlan, Handle)]) -> Monitor;

    /// Every running node of network `network` (files under `dir`) this
    /// runtime can find without the state file: processes whose
    /// `--datadir` is inside `dir`, containers labelled with the network.
    async fn orphans(&self, network: &str, dir: &Path) -> anyhow::Result<Vec<Orphan>>;

    /// Stops one of [`orphans`](Self::orphans), forcefully after `grace`
    /// (a container is also removed); returns once it is gone.
    async fn stop_orphan(&self, orphan: &Orphan, dir: &Path, grace: Duration)
        -> anyhow::Result<()>;

    /// What [`teardown`](Self::teardown) does, from the network's name
    /// alone (no plan): the runtime's shared objects labelled with it.
    async fn teardown_labelled(&self, network: &str, purge: bool) -> anyhow::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Recorded {
        #[serde(deserialize_with = "Kind::deserialize_legacy")]
        runtime: Kind,
    }

    fn read(json: &str) -> Kind {
        serde_json::from_str::<Recorded>(json).unwrap().runtime
    }

    #[test]
    fn state_files_of_every_version_name_their_runtime() {
        assert_eq!(read(r#"{"runtime":"docker"}"#), Kind::Docker);
        assert_eq!(read(r#"{"runtime":"process"}"#), Kind::Process);
        // Before the docker runtime, files held only "process" (or older
        // free strings): all of those were local processes.
        assert_eq!(read(r#"{"runtime":""}"#), Kind::Process);
        assert_eq!(serde_json::to_string(&Kind::Docker).unwrap(), r#""docker""#);
    }
}
