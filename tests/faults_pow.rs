//! Proof of work across a partition, on real geth v1.11.6 (ethash, the
//! paper's difficulty 0x200, the shared DAG): two hospitals, a miner and a
//! member each, are cut apart with `medchain fault partition`; both sides
//! keep mining their own fork, each including a transaction sent to its
//! member; after `medchain fault heal` every node converges on the heavier
//! fork (a reorg on the other side) and the losing side's transaction is
//! included again: nothing is lost.

mod common;

use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use common::{rpc, TestNet};
use medchain::contract::signing_provider;
use medchain::state::State;
use serde_json::{json, Value};

const TOPO: &str = "\
network: pow-partition
consensus: ethash
difficulty: \"0x200\"
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 1, members: 1}
";

fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().expect("hex string").trim_start_matches("0x"), 16).unwrap()
}

/// The node's head: (number, hash).
fn head(url: &str) -> (u64, String) {
    let b = rpc(url, "eth_getBlockByNumber", json!(["latest", false]));
    (
        hex_u64(&b["number"]),
        b["hash"].as_str().unwrap().to_string(),
    )
}

/// The hash of block `n` in the node's canonical chain.
fn hash_at(url: &str, n: u64) -> String {
    let b = rpc(
        url,
        "eth_getBlockByNumber",
        json!([format!("{n:#x}"), false]),
    );
    b["hash"].as_str().unwrap_or_default().to_string()
}

/// The block (number, hash) holding `tx` in the node's canonical chain.
fn included(url: &str, tx: B256) -> Option<(u64, String)> {
    let r = rpc(url, "eth_getTransactionReceipt", json!([tx]));
    (!r.is_null()).then(|| {
        (
            hex_u64(&r["blockNumber"]),
            r["blockHash"].as_str().unwrap().to_string(),
        )
    })
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// Sends 1 wei from prefunded account `from` to a fresh address through
/// `url`; returns the transaction hash without waiting for it.
fn send(state: &State, url: &str, from: usize) -> B256 {
    let key = state.plan.accounts[from].signer();
    let p = signing_provider(url, &key).unwrap();
    let tx = TransactionRequest::default()
        .with_to(Address::repeat_byte(0xa0 + from as u8))
        .with_value(U256::from(1));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { *p.send_transaction(tx).await.unwrap().tx_hash() })
}

#[test]
fn a_partition_forks_the_chain_and_the_heal_reorgs_with_nothing_lost() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "34", "--quiet"]);
    let state = State::load(&net.home(), "pow-partition").unwrap();
    let url = |name: &str| {
        state
            .plan
            .nodes
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| n.rpc_url())
            .unwrap_or_else(|| panic!("{name} serves no RPC"))
    };
    let (north, south) = (url("north-member-0"), url("south-member-0"));

    net.ok(&["fault", "partition", "--hospital", "north"]);
    let cut = head(&north).0.max(head(&south).0);
    let txs = [
        (north.clone(), send(&state, &north, 1)),
        (south.clone(), send(&state, &south, 2)),
    ];
    // Each side mines its own fork, with its own transaction in it.
    let forked = wait_until(Duration::from_secs(150), || {
        txs.iter().all(|(u, t)| included(u, *t).is_some())
            && head(&north).0 > cut
            && head(&south).0 > cut
            && head(&north).1 != head(&south).1
    });
    assert!(
        forked,
        "both sides did not mine their own transaction within 150 s of the partition: \
         north {:?}, south {:?}",
        head(&north),
        head(&south)
    );
    let before: Vec<(u64, String)> = txs.iter().map(|(u, t)| included(u, *t).unwrap()).collect();
    for (u, t) in &txs {
        let other = if *u == north { &south } else { &north };
        assert!(included(other, *t).is_none(), "{t} crossed the partition");
    }

    net.ok(&["fault", "heal"]);
    // geth may wait out its dial history (up to 35 s) before reconnecting.
    let agree = wait_until(Duration::from_secs(120), || {
        let (n, s) = (head(&north), head(&south));
        n == s && txs.iter().all(|(_, t)| included(&north, *t).is_some())
    });
    assert!(
        agree,
        "after the heal: north {:?}, south {:?}, transactions on north {:?}",
        head(&north),
        head(&south),
        txs.iter()
            .map(|(_, t)| included(&north, *t))
            .collect::<Vec<_>>()
    );
    // One side's fork was dropped: its transaction's block is no longer
    // canonical, and the transaction is in another block now.
    let reorged: Vec<usize> = before
        .iter()
        .enumerate()
        .filter(|(_, (n, h))| hash_at(&north, *n) != *h)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        reorged.len(),
        1,
        "exactly one side lost its fork: {before:?}"
    );
    for (u, t) in &txs {
        for node in [&north, &south] {
            assert!(included(node, *t).is_some(), "{t} sent to {u} was lost");
        }
    }
    let depth = head(&north).0;
    eprintln!(
        "partition from block {cut}; the {} side's fork was dropped; both transactions \
         on the one chain (head {depth})",
        ["north", "south"][reorged[0]]
    );
}
