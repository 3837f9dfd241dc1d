//! Finding free loopback ports for a network's nodes. This is the one impure
//! input to planning: it probes by binding, so `up` and `--dry-run` show the
//! same ports (unless something else grabs one in between).
//!
//! A probe alone cannot keep two networks started at once from picking the
//! same ports (both probe before either geth binds), nor keep a new network
//! off the ports of a stopped one that will resume. So `up` goes through
//! [`Registry`]: a machine-wide record of the ports handed to each network
//! directory, read and written under an exclusive file lock.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::NodePorts;

/// First port tried for HTTP/WS JSON-RPC (then upward).
pub(crate) const RPC_BASE: u16 = 8545;
/// First port tried for devp2p.
pub(crate) const P2P_BASE: u16 = 30303;
/// First port tried for geth's engine API.
pub(crate) const AUTH_BASE: u16 = 18551;
/// First port tried for geth's metrics server (geth's own default).
pub(crate) const METRICS_BASE: u16 = 6060;

/// Whether `port` can be bound on 127.0.0.1 (TCP) and, for devp2p, on all
/// interfaces as geth does.
fn is_free(port: u16, all_interfaces: bool) -> bool {
    let addr = if all_interfaces {
        "0.0.0.0"
    } else {
        "127.0.0.1"
    };
    TcpListener::bind((addr, port)).is_ok()
        && (!all_interfaces || UdpSocket::bind((addr, port)).is_ok())
}

/// Whether every port of `sets` can be bound now (a resumed network keeps
/// its endpoints when nothing else took them).
pub(crate) fn all_free(sets: &[NodePorts]) -> bool {
    sets.iter().all(|p| {
        is_free(p.http, false)
            && is_free(p.ws, false)
            && is_free(p.p2p, true)
            && is_free(p.authrpc, false)
            && p.metrics != 0
            && is_free(p.metrics, false)
    })
}

/// Allocates ports by scanning upward from the bases, skipping ports in use
/// and ports in `avoid` (e.g. another network's recorded ports).
pub(crate) fn allocate(count: usize, avoid: &BTreeSet<u16>) -> anyhow::Result<Vec<NodePorts>> {
    let mut taken: BTreeSet<u16> = avoid.clone();
    let next = |base: u16, all: bool, taken: &mut BTreeSet<u16>| -> anyhow::Result<u16> {
        let mut p = base;
        loop {
            if !taken.contains(&p) && is_free(p, all) {
                taken.insert(p);
                return Ok(p);
            }
            p = match p.checked_add(1) {
                Some(p) if p < 65000 => p,
                _ => bail!("no free port at or above {base} on 127.0.0.1; stop other services or networks (medchain down)"),
            };
        }
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let http = next(RPC_BASE, false, &mut taken)?;
        let ws = next(http, false, &mut taken)?;
        let p2p = next(P2P_BASE, true, &mut taken)?;
        let authrpc = next(AUTH_BASE, false, &mut taken)?;
        let metrics = next(METRICS_BASE, false, &mut taken)?;
        out.push(NodePorts {
            http,
            ws,
            p2p,
            authrpc,
            metrics,
        });
    }
    Ok(out)
}

/// How long a reservation outlives its network directory not existing yet
/// (`up` reserves before it writes the directory).
const PENDING: Duration = Duration::from_secs(600);

/// One network's reserved ports, as recorded in the registry.
#[derive(Debug, Serialize, Deserialize)]
struct Reserved {
    /// The network's directory (`$MEDCHAIN_HOME/<network>`).
    dir: PathBuf,
    /// Every port of every node.
    ports: Vec<NodePorts>,
    /// Ports of the services started next to the network (`broker`,
    /// `monitor`, …), by name.
    #[serde(default)]
    services: std::collections::BTreeMap<String, u16>,
    /// The process holding a process-scoped service's port (a bench's
    /// metrics exporter): the reservation lasts while it lives.
    #[serde(default)]
    pid: Option<u32>,
}

