//! Who dials each link a heal must connect again.
//!
//! Two geth rules decide whether a dial goes out at once:
//!
//! - **Dial history.** geth does not dial a node it dialled in the last
//!   35 s (`dialHistoryExpiration`), whether that dial succeeded or not.
//!   Right after `delay` or `bandwidth`, the end that dialled a link
//!   through its proxy is held back from dialling the same peer directly.
//! - **Dial slots.** geth keeps at most `maxpeers / 3` (at least 1) peers
//!   it dialled itself, and starts new dials only while it has fewer: it
//!   may have twice its free slots in flight at once (`freeDialSlots` in
//!   p2p/dial.go), and every dial in flight completes. A member runs with
//!   `--maxpeers` equal to its planned peers, so it has one slot: it can
//!   start two dials together, but a second dial asked for after the
//!   first connected never starts.
//!
//! [`assign`] therefore gives each link to an end that is not held back
//! and has room, moving other links to connect between their ends where
//! that makes room (an augmenting path, as in bipartite matching); else
//! moves a link that is up off a node whose slot it fills to its other
//! end, if that end is free to dial it (a reconnection of a second or
//! so); else gives it to the end whose history frees it soonest (its
//! dial goes out then, up to 35 s later). The caller
//! sends each node's dials as one batch when it counts two dials per free
//! slot, so all of them are in flight before the first completes.

use std::time::Duration;

/// How long each `(dialler, listener)` pair is still held back by the
/// dialler's dial history; pairs not listed are free.
pub(crate) type Holds = [(usize, usize, Duration)];

/// How long `holds` holds `x` back from dialling `y`.
pub(crate) fn hold(holds: &Holds, x: usize, y: usize) -> Duration {
    holds
        .iter()
        .filter(|h| (h.0, h.1) == (x, y))
        .map(|h| h.2)
        .max()
        .unwrap_or(Duration::ZERO)
}

/// What a fault must connect, and what it may move to make room.
pub(crate) struct Want<'a> {
    /// Links to connect, as `(preferred dialler, other end)`.
    pub down: &'a [(usize, usize)],
    /// Links up now, as `(dialler, listener)`, which may move to their
    /// listener when nothing else frees a slot.
    pub up: &'a [(usize, usize)],
    /// Each node's dial slots ([`super::peer_table::dials`]).
    pub slots: &'a [usize],
    /// Each node's dialled peers that stay (not in `up`).
    pub fixed: &'a [usize],
    /// Dials one free slot starts at once: 2 when a node's dials go out
    /// in one batch, else 1.
    pub burst: usize,
    /// The dial histories.
    pub holds: &'a Holds,
}

/// Who dials what.
#[derive(Debug, PartialEq)]
pub(crate) struct Dials {
    /// Each link of [`Want::down`], as `(dialler, listener)`, in order.
    pub down: Vec<(usize, usize)>,
    /// Links of [`Want::up`] to move: `(new dialler, old dialler)`. The
    /// old dialler drops the link first, then the new one dials.
    pub moved: Vec<(usize, usize)>,
}

/// Picks a dialler for each link of `want.down`, as the module says. A
/// link no end can take keeps its preferred dialler (it then dials once
/// that end's other links allow).
pub(crate) fn assign(want: &Want) -> Dials {
    let n = want.down.len();
    let items: Vec<(usize, usize)> = want.down.iter().chain(want.up).copied().collect();
    let mut outbound = want.fixed.to_vec();
    for &(d, _) in want.up {
        outbound[d] += 1;
    }
    let mut a = Assignment {
        items: &items,
        n,
        who: (0..items.len())
            .map(|k| (k >= n).then(|| items[k].0))
            .collect(),
        outbound,
        assigned: vec![0; want.slots.len()],
        slots: want.slots,
        burst: want.burst,
    };
    let holds = want.holds;
    let fresh = |k: usize, end: usize| hold(holds, end, other(items[k], end)).is_zero();
    let any = |_: usize, _: usize| true;
    // A link that is up moves only to an end free to dial it at once.
    let up_fresh = |k: usize, end: usize| k < n || fresh(k, end);
    // Cheapest first: a free end; a free end after moving a link that
    // is up (it reconnects within a second or so); an end held back (up
    // to 35 s); any end after moving a link that is up.
    for k in 0..n {
        a.place(k, &fresh, false, false);
    }
    for k in 0..n {
        if a.who[k].is_none() {
            a.place(k, &fresh, false, true);
        }
    }
    for (k, &(x, y)) in want.down.iter().enumerate() {
        let sooner = hold(holds, y, x) < hold(holds, x, y);
        if a.who[k].is_none() && !a.place(k, &any, sooner, false) {
            a.place(k, &up_fresh, sooner, true);
        }
    }
    a.dials(want)
}

/// The end of `link` that is not `end`.
fn other(link: (usize, usize), end: usize) -> usize {
    if link.0 == end {
        link.1
    } else {
        link.0
    }
}

