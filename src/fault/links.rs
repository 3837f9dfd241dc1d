//! Shaped peer links: the `delay` and `bandwidth` faults put each planned
//! devp2p link of their nodes through a proxy of the network's toxiproxy
//! and give it toxics in both directions; `heal` takes them off again.
//!
//! This kernel has no netem, so the shaping is done by a TCP proxy: the
//! link (`from` dialled `to` at `up`) is moved onto a proxy that listens
//! on a free port and forwards to `from`'s devp2p port, and `to` dials
//! `from` through it. Where the proxy listens and forwards is the
//! runtime's answer ([`Runtime::link_proxy`]): loopback for processes; for
//! containers, the host's (gateway) address on the link's Docker network
//! and the `from` container's address there. RLPx is encrypted and authenticated end to
//! end, so the proxy is transparent to geth: both ends see the same peer,
//! only later or slower. Every byte crossing a shaped link, either way,
//! goes through the toxics; a link whose two ends are both named has one
//! proxy, so it is shaped once. Links of nodes not running are left
//! alone, as are the client RPC endpoints and IPC.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};

use super::peer_table::PeerTable;
use super::{peers, Action};
use crate::network::dial_log;
use crate::plan::{Edge, Plan};
use crate::rpc::enode_key;
use crate::runtime::{AnyRuntime, Runtime};
use crate::toxiproxy::api::{Api, Proxy, Toxic};
use crate::toxiproxy::{install, server};

/// How long re-wired links may take to come up through their proxies:
/// geth does not dial a peer it dialled in the last 35 s (a link whose
/// `from` end must dial again, shaped soon after `up`), and a margin.
const WIRE_LIMIT: Duration = Duration::from_secs(60);
/// How often a link still missing is dialled again.
const REDIAL: Duration = Duration::from_secs(10);

/// The proxy of planned link `e`, named after its ends.
fn proxy_name(plan: &Plan, e: &Edge) -> String {
    format!("{}~{}", plan.nodes[e.from].name, plan.nodes[e.to].name)
}

/// What a link fault needs before it runs: a runtime whose links a proxy
/// on this machine can sit on (else the runtime's one-line reason), and
/// toxiproxy, found or built; its path.
pub(crate) fn prepare(rt: &AnyRuntime, plan: &Plan) -> anyhow::Result<PathBuf> {
    rt.links_shapeable(plan)
        .map_err(|e| anyhow!("delay and bandwidth {e}"))?;
    let (bin, _) = install::resolve(&|m| eprintln!("{m}"))?;
    Ok(bin)
}

/// The toxics `action` puts on both directions of a link.
fn toxics(action: Action) -> Vec<Toxic> {
    let (kind, attributes) = match action {
        Action::Delay { ms, jitter_ms } => ("latency", json!({"latency": ms, "jitter": jitter_ms})),
        Action::Bandwidth { kbit } => ("bandwidth", json!({"rate": kbit / 8})),
        _ => return Vec::new(),
    };
    ["upstream", "downstream"]
        .into_iter()
        .map(|stream| Toxic {
            name: format!("{kind}_{stream}"),
            kind: kind.to_string(),
            stream: stream.to_string(),
            toxicity: 1.0,
            attributes: attributes.clone(),
        })
        .collect()
}

/// Puts every planned link of `nodes` between running nodes through a
/// proxy of the network's toxiproxy (started when needed) with `action`'s
/// toxics on both directions, and waits until each is up through it. A
/// link already up through its proxy keeps its proxy and connection and
/// gets the new toxic (a delay and a bandwidth limit add up; a second
/// delay replaces the first); any other is moved onto its proxy, dialled
/// by the end [`orient`] picks. How many links are shaped.
pub(crate) async fn shape(
    rt: &AnyRuntime,
    plan: &Plan,
    nodes: &[usize],
    action: Action,
) -> anyhow::Result<usize> {
    rt.links_shapeable(plan)
        .map_err(|e| anyhow!("{action} {e}"))?;
    let bin = prepare(rt, plan)?;
    let api = Api::new(&server::start(plan, &bin).await?.url);
    let alive = peers::live(rt, plan).await;
    let mut existing = api.proxies().await?;
    let links: Vec<Edge> = plan
        .edges
        .iter()
        .filter(|e| nodes.contains(&e.from) || nodes.contains(&e.to))
        .filter(|e| alive[e.from] && alive[e.to])
        .copied()
        .collect();
    let mut wired = Vec::new();
    for (e, (oriented, through)) in links
        .iter()
        .zip(orient(rt, plan, &alive, &links, &existing).await)
    {
        // From here on the link is `listener` ← `dialer`: `to` dials `from`.
        let name = proxy_name(plan, e);
        let want = rt.link_proxy(plan, oriented.from, oriented.to).await?;
        let (proxy, new) = match existing.remove(&name) {
            // A container started again may have a new address, or the
            // link another dialling end: its proxy is made again.
            Some(p) if p.upstream == want.upstream => (p, false),
            old => {
                if old.is_some() {
                    api.delete(&name).await?;
                }
                let listen = format!("{}:0", want.listen_host);
                (api.create(&name, &listen, &want.upstream).await?, true)
            }
        };
        for t in toxics(action) {
            api.set_toxic(&proxy, &t).await?;
        }
        if new || !through {
            rewire(rt, plan, &oriented, &proxy.listen).await?;
        }
        wired.push((oriented, proxy.listen, name));
    }
    wait_through(rt, plan, &wired).await?;
    Ok(wired.len())
}