/// A port reserved for the life of this process in the [`Registry`]: no
/// network and no other service is handed it while this lives (or, should
/// the process die without dropping it, while the process lives).
/// Dropping it releases the port.
#[derive(Debug)]
pub(crate) struct ServicePort {
    /// The port, free on 127.0.0.1 when it was reserved.
    pub port: u16,
    file: PathBuf,
}

impl Drop for ServicePort {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
    }
}

/// The machine-wide port registry: one JSON file per network directory
/// under `<cache>/ports/`. A reservation lasts while its network directory
/// exists (so a stopped network keeps its ports for `up` to resume) and is
/// dropped by `down --purge` or when the directory is gone.
pub(crate) struct Registry {
    root: PathBuf,
}

impl Registry {
    /// The registry in medchain's cache directory.
    pub(crate) fn machine() -> Self {
        Self::at(crate::geth::cache_dir().join("ports"))
    }

    /// A registry rooted at `root` (tests use a temporary one).
    pub(crate) fn at(root: PathBuf) -> Self {
        Self { root }
    }

    fn file_of(&self, dir: &Path) -> PathBuf {
        let h = Sha256::digest(dir.as_os_str().as_encoded_bytes());
        self.root.join(format!("{}.json", hex::encode(&h[..12])))
    }

    /// Ports for the `count` nodes of the network in `dir`: `previous`
    /// when they are all free and nobody else holds them (a resumed network
    /// keeps its endpoints), else newly allocated ones that no other
    /// network holds. The choice is recorded before the lock is released.
    pub(crate) fn reserve(
        &self,
        dir: &Path,
        count: usize,
        previous: Option<&[NodePorts]>,
    ) -> anyhow::Result<Vec<NodePorts>> {
        let _lock = self.lock()?;
        let mut others = self.held_by_others(dir);
        let mut own = self.own(dir);
        others.extend(own.services.values());
        own.ports = choose(count, previous, &others)?;
        self.write(dir, &own)?;
        Ok(own.ports)
    }

    /// A loopback port for `service` (`broker`, `monitor`) of the network
    /// in `dir`: the one it had when it is still free and nobody else holds
    /// it, else the first free port at or above `base` that no network (nor
    /// this one's nodes or other services) holds. Recorded before the lock
    /// is released, so two networks starting a service at once never pick
    /// the same port.
    pub(crate) fn reserve_service(
        &self,
        dir: &Path,
        service: &str,
        base: u16,
    ) -> anyhow::Result<u16> {
        let _lock = self.lock()?;
        let mut held = self.held_by_others(dir);
        let mut own = self.own(dir);
        for p in &own.ports {
            held.extend([p.http, p.ws, p.p2p, p.authrpc, p.metrics]);
        }
        held.extend(
            own.services
                .iter()
                .filter(|(k, _)| *k != service)
                .map(|(_, v)| *v),
        );
        let port = match own.services.get(service) {
            Some(p) if !held.contains(p) && is_free(*p, false) => *p,
            _ => (base..65000)
                .find(|p| !held.contains(p) && is_free(*p, false))
                .ok_or_else(|| anyhow::anyhow!("no free port at or above {base} on 127.0.0.1"))?,
        };
        own.services.insert(service.to_string(), port);
        self.write(dir, &own)?;
        Ok(port)
    }

    /// Reserves for this process one loopback port for the service `name`
    /// (a bench's exporter, which belongs to no network directory): the
    /// first at or above `base` that is free now and that no network or
    /// other service holds.
    pub(crate) fn reserve_process_port(
        &self,
        name: &str,
        base: u16,
    ) -> anyhow::Result<ServicePort> {
        let pid = std::process::id();
        let key = PathBuf::from(format!("service:{name}:{pid}"));
        let _lock = self.lock()?;
        let held = self.held_by_others(&key);
        let port = (base..65000)
            .find(|p| !held.contains(p) && is_free(*p, false))
            .ok_or_else(|| anyhow::anyhow!("no free port at or above {base} on 127.0.0.1"))?;
        let own = Reserved {
            dir: key.clone(),
            ports: Vec::new(),
            services: std::collections::BTreeMap::from([(name.to_string(), port)]),
            pid: Some(pid),
        };
        self.write(&key, &own)?;
        Ok(ServicePort {
            port,
            file: self.file_of(&key),
        })
    }

