//! Per-process resource monitor for the process runtime (and the driver
//! itself), the counterpart of Caliper's process monitor, read straight
//! from Linux's `/proc`.
//!
//! Each [`ProcessMonitor::sample`] reads, per watched process:
//!
//! - `/proc/<pid>/stat`: user + system CPU time (all threads). CPU% is the
//!   CPU time spent between two samples over the wall time between them,
//!   in percent of one core (so a busy 4-thread geth can show 400 %).
//!   Windows shorter than [`MIN_CPU_WINDOW`] are merged into the next so
//!   the 10 ms tick of the kernel's accounting does not make noise peaks.
//! - `/proc/<pid>/status`: resident memory (`VmRSS`).
//! - `/proc/<pid>/io`: `read_bytes` / `write_bytes`, what the process made
//!   the storage layer read and write (page-cache hits are not counted).
//!   Reported as the difference between the first and the last sample.
//! - `/proc/<pid>/net/dev`: Linux keeps no per-process network counters;
//!   this file holds the counters of the process's network namespace. The
//!   traffic figures are therefore the whole namespace's (all interfaces,
//!   loopback included) during the run: exact per node when each node has a
//!   namespace of its own (containers), and the same shared total on every
//!   row when the nodes run as plain processes on one host.
//!
//! MB are MiB (1 048 576 bytes), as Caliper's monitors count them.
//! A process that is gone (or whose pid now belongs to another process) is
//! skipped from then on; its figures cover the time it was seen.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bench::result::ResourceUsage;

/// Shortest wall time a CPU% figure is computed over.
pub(crate) const MIN_CPU_WINDOW: Duration = Duration::from_millis(100);

/// Name of the driver's own row.
pub(crate) const DRIVER_NAME: &str = "medchain (driver)";

const MIB: f64 = 1024.0 * 1024.0;

/// Counters read at one instant.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    at: Instant,
    /// utime + stime, clock ticks.
    cpu_ticks: u64,
    /// (read_bytes, write_bytes), when `/proc/<pid>/io` is readable.
    io: Option<(u64, u64)>,
    /// (rx_bytes, tx_bytes) of the namespace, when readable.
    net: Option<(u64, u64)>,
}

/// One watched process and what was seen of it.
#[derive(Debug)]
struct Watched {
    name: String,
    pid: u32,
    /// Kernel start time of the process, to notice pid reuse.
    start_time: Option<u64>,
    first: Option<Snapshot>,
    last: Option<Snapshot>,
    /// Start of the CPU window still open.
    window: Option<Snapshot>,
    cpu_pct: Vec<f64>,
    mem_mb: Vec<f64>,
    gone: bool,
}

/// Samples CPU, memory, disk and network use of a set of processes by pid
/// and summarises them as [`ResourceUsage`] rows.
///
/// Call [`sample`](Self::sample) periodically (about once a second; each
/// call is a handful of small `/proc` reads per process, which never wait
/// on a disk), then [`finish`](Self::finish) for the summary.
#[derive(Debug)]
pub struct ProcessMonitor {
    targets: Vec<Watched>,
    ticks_per_s: f64,
}

impl ProcessMonitor {
    /// A monitor of `targets`, each a (row name, pid) pair. Nothing is read
    /// until the first [`sample`](Self::sample).
    pub fn new(targets: Vec<(String, u32)>) -> Self {
        Self {
            targets: targets
                .into_iter()
                .map(|(name, pid)| Watched {
                    name,
                    pid,
                    start_time: None,
                    first: None,
                    last: None,
                    window: None,
                    cpu_pct: Vec::new(),
                    mem_mb: Vec::new(),
                    gone: false,
                })
                .collect(),
            ticks_per_s: clock_ticks_per_second(),
        }
    }

    /// Reads every watched process once. Processes that cannot be read
    /// (exited, or the pid was reused) are skipped.
    pub fn sample(&mut self) {
        let ticks_per_s = self.ticks_per_s;
        for t in self.targets.iter_mut().filter(|t| !t.gone) {
            let Some(read) = read_process(t.pid) else {
                if t.first.is_some() {
                    t.gone = true;
                }
                continue;
            };
            match t.start_time {
                Some(s) if s != read.start_time => {
                    t.gone = true;
                    continue;
                }
                _ => t.start_time = Some(read.start_time),
            }
            let snap = read.snapshot;
            t.mem_mb.push(read.rss_kb as f64 / 1024.0);
            t.first.get_or_insert(snap);
            t.last = Some(snap);
            match t.window {
                None => t.window = Some(snap),
                Some(start) => {
                    let wall = snap.at.duration_since(start.at);
                    if wall >= MIN_CPU_WINDOW {
                        t.cpu_pct.push(cpu_percent(start, snap, ticks_per_s));
                        t.window = Some(snap);
                    }
                }
            }
        }
    }