/// Who dials each of `links` through its proxy, as `Edge { from:
/// listener, to: dialer }`, and whether the link is up through its proxy
/// already (it then keeps its ends and its connection). Any other goes to
/// the end [`super::dialers::assign`] picks: preferably `to` (not the end that
/// dialled at `up`), never an end that dialled the other in the last 35 s
/// ([`dial_log`]: geth's dial history holds the peer back) while the
/// other has a dial slot free, slots counted from the nodes' peers now
/// less the links about to move. The links are dialled one at a time, so a
/// member's one slot is one dial here.
async fn orient(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    links: &[Edge],
    existing: &BTreeMap<String, Proxy>,
) -> Vec<(Edge, bool)> {
    let mut through = vec![None; links.len()];
    for (k, e) in links.iter().enumerate() {
        if let Some(p) = existing.get(&proxy_name(plan, e)) {
            through[k] = through_now(rt, plan, e, &p.listen).await;
        }
    }
    let moving: Vec<&Edge> = links
        .iter()
        .zip(&through)
        .filter(|(_, t)| t.is_none())
        .map(|(e, _)| e)
        .collect();
    let table = PeerTable::read(rt, plan, alive).await;
    let moves = |i: usize, j: usize| {
        moving
            .iter()
            .any(|e| (e.from, e.to) == (i, j) || (e.from, e.to) == (j, i))
    };
    // Without a dial log, the end that dialled a link is taken to have
    // done so moments ago.
    let held: Vec<(usize, usize, Duration)> = if dial_log::known(plan) {
        dial_log::held(plan)
    } else {
        moving
            .iter()
            .map(|e| match table.dialler(e.from, e.to) {
                Some(d) if d == e.to => (e.to, e.from, dial_log::HISTORY),
                _ => (e.from, e.to, dial_log::HISTORY),
            })
            .collect()
    };
    let want: Vec<(usize, usize)> = moving.iter().map(|e| (e.to, e.from)).collect();
    let mut picked = table
        .assign(plan, &want, &[], 1, &held, moves)
        .down
        .into_iter();
    through
        .into_iter()
        .map(|t| match t {
            Some(e) => (e, true),
            None => {
                let (dialer, listener) = picked.next().expect("one pick per moving link");
                (
                    Edge {
                        from: listener,
                        to: dialer,
                    },
                    false,
                )
            }
        })
        .collect()
}

/// Link `e` as it runs through its proxy at `listen` now, as `Edge {
/// from: listener, to: dialer }`, if it does.
async fn through_now(rt: &AnyRuntime, plan: &Plan, e: &Edge, listen: &str) -> Option<Edge> {
    for (listener, dialer) in [(e.from, e.to), (e.to, e.from)] {
        let o = Edge {
            from: listener,
            to: dialer,
        };
        if wire(rt, plan, &o, listen).await == Wire::Through {
            return Some(o);
        }
    }
    None
}

/// Moves link `e` (oriented: `e.to` dials, see [`orient`]) onto its
/// proxy at `listen`: both ends drop the direct link (no longer static,
/// disconnected), then `e.to` dials `e.from` through the proxy. The end
/// dropped second sees the connection close and, if it holds the link as a
/// static peer, redials at once — and geth then holds back its next dial
/// of that peer for 35 s (its dial history). So the end that holds it as
/// static goes first; when both do, the dialler (whose next dial is the
/// one through the proxy).
async fn rewire(rt: &AnyRuntime, plan: &Plan, e: &Edge, listen: &str) -> anyhow::Result<()> {
    // The listener first only when it alone holds the link as static (as
    // `from` does after `up`): then neither end redials.
    let first = match (
        holds_static(rt, plan, e.from, e.to).await,
        holds_static(rt, plan, e.to, e.from).await,
    ) {
        (true, false) => (e.from, e.to),
        _ => (e.to, e.from),
    };
    peers::remove(rt, plan, first.0, first.1, false).await?;
    peers::remove(rt, plan, first.1, first.0, false).await?;
    dial_through(rt, plan, e, listen).await?;
    dial_log::record(plan, &[(e.to, e.from)]);
    Ok(())
}

/// Whether node `x` has `y` among its peers as a static peer (one it
/// redials when the connection closes).
async fn holds_static(rt: &AnyRuntime, plan: &Plan, x: usize, y: usize) -> bool {
    peer_entry(rt, plan, x, y)
        .await
        .is_some_and(|p| p["network"]["static"].as_bool() == Some(true))
}

