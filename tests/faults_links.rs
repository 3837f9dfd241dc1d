//! Shaped peer links on real geth and real toxiproxy (process runtime, and
//! a delay on the docker runtime, whose containers reach the proxy at their
//! bridge's gateway):
//! `medchain fault delay` holds every block a member receives back by at
//! least the delay, `fault bandwidth` makes a block with a large
//! transaction take as long as its size at the limit, a scenario round
//! applies both on its timeline, and `heal` takes the proxies away (the
//! lag is gone, toxiproxy stopped, every node on one head). Bad settings
//! exit 2 naming the field, with nothing started.
//!
//! The member has one planned peer, the sealer, so every block reaches it
//! as a whole block pushed by the sealer (geth pushes whole blocks to the
//! square root of its peers and only announces them to the rest, which
//! then wait 500 ms before fetching): its lag behind the sealer is the
//! link's, nothing else. Times are taken from each node's `newHeads` over
//! its IPC socket, as the heads arrive.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use common::TestNet;
use medchain::contract::signing_provider;
use medchain::state::State;
use rand::RngCore;
use serde_json::Value;

/// One hospital: a sealer and a member peered with it, 1 s blocks.
fn topology(network: &str) -> String {
    format!("network: {network}\nblock_period: 1\nhospitals:\n  - name: lyon\n    sealers: 1\n    members: 1\n")
}

/// A node's entry in the state's plan.
fn node(net: &TestNet, network: &str, name: &str) -> Value {
    let st = net.state(network);
    st["plan"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name}"))
        .clone()
}

/// A node's new heads (number → arrival time, hash) as they arrive over
/// its IPC socket, until stopped.
struct Heads {
    stream: UnixStream,
    thread: JoinHandle<Vec<(u64, Instant, String)>>,
}

impl Heads {
    fn watch(node: &Value) -> Heads {
        let path = std::path::Path::new(node["datadir"].as_str().unwrap()).join("geth.ipc");
        let mut stream = UnixStream::connect(&path).unwrap();
        stream
            .write_all(
                br#"{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}"#,
            )
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        let thread = std::thread::spawn(move || {
            let mut out = Vec::new();
            // geth writes one JSON value per line; the socket's shutdown
            // ends the loop.
            for line in reader.lines().map_while(Result::ok) {
                let at = Instant::now();
                let v: Value = serde_json::from_str(&line).unwrap_or_default();
                let head = &v["params"]["result"];
                if let (Some(n), Some(h)) = (head["number"].as_str(), head["hash"].as_str()) {
                    let n = u64::from_str_radix(n.trim_start_matches("0x"), 16).unwrap();
                    out.push((n, at, h.to_string()));
                }
            }
            out
        });
        Heads { stream, thread }
    }

    fn stop(self) -> BTreeMap<u64, (Instant, String)> {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        let heads = self.thread.join().unwrap();
        heads.into_iter().map(|(n, t, h)| (n, (t, h))).collect()
    }
}

/// How long after the sealer the member received each block both saw
/// (ms, by block number); the two agree on every such block's hash.
fn lags(
    sealer: &BTreeMap<u64, (Instant, String)>,
    member: &BTreeMap<u64, (Instant, String)>,
) -> BTreeMap<u64, f64> {
    let mut out = BTreeMap::new();
    for (n, (ts, hs)) in sealer {
        if let Some((tm, hm)) = member.get(n) {
            assert_eq!(hs, hm, "block {n}: sealer and member disagree");
            let lag = tm.saturating_duration_since(*ts).as_secs_f64() * 1000.0;
            out.insert(*n, lag);
        }
    }
    out
}

/// The member's lag behind the sealer for every block during `span`.
fn watch_lags(sealer: &Value, member: &Value, span: Duration) -> BTreeMap<u64, f64> {
    let (s, m) = (Heads::watch(sealer), Heads::watch(member));
    std::thread::sleep(span);
    // The member's copy of the last block may still be on its way.
    std::thread::sleep(Duration::from_millis(600));
    let m = m.stop();
    lags(&s.stop(), &m)
}

