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

use super::link_ends;
use crate::network::control;
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

/// Rejoins node `i` (started again) to its planned peers: it trusts them,
/// then each link is dialled from `i` (a node with a low `--maxpeers` has
/// few dial slots) and, for a link not up a moment later, from the peer
/// (its dial reaches `i` as a trusted peer). Never from both at once: see
/// [`heal`].
pub(crate) async fn rejoin(rt: &AnyRuntime, plan: &Plan, i: usize) -> anyhow::Result<()> {
    trust(rt, plan, i).await?;
    let alive = live(rt, plan).await;
    let links: Vec<(usize, usize)> = plan
        .edges
        .iter()
        .filter(|e| (e.from == i || e.to == i) && alive[e.from] && alive[e.to])
        .map(|e| if e.from == i { (i, e.to) } else { (i, e.from) })
        .collect();
    let mut taken = vec![0; plan.nodes.len()];
    dial_staggered(rt, plan, &alive, &links, &[], &mut taken).await?;
    Ok(())
}

/// How long a dial from one end may take before the other end dials.
const SETTLE: Duration = Duration::from_secs(5);

/// Dials each `(x, y)` from `x`; after up to [`SETTLE`], dials from `y`
/// the links still down on both ends, where `y` has a dial for it
/// ([`link_ends::take`]) and did not just dial `x` through a proxy (in
/// `recent`, `(dialler, listener)`: its dial history holds `x` back);
/// else `x` keeps it and geth redials once its dial history allows. Dialling both ends at once can lose both
/// connections: geth keeps the first connection to complete on each end,
/// the two ends can keep different ones (each its own outbound) and then
/// close the other, and geth retries neither for 35 s (its dial history),
/// when both retry at once again. Returns each link as `(dialler,
/// listener)` now.
async fn dial_staggered(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    links: &[(usize, usize)],
    recent: &[(usize, usize)],
    taken: &mut [usize],
) -> anyhow::Result<Vec<(usize, usize)>> {
    for (x, y) in links {
        dial(rt, plan, *x, *y).await?;
    }
    let started = Instant::now();
    let mut down = links.to_vec();
    while !down.is_empty() && started.elapsed() < SETTLE {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let lacking = unlinked(rt, plan, alive, links).await;
        let missing = down_both(links, &lacking);
        down.retain(|l| missing.contains(l));
    }
    let mut oriented = links.to_vec();
    for l in oriented.iter_mut().filter(|l| down.contains(l)) {
        let (x, y) = *l;
        if !recent.contains(&(y, x)) && link_ends::take(plan, y, x, taken) {
            move_link(rt, plan, x, y).await?;
            *l = (y, x);
        }
    }
    Ok(oriented)
}

/// The link moves from `x` to `y` entirely: `x` drops it as a static peer
/// (so only one end redials it if it ever closes, see `fault::links`),
/// and `y` dials.
async fn move_link(rt: &AnyRuntime, plan: &Plan, x: usize, y: usize) -> anyhow::Result<()> {
    remove(rt, plan, x, y, false).await?;
    dial(rt, plan, y, x).await
}

/// Restores every planned link between live nodes and waits until each
/// is connected; how many links are up. Each link is dialled from its
/// `from` end (as at `up`) and, where that end does not get through (a
/// member has one dial slot: its `--maxpeers` is its planned peers), from
/// the other end — one end at a time ([`dial_staggered`]). A link in
/// `recent` (`(dialer, listener)`: just taken off a proxy its dialler had
/// dialled through, which geth's dial history holds back for 35 s) is
/// dialled from its listener first.
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
    let mut taken = vec![0; plan.nodes.len()];
    let links: Vec<(usize, usize)> = plan
        .edges
        .iter()
        .filter(|e| alive[e.from] && alive[e.to])
        .map(|e| {
            // `recent` came from link_ends::ends, which gave `to` a dial.
            if recent.contains(&(e.from, e.to)) {
                taken[e.to] += 1;
                (e.to, e.from)
            } else {
                (e.from, e.to)
            }
        })
        .collect();
    let oriented = dial_staggered(rt, plan, &alive, &links, recent, &mut taken).await?;
    wait_linked(rt, plan, &alive, oriented, recent, &mut taken).await
}

/// How long [`wait_linked`] waits: two of geth's 35 s dial histories and
/// a margin for a loaded machine.
const LINK_WAIT: Duration = Duration::from_secs(90);

/// Waits up to [`LINK_WAIT`] until every link of `links` (`(dialler,
/// listener)`, planned links between live nodes) shows in `admin_peers`
/// on both ends; how many there are. Every 10 s a link still down on both
/// ends and still with its planned dialler moves to its listener when
/// that end has a dial for it ([`link_ends::take`]) and is not the end
/// that just dialled it through a proxy (`recent`); any other is asked
/// of its dialler again (geth keeps the static peer and redials it when
/// its dial history allows). A link is static on one end only, so the
/// two ends' retries cannot collide, and it moves at most once.
pub(crate) async fn wait_linked(
    rt: &AnyRuntime,
    plan: &Plan,
    alive: &[bool],
    mut links: Vec<(usize, usize)>,
    recent: &[(usize, usize)],
    taken: &mut [usize],
) -> anyhow::Result<usize> {
    let started = Instant::now();
    let mut redialled = started;
    let planned = |x: usize, y: usize| plan.edges.iter().any(|e| e.from == x && e.to == y);
    loop {
        let lacking = unlinked(rt, plan, alive, &links).await;
        if lacking.is_empty() {
            return Ok(links.len());
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
            let down = down_both(&links, &lacking);
            for l in links.iter_mut().filter(|l| down.contains(l)) {
                let (x, y) = *l;
                let movable = planned(x, y) && !recent.contains(&(y, x));
                if movable && link_ends::take(plan, y, x, taken) {
                    move_link(rt, plan, x, y).await?;
                    *l = (y, x);
                } else {
                    dial(rt, plan, x, y).await?;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
