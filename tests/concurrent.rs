//! Two different networks brought up at the same moment on one machine,
//! five times over, never collide: each gets its own ports (reserved
//! machine-wide before geth binds them), both come up, advance and agree,
//! and their nodes never peer across networks.

mod common;

use std::collections::BTreeSet;

use common::TestNet;

fn topology(name: &str) -> String {
    format!(
        "network: {name}\nblock_period: 1\nhospitals:\n  - {{name: a, sealers: 1, members: 1}}\n"
    )
}

/// Every port a network's state records (HTTP, WS, devp2p, engine API).
fn ports(net: &TestNet, network: &str) -> BTreeSet<u64> {
    let state = net.state(network);
    let mut out = BTreeSet::new();
    for n in state["plan"]["nodes"].as_array().unwrap() {
        for p in ["http", "ws", "p2p", "authrpc"] {
            out.insert(n["ports"][p].as_u64().unwrap());
        }
    }
    out
}

#[test]
fn two_networks_brought_up_concurrently_five_times_never_collide() {
    for round in 0..5 {
        let (a, b) = (
            TestNet::new(&topology("conc-a")),
            TestNet::new(&topology("conc-b")),
        );
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| a.run(&["up", "--quiet", "--no-deploy"]));
            let tb = s.spawn(|| b.run(&["up", "--quiet", "--no-deploy"]));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        for (name, r) in [("conc-a", &ra), ("conc-b", &rb)] {
            assert_eq!(r.code, 0, "round {round}: up {name}: {}", r.stderr);
        }
        let (pa, pb) = (ports(&a, "conc-a"), ports(&b, "conc-b"));
        assert!(
            pa.is_disjoint(&pb),
            "round {round}: shared ports {pa:?} {pb:?}"
        );
        for (net, name) in [(&a, "conc-a"), (&b, "conc-b")] {
            let st = net.status();
            assert_eq!(st["agree"], true, "round {round}: {name}: {st}");
            for n in st["nodes"].as_array().unwrap() {
                assert_eq!(n["up"], true, "round {round}: {name}: {st}");
                assert_eq!(n["peers"], 1, "round {round}: {name} peers: {st}");
            }
        }
        a.ok(&["down", "--purge"]);
        b.ok(&["down", "--purge"]);
    }
}