/// `e.to` dials `e.from` at the proxy's address `listen`.
async fn dial_through(rt: &AnyRuntime, plan: &Plan, e: &Edge, listen: &str) -> anyhow::Result<()> {
    let node = &plan.nodes[e.to];
    let enode = format!(
        "enode://{}@{listen}",
        plan.nodes[e.from].node_key.public_hex
    );
    rt.admin_call(plan, node, "admin_addPeer", json!([enode]))
        .await
        .with_context(|| format!("{}: admin_addPeer through the proxy", node.name))?;
    Ok(())
}

/// How a shaped link is connected now.
#[derive(Debug, PartialEq)]
enum Wire {
    /// Through its proxy.
    Through,
    /// Directly, past the proxy (a redial that raced the re-wiring).
    Direct,
    /// Not at all (yet).
    Missing,
}

/// How link `e` is connected, as `e.to` sees it: `e.from` among its
/// peers at the proxy's address `listen`, at another, or not at all.
async fn wire(rt: &AnyRuntime, plan: &Plan, e: &Edge, listen: &str) -> Wire {
    match peer_entry(rt, plan, e.to, e.from).await {
        Some(p) if p["network"]["remoteAddress"].as_str() == Some(listen) => Wire::Through,
        Some(_) => Wire::Direct,
        None => Wire::Missing,
    }
}

/// Node `y` as node `x`'s `admin_peers` lists it, if it is a peer.
async fn peer_entry(rt: &AnyRuntime, plan: &Plan, x: usize, y: usize) -> Option<Value> {
    let key = &plan.nodes[y].node_key.public_hex;
    let peers: Vec<Value> = rt
        .admin_call(plan, &plan.nodes[x], "admin_peers", json!([]))
        .await
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    peers.into_iter().find(|p| {
        p["enode"]
            .as_str()
            .and_then(enode_key)
            .is_some_and(|k| k.eq_ignore_ascii_case(key))
    })
}

/// Waits until every link of `wired` (link, proxy address) is up through
/// its proxy. A link that came up direct is dropped and dialled through
/// the proxy again; one still missing is dialled again every [`REDIAL`]
/// (a dial geth's history held back goes out once it allows).
async fn wait_through(
    rt: &AnyRuntime,
    plan: &Plan,
    wired: &[(Edge, String, String)],
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut redialled = started;
    loop {
        let (mut missing, mut through) = (Vec::new(), 0);
        for (e, listen, _) in wired {
            match wire(rt, plan, e, listen).await {
                Wire::Through => through += 1,
                Wire::Direct => {
                    peers::remove(rt, plan, e.to, e.from, false).await?;
                    dial_through(rt, plan, e, listen).await?;
                    dial_log::record(plan, &[(e.to, e.from)]);
                }
                Wire::Missing => missing.push((e, listen)),
            }
        }
        if through == wired.len() {
            // A dial geth held back went out later than asked: as of
            // now, each dialler has dialled its link.
            let dialled: Vec<(usize, usize)> =
                wired.iter().map(|(e, _, _)| (e.to, e.from)).collect();
            dial_log::record(plan, &dialled);
            return Ok(());
        }
        if started.elapsed() > WIRE_LIMIT {
            let names: Vec<String> = wired.iter().map(|(_, _, n)| n.clone()).collect();
            bail!(
                "links not up through their proxies after {} s (of {})",
                WIRE_LIMIT.as_secs(),
                names.join(", ")
            );
        }
        if redialled.elapsed() > REDIAL {
            redialled = Instant::now();
            for (e, listen) in &missing {
                dial_through(rt, plan, e, listen).await?;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Takes every shaped link off its proxy: both ends drop the peer (no
/// longer static, disconnected; the dialler first, so neither redials),
/// the proxies are deleted and the network's toxiproxy stopped. The
/// caller then restores the direct links (heal). The links that were up
/// through their proxies, as `(dialer, listener)`: the dialler dialled
/// its peer moments ago, and geth will not dial it again for 35 s, so the
/// heal gives those links to their listening ends where it can.
pub(crate) async fn unshape(rt: &AnyRuntime, plan: &Plan) -> anyhow::Result<Vec<(usize, usize)>> {
    let Some(running) = server::running(&plan.dir) else {
        return Ok(Vec::new());
    };
    let api = Api::new(&running.url);
    let proxies = api.proxies().await?;
    let alive = peers::live(rt, plan).await;
    let mut dialled = Vec::new();
    for e in &plan.edges {
        let Some(p) = proxies.get(&proxy_name(plan, e)) else {
            continue;
        };
        let (dialer, listener) = match through_now(rt, plan, e, &p.listen).await {
            Some(o) => {
                dialled.push((o.to, o.from));
                (o.to, o.from)
            }
            None => (e.from, e.to),
        };
        for (x, y) in [(dialer, listener), (listener, dialer)] {
            if alive[x] {
                peers::remove(rt, plan, x, y, false).await?;
            }
        }
    }
    for name in proxies.keys() {
        api.delete(name).await?;
    }
    server::stop(&plan.dir).await?;
    Ok(dialled)
}
