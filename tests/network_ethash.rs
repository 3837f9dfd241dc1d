//! End to end on real geth v1.11.6: ethash proof of work with three miners
//! over two hospitals (the paper's difficulty 0x200), one shared DAG.

mod common;

use common::{alive, TestNet};

const TOPO: &str = "\
network: ethash-e2e
consensus: ethash
difficulty: \"0x200\"
hospitals:
  - name: guadalajara
    sealers: 2
    members: 0
  - name: cairo
    sealers: 1
    members: 1
";

#[test]
fn ethash_three_miners_two_hospitals_mine_and_agree() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "3"]);
    let mut st = net.status();
    for _ in 0..240 {
        if st["common_height"].as_u64().unwrap_or(0) >= 3 && st["agree"] == true {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        st = net.status();
    }
    assert_eq!(st["consensus"], "ethash");
    assert!(st["common_height"].as_u64().unwrap() >= 3, "{st}");
    assert_eq!(st["agree"], true, "{st}");
    let nodes = st["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    for n in nodes {
        assert_eq!(n["up"], true);
        assert_eq!(n["peers"], 3, "mesh of 4: {n}");
    }
    // Miners share one DAG directory: no per-node DAG was built.
    let state = net.state("ethash-e2e");
    for n in state["plan"]["nodes"].as_array().unwrap() {
        let datadir = std::path::Path::new(n["datadir"].as_str().unwrap());
        let local = datadir.join("..").join("ethash");
        assert!(
            !local.exists()
                || std::fs::read_dir(&local).unwrap().all(|e| {
                    !e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("full-")
                })
        );
    }
    let pids: Vec<u64> = state["pids"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    net.ok(&["down"]);
    assert!(pids.iter().all(|p| !alive(*p)), "a miner survived down");
}
