//! Who is connected to whom right now, and which end dialled: read from
//! every live node's `admin_peers`. Faults decide who dials a link from
//! this rather than from the plan, because heals and resumes move links
//! between their ends, and geth counts the peers a node dialled itself
//! against its dial slots ([`dials`]).
//!
//! geth dials at most `maxpeers / 3` peers itself (at least 1; 16 with its
//! default 50), and a member with few planned peers runs with `--maxpeers`
//! equal to their number: it has one dial slot, which the plan gives to at
//! most one of its links ([`crate::plan::orient`]). A link given to an end
//! with no free slot would never be dialled: geth starts no dial while the
//! peers it dialled fill its slots.

use serde_json::{json, Value};

use super::dialers::{self, Dials, Holds, Want};
use crate::network::control;
use crate::plan::Plan;
use crate::rpc::enode_key;
use crate::runtime::AnyRuntime;

/// Dial slots geth has with its default `--maxpeers` (50 / 3).
const DEFAULT_DIALS: usize = 16;

/// Node `i`'s dial slots: how many peers it dials itself at most.
pub(crate) fn dials(plan: &Plan, i: usize) -> usize {
    plan.nodes[i]
        .max_peers
        .map_or(DEFAULT_DIALS, |n| (n / 3).max(1))
}

/// Every node's dial slots, by index.
fn slots(plan: &Plan) -> Vec<usize> {
    (0..plan.nodes.len()).map(|i| dials(plan, i)).collect()
}

/// Each node's connected peers among the plan's nodes, as (node, whether
/// the connection is inbound); empty for a node that is not running or
/// does not answer.
pub(crate) struct PeerTable {
    rows: Vec<Vec<(usize, bool)>>,
}

impl PeerTable {
    /// Reads the table from the nodes `alive` marks.
    pub(crate) async fn read(rt: &AnyRuntime, plan: &Plan, alive: &[bool]) -> Self {
        let mut rows = vec![Vec::new(); plan.nodes.len()];
        for (i, row) in rows.iter_mut().enumerate().filter(|(i, _)| alive[*i]) {
            let node = &plan.nodes[i];
            let peers: Vec<Value> = control::call(rt, plan, node, "admin_peers", json!([]))
                .await
                .unwrap_or_default();
            *row = peers.iter().filter_map(|p| entry(plan, p)).collect();
        }
        Self { rows }
    }

    /// Whether node `x` lists `y` among its peers.
    pub(crate) fn lists(&self, x: usize, y: usize) -> bool {
        self.rows[x].iter().any(|p| p.0 == y)
    }

    /// The end that dialled the connection between `x` and `y`, if they
    /// are connected.
    pub(crate) fn dialler(&self, x: usize, y: usize) -> Option<usize> {
        let outbound = |a: usize, b: usize| self.rows[a].contains(&(b, false));
        match (outbound(x, y), outbound(y, x)) {
            (true, _) => Some(x),
            (_, true) => Some(y),
            _ => None,
        }
    }

    /// How many peers node `i` dialled itself, not counting those for
    /// which `skip` holds.
    fn dialled(&self, i: usize, skip: impl Fn(usize) -> bool) -> usize {
        self.rows[i]
            .iter()
            .filter(|(j, inbound)| !inbound && !skip(*j))
            .count()
    }

    /// [`dialers::assign`] on this table: every node's dial slots, and the
    /// peers it dialled that stay (all but those in `up` and those for
    /// which `dropping(node, peer)` holds).
    pub(crate) fn assign(
        &self,
        plan: &Plan,
        down: &[(usize, usize)],
        up: &[(usize, usize)],
        burst: usize,
        holds: &Holds,
        dropping: impl Fn(usize, usize) -> bool,
    ) -> Dials {
        let fixed: Vec<usize> = (0..plan.nodes.len())
            .map(|i| self.dialled(i, |j| up.contains(&(i, j)) || dropping(i, j)))
            .collect();
        dialers::assign(&Want {
            down,
            up,
            slots: &slots(plan),
            fixed: &fixed,
            burst,
            holds,
        })
    }

    /// Dial slots node `i` has free, not counting its dialled peers for
    /// which `dropping` holds (links about to be closed): geth's
    /// `maxpeers / 3` (at least 1) less the peers it dialled itself.
    pub(crate) fn spare_dials(
        &self,
        plan: &Plan,
        i: usize,
        dropping: impl Fn(usize) -> bool,
    ) -> usize {
        dials(plan, i).saturating_sub(self.dialled(i, dropping))
    }
}

/// One `admin_peers` entry as (node, inbound), if it is a node of the plan.
fn entry(plan: &Plan, p: &Value) -> Option<(usize, bool)> {
    let key = p["enode"].as_str().and_then(enode_key)?;
    let j = plan
        .nodes
        .iter()
        .position(|n| n.node_key.public_hex.eq_ignore_ascii_case(&key))?;
    Some((j, p["network"]["inbound"].as_bool().unwrap_or(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(hospitals: &str) -> Plan {
        crate::plan::for_tests(&format!("network: t\n{hospitals}"), "/h".as_ref())
    }

    #[test]
    fn a_member_of_a_small_mesh_has_one_dial_slot_and_a_sealer_sixteen() {
        // Two hospitals, a sealer and a member each, full mesh: each
        // member has 3 planned peers, so --maxpeers 3.
        let p = plan_of("hospitals:\n  - {name: g, sealers: 1, members: 1}\n  - {name: c, sealers: 1, members: 1}\n");
        for (i, n) in p.nodes.iter().enumerate() {
            let want = if n.name.contains("member") { 1 } else { 16 };
            assert_eq!(dials(&p, i), want, "{}", n.name);
        }
        // Dialled peers fill slots; inbound ones and links being dropped
        // do not.
        let m = p.nodes.iter().position(|n| n.name == "c-member-0").unwrap();
        let mut rows = vec![Vec::new(); p.nodes.len()];
        rows[m] = vec![(0, false), (1, true)];
        let t = PeerTable { rows };
        assert_eq!(t.spare_dials(&p, m, |_| false), 0);
        assert_eq!(t.spare_dials(&p, m, |j| j == 0), 1);
        assert_eq!(t.dialler(m, 0), Some(m));
        assert_eq!(t.dialler(0, m), Some(m));
        assert_eq!(t.dialler(m, 1), None, "only one end's row is known");
    }
}
