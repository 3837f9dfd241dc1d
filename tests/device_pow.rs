//! The device outbox across a proof-of-work partition, on real geth
//! v1.11.6 (ethash, difficulty 0x200) and the real firmware core
//! (esp32-host): the device's hospital, with a miner of its own, is cut
//! off from the other hospital's two miners while the device writes, so
//! each side mines its own fork; after the heal every node converges on
//! one chain (when the other side's fork is the heavier, the device's
//! readings in the dropped blocks return to the pool and are mined again)
//! and every reading is on chain exactly once, in order (issue 12, item 5).

mod common;

use std::time::Duration;

use alloy::primitives::Address;
use common::esp32::{config_of, esp32_host, on_chain, provision, rpc_of, wait_until, Host};
use common::{rpc, TestNet};
use medchain::state::State;
use serde_json::json;

const TOPO: &str = "\
network: device-partition-pow
privacy: clear
consensus: ethash
difficulty: \"0x200\"
chain_id: 48156
hospitals:
  - {name: north, sealers: 2, members: 0}
  - {name: ward, sealers: 1, members: 1}
";

const READINGS: u64 = 10;

/// The head (number, hash) of the node at `url`.
fn head(url: &str) -> (String, String) {
    let b = rpc(url, "eth_getBlockByNumber", json!(["latest", false]));
    (
        b["number"].as_str().unwrap_or_default().to_string(),
        b["hash"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn readings_cross_a_pow_partition_zero_lost_zero_duplicated() {
    esp32_host();
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "35", "--quiet"]);
    let state = State::load(&net.home(), "device-partition-pow").unwrap();
    let out = provision(&net, &["--hospital", "ward"]);
    let (config, _) = config_of(&out, 0);
    let device: Address = out["devices"][0]["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let outbox = net.dir.path().join("outbox");
    let readings = READINGS.to_string();
    let args = [
        "--interval-ms",
        "2000",
        "--timeout-ms",
        "150000",
        "--readings",
        &readings,
    ];
    let mut host = Host::start(&config, &outbox, "000-00-0001", &args);
    assert!(
        wait_until(Duration::from_secs(120), || !host.confirmed().is_empty()),
        "no reading confirmed within 120 s:\n{}",
        host.stderr_text()
    );
    // Both sides mine on through the cut: the device's readings go into
    // ward's fork.
    net.ok(&["fault", "partition", "--hospital", "ward"]);
    std::thread::sleep(Duration::from_secs(20));
    assert!(host.running(), "esp32-host gave up during the partition");
    net.ok(&["fault", "heal"]);

    let code = host.wait(Duration::from_secs(240));
    assert_eq!(
        code,
        Some(0),
        "esp32-host did not land every reading after the heal:\n{}",
        host.stderr_text()
    );
    // geth may wait out its dial history (35 s) before the sides
    // reconnect: then every node is on one head, holding each reading once.
    let one_head = || {
        let status = net.status();
        let heads: std::collections::BTreeSet<String> = status["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["head"].as_str().unwrap_or("down").to_string())
            .collect();
        heads.len() == 1
    };
    let agree = wait_until(Duration::from_secs(120), || {
        one_head()
            && on_chain(&state, "ward-member-0", device).0 == (1..=READINGS).collect::<Vec<_>>()
    });
    assert!(
        agree,
        "after the heal: nodes {}, the member holds {:?} (head {:?})",
        net.status()["nodes"],
        on_chain(&state, "ward-member-0", device).0,
        head(&rpc_of(&state, "ward-member-0"))
    );
    assert_eq!(
        host.confirmed(),
        (1..=READINGS).collect::<Vec<_>>(),
        "one confirmation per reading, in order"
    );
}