    /// Holds the registry's lock until dropped.
    fn lock(&self) -> anyhow::Result<fs::File> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        let lock = fs::File::create(self.root.join(".lock"))
            .with_context(|| format!("opening {}", self.root.join(".lock").display()))?;
        lock.lock().context("locking the port registry")?;
        Ok(lock)
    }

    /// The reservation of the network in `dir` (empty when it has none).
    fn own(&self, dir: &Path) -> Reserved {
        fs::read_to_string(self.file_of(dir))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| Reserved {
                dir: dir.to_path_buf(),
                ports: Vec::new(),
                services: Default::default(),
                pid: None,
            })
    }

    fn write(&self, dir: &Path, r: &Reserved) -> anyhow::Result<()> {
        let mut f = fs::File::create(self.file_of(dir))?;
        f.write_all(serde_json::to_string(r)?.as_bytes())?;
        Ok(())
    }

    /// Forgets the reservation of the network in `dir` (its data is gone).
    pub(crate) fn release(&self, dir: &Path) {
        let _ = fs::remove_file(self.file_of(dir));
    }

    /// Every port reserved by a live network other than the one in `dir`;
    /// stale reservations are removed on the way.
    fn held_by_others(&self, dir: &Path) -> BTreeSet<u16> {
        let own = self.file_of(dir);
        let mut held = BTreeSet::new();
        let Ok(rd) = fs::read_dir(&self.root) else {
            return held;
        };
        for e in rd.flatten() {
            let path = e.path();
            if path == own || path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let Some(r) = fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Reserved>(&t).ok())
            else {
                continue;
            };
            let young = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < PENDING);
            let live = match r.pid {
                Some(pid) => crate::pid::pid_alive(pid),
                None => r.dir.is_dir() || young,
            };
            if live {
                for p in &r.ports {
                    held.extend([p.http, p.ws, p.p2p, p.authrpc, p.metrics]);
                }
                held.extend(r.services.values());
            } else {
                let _ = fs::remove_file(&path);
            }
        }
        held
    }
}

/// `previous` when all its ports are free and none is in `held` (a resumed
/// network keeps its endpoints), else `count` newly allocated sets avoiding
/// `held`. `up --dry-run` uses it directly, reserving nothing.
pub(crate) fn choose(
    count: usize,
    previous: Option<&[NodePorts]>,
    held: &BTreeSet<u16>,
) -> anyhow::Result<Vec<NodePorts>> {
    match previous {
        Some(p) if all_free(p) && !p.iter().any(|n| overlaps(n, held)) => Ok(p.to_vec()),
        _ => allocate(count, held),
    }
}

