//! Per-container resource monitor for the docker runtime, from the Docker
//! stats API — the counterpart of Caliper's docker monitor and of
//! [`ProcessMonitor`](crate::bench::resources::ProcessMonitor) for processes.
//!
//! One stats stream per container (the engine sends a sample about once a
//! second). Per sample:
//!
//! - CPU %: container CPU time over host CPU time since the previous
//!   sample, times the online CPUs, in percent of one core (as `docker
//!   stats` shows it).
//! - memory: usage minus the page cache (`inactive_file` on cgroup v2,
//!   `total_inactive_file`/`cache` on v1), as `docker stats` shows it.
//! - network: rx/tx bytes over the container's interfaces (its own
//!   namespace, so per node — unlike processes sharing the host's);
//! - block I/O: bytes read and written.
//!
//! Network and block I/O are reported as last − first sample.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptionsBuilder;
use bollard::Docker;
use futures::StreamExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::bench::result::ResourceUsage;

const MIB: f64 = 1024.0 * 1024.0;

/// Figures of one stats sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// CPU %, when the sample carries a previous reading to diff against.
    pub cpu_pct: Option<f64>,
    /// Memory without page cache, MiB.
    pub mem_mb: f64,
    /// Cumulative (rx, tx) bytes over all interfaces.
    pub net: (u64, u64),
    /// Cumulative (read, write) block I/O bytes.
    pub blkio: (u64, u64),
}

/// Reduces one stats response to the figures reported.
pub(crate) fn reduce(s: &ContainerStatsResponse) -> Sample {
    let cpu = s.cpu_stats.as_ref();
    let pre = s.precpu_stats.as_ref();
    let total = |c: Option<&bollard::models::ContainerCpuStats>| {
        c.and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
    };
    let system =
        |c: Option<&bollard::models::ContainerCpuStats>| c.and_then(|c| c.system_cpu_usage);
    let cpu_pct = match (total(cpu), total(pre), system(cpu), system(pre)) {
        (Some(t), Some(pt), Some(sy), Some(psy)) if sy > psy && t >= pt => {
            let cpus = cpu
                .and_then(|c| c.online_cpus)
                .filter(|n| *n > 0)
                .unwrap_or(1) as f64;
            Some((t - pt) as f64 / (sy - psy) as f64 * cpus * 100.0)
        }
        _ => None,
    };
    let mem = s.memory_stats.as_ref();
    let usage = mem.and_then(|m| m.usage).unwrap_or(0);
    let cache = mem
        .and_then(|m| m.stats.as_ref())
        .and_then(|st| {
            st.get("inactive_file")
                .or_else(|| st.get("total_inactive_file"))
                .or_else(|| st.get("cache"))
                .copied()
        })
        .unwrap_or(0);
    let net = s
        .networks
        .as_ref()
        .map(|m| {
            m.values().fold((0, 0), |(rx, tx), n| {
                (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
            })
        })
        .unwrap_or((0, 0));
    let blkio = s
        .blkio_stats
        .as_ref()
        .and_then(|b| b.io_service_bytes_recursive.as_ref())
        .map(|entries| {
            entries.iter().fold((0, 0), |(r, w), e| {
                match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    Some("read") => (r + e.value.unwrap_or(0), w),
                    Some("write") => (r, w + e.value.unwrap_or(0)),
                    _ => (r, w),
                }
            })
        })
        .unwrap_or((0, 0));
    Sample {
        cpu_pct,
        mem_mb: usage.saturating_sub(cache) as f64 / MIB,
        net,
        blkio,
    }
}

/// Summarises a container's samples as a report row.
pub(crate) fn summarize(node: &str, samples: &[Sample]) -> ResourceUsage {
    let cpu: Vec<f64> = samples.iter().filter_map(|s| s.cpu_pct).collect();
    let mem: Vec<f64> = samples.iter().map(|s| s.mem_mb).collect();
    let avg = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let diff = |f: fn(&Sample) -> u64| match (samples.first(), samples.last()) {
        (Some(a), Some(b)) => f(b).saturating_sub(f(a)) as f64 / MIB,
        _ => 0.0,
    };
    ResourceUsage {
        node: node.to_string(),
        cpu_max_pct: max(&cpu),
        cpu_avg_pct: avg(&cpu),
        mem_max_mb: max(&mem),
        mem_avg_mb: avg(&mem),
        disk_read_mb: diff(|s| s.blkio.0),
        disk_write_mb: diff(|s| s.blkio.1),
        net_rx_mb: diff(|s| s.net.0),
        net_tx_mb: diff(|s| s.net.1),
    }
}

