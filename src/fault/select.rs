//! Which of a plan's nodes a fault acts on, checked against the plan (the
//! names a scenario or the command line gives may not exist there).

use crate::error::InputError;
use crate::plan::Plan;

use super::{Action, Fault, Who};

/// The indices of the nodes `who` names in `plan`, or what is wrong (one
/// line naming the unknown name and the known ones).
pub fn nodes(plan: &Plan, who: &Who) -> Result<Vec<usize>, String> {
    let all = 0..plan.nodes.len();
    match who {
        Who::Network => Ok(all.collect()),
        Who::Node(name) => plan
            .nodes
            .iter()
            .position(|n| &n.name == name)
            .map(|i| vec![i])
            .ok_or_else(|| {
                let known: Vec<&str> = plan.nodes.iter().map(|n| n.name.as_str()).collect();
                format!(
                    "no node {name:?} in network {}; nodes: {}",
                    plan.topology.network,
                    known.join(", ")
                )
            }),
        Who::Hospitals(names) => {
            let known: Vec<&str> = plan
                .topology
                .hospitals
                .iter()
                .map(|h| h.name.as_str())
                .collect();
            if let Some(bad) = names.iter().find(|h| !known.contains(&h.as_str())) {
                return Err(format!(
                    "no hospital {bad:?} in network {}; hospitals: {}",
                    plan.topology.network,
                    known.join(", ")
                ));
            }
            Ok(all
                .filter(|i| names.contains(&plan.nodes[*i].hospital))
                .collect())
        }
    }
}

/// Checks a fault against `plan`: its names exist, and a partition leaves
/// nodes on both sides of the cut.
pub fn check(plan: &Plan, fault: &Fault) -> Result<Vec<usize>, String> {
    let side = nodes(plan, &fault.who)?;
    if fault.action == Action::Partition && side.len() == plan.nodes.len() {
        return Err(format!(
            "partition of {} leaves no node on the other side; name fewer hospitals",
            fault.who
        ));
    }
    Ok(side)
}

/// Checks every fault of every round (`(field, fault)` pairs, e.g.
/// `rounds[0].faults[1]`) against `plan`: one input error listing each
/// problem with its field, read from `file`.
pub fn check_all<'a>(
    plan: &Plan,
    file: &str,
    faults: impl Iterator<Item = (String, &'a Fault)>,
) -> Result<(), InputError> {
    let mut p = crate::error::Problems::new(file);
    for (field, f) in faults {
        if let Err(e) = check(plan, f) {
            p.add(&field, e);
        }
    }
    p.finish(())
}
