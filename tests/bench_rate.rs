//! The open-loop driver delivers the rate it is asked for, end to end on
//! real geth: one worker, a fixed-rate round of transactions and one of
//! reads on a one-hospital network (1 sealer + 1 member, Clique 1 s),
//! each sent within 2 % of its rate, with the report's target and no
//! shortfall; and the chain's own throughput agreeing with the driver's.

mod common;

use common::TestNet;

const TOPO: &str = "\
network: bench-rate
block_period: 1
gas_limit: 30000000
hospitals:
  - name: guadalajara
    sealers: 1
    members: 1
";

/// 200 transactions per second and 400 reads per second, 10 s each.
const SCENARIO: &str = "\
name: rate
workers: 1
rounds:
  - label: open
    tx_number: 2000
    rate: { type: fixed-rate, tps: 200 }
    workload: { op: open, accounts: 2000 }
  - label: query
    tx_number: 4000
    rate: { type: fixed-rate, tps: 400 }
    workload: { op: query }
";

fn f(round: &serde_json::Value, key: &str) -> f64 {
    round[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {round}"))
}

#[test]
fn one_worker_delivers_a_fixed_rate_within_two_percent() {
    let net = TestNet::new(TOPO);
    std::fs::write(net.dir.path().join("rate.yaml"), SCENARIO).unwrap();
    net.ok(&["up", "--seed", "13", "--quiet"]);
    let json = net.dir.path().join("rate.json");
    let out = net.ok(&["bench", "rate.yaml", "--json", json.to_str().unwrap(), "-q"]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rounds = r["rounds"].as_array().unwrap();
    for (round, tps, n) in [(&rounds[0], 200.0, 2000), (&rounds[1], 400.0, 4000)] {
        assert_eq!(round["succ"], n, "{round}");
        assert_eq!(round["fail"], 0, "{round}");
        let target = f(round, "target_tps");
        assert!((target - tps).abs() < 1e-6, "target {target}");
        let sent = f(round, "send_rate_tps");
        assert!(
            (sent - tps).abs() <= 0.02 * tps,
            "{}: sent at {sent} TPS, asked for {tps}\n{}",
            round["label"],
            out.stdout
        );
        assert!(round["send_shortfall"].is_null(), "{round}");
        assert!(f(round, "signature_us") > 0.0);
        assert!(f(round, "driver_cpu_per_tx_us") > 0.0);
    }
    // The chain's window runs on block arrivals: it agrees with the
    // driver's first-send-to-last-commit window.
    let (tp, oc) = (
        f(&rounds[0], "throughput_tps"),
        f(&rounds[0], "onchain_tps"),
    );
    assert!(
        (oc - tp).abs() <= 0.02 * tp,
        "throughput {tp}, on chain {oc}"
    );
    // Reads show in milliseconds, never as 0.00.
    assert!(out.stdout.contains(" ms "), "{}", out.stdout);
    assert!(out.stdout.contains("### Send rate ###"), "{}", out.stdout);
}
