//! Finding free loopback ports for a network's nodes. This is the one impure
//! input to planning: it probes by binding, so `up` and `--dry-run` show the
//! same ports (unless something else grabs one in between).

use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};

use anyhow::bail;

use crate::plan::NodePorts;

/// First port tried for HTTP/WS JSON-RPC (then upward).
pub(crate) const RPC_BASE: u16 = 8545;
/// First port tried for devp2p.
pub(crate) const P2P_BASE: u16 = 30303;
/// First port tried for geth's engine API.
pub(crate) const AUTH_BASE: u16 = 18551;

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
        out.push(NodePorts {
            http,
            ws,
            p2p,
            authrpc,
        });
    }
    Ok(out)
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
}