/// A node's head number, over its IPC socket.
fn head(node: &Value) -> u64 {
    let n = common::ipc(node, "eth_blockNumber", serde_json::json!([]));
    u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

/// Waits (at most 30 s) until the member holds the sealer's head: after a
/// heal it syncs the blocks it missed while its link was down.
fn wait_caught_up(sealer: &Value, member: &Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, m) = (head(sealer), head(member));
        if m >= s {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "member at {m}, sealer at {s} 30 s after heal"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The pid of the network's toxiproxy, as recorded.
fn toxiproxy_pid(net: &TestNet, network: &str) -> u64 {
    let f = net.home().join(network).join("links/toxiproxy.json");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    serde_json::from_str::<Value>(&text).unwrap()["pid"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_delay_holds_a_members_blocks_back_until_heal() {
    let network = "links-delay";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--seed", "31", "--quiet"]);
    let (sealer, member) = (
        node(&net, network, "lyon-sealer-0"),
        node(&net, network, "lyon-member-0"),
    );
    let r = net.ok(&["fault", "delay", "lyon-member-0", "--ms", "300"]);
    assert!(
        r.stdout
            .contains("1 planned links through toxiproxy, 300 ms each way"),
        "{}",
        r.stdout
    );
    let pid = toxiproxy_pid(&net, network);
    assert!(common::alive(pid), "toxiproxy {pid} runs");
    let shaped = watch_lags(&sealer, &member, Duration::from_secs(5));
    assert!(shaped.len() >= 3, "too few blocks: {shaped:?}");
    // The reference is the sealer's own head event, which reaches its IPC
    // subscriber a few ms after the block left for the member under load
    // (seen: a 296.7 ms lag through a 300 ms delay): 5 % of slack.
    assert!(
        shaped.values().all(|l| *l >= 285.0),
        "every block at least 300 ms late (less 5 %): {shaped:?}"
    );
    let r = net.ok(&["fault", "heal"]);
    assert!(r.stdout.contains("(1 taken off toxiproxy)"), "{}", r.stdout);
    assert!(!common::alive(pid), "heal stops toxiproxy");
    wait_caught_up(&sealer, &member);
    let healed = watch_lags(&sealer, &member, Duration::from_secs(3));
    assert!(healed.len() >= 2, "too few blocks: {healed:?}");
    assert!(
        healed.values().all(|l| *l < 150.0),
        "direct again: {healed:?} (delayed: {shaped:?})"
    );
    eprintln!("member's lag behind the sealer, ms: delayed {shaped:?}, healed {healed:?}");
    // `down` stops the toxiproxy of links still shaped.
    net.ok(&["fault", "delay", "lyon-member-0", "--ms", "20"]);
    let pid = toxiproxy_pid(&net, network);
    net.ok(&["down"]);
    assert!(!common::alive(pid), "down stops toxiproxy {pid}");
}

/// Sends `size` random bytes of calldata from account 0 to a fresh address
/// through `url`; the block that holds it.
fn send_big(state: &State, url: &str, size: usize) -> u64 {
    let mut data = vec![0u8; size];
    rand::thread_rng().fill_bytes(&mut data);
    // Non-zero, incompressible bytes: devp2p compresses messages (snappy).
    data.iter_mut().filter(|b| **b == 0).for_each(|b| *b = 1);
    let p = signing_provider(url, &state.plan.accounts[0].signer()).unwrap();
    let tx = TransactionRequest::default()
        .with_to(Address::repeat_byte(0xb0))
        .with_value(U256::from(1))
        .with_input(Bytes::from(data));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pending = p.send_transaction(tx).await.unwrap();
        let receipt = pending
            .with_timeout(Some(Duration::from_secs(40)))
            .get_receipt()
            .await
            .unwrap();
        receipt.block_number.unwrap()
    })
}

/// The member's lag behind the sealer for the block holding a transaction
/// of `size` random bytes sent through the member (ms).
fn big_block_lag(net: &TestNet, network: &str, size: usize) -> f64 {
    let (sealer, member) = (
        node(net, network, "lyon-sealer-0"),
        node(net, network, "lyon-member-0"),
    );
    let state = State::load(&net.home(), network).unwrap();
    let url = format!("http://127.0.0.1:{}", member["ports"]["http"]);
    let (s, m) = (Heads::watch(&sealer), Heads::watch(&member));
    let block = send_big(&state, &url, size);
    // The receipt is readable a moment before the member's head event is
    // written to its socket.
    std::thread::sleep(Duration::from_millis(1500));
    let lags = lags(&s.stop(), &m.stop());
    *lags
        .get(&block)
        .unwrap_or_else(|| panic!("block {block} not seen by both: {lags:?}"))
}

#[test]
fn a_bandwidth_limit_slows_a_large_block_until_heal() {
    let network = "links-bw";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--seed", "32", "--quiet"]);
    let r = net.ok(&["fault", "bandwidth", "lyon-member-0", "--kbit", "64"]);
    assert!(
        r.stdout.contains("64 kbit/s each way (8 KB/s)"),
        "{}",
        r.stdout
    );
    // 24 KB at 8 KB/s: 3 s on the link from the sealer.
    let limited = big_block_lag(&net, network, 24_000);
    assert!(limited >= 2400.0, "a 24 KB block at 8 KB/s: {limited} ms");
    net.ok(&["fault", "heal"]);
    wait_caught_up(
        &node(&net, network, "lyon-sealer-0"),
        &node(&net, network, "lyon-member-0"),
    );
    // Unshaped, such a block takes milliseconds; a third of the limited
    // 3 s leaves room for a loaded machine importing it.
    let free = big_block_lag(&net, network, 24_000);
    eprintln!("a 24 KB block's lag at the member, ms: limited {limited}, healed {free}");
    assert!(
        free < 1000.0,
        "after heal: {free} ms (limited: {limited} ms)"
    );
}

#[test]
fn a_scenario_round_shapes_links_on_its_timeline() {
    let network = "links-bench";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--seed", "33", "--quiet"]);
    let file = net.dir.path().join("links.yaml");
    std::fs::write(
        &file,
        "name: links\nworkers: 1\nrounds:\n  - label: shaped\n    tx_duration: 8\n    rate: { type: fixed-rate, tps: 2 }\n    workload: { op: open, accounts: 20, initial_amount: 1000 }\n    faults:\n      - { at: 1, action: delay, target: lyon-member-0, ms: 200, jitter_ms: 20 }\n      - { at: 2, action: bandwidth, hospital: lyon, kbit: 800 }\n      - { at: 5, action: heal }\n",
    )
    .unwrap();
    let json = net.dir.path().join("report.json");
    net.ok(&[
        "bench",
        file.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--quiet",
    ]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let faults = &report["rounds"][0]["recovery"]["faults"];
    let actions: Vec<&str> = faults
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    // The heal shows as what ended both, not as a fault of its own.
    assert_eq!(actions, ["delay", "bandwidth"], "{faults}");
    for f in faults.as_array().unwrap() {
        assert!(f["error"].is_null(), "{f}");
    }
    assert_eq!(faults[0]["settings"], "200 ± 20 ms each way", "{faults}");
    assert_eq!(faults[1]["settings"], "800 kbit/s each way (100 KB/s)");
    assert_eq!(faults[0]["ended_by"], "heal", "{faults}");
    assert_eq!(faults[1]["ended_by"], "heal", "{faults}");
    assert_eq!(report["rounds"][0]["recovery"]["lost_txs"], 0, "{report}");
    assert!(
        !net.home()
            .join(network)
            .join("links/toxiproxy.json")
            .exists(),
        "heal stopped toxiproxy"
    );
}

#[test]
fn bad_link_faults_exit_2_naming_the_field() {
    let net = TestNet::new(&topology("links-bad"));
    let file = net.dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "rounds:\n  - label: r\n    tx_duration: 5\n    rate: { type: fixed-rate, tps: 1 }\n    workload: { op: open }\n    faults:\n      - { at: 1, action: delay, target: lyon-member-0 }\n      - { at: 1, action: delay, target: lyon-member-0, ms: 50, jitter_ms: 80 }\n      - { at: 1, action: bandwidth, hospital: lyon, kbit: 4 }\n      - { at: 1, action: bandwidth, target: lyon-member-0, kbit: 64, ms: 5 }\n      - { at: 1, action: delay, ms: 5 }\n",
    )
    .unwrap();
    let r = net.run(&["bench", file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for want in [
        "rounds[0].faults[0].ms: missing: milliseconds",
        "rounds[0].faults[1].jitter_ms: 80 is out of range: expected whole milliseconds, 0 to ms (50)",
        "rounds[0].faults[2].kbit: 4 is out of range: expected whole kilobits per second, 8 to",
        "rounds[0].faults[3].ms: only delay takes ms",
        "rounds[0].faults[4].target: delay needs a node",
    ] {
        assert!(r.stderr.contains(want), "{want:?} in:\n{}", r.stderr);
    }
    assert!(!net.home().join("links-bad").exists(), "nothing may start");
    for (args, want) in [
        (
            &["fault", "delay", "lyon-member-0", "--ms", "0"][..],
            "medchain fault: --ms: 0 is out of range",
        ),
        (
            &[
                "fault",
                "delay",
                "lyon-member-0",
                "--ms",
                "9",
                "--jitter-ms",
                "10",
            ][..],
            "medchain fault: --jitter-ms: 10 is out of range",
        ),
        (
            &["fault", "bandwidth", "lyon-member-0"][..],
            "medchain fault: --kbit: missing",
        ),
        (
            &["fault", "stop", "lyon-member-0", "--kbit", "64"][..],
            "medchain fault: --kbit: only bandwidth takes kbit",
        ),
    ] {
        let r = net.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{want:?} in:\n{}", r.stderr);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
    }
    assert!(!net.home().join("links-bad").exists(), "nothing may start");
}

/// The seconds a fault command says it took: `… (1.2 s)` at the end.
fn took_s(stdout: &str) -> f64 {
    let inner = stdout.trim().rsplit_once('(').unwrap().1;
    inner.trim_end_matches(" s)").parse().unwrap()
}

#[test]
fn a_hospital_wide_delay_on_a_mesh_moves_every_link_and_heals_at_once() {
    // Two hospitals, a sealer and a member each, full mesh: each member
    // has --maxpeers 3 and makes one dial itself, so the links cannot all
    // be redialled by the same end.
    let network = "links-mesh";
    let net = TestNet::new(&format!(
        "network: {network}\nblock_period: 1\nhospitals:\n  - {{name: lyon, sealers: 1, members: 1}}\n  - {{name: oran, sealers: 1, members: 1}}\n"
    ));
    net.ok(&["up", "--seed", "36", "--quiet"]);
    let r = net.ok(&["fault", "delay", "--hospital", "oran", "--ms", "200"]);
    assert!(
        r.stdout
            .contains("5 planned links through toxiproxy, 200 ms each way"),
        "{}",
        r.stdout
    );
    let r = net.ok(&["fault", "heal"]);
    assert!(r.stdout.contains("(5 taken off toxiproxy)"), "{}", r.stdout);
    // Healed from the ends that did not just dial through a proxy: no
    // wait for geth's 35 s dial history.
    assert!(took_s(&r.stdout) < 10.0, "{}", r.stdout);
    let st = net.status();
    assert_eq!(st["agree"], true, "{st}");
}

/// Milliseconds since the Unix epoch.
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// How long after its Clique timestamp each new head reached the member
/// at `url` during `span`, polling its HTTP endpoint every 20 ms (a single
/// signer seals each block at its timestamp, so this is the sealer → member
/// lag, plus up to one poll).
fn http_lags(url: &str, span: Duration) -> Vec<f64> {
    let end = Instant::now() + span;
    let (mut last, mut out) = (0u64, Vec::new());
    while Instant::now() < end {
        let b = common::rpc(
            url,
            "eth_getBlockByNumber",
            serde_json::json!(["latest", false]),
        );
        let hex = |k: &str| {
            u64::from_str_radix(b[k].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
        };
        let n = hex("number");
        if last != 0 && n > last {
            out.push(epoch_ms() - hex("timestamp") as f64 * 1000.0);
        }
        last = n;
        std::thread::sleep(Duration::from_millis(20));
    }
    out
}

/// Whether, within `limit`, the member at `url` imports three blocks in a
/// row one at a time (each the previous head + 1).
fn following(url: &str, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    let (mut last, mut run) = (0u64, 0);
    while Instant::now() < end {
        let n = common::rpc(url, "eth_blockNumber", serde_json::json!([]));
        let n = u64::from_str_radix(n.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        if n > last {
            run = if last != 0 && n == last + 1 {
                run + 1
            } else {
                0
            };
            last = n;
        }
        if run >= 3 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn median(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty(), "no block arrived");
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[test]
fn a_delay_holds_a_containers_blocks_back_on_the_docker_runtime() {
    let network = "links-docker";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--runtime", "docker", "--seed", "34", "--quiet"]);
    let url = net.status()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n["rpc"].as_str().map(str::to_string))
        .expect("the member serves clients");
    let before = median(http_lags(&url, Duration::from_secs(6)));
    let r = net.ok(&["fault", "delay", "lyon-member-0", "--ms", "1000"]);
    assert!(
        r.stdout
            .contains("1 planned links through toxiproxy, 1000 ms each way"),
        "{}",
        r.stdout
    );
    let pid = toxiproxy_pid(&net, network);
    // Moved onto the proxy, the member has missed a block or two, which it
    // fetches by a sync over the slow link (several round trips of 2 s):
    // measured once blocks arrive one by one again.
    assert!(
        following(&url, Duration::from_secs(40)),
        "the member did not follow the sealer through the delayed link"
    );
    let shaped = http_lags(&url, Duration::from_secs(7));
    let r = net.ok(&["fault", "heal"]);
    assert!(r.stdout.contains("(1 taken off toxiproxy)"), "{}", r.stdout);
    assert!(!common::alive(pid), "heal stops toxiproxy");
    let after = median(http_lags(&url, Duration::from_secs(6)));
    eprintln!(
        "docker member lag: before {before:.0} ms, shaped {shaped:?}, after heal {after:.0} ms"
    );
    assert!(before < 400.0, "lag before any fault: {before:.0} ms");
    let held = median(shaped.clone());
    assert!(
        held >= 950.0,
        "a 1000 ms delay gave a {held:.0} ms lag: {shaped:?}"
    );
    assert!(after < 400.0, "lag after heal: {after:.0} ms");
    net.ok(&["down", "--purge"]);
}

/// The address the member reaches the sealer at (`admin_peers`), or
/// `None` when it has no such peer.
fn sealer_address(sealer: &Value, member: &Value) -> Option<String> {
    let key = sealer["node_key"]["public_hex"]
        .as_str()
        .unwrap()
        .to_string();
    let peers = common::ipc(member, "admin_peers", serde_json::json!([]));
    peers.as_array().unwrap().iter().find_map(|p| {
        p["enode"]
            .as_str()
            .is_some_and(|e| e.contains(&key))
            .then(|| p["network"]["remoteAddress"].as_str().unwrap().to_string())
    })
}

#[test]
fn a_member_resumed_while_shaped_is_shaped_again_by_the_next_delay() {
    let network = "links-resume";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--seed", "35", "--quiet"]);
    let (sealer, member) = (
        node(&net, network, "lyon-sealer-0"),
        node(&net, network, "lyon-member-0"),
    );
    let direct = format!("127.0.0.1:{}", sealer["ports"]["p2p"]);
    net.ok(&["fault", "delay", "lyon-member-0", "--ms", "50"]);
    let proxied = sealer_address(&sealer, &member).expect("peered through the proxy");
    assert_ne!(proxied, direct);
    // A restarted member rejoins its planned peer directly (whichever end's
    // dial wins), not through the proxy.
    net.ok(&["fault", "restart", "lyon-member-0"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let rejoined = loop {
        match sealer_address(&sealer, &member) {
            Some(a) => break a,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            None => panic!("the restarted member did not rejoin the sealer within 15 s"),
        }
    };
    assert_ne!(rejoined, proxied, "direct after the restart");
    // The same fault again moves the link back onto its proxy. Either end
    // may dial through it now (the one geth's dial history frees first:
    // docs/reliability.md, "Who dials a link"); through a proxy the two
    // ends no longer see one TCP connection.
    let r = net.ok(&["fault", "delay", "lyon-member-0", "--ms", "50"]);
    assert!(
        r.stdout.contains("1 planned links through toxiproxy"),
        "{}",
        r.stdout
    );
    let (_, member_sees) = link_addresses(&member, &sealer).expect("member peered");
    let (sealer_local, _) = link_addresses(&sealer, &member).expect("sealer peered");
    assert_ne!(member_sees, sealer_local, "through the proxy again");
    assert_ne!(member_sees, direct, "through the proxy again");
}

/// The (local, remote) addresses of `node`'s connection to `peer`, as
/// its `admin_peers` shows them, if they are peers.
fn link_addresses(node: &Value, peer: &Value) -> Option<(String, String)> {
    let key = peer["node_key"]["public_hex"].as_str().unwrap().to_string();
    let peers = common::ipc(node, "admin_peers", serde_json::json!([]));
    peers.as_array().unwrap().iter().find_map(|p| {
        let net = &p["network"];
        p["enode"]
            .as_str()
            .is_some_and(|e| e.contains(&key))
            .then(|| {
                let addr = |k: &str| net[k].as_str().unwrap().to_string();
                (addr("localAddress"), addr("remoteAddress"))
            })
    })
}
