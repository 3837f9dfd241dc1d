//! Alert rules for a network, generated from its plan so thresholds match
//! it: a node that does not answer scrapes, a head that stops advancing
//! for three block periods, a node with fewer peers than planned, a pool
//! that grows while no block comes. Checked by `promtool check rules`.

use serde::Serialize;

use crate::plan::Plan;
use crate::topology::Consensus;

/// Shortest window a "not advancing" rule looks at: three scrapes.
const MIN_WINDOW_S: u64 = 15;
/// The window on ethash, whose block times vary widely.
const ETHASH_WINDOW_S: u64 = 120;

#[derive(Serialize)]
struct Rules {
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    hold: String,
    labels: Severity,
    annotations: Summary,
}

#[derive(Serialize)]
struct Severity {
    severity: &'static str,
}

#[derive(Serialize)]
struct Summary {
    summary: String,
}

fn rule(alert: &str, expr: String, hold: u64, severity: &'static str, summary: &str) -> Rule {
    Rule {
        alert: alert.into(),
        expr,
        hold: format!("{hold}s"),
        labels: Severity { severity },
        annotations: Summary {
            summary: summary.into(),
        },
    }
}

/// The window in which a live chain must have produced a block: three
/// block periods on Clique (at least three scrapes), two minutes on
/// ethash.
pub fn stall_window_s(plan: &Plan) -> u64 {
    match plan.topology.consensus {
        Consensus::Clique => (3 * plan.topology.block_period).max(MIN_WINDOW_S),
        Consensus::Ethash => ETHASH_WINDOW_S,
    }
}

/// The rule file for `plan`.
pub fn render(plan: &Plan) -> String {
    let net = &plan.topology.network;
    let sel = format!("network=\"{net}\"");
    let w = stall_window_s(plan);
    let mut rules = vec![
        rule(
            "MedchainNodeDown",
            format!("up{{job=\"geth\",{sel}}} == 0"),
            10,
            "critical",
            "{{ $labels.node }} ({{ $labels.hospital }}) does not answer metric scrapes",
        ),
        rule(
            "MedchainHeadStalled",
            format!("changes(chain_head_block{{{sel}}}[{w}s]) == 0"),
            w,
            "critical",
            "{{ $labels.node }}: no new block in the last window",
        ),
        rule(
            "MedchainTxpoolGrowingWithoutBlocks",
            format!(
                "delta(txpool_pending{{{sel}}}[{w}s]) > 0 and on(node) changes(chain_head_block{{{sel}}}[{w}s]) == 0"
            ),
            0,
            "warning",
            "{{ $labels.node }}: pending transactions grow while no block comes",
        ),
    ];
    for (i, n) in plan.nodes.iter().enumerate() {
        let planned = plan
            .edges
            .iter()
            .filter(|e| e.from == i || e.to == i)
            .count();
        rules.push(rule(
            "MedchainPeersBelowPlan",
            format!("p2p_peers{{{sel},node=\"{}\"}} < {planned}", n.name),
            30,
            "warning",
            &format!("{{{{ $labels.node }}}} has fewer peers than the {planned} planned"),
        ));
    }
    let file = Rules {
        groups: vec![Group {
            name: format!("medchain-{net}"),
            rules,
        }],
    };
    let body = serde_yaml::to_string(&file).expect("serialisable");
    format!("# Written by `medchain monitor start`; rewritten on every start.\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_the_plan() {
        let mut p = super::super::config::tests::plan();
        p.topology.block_period = 2;
        let y: serde_yaml::Value = serde_yaml::from_str(&render(&p)).unwrap();
        let rules = y["groups"][0]["rules"].as_sequence().unwrap();
        let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
        assert_eq!(
            &names[..3],
            [
                "MedchainNodeDown",
                "MedchainHeadStalled",
                "MedchainTxpoolGrowingWithoutBlocks"
            ]
        );
        // Three 2 s periods is under three scrapes: 15 s.
        assert_eq!(
            rules[1]["expr"],
            "changes(chain_head_block{network=\"mon\"}[15s]) == 0"
        );
        p.topology.block_period = 10;
        assert_eq!(stall_window_s(&p), 30);
        // One peers rule per node, at its planned degree (a mesh of 3).
        assert_eq!(names.len(), 3 + 3);
        assert_eq!(
            rules[3]["expr"],
            "p2p_peers{network=\"mon\",node=\"a-sealer-0\"} < 2"
        );
    }
}
