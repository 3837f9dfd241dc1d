//! Resource use of a network's nodes while a benchmark runs, sampled the
//! way the runtime allows: `/proc` for local processes, the engine's stats
//! stream for containers. The bench starts one through
//! [`Runtime::start_monitor`](super::Runtime::start_monitor) and reads one
//! row per node at the end, without knowing which kind it was.

use super::docker_stats::DockerMonitor;
use crate::bench::resources::SampledProcesses;
use crate::bench::result::ResourceUsage;

/// A running sampler of the nodes' CPU, memory, disk and traffic.
pub enum NodeMonitor {
    /// Nothing to watch (no node started by this invocation is known).
    None,
    /// Local geth processes, read from `/proc` once a second.
    Processes(SampledProcesses),
    /// Containers, through the Docker stats stream.
    Containers(DockerMonitor),
}

impl NodeMonitor {
    /// Stops sampling and returns one row per node, in the order given.
    pub async fn finish(self) -> Vec<ResourceUsage> {
        match self {
            NodeMonitor::None => Vec::new(),
            NodeMonitor::Processes(p) => p.finish().await,
            NodeMonitor::Containers(d) => d.finish().await,
        }
    }
}