/// A partial assignment. Items `0..n` are links to connect, the rest
/// links up now; `who` is each item's dialler so far.
struct Assignment<'a> {
    items: &'a [(usize, usize)],
    n: usize,
    who: Vec<Option<usize>>,
    /// Dialled peers each node keeps (fixed, and up items not moved).
    outbound: Vec<usize>,
    /// Dials each node is to start (links to connect and moved items).
    assigned: Vec<usize>,
    slots: &'a [usize],
    burst: usize,
}

impl Assignment<'_> {
    /// Whether item `k` is a link up now that stays where it is.
    fn staying(&self, k: usize) -> bool {
        k >= self.n && self.who[k] == Some(self.items[k].0)
    }

    /// Whether node `u` can start one more dial.
    fn room(&self, u: usize) -> bool {
        let free = self.slots[u].saturating_sub(self.outbound[u]) * self.burst;
        free > self.assigned[u]
    }

    /// Gives item `k` to node `end`.
    fn give(&mut self, k: usize, end: usize) {
        match self.who[k] {
            Some(_) if self.staying(k) => self.outbound[self.items[k].0] -= 1,
            Some(u) => self.assigned[u] -= 1,
            None => {}
        }
        self.assigned[end] += 1;
        self.who[k] = Some(end);
    }

    /// Gives link `k` to an end `ok` allows, its preferred end first
    /// (unless `other_first`), making room there by moving other links
    /// (links up now too, with `move_up`); whether it did.
    fn place(
        &mut self,
        k: usize,
        ok: &dyn Fn(usize, usize) -> bool,
        other_first: bool,
        move_up: bool,
    ) -> bool {
        let (x, y) = self.items[k];
        let ends = if other_first { [y, x] } else { [x, y] };
        for end in ends {
            if !ok(k, end) {
                continue;
            }
            let mut seen = vec![false; self.slots.len()];
            seen[end] = true;
            if self.room(end) || self.make_room(end, ok, move_up, &mut seen) {
                self.give(k, end);
                return true;
            }
        }
        false
    }

    /// Frees room for one dial at node `u` by moving its links to their
    /// other ends (which `ok` allows), making room there in turn if
    /// needed; whether it did.
    fn make_room(
        &mut self,
        u: usize,
        ok: &dyn Fn(usize, usize) -> bool,
        move_up: bool,
        seen: &mut [bool],
    ) -> bool {
        for m in 0..self.items.len() {
            if self.room(u) {
                return true;
            }
            if self.who[m] != Some(u) || (self.staying(m) && !move_up) {
                continue;
            }
            let v = other(self.items[m], u);
            // A link up now never goes back to its old dialler.
            let back = m >= self.n && v == self.items[m].0;
            if seen[v] || back || !ok(m, v) {
                continue;
            }
            seen[v] = true;
            if self.room(v) || self.make_room(v, ok, move_up, seen) {
                self.give(m, v);
            }
        }
        self.room(u)
    }

    /// The result: each link to connect with its dialler, and the links
    /// up now that move.
    fn dials(&self, want: &Want) -> Dials {
        let down = want
            .down
            .iter()
            .zip(&self.who)
            .map(|(&(x, y), who)| match who {
                Some(d) => (*d, other((x, y), *d)),
                None => (x, y),
            })
            .collect();
        let moved = (self.n..self.items.len())
            .filter(|&k| !self.staying(k))
            .map(|k| {
                (
                    self.who[k].expect("up links have a dialler"),
                    self.items[k].0,
                )
            })
            .collect();
        Dials { down, moved }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dialler of each of `down`, nothing up, no dialled peers kept.
    fn pick(
        down: &[(usize, usize)],
        slots: &[usize],
        burst: usize,
        holds: &Holds,
    ) -> Vec<(usize, usize)> {
        let fixed = vec![0; slots.len()];
        let want = Want {
            down,
            up: &[],
            slots,
            fixed: &fixed,
            burst,
            holds,
        };
        let got = assign(&want);
        assert!(got.moved.is_empty(), "{got:?}");
        got.down
    }

    /// `pairs` held back for 35 s each.
    fn holds(pairs: &[(usize, usize)]) -> Vec<(usize, usize, Duration)> {
        pairs
            .iter()
            .map(|&(x, y)| (x, y, Duration::from_secs(35)))
            .collect()
    }

    #[test]
    fn a_link_goes_to_its_preferred_end_when_nothing_stands_in_the_way() {
        let got = pick(&[(0, 1), (2, 1)], &[1, 1, 1], 2, &[]);
        assert_eq!(got, vec![(0, 1), (2, 1)]);
    }

    #[test]
    fn a_held_back_end_gives_its_link_to_the_other_end() {
        let got = pick(&[(0, 1)], &[1, 1], 2, &holds(&[(0, 1)]));
        assert_eq!(got, vec![(1, 0)]);
    }

    #[test]
    fn the_mesh_heal_after_a_hospital_wide_delay_dials_nothing_held_back() {
        // Nodes: 0 lyon sealer, 1 lyon member, 2 oran sealer, 3 oran
        // member (the plan of tests/faults_links.rs's mesh). Links down
        // after the heal took them off their proxies, preferred dialler
        // first (their planned `from`), and who dialled each through its
        // proxy; lyon's own link stays up, dialled by its sealer.
        let links = [(0, 2), (0, 3), (2, 1), (1, 3), (2, 3)];
        let held = holds(&[(2, 0), (3, 0), (2, 1), (1, 3), (2, 3)]);
        let want = Want {
            down: &links,
            up: &[],
            slots: &[16, 1, 16, 1],
            fixed: &[1, 0, 0, 0],
            burst: 2,
            holds: &held,
        };
        let got = assign(&want).down;
        let pairs: Vec<(usize, usize)> = held.iter().map(|h| (h.0, h.1)).collect();
        assert!(got.iter().all(|l| !pairs.contains(l)), "{got:?}");
        // A member's one slot starts two dials in one batch.
        assert_eq!(got.iter().filter(|(d, _)| *d == 3).count(), 2, "{got:?}");
        assert!(got.contains(&(1, 2)), "{got:?}");
    }

    #[test]
    fn room_is_made_by_moving_another_link_to_its_other_end() {
        // Node 1 has one dial, taken by its preferred link to 0; the link
        // with 2 can only go to 1 (2 is held back), so 1's link with 0
        // moves to 0, which is free.
        let got = pick(&[(1, 0), (2, 1)], &[1, 1, 1], 1, &holds(&[(2, 1)]));
        assert_eq!(got, vec![(0, 1), (1, 2)]);
    }

    #[test]
    fn a_link_no_fresh_end_has_room_for_goes_to_a_held_back_end_with_room() {
        // Node 1 has one dial and two links whose other ends are held.
        let held = [(0, 1), (2, 1)];
        let got = pick(&[(0, 1), (2, 1)], &[1, 1, 1], 1, &holds(&held));
        assert_eq!(
            got.iter().filter(|l| held.contains(l)).count(),
            1,
            "{got:?}"
        );
        let dials = |n: usize| got.iter().filter(|(d, _)| *d == n).count();
        assert!((0..3).all(|n| dials(n) <= 1), "{got:?}");
    }

    #[test]
    fn a_link_held_at_both_ends_goes_to_the_end_freed_sooner() {
        let h = [
            (0, 1, Duration::from_secs(34)),
            (1, 0, Duration::from_secs(2)),
        ];
        assert_eq!(pick(&[(0, 1)], &[1, 1], 1, &h), vec![(1, 0)]);
        let h = [
            (0, 1, Duration::from_secs(2)),
            (1, 0, Duration::from_secs(34)),
        ];
        assert_eq!(pick(&[(0, 1)], &[1, 1], 1, &h), vec![(0, 1)]);
    }

    #[test]
    fn a_member_link_whose_members_spend_their_slots_on_sealers_moves_one_of_those() {
        // Seen after a partition's heal: each member (1, 3) dials its own
        // sealer, so neither can dial the other. Sealers: 0, 2.
        let up = [(1, 0), (3, 2), (0, 3), (2, 0), (2, 1)];
        let want = Want {
            down: &[(1, 3)],
            up: &up,
            slots: &[16, 1, 16, 1],
            fixed: &[0; 4],
            burst: 2,
            holds: &[],
        };
        let got = assign(&want);
        assert_eq!(got.down, vec![(1, 3)], "{got:?}");
        assert_eq!(
            got.moved,
            vec![(0, 1)],
            "the sealer takes the member's link"
        );
    }

    #[test]
    fn moving_a_link_that_is_up_comes_before_waiting_for_a_held_back_end() {
        // Member 2 could dial member 1, but dialled it moments ago; member
        // 1's slot holds its link to sealer 0, which can take that link.
        let held = holds(&[(2, 1)]);
        let want = Want {
            down: &[(1, 2)],
            up: &[(1, 0)],
            slots: &[16, 1, 1],
            fixed: &[0; 3],
            burst: 1,
            holds: &held,
        };
        let got = assign(&want);
        assert_eq!(got.down, vec![(1, 2)], "{got:?}");
        assert_eq!(got.moved, vec![(0, 1)], "{got:?}");
    }

    #[test]
    fn a_link_that_is_up_moves_only_to_an_end_free_to_dial_it() {
        // As above, but sealer 0 dialled member 1 moments ago and sealer 2
        // is free: member 3's link to its sealer moves instead.
        let up = [(1, 0), (3, 2)];
        let held = holds(&[(0, 1)]);
        let want = Want {
            down: &[(1, 3)],
            up: &up,
            slots: &[16, 1, 16, 1],
            fixed: &[0; 4],
            burst: 2,
            holds: &held,
        };
        let got = assign(&want);
        assert_eq!(got.down, vec![(3, 1)], "{got:?}");
        assert_eq!(got.moved, vec![(2, 3)], "{got:?}");
    }

    #[test]
    fn a_link_no_end_has_room_for_keeps_its_preferred_dialler() {
        let fixed = [0, 1, 1];
        let want = Want {
            down: &[(1, 2)],
            up: &[],
            slots: &[1, 1, 1],
            fixed: &fixed,
            burst: 1,
            holds: &[],
        };
        assert_eq!(assign(&want).down, vec![(1, 2)]);
    }
}