    /// One row per process that was seen at least once, in the order given
    /// to [`new`](Self::new): highest and mean CPU% (mean = CPU time over
    /// the whole observed span), highest and mean resident memory, and the
    /// disk and namespace network bytes between the first and last sample.
    /// Processes never seen (wrong pid, exited before the first sample) are
    /// left out.
    pub fn finish(&self) -> Vec<ResourceUsage> {
        self.targets
            .iter()
            .filter_map(|t| {
                let (first, last) = (t.first?, t.last?);
                let delta = |a: Option<(u64, u64)>, b: Option<(u64, u64)>| match (a, b) {
                    (Some(a), Some(b)) => (
                        b.0.saturating_sub(a.0) as f64 / MIB,
                        b.1.saturating_sub(a.1) as f64 / MIB,
                    ),
                    _ => (0.0, 0.0),
                };
                let (disk_read_mb, disk_write_mb) = delta(first.io, last.io);
                let (net_rx_mb, net_tx_mb) = delta(first.net, last.net);
                let cpu_avg_pct = if last.at > first.at {
                    cpu_percent(first, last, self.ticks_per_s)
                } else {
                    0.0
                };
                Some(ResourceUsage {
                    node: t.name.clone(),
                    cpu_max_pct: t.cpu_pct.iter().copied().fold(0.0, f64::max),
                    cpu_avg_pct,
                    mem_max_mb: t.mem_mb.iter().copied().fold(0.0, f64::max),
                    mem_avg_mb: mean(&t.mem_mb),
                    disk_read_mb,
                    disk_write_mb,
                    net_rx_mb,
                    net_tx_mb,
                })
            })
            .collect()
    }
}

