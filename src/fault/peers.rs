//! Peer links as faults see them: a partition cuts the planned links that
//! cross it, heal restores every planned link, and a node that comes back
//! rejoins its planned peers.
//!
//! The mechanism is geth's own peer management over each node's IPC
//! socket: `admin_removePeer` and `admin_removeTrustedPeer` on both ends of
//! every crossing link (the connection is closed and neither end redials:
//! nodes run without discovery, so they only dial the static peers they
//! are given), and `admin_addPeer` / `admin_addTrustedPeer` to restore
//! them. It is the same on every runtime. It is a peer-level partition,
//! not a packet-level one: connections close cleanly at once instead of
//! timing out, and a node's client endpoint stays reachable from the
//! driver on either side.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use super::dialers;
use super::peer_table::PeerTable;
use crate::network::{control, dial_log};
use crate::plan::Plan;
use crate::runtime::{AnyRuntime, Runtime};

/// How long a node may take to answer a liveness probe.
const PROBE: Duration = Duration::from_secs(2);

/// Whether node `i` answers over IPC within [`PROBE`].
pub(crate) async fn answers(rt: &AnyRuntime, plan: &Plan, i: usize) -> bool {
    let call = control::block_number(rt, plan, &plan.nodes[i]);
    matches!(tokio::time::timeout(PROBE, call).await, Ok(Ok(_)))
}

/// The nodes that answer over IPC now.
pub(crate) async fn live(rt: &AnyRuntime, plan: &Plan) -> Vec<bool> {
    futures::future::join_all((0..plan.nodes.len()).map(|i| answers(rt, plan, i))).await
}