/// Whether any port of `p` is in `held`.
fn overlaps(p: &NodePorts, held: &BTreeSet<u16>) -> bool {
    [p.http, p.ws, p.p2p, p.authrpc, p.metrics]
        .iter()
        .any(|x| held.contains(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocated_ports_are_distinct_and_skip_busy_ones() {
        let busy = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let ports = allocate(5, &BTreeSet::new()).unwrap();
        let mut all = BTreeSet::new();
        for p in &ports {
            for q in [p.http, p.ws, p.p2p, p.authrpc] {
                assert!(all.insert(q), "port {q} handed out twice");
                assert_ne!(q, busy_port);
            }
        }
    }

    #[test]
    fn avoided_ports_are_skipped() {
        let first = allocate(1, &BTreeSet::new()).unwrap()[0];
        let again = allocate(1, &BTreeSet::from([first.http])).unwrap()[0];
        assert_ne!(again.http, first.http);
    }

    #[test]
    fn a_process_port_is_kept_from_networks_until_dropped() {
        let reg = tempfile::tempdir().unwrap();
        let homes = tempfile::tempdir().unwrap();
        let r = Registry::at(reg.path().to_path_buf());
        let svc = r.reserve_process_port("bench", METRICS_BASE).unwrap();
        let again = r.reserve_process_port("other", svc.port).unwrap();
        assert_ne!(again.port, svc.port, "two services never share a port");
        let dir = homes.path().join("n");
        std::fs::create_dir_all(&dir).unwrap();
        assert!(r.held_by_others(&dir).contains(&svc.port));
        let net = r.reserve(&dir, 2, None).unwrap();
        assert!(!net.iter().any(|p| overlaps(p, &BTreeSet::from([svc.port]))));
        let port = svc.port;
        drop(svc);
        assert!(!r.held_by_others(&dir).contains(&port), "released on drop");
    }

    #[test]
    fn services_of_networks_started_at_once_never_share_a_port() {
        let reg = tempfile::tempdir().unwrap();
        let homes = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let root = reg.path().to_path_buf();
                let dir = homes.path().join(format!("net{i}"));
                std::fs::create_dir_all(&dir).unwrap();
                std::thread::spawn(move || {
                    Registry::at(root)
                        .reserve_service(&dir, "broker", 48883)
                        .unwrap()
                })
            })
            .collect();
        let got: BTreeSet<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(got.len(), 4, "{got:?}");
        // A network keeps its service port, and its node reservation keeps
        // the services.
        let r = Registry::at(reg.path().to_path_buf());
        let dir = homes.path().join("net0");
        let first = r.reserve_service(&dir, "broker", 48883).unwrap();
        let nodes = r.reserve(&dir, 1, None).unwrap();
        assert!(!overlaps(&nodes[0], &BTreeSet::from([first])));
        assert_eq!(r.reserve_service(&dir, "broker", 48883).unwrap(), first);
        let monitor = r.reserve_service(&dir, "monitor", first).unwrap();
        assert_ne!(monitor, first);
    }

    #[test]
    fn networks_reserving_at_once_never_share_a_port() {
        let reg = tempfile::tempdir().unwrap();
        let homes = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let root = reg.path().to_path_buf();
                let dir = homes.path().join(format!("net{i}"));
                std::fs::create_dir_all(&dir).unwrap();
                std::thread::spawn(move || Registry::at(root).reserve(&dir, 3, None).unwrap())
            })
            .collect();
        let mut seen = BTreeSet::new();
        for t in threads {
            for p in t.join().unwrap() {
                for q in [p.http, p.ws, p.p2p, p.authrpc] {
                    assert!(seen.insert(q), "port {q} reserved twice");
                }
            }
        }
    }

    #[test]
    fn a_stopped_network_keeps_its_ports_until_purged() {
        let reg = tempfile::tempdir().unwrap();
        let homes = tempfile::tempdir().unwrap();
        let (a, b) = (homes.path().join("a"), homes.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let r = Registry::at(reg.path().to_path_buf());
        let first = r.reserve(&a, 1, None).unwrap();
        // A resume keeps them; another network avoids them.
        assert_eq!(
            r.reserve(&a, 1, Some(&first)).unwrap()[0].http,
            first[0].http
        );
        let other = r.reserve(&b, 1, Some(&first)).unwrap();
        assert!(!overlaps(
            &other[0],
            &BTreeSet::from([first[0].http, first[0].p2p])
        ));
        // Purged: its ports are free for others again.
        r.release(&a);
        std::fs::remove_dir_all(&a).unwrap();
        assert!(!r.held_by_others(&b).contains(&first[0].http));
    }
}
