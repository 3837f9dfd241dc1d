//! Which end of a shaped link dials through its proxy.
//!
//! geth dials at most `maxpeers / 3` peers itself (at least 1; 16 with its
//! default 50), and a member with few planned peers runs with `--maxpeers`
//! equal to their number: it has one dial, which the plan gives to at most
//! one of its links ([`crate::plan::orient`]). A link moved onto a proxy
//! is dialled again by one end: the end that did not dial it at `up`
//! (`to`), whose dial geth's dial history (35 s per peer) does not hold
//! back, when it has a dial to spare; else the end that did (`from`),
//! which the plan's orientation guarantees one.

use crate::plan::{Edge, Plan};

/// Dials geth makes itself with its default `--maxpeers` (50 / 3).
const DEFAULT_DIALS: usize = 16;

/// The dials node `i` makes itself.
fn dials(plan: &Plan, i: usize) -> usize {
    plan.nodes[i]
        .max_peers
        .map_or(DEFAULT_DIALS, |n| (n / 3).max(1))
}

/// How many planned links node `i` dials itself (its `from` edges).
fn planned(plan: &Plan, i: usize) -> usize {
    plan.edges.iter().filter(|e| e.from == i).count()
}

/// Whether node `y` may take over dialling its planned link with `x`, and
/// if so counts it in `taken` (links moved to each node so far): `y` is
/// the link's planned dialler (`from`, whose dials the plan reserves), or
/// it has a dial beyond its own planned links and those already moved to
/// it. A link moved to a node without a free dial would never be dialled:
/// geth starts no dial while its dialled peers fill its dials.
pub(crate) fn take(plan: &Plan, y: usize, x: usize, taken: &mut [usize]) -> bool {
    if plan.edges.iter().any(|e| e.from == y && e.to == x) {
        return true;
    }
    if planned(plan, y) + taken[y] < dials(plan, y) {
        taken[y] += 1;
        return true;
    }
    false
}

/// For each of `links` (planned edges, each to be dialled through its
/// proxy), `(dialer, listener)`: `to` while it has a dial to spare, else
/// `from`. A node's dials are first kept for every link it is `from` of
/// (so `from` can always dial its own), then given to shaped links it is
/// `to` of, in plan order.
pub(crate) fn ends(plan: &Plan, links: &[Edge]) -> Vec<(usize, usize)> {
    let mut used: Vec<usize> = (0..plan.nodes.len()).map(|i| planned(plan, i)).collect();
    links
        .iter()
        .map(|e| {
            if used[e.to] < dials(plan, e.to) {
                used[e.to] += 1;
                (e.to, e.from)
            } else {
                (e.from, e.to)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{plan, NodePorts, PlanInputs};

    fn plan_of(hospitals: &str) -> Plan {
        let topo = crate::topology::parse(&format!("network: t\n{hospitals}"), "t.yaml").unwrap();
        let ports = (0..4u16)
            .map(|i| NodePorts {
                http: 9000 + i * 2,
                ws: 9001 + i * 2,
                p2p: 31000 + i,
                authrpc: 32000 + i,
                metrics: 33000 + i,
            })
            .collect();
        let inputs = PlanInputs {
            key_source: crate::keys::KeySource::Seed(7),
            home: "/h".into(),
            ports,
            dag_dir: "/dag".into(),
        };
        plan(&topo, &inputs)
    }

    #[test]
    fn a_member_with_one_dial_dials_one_shaped_link_and_the_others_come_to_it() {
        // Two hospitals, a sealer and a member each, full mesh: each
        // member has 3 planned peers, so --maxpeers 3 and one dial.
        let p = plan_of("hospitals:\n  - {name: g, sealers: 1, members: 1}\n  - {name: c, sealers: 1, members: 1}\n");
        let name = |i: usize| p.nodes[i].name.clone();
        let c: Vec<usize> = (0..p.nodes.len())
            .filter(|i| p.nodes[*i].hospital == "c")
            .collect();
        let links: Vec<Edge> = p
            .edges
            .iter()
            .copied()
            .filter(|e| c.contains(&e.from) || c.contains(&e.to))
            .collect();
        let got = ends(&p, &links);
        let mut dialled = vec![0usize; p.nodes.len()];
        for (d, l) in &got {
            dialled[*d] += 1;
            assert_ne!(d, l);
        }
        for (i, shaped) in dialled.iter().enumerate() {
            let direct = p
                .edges
                .iter()
                .filter(|e| e.from == i && !links.contains(e))
                .count();
            assert!(
                shaped + direct <= dials(&p, i),
                "{} dials {shaped} shaped + {direct} direct links with {} dials",
                name(i),
                dials(&p, i)
            );
        }
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn a_link_moves_only_to_an_end_with_a_dial_to_spare() {
        let p = plan_of("hospitals:\n  - {name: g, sealers: 1, members: 1}\n  - {name: c, sealers: 1, members: 1}\n");
        let at = |name: &str| p.nodes.iter().position(|n| n.name == name).unwrap();
        let (gs, gm, cs, cm) = (
            at("g-sealer-0"),
            at("g-member-0"),
            at("c-sealer-0"),
            at("c-member-0"),
        );
        let from = |x: usize, y: usize| p.edges.iter().any(|e| e.from == x && e.to == y);
        // The members' link is dialled by one of them, whose one dial it is.
        let (dialler, listener) = if from(gm, cm) { (gm, cm) } else { (cm, gm) };
        let mut taken = vec![0; p.nodes.len()];
        // The planned dialler may always take its own link back.
        assert!(take(&p, dialler, listener, &mut taken));
        assert_eq!(taken[dialler], 0);
        // The listener has one dial and no planned link: it takes one
        // sealer's link, then has no dial for the members' link.
        let sealer = if from(gs, listener) { gs } else { cs };
        assert!(take(&p, listener, sealer, &mut taken));
        assert_eq!(taken[listener], 1);
        assert!(!take(&p, listener, dialler, &mut taken));
        // The dialler's one dial is its own link's: it takes no other.
        let other = p
            .edges
            .iter()
            .find(|e| e.to == dialler && e.from != listener)
            .unwrap()
            .from;
        assert!(!take(&p, dialler, other, &mut taken));
        // A sealer (geth's default 16 dials) takes links freely.
        let s = if from(gs, cs) { cs } else { gs };
        assert!(take(&p, s, if s == gs { cs } else { gs }, &mut taken));
    }
}