/// A [`ProcessMonitor`] sampled once a second by its own task, until
/// [`finish`](Self::finish).
pub struct SampledProcesses {
    monitor: Arc<Mutex<ProcessMonitor>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl SampledProcesses {
    /// Starts sampling `targets`, each a (row name, pid) pair.
    pub fn start(targets: Vec<(String, u32)>) -> Self {
        let monitor = Arc::new(Mutex::new(ProcessMonitor::new(targets)));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (m, s) = (monitor.clone(), stop.clone());
            tokio::spawn(async move {
                // Bounded by the run: stops when the flag is set.
                while !s.load(Ordering::Relaxed) {
                    if let Ok(mut g) = m.lock() {
                        g.sample();
                    }
                    // A sample a second; the flag is seen within 0.1 s.
                    for _ in 0..10 {
                        if s.load(Ordering::Relaxed) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        };
        Self {
            monitor,
            stop,
            task,
        }
    }

    /// Stops sampling and returns one row per target, in the order given.
    pub async fn finish(self) -> Vec<ResourceUsage> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.monitor.lock().map(|m| m.finish()).unwrap_or_default()
    }
}

/// The driver's own monitor target: `("medchain (driver)", own pid)`.
pub(crate) fn self_usage_target() -> (String, u32) {
    (DRIVER_NAME.to_string(), std::process::id())
}

/// This process's CPU time so far (user + system, `/proc/self/stat`),
/// seconds; `None` where there is no `/proc`.
pub(crate) fn self_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let (ticks, _) = parse_stat(&stat)?;
    Some(ticks as f64 / clock_ticks_per_second())
}

/// CPU time between two snapshots over their wall time, percent of a core.
fn cpu_percent(a: Snapshot, b: Snapshot, ticks_per_s: f64) -> f64 {
    let wall = b.at.duration_since(a.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    let cpu_s = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / ticks_per_s;
    cpu_s / wall * 100.0
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        0.0
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// The kernel's clock ticks per second (`USER_HZ`), the unit of CPU times
/// in `/proc/<pid>/stat`.
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Everything one sample reads of one process.
struct ProcessRead {
    start_time: u64,
    rss_kb: u64,
    snapshot: Snapshot,
}

/// Reads one process's counters; `None` when it does not exist (or is a
/// zombie without memory).
fn read_process(pid: u32) -> Option<ProcessRead> {
    let dir = format!("/proc/{pid}");
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    let (cpu_ticks, start_time) = parse_stat(&stat)?;
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let rss_kb = parse_vm_rss_kb(&status)?;
    let at = Instant::now();
    let io = std::fs::read_to_string(format!("{dir}/io"))
        .ok()
        .and_then(|s| parse_io(&s));
    let net = std::fs::read_to_string(format!("{dir}/net/dev"))
        .ok()
        .and_then(|s| parse_net_dev(&s));
    Some(ProcessRead {
        start_time,
        rss_kb,
        snapshot: Snapshot {
            at,
            cpu_ticks,
            io,
            net,
        },
    })
}

/// `(utime + stime, starttime)` from `/proc/<pid>/stat`. The command name
/// (field 2) may hold spaces and parentheses, so fields are counted after
/// its last `)`.
fn parse_stat(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let start: u64 = fields.get(19)?.parse().ok()?;
    Some((utime + stime, start))
}

/// `VmRSS` in kB from `/proc/<pid>/status`.
fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// `(read_bytes, write_bytes)` from `/proc/<pid>/io`.
fn parse_io(io: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    Some((field("read_bytes:")?, field("write_bytes:")?))
}

/// Received and sent bytes summed over every interface of
/// `/proc/<pid>/net/dev` (two header lines, then
/// `iface: rx_bytes packets … (8 rx fields) tx_bytes …`).
fn parse_net_dev(dev: &str) -> Option<(u64, u64)> {
    let mut total = (0u64, 0u64);
    let mut any = false;
    for line in dev.lines().skip(2) {
        let Some((_, counters)) = line.split_once(':') else {
            continue;
        };
        let f: Vec<&str> = counters.split_whitespace().collect();
        let (Some(rx), Some(tx)) = (f.first(), f.get(8)) else {
            continue;
        };
        if let (Ok(rx), Ok(tx)) = (rx.parse::<u64>(), tx.parse::<u64>()) {
            total.0 = total.0.saturating_add(rx);
            total.1 = total.1.saturating_add(tx);
            any = true;
        }
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_command_names() {
        let stat = "4242 (geth (v1) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    150 50 0 0 20 0 12 0 987654 1000000 2000 18446744073709551615";
        assert_eq!(parse_stat(stat), Some((200, 987654)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn parses_status_io_and_net_dev() {
        let status = "Name:\tgeth\nVmPeak:\t 9000 kB\nVmRSS:\t  123456 kB\nThreads:\t12\n";
        assert_eq!(parse_vm_rss_kb(status), Some(123456));
        assert_eq!(parse_vm_rss_kb("Name:\tzombie\n"), None);

        let io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\n\
                  write_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(parse_io(io), Some((4096, 8192)));

        let dev = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  \
eth0: 500       5    0    0    0     0          0         0      250       2    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(dev), Some((1500, 1250)));
        assert_eq!(parse_net_dev("header\nheader\n"), None);
    }

    #[test]
    fn measures_this_process() {
        let mut m = ProcessMonitor::new(vec![self_usage_target()]);
        m.sample();
        // Spin for a while so there is CPU time to see.
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        m.sample();
        let rows = m.finish();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.node, DRIVER_NAME);
        assert!(r.cpu_max_pct > 0.0, "{r:?}");
        assert!(r.cpu_avg_pct > 0.0, "{r:?}");
        assert!(r.mem_max_mb > 0.0 && r.mem_avg_mb > 0.0, "{r:?}");
        assert!(r.mem_avg_mb <= r.mem_max_mb);
        for v in [r.disk_read_mb, r.disk_write_mb, r.net_rx_mb, r.net_tx_mb] {
            assert!(v >= 0.0 && v.is_finite(), "{r:?}");
        }
    }

    #[test]
    fn missing_processes_are_skipped() {
        // Above the kernel's largest pid (2^22), so never a live process.
        let mut m = ProcessMonitor::new(vec![
            ("ghost".to_string(), 0x7fff_fff0),
            self_usage_target(),
        ]);
        m.sample();
        m.sample();
        let rows = m.finish();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].node, DRIVER_NAME);
    }

    #[test]
    fn an_exited_process_keeps_what_was_seen() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let mut m = ProcessMonitor::new(vec![("child".to_string(), child.id())]);
        m.sample();
        child.kill().unwrap();
        child.wait().unwrap();
        m.sample();
        let rows = m.finish();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].mem_max_mb > 0.0);
    }
}
