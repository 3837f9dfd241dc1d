//! `down` without a readable state file, on real geth (process runtime):
//! a network whose `state.json` is corrupt, deleted, or missing some of its
//! nodes is still stopped completely — no geth with a datadir in the
//! network's directory survives `down`, and `down --purge` removes the
//! directory. Every reader of a corrupt or missing state says so in one
//! line with what to do.

mod common;

use std::fs;
use std::path::Path;

use common::{pgrep, TestNet};

fn topology(network: &str) -> String {
    format!("network: {network}\nblock_period: 1\nhospitals:\n  - name: a\n")
}

/// Brings `network` up (no contracts) and returns its directory.
fn up(net: &TestNet, network: &str) -> std::path::PathBuf {
    net.ok(&["up", "--no-deploy"]);
    let dir = net.home().join(network);
    assert_eq!(
        pgrep(&dir.display().to_string()).len(),
        2,
        "two geth nodes run"
    );
    dir
}

fn assert_none_left(dir: &Path) {
    let left = pgrep(&dir.display().to_string());
    assert!(
        left.is_empty(),
        "processes of {} survived down: {left:?}",
        dir.display()
    );
}

#[test]
fn down_purge_stops_a_network_whose_state_is_corrupt() {
    let net = TestNet::new(&topology("orphans-corrupt"));
    let dir = up(&net, "orphans-corrupt");
    let state = dir.join("state.json");
    let text = fs::read_to_string(&state).unwrap();
    fs::write(&state, &text[..text.len() / 2]).unwrap();

    let status = net.run(&["status"]);
    assert_eq!(status.code, 1, "{}", status.stderr);
    let first = status.stderr.lines().next().unwrap_or_default();
    assert!(
        first.contains("is corrupt") && first.contains("medchain down"),
        "{}",
        status.stderr
    );
    assert_eq!(
        status.stderr.lines().count(),
        1,
        "one line: {}",
        status.stderr
    );

    let down = net.ok(&["down", "--purge"]);
    assert!(
        down.stdout.contains("stopped 2 node(s), data purged"),
        "{}",
        down.stdout
    );
    assert_none_left(&dir);
    assert!(!dir.exists(), "the network's directory is purged");
}

#[test]
fn down_stops_a_network_whose_state_was_deleted() {
    let net = TestNet::new(&topology("orphans-deleted"));
    let dir = up(&net, "orphans-deleted");
    fs::remove_file(dir.join("state.json")).unwrap();

    let status = net.run(&["status", "--network", "orphans-deleted"]);
    assert_eq!(status.code, 2, "{}", status.stderr);
    assert!(status.stderr.contains("is missing"), "{}", status.stderr);

    // Found through ./medchain.yaml, which names the network.
    let down = net.ok(&["down"]);
    assert!(down.stdout.contains("stopped 2 node(s)"), "{}", down.stdout);
    assert_none_left(&dir);
    assert!(dir.join("nodes").is_dir(), "without --purge the data stays");
    // A new plan would not match the chain there: up refuses, saying why.
    let up = net.run(&["up", "--no-deploy"]);
    assert_eq!(up.code, 2, "{}", up.stderr);
    assert!(up.stderr.contains("is missing"), "{}", up.stderr);
    let purge = net.ok(&["down", "--purge"]);
    assert!(
        purge.stdout.contains("stopped 0 node(s), data purged"),
        "{}",
        purge.stdout
    );
    assert!(!dir.exists());
}

#[test]
fn down_stops_nodes_the_state_does_not_record() {
    let net = TestNet::new(&topology("orphans-unrecorded"));
    let dir = up(&net, "orphans-unrecorded");
    // As an `up` interrupted between starting the nodes and recording them.
    let mut state = net.state("orphans-unrecorded");
    state["pids"] = serde_json::json!({});
    fs::write(
        dir.join("state.json"),
        serde_json::to_string(&state).unwrap(),
    )
    .unwrap();

    let down = net.ok(&["down"]);
    assert!(
        down.stderr.contains("which the state did not record"),
        "{}",
        down.stderr
    );
    assert!(down.stdout.contains("stopped 2 node(s)"), "{}", down.stdout);
    assert_none_left(&dir);
    // The state still reads, and the network comes up again from it.
    net.ok(&["up", "--no-deploy"]);
    assert_eq!(pgrep(&dir.display().to_string()).len(), 2);
    net.ok(&["down", "--purge"]);
    assert_none_left(&dir);
}

/// Containers (running or not) labelled `medchain.network=<network>`, via
/// the Docker CLI-free engine API.
fn labelled_containers(network: &str) -> usize {
    use bollard::query_parameters::ListContainersOptionsBuilder;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let d = bollard::Docker::connect_with_defaults()
            .unwrap()
            .negotiate_version()
            .await
            .expect("a Docker engine answers (scripts/docker-engine.sh start)");
        let filter = std::collections::HashMap::from([(
            "label".to_string(),
            vec![format!("medchain.network={network}")],
        )]);
        d.list_containers(Some(
            ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filter)
                .build(),
        ))
        .await
        .unwrap()
        .len()
    })
}

#[test]
fn docker_down_purge_finds_containers_by_label_without_state() {
    let network = "orphans-docker";
    let net = TestNet::new(&topology(network));
    net.ok(&["up", "--no-deploy", "--runtime", "docker"]);
    assert_eq!(labelled_containers(network), 2, "one container per node");
    let state = net.home().join(network).join("state.json");
    fs::write(&state, b"{\"schema\": 1, \"runtime\": \"docker\", \"pl").unwrap();
    let down = net.ok(&["down", "--purge"]);
    assert!(
        down.stdout.contains("stopped 2 node(s), data purged"),
        "{}",
        down.stdout
    );
    assert_eq!(
        labelled_containers(network),
        0,
        "no container of the network is left"
    );
    assert!(!net.home().join(network).exists());
}