/// Streams stats of a set of containers until stopped.
pub struct DockerMonitor {
    samples: Arc<Mutex<BTreeMap<String, Vec<Sample>>>>,
    order: Vec<String>,
    stop: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl DockerMonitor {
    /// Starts one stats stream per `(row name, container, its engine)`.
    pub fn start(targets: Vec<(String, String, Docker)>) -> Self {
        let samples = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        let order = targets.iter().map(|(n, _, _)| n.clone()).collect();
        for (node, container, docker) in targets {
            let (samples, stop) = (samples.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let opts = StatsOptionsBuilder::default().stream(true).build();
                let mut stream = docker.stats(&container, Some(opts));
                let stopped = stop.notified();
                tokio::pin!(stopped);
                // Bounded by the run: ends when stopped or the container goes.
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        item = stream.next() => match item {
                            Some(Ok(s)) => {
                                if let Ok(mut g) = samples.lock() {
                                    g.entry(node.clone()).or_insert_with(Vec::new).push(reduce(&s));
                                }
                            }
                            _ => break,
                        },
                    }
                }
            }));
        }
        Self {
            samples,
            order,
            stop,
            tasks,
        }
    }

    /// Stops the streams and returns one row per container, in the order
    /// given to [`start`](Self::start).
    pub async fn finish(self) -> Vec<ResourceUsage> {
        self.stop.notify_waiters();
        for t in self.tasks {
            let _ = t.await;
        }
        let g = self.samples.lock().map(|g| g.clone()).unwrap_or_default();
        self.order
            .iter()
            .map(|n| summarize(n, g.get(n).map(Vec::as_slice).unwrap_or(&[])))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ContainerBlkioStatEntry, ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage,
        ContainerMemoryStats, ContainerNetworkStats,
    };
    use std::collections::HashMap;

    fn stats(total: u64, pre_total: u64, sys: u64, pre_sys: u64) -> ContainerStatsResponse {
        let cpu = |t, s| ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(t),
                ..Default::default()
            }),
            system_cpu_usage: Some(s),
            online_cpus: Some(2),
            ..Default::default()
        };
        ContainerStatsResponse {
            cpu_stats: Some(cpu(total, sys)),
            precpu_stats: Some(cpu(pre_total, pre_sys)),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(300 * 1024 * 1024),
                stats: Some(HashMap::from([("inactive_file".into(), 100 * 1024 * 1024)])),
                ..Default::default()
            }),
            networks: Some(HashMap::from([
                (
                    "eth0".into(),
                    ContainerNetworkStats {
                        rx_bytes: Some(1000),
                        tx_bytes: Some(10),
                        ..Default::default()
                    },
                ),
                (
                    "eth1".into(),
                    ContainerNetworkStats {
                        rx_bytes: Some(24),
                        tx_bytes: Some(5),
                        ..Default::default()
                    },
                ),
            ])),
            blkio_stats: Some(ContainerBlkioStats {
                io_service_bytes_recursive: Some(vec![
                    ContainerBlkioStatEntry {
                        op: Some("read".into()),
                        value: Some(7),
                        ..Default::default()
                    },
                    ContainerBlkioStatEntry {
                        op: Some("Write".into()),
                        value: Some(9),
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn cpu_is_percent_of_one_core_and_memory_excludes_cache() {
        // 0.5 s of container CPU over 1 s on each of 2 CPUs = half a core.
        let s = reduce(&stats(
            1_500_000_000,
            1_000_000_000,
            4_000_000_000,
            2_000_000_000,
        ));
        assert!((s.cpu_pct.unwrap() - 50.0).abs() < 1e-9, "{s:?}");
        assert!((s.mem_mb - 200.0).abs() < 1e-9);
        assert_eq!(s.net, (1024, 15));
        assert_eq!(s.blkio, (7, 9));
        // The first sample has no previous reading.
        assert_eq!(reduce(&stats(5, 0, 10, 0)).cpu_pct, Some(100.0));
        assert_eq!(reduce(&ContainerStatsResponse::default()).cpu_pct, None);
    }

    #[test]
    fn summary_diffs_counters_and_averages_gauges() {
        let a = Sample {
            cpu_pct: Some(10.0),
            mem_mb: 100.0,
            net: (0, 0),
            blkio: (0, 0),
        };
        let b = Sample {
            cpu_pct: Some(30.0),
            mem_mb: 300.0,
            net: (2 * 1024 * 1024, 1024 * 1024),
            blkio: (0, 3 * 1024 * 1024),
        };
        let r = summarize("n", &[a, b]);
        assert_eq!((r.cpu_max_pct, r.cpu_avg_pct), (30.0, 20.0));
        assert_eq!((r.mem_max_mb, r.mem_avg_mb), (300.0, 200.0));
        assert_eq!((r.net_rx_mb, r.net_tx_mb), (2.0, 1.0));
        assert_eq!((r.disk_read_mb, r.disk_write_mb), (0.0, 3.0));
        assert_eq!(summarize("n", &[]).cpu_max_pct, 0.0);
    }
}
