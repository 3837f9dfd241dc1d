//! The one place that turns a [`Kind`] into a running backend. Everything
//! outside `src/runtime/` holds an [`AnyRuntime`] and calls the
//! [`Runtime`] trait on it, so no other module matches on the kind or names
//! a Docker type.

use std::path::Path;
use std::time::Duration;

use super::docker::{self, DockerRuntime};
use super::monitor::NodeMonitor;
use super::process::ProcessRuntime;
use super::{Handle, Kind, LinkProxy, NodeSignal, Orphan, Runtime};
use crate::plan::{NodePlan, Plan};
use crate::topology::Topology;

/// A runtime of either kind, chosen at run time.
pub enum AnyRuntime {
    /// geth as local processes.
    Process(ProcessRuntime),
    /// One container per node on the hospitals' Docker engines.
    Docker(Box<DockerRuntime>),
}

/// Connects the runtime of `kind` for a network of topology `topo` (on
/// Docker: the local engine and every engine a hospital names).
pub async fn connect(kind: Kind, topo: &Topology) -> anyhow::Result<AnyRuntime> {
    Ok(match kind {
        Kind::Process => AnyRuntime::Process(ProcessRuntime),
        Kind::Docker => AnyRuntime::Docker(Box::new(DockerRuntime::connect(topo).await?)),
    })
}

/// The runtime `up` uses when none is asked for: docker when the local
/// engine answers, else process.
pub async fn default_kind() -> Kind {
    docker::default_kind().await
}

impl AnyRuntime {
    /// Which kind this is (recorded in the state file).
    pub fn kind(&self) -> Kind {
        match self {
            AnyRuntime::Process(_) => Kind::Process,
            AnyRuntime::Docker(_) => Kind::Docker,
        }
    }
}

/// Calls the same method on whichever runtime this is.
macro_rules! each {
    ($self:ident, $rt:ident => $e:expr) => {
        match $self {
            AnyRuntime::Process($rt) => $e,
            AnyRuntime::Docker($rt) => $e,
        }
    };
}

impl Runtime for AnyRuntime {
    fn name(&self) -> &'static str {
        each!(self, rt => rt.name())
    }
    fn check_plan(&self, plan: &Plan) -> Result<(), crate::error::InputError> {
        each!(self, rt => rt.check_plan(plan))
    }
    async fn prepare(&self, plan: &Plan, geth: &Path) -> anyhow::Result<()> {
        each!(self, rt => rt.prepare(plan, geth).await)
    }
    async fn init(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()> {
        each!(self, rt => rt.init(geth, plan, node).await)
    }
    async fn start(&self, geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<Handle> {
        each!(self, rt => rt.start(geth, plan, node).await)
    }
    async fn is_running(&self, node: &NodePlan, handle: &Handle) -> bool {
        each!(self, rt => rt.is_running(node, handle).await)
    }
    async fn stop(&self, node: &NodePlan, handle: &Handle, grace: Duration) -> anyhow::Result<()> {
        each!(self, rt => rt.stop(node, handle, grace).await)
    }
    async fn signal(&self, n: &NodePlan, h: &Handle, s: NodeSignal) -> anyhow::Result<()> {
        each!(self, rt => rt.signal(n, h, s).await)
    }
    async fn admin_call(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        each!(self, rt => rt.admin_call(plan, node, method, params).await)
    }
    async fn admin_batch(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: &[serde_json::Value],
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        each!(self, rt => rt.admin_batch(plan, node, method, params).await)
    }
    async fn enode(&self, plan: &Plan, from: usize, to: usize) -> anyhow::Result<String> {
        each!(self, rt => rt.enode(plan, from, to).await)
    }
    async fn teardown(&self, plan: &Plan, purge: bool) -> anyhow::Result<()> {
        each!(self, rt => rt.teardown(plan, purge).await)
    }
    async fn log_tail(&self, plan: &Plan, node: &NodePlan, lines: usize) -> String {
        each!(self, rt => rt.log_tail(plan, node, lines).await)
    }
    async fn print_log(&self, plan: &Plan, node: &NodePlan, follow: bool) -> anyhow::Result<()> {
        each!(self, rt => rt.print_log(plan, node, follow).await)
    }
    fn container_name(&self, plan: &Plan, node: &NodePlan) -> Option<String> {
        each!(self, rt => rt.container_name(plan, node))
    }
    fn links_shapeable(&self, plan: &Plan) -> Result<(), String> {
        each!(self, rt => rt.links_shapeable(plan))
    }
    async fn link_proxy(
        &self,
        plan: &Plan,
        listener: usize,
        dialer: usize,
    ) -> anyhow::Result<LinkProxy> {
        each!(self, rt => rt.link_proxy(plan, listener, dialer).await)
    }
    fn start_monitor(&self, plan: &Plan, nodes: &[(&NodePlan, Handle)]) -> NodeMonitor {
        each!(self, rt => rt.start_monitor(plan, nodes))
    }
    async fn orphans(&self, network: &str, dir: &Path) -> anyhow::Result<Vec<Orphan>> {
        each!(self, rt => rt.orphans(network, dir).await)
    }
    async fn stop_orphan(&self, o: &Orphan, dir: &Path, grace: Duration) -> anyhow::Result<()> {
        each!(self, rt => rt.stop_orphan(o, dir, grace).await)
    }
    async fn teardown_labelled(&self, network: &str, purge: bool) -> anyhow::Result<()> {
        each!(self, rt => rt.teardown_labelled(network, purge).await)
    }
}