/// Cuts every planned link between `side` and the other nodes, on both
/// ends (nodes that do not answer are skipped: they have no connections),
/// then makes sure no live node of `side` keeps a peer outside it (a
/// redial racing the removal can reconnect a pair once). Returns how many
/// links were cut.
pub(crate) async fn cut(rt: &AnyRuntime, plan: &Plan, side: &[usize]) -> anyhow::Result<usize> {
    let alive = live(rt, plan).await;
    let inside = |i: usize| side.contains(&i);
    let crossing: Vec<(usize, usize)> = plan
        .edges
        .iter()
        .filter(|e| inside(e.from) != inside(e.to))
        .map(|e| (e.from, e.to))
        .collect();
    // The end that added the link at `up` first: the other holds no
    // static entry to redial with (unless a heal or rejoin dialled from
    // it; the check below catches such a redial).
    for (a, b) in &crossing {
        for (x, y) in [(*a, *b), (*b, *a)] {
            if alive[x] {
                remove(rt, plan, x, y, true).await?;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let joined = across(rt, plan, side, &alive).await;
        if joined.is_empty() {
            return Ok(crossing.len());
        }
        if Instant::now() > deadline {
            let names: Vec<String> = joined
                .iter()
                .map(|(x, y)| format!("{}–{}", plan.nodes[*x].name, plan.nodes[*y].name))
                .collect();
            bail!(
                "still peered across the partition after 10 s: {}",
                names.join(", ")
            );
        }
        for (x, y) in joined {
            remove(rt, plan, x, y, false).await?;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Node `x` drops `y` (`admin_removePeer`: no longer static, disconnected)
/// and, with `untrust`, no longer trusts it.
pub(super) async fn remove(
    rt: &AnyRuntime,
    plan: &Plan,
    x: usize,
    y: usize,
    untrust: bool,
) -> anyhow::Result<()> {
    let enode = rt.enode(plan, x, y).await?;
    let node = &plan.nodes[x];
    let methods: &[&str] = if untrust {
        &["admin_removeTrustedPeer", "admin_removePeer"]
    } else {
        &["admin_removePeer"]
    };
    for method in methods {
        rt.admin_call(plan, node, method, json!([enode]))
            .await
            .with_context(|| format!("{}: {method}", node.name))?;
    }
    Ok(())
}

/// The (live node, peer) pairs connected across `side`'s boundary.
async fn across(
    rt: &AnyRuntime,
    plan: &Plan,
    side: &[usize],
    alive: &[bool],
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for i in (0..plan.nodes.len()).filter(|i| alive[*i]) {
        let keys = control::peer_keys(rt, plan, &plan.nodes[i])
            .await
            .unwrap_or_default();
        let mine = side.contains(&i);
        for (j, n) in plan.nodes.iter().enumerate() {
            if side.contains(&j) != mine && keys.contains(&n.node_key.public_hex) {
                pairs.push((i, j));
            }
        }
    }
    pairs
}

/// Marks node `i`'s planned peers trusted (again): a member runs with
/// `--maxpeers` equal to their number and a sealer started again by a
/// fault with 1, and only trusted peers get in past that limit; for a
/// sealer with geth's default limit it changes nothing.
async fn trust(rt: &AnyRuntime, plan: &Plan, i: usize) -> anyhow::Result<()> {
    let node = &plan.nodes[i];
    for e in plan.edges.iter().filter(|e| e.from == i || e.to == i) {
        let other = if e.from == i { e.to } else { e.from };
        let enode = rt.enode(plan, i, other).await?;
        rt.admin_call(plan, node, "admin_addTrustedPeer", json!([enode]))
            .await
            .with_context(|| format!("{}: admin_addTrustedPeer", node.name))?;
    }
    Ok(())
}

/// Node `x` dials `y` (`admin_addPeer`).
async fn dial(rt: &AnyRuntime, plan: &Plan, x: usize, y: usize) -> anyhow::Result<()> {
    let enode = rt.enode(plan, x, y).await?;
    let node = &plan.nodes[x];
    rt.admin_call(plan, node, "admin_addPeer", json!([enode]))
        .await
        .with_context(|| format!("{}: admin_addPeer", node.name))?;
    Ok(())
}

/// Rejoins node `i` (started again) to its planned peers: it trusts
/// them, then each link down on both ends is dialled from `i` (a process
/// just started has an empty dial history, while a peer that held `i` as
/// a static peer may have dialled it moments ago) as far as its dial slots
/// go, and from the peer otherwise ([`dialers::assign`], [`connect`]).
pub(crate) async fn rejoin(rt: &AnyRuntime, plan: &Plan, i: usize) -> anyhow::Result<()> {
    dial_log::forget(plan, i);
    trust(rt, plan, i).await?;
    let alive = live(rt, plan).await;
    let table = PeerTable::read(rt, plan, &alive).await;
    let down: Vec<(usize, usize)> = plan
        .edges
        .iter()
        .filter(|e| (e.from == i || e.to == i) && alive[e.from] && alive[e.to])
        .map(|e| if e.from == i { (i, e.to) } else { (i, e.from) })
        .filter(|&(x, y)| !table.lists(x, y) && !table.lists(y, x))
        .collect();
    // A peer that held `i` as a static peer redials it by itself.
    let mut held = dial_log::held(plan);
    held.extend(down.iter().map(|&(x, y)| (y, x, dial_log::HISTORY)));
    let dials = table.assign(plan, &down, &[], 2, &held, |_, _| false);
    connect(rt, plan, &dials.down).await
}

/// The link moves from `x` to `y` entirely: `x` drops it as a static peer
/// (so only one end redials it if it ever closes, see `fault::links`),
/// and `y` dials.
async fn move_link(rt: &AnyRuntime, plan: &Plan, x: usize, y: usize) -> anyhow::Result<()> {
    remove(rt, plan, x, y, false).await?;
    dial(rt, plan, y, x).await?;
    dial_log::record(plan, &[(y, x)]);
    Ok(())
}

/// Restores every planned link between live nodes and waits until each
/// is connected; how many links are up. Every node trusts its planned
/// peers again, then [`heal_dials`] picks who dials what, the links it
/// moves are dropped by their old diallers ([`release`]) and [`connect`]
/// dials, one batch per node.
pub(crate) async fn heal(
    rt: &AnyRuntime,
    plan: &Plan,
    recent: &[(usize, usize)],
) -> anyhow::Result<usize> {
    let alive = live(rt, plan).await;
    // Every node trusts its peers again before anyone dials, so no dial
    // is turned away by a member's peer limit.
    for i in (0..plan.nodes.len()).filter(|i| alive[*i]) {
        trust(rt, plan, i).await?;
    }
    let links: Vec<(usize, usize)> = plan
        .edges
        .iter()
        .filter(|e| alive[e.from] && alive[e.to])
        .map(|e| (e.from, e.to))
        .collect();
    let table = PeerTable::read(rt, plan, &alive).await;
    let dials = heal_dials(plan, &table, &links, recent);
    release(rt, plan, &dials.moved).await?;
    let mut dialled = dials.down.clone();
    dialled.extend_from_slice(&dials.moved);
    connect(rt, plan, &dialled).await?;
    // Each link as `(dialler, listener)`: as this heal dials it, else as
    // it is up now.
    let now =
        |&(x, y): &(usize, usize)| match dialled.iter().find(|l| **l == (x, y) || **l == (y, x)) {
            Some(l) => *l,
            None if table.dialler(x, y) == Some(y) => (y, x),
            None => (x, y),
        };
    let oriented = links.iter().map(now).collect();
    wait_linked(rt, plan, &alive, oriented).await?;
    // A dial geth held back went out later than asked: as of now, the
    // dialler of each link this heal dialled has dialled it.
    dial_log::record(plan, &dialled);
    Ok(links.len())
}

/// Who dials each link a heal connects ([`dialers::assign`]): the links
/// of `links` (`(from, to)`) down on both ends, from `from` unless its
/// dial history holds the other back ([`dial_log`], and `recent`:
/// `(dialer, listener)` of links just taken off a proxy that dialler had
/// dialled through) or it has no slot free; a link up now moves only to
/// free a slot no other way frees.
fn heal_dials(
    plan: &Plan,
    table: &PeerTable,
    links: &[(usize, usize)],
    recent: &[(usize, usize)],
) -> dialers::Dials {
    let down: Vec<(usize, usize)> = links
        .iter()
        .copied()
        .filter(|&(x, y)| !table.lists(x, y) && !table.lists(y, x))
        .collect();
    let up: Vec<(usize, usize)> = links
        .iter()
        .filter_map(|&(x, y)| table.dialler(x, y).map(|d| (d, if d == x { y } else { x })))
        .collect();
    let mut held = dial_log::held(plan);
    held.extend(recent.iter().map(|&(x, y)| (x, y, dial_log::HISTORY)));
    table.assign(plan, &down, &up, 2, &held, |_, _| false)
}

/// Each link of `moved` (`(new dialler, old dialler)`) is dropped by its
/// old dialler (no longer static, disconnected), which frees one of its
/// dial slots once geth has closed the connection: waited for, up to 5 s.
async fn release(rt: &AnyRuntime, plan: &Plan, moved: &[(usize, usize)]) -> anyhow::Result<()> {
    for &(v, u) in moved {
        remove(rt, plan, u, v, false).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    for &(v, u) in moved {
        while Instant::now() < deadline {
            let keys = control::peer_keys(rt, plan, &plan.nodes[u])
                .await
                .unwrap_or_default();
            if !keys.contains(&plan.nodes[v].node_key.public_hex) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Connects each of `links` (`(dialler, listener)`, down on both ends):
/// every listener first drops its links as static peers (so the two ends
/// never dial each other at once: geth keeps the first connection to
/// complete on each end, and two crossing dials can leave both ends
/// without the link until their dial histories expire, when they cross
/// again), then every dialler dials its links in one batch, so a member's
/// dials are all in flight before the first completes (see [`dialers`]).
async fn connect(rt: &AnyRuntime, plan: &Plan, links: &[(usize, usize)]) -> anyhow::Result<()> {
    for node in 0..plan.nodes.len() {
        let listens: Vec<usize> = links.iter().filter(|l| l.1 == node).map(|l| l.0).collect();
        batch(rt, plan, node, "admin_removePeer", &listens).await?;
    }
    for node in 0..plan.nodes.len() {
        let dials: Vec<usize> = links.iter().filter(|l| l.0 == node).map(|l| l.1).collect();
        batch(rt, plan, node, "admin_addPeer", &dials).await?;
    }
    dial_log::record(plan, links);
    Ok(())
}

/// Node `x` calls `method` (`admin_addPeer` or `admin_removePeer`) for
/// each of `peers`, as one batch.
async fn batch(
    rt: &AnyRuntime,
    plan: &Plan,
    x: usize,
    method: &str,
    peers: &[usize],
) -> anyhow::Result<()> {
    if peers.is_empty() {
        return Ok(());
    }
    let mut params = Vec::new();
    for y in peers {
        params.push(json!([rt.enode(plan, x, *y).await?]));
    }
    let node = &plan.nodes[x];
    rt.admin_batch(plan, node, method, &params)
        .await
        .with_context(|| format!("{}: {method}", node.name))?;
    Ok(())
}

/// How long [`wait_linked`] waits: two of geth's 35 s dial histories and
/// a margin for a loaded machine.
const LINK_WAIT: Duration = Duration::from_secs(90);

/// Waits up to [`LINK_WAIT`] until every link of `links` (`(dialler,
/// listener)`, planned links between live nodes) shows in `admin_peers`
/// on both ends; the links as they are then. Every 10 s a link still down on both
/// ends moves to its listener when its dialler has no dial slot free and
/// the listener has (geth would never start that dial); any other is
/// asked of its dialler again (geth keeps the static peer and redials it
/// once its dial history allows). A link is static on one end only, so
/// the two ends' retries cannot collide, and it moves at most once.
pub(crate) async fn wait_linked(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    mut links: Vec<(usize, usize)>,
) -> anyhow::Result<Vec<(usize, usize)>> {
    let started = Instant::now();
    let mut redialled = started;
    let mut moved = vec![false; links.len()];
    loop {
        let lacking = unlinked(rt, plan, alive, &links).await;
        if lacking.is_empty() {
            return Ok(links);
        }
        if started.elapsed() > LINK_WAIT {
            let names: Vec<String> = lacking
                .iter()
                .map(|(i, o)| format!("{} lacks {}", plan.nodes[*i].name, plan.nodes[*o].name))
                .collect();
            bail!(
                "links not restored after {} s: {}",
                LINK_WAIT.as_secs(),
                names.join("; ")
            );
        }
        if redialled.elapsed() > Duration::from_secs(10) {
            redialled = Instant::now();
            redial(rt, plan, alive, &mut links, &mut moved, &lacking).await?;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One retry of [`wait_linked`] for the links of `links` down on both
/// ends (from `lacking`): moved to the listener once if the dialler has
/// no dial slot free and the listener has one, else dialled again.
async fn redial(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    links: &mut [(usize, usize)],
    moved: &mut [bool],
    lacking: &[(usize, usize)],
) -> anyhow::Result<()> {
    let down = down_both(links, lacking);
    let table = PeerTable::read(rt, plan, alive).await;
    let mut spare: Vec<usize> = (0..plan.nodes.len())
        .map(|i| table.spare_dials(plan, i, |_| false))
        .collect();
    for (k, l) in links.iter_mut().enumerate() {
        if !down.contains(l) {
            continue;
        }
        let (x, y) = *l;
        if !moved[k] && spare[x] == 0 && spare[y] > 0 {
            spare[y] -= 1;
            move_link(rt, plan, x, y).await?;
            *l = (y, x);
            moved[k] = true;
        } else {
            dial(rt, plan, x, y).await?;
        }
    }
    Ok(())
}

/// The links of `links` down on both ends, from the (node, missing peer)
/// pairs `lacking` (one end alone lacking it is a handshake settling).
fn down_both(links: &[(usize, usize)], lacking: &[(usize, usize)]) -> Vec<(usize, usize)> {
    links
        .iter()
        .copied()
        .filter(|(x, y)| lacking.contains(&(*x, *y)) && lacking.contains(&(*y, *x)))
        .collect()
}

/// The (node, planned peer) pairs of `links` (either direction) not in
/// the node's `admin_peers`.
async fn unlinked(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    links: &[(usize, usize)],
) -> Vec<(usize, usize)> {
    let mut missing = Vec::new();
    for i in (0..plan.nodes.len()).filter(|i| alive[*i]) {
        let keys = control::peer_keys(rt, plan, &plan.nodes[i])
            .await
            .unwrap_or_default();
        for (x, y) in links.iter().filter(|(x, y)| *x == i || *y == i) {
            let other = if *x == i { *y } else { *x };
            if !keys.contains(&plan.nodes[other].node_key.public_hex) {
                missing.push((i, other));
            }
        }
    }
    missing
}
