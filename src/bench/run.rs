//! A whole `medchain bench` run, as Caliper runs one: use the running
//! network (or bring one up from the topology file, deploy, and tear it
//! down afterwards unless `--keep`; or drive any endpoint with `--rpc`),
//! fund workers, run every round with the observer and the resource
//! monitor alongside, then report and compare against a baseline.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Notify;

use super::baseline::{self, Comparison};
use super::endpoint;
use super::engine::{setup_workers, Engine};
use super::fleet;
use super::observer::{self, Tracker};
use super::resources::{self, ProcessMonitor};
use super::result::{BenchReport, SCHEMA};
use super::scenario::{self, ContractKind, Scenario, Target};
use super::workload::Env;
use crate::bench::docker_stats::DockerMonitor;
use crate::contract::{self, Which, MEDICAL_KEY, SIMPLE_KEY};
use crate::error::InputError;
use crate::keys;
use crate::network::status;
use crate::network::{self, deploy, down, up};
use crate::plan::Role;
use crate::records::parse_key;
use crate::runtime::container_plan;
use crate::runtime::docker::DockerRuntime;
use crate::runtime::Kind;
use crate::state::State;
use crate::topology::Consensus;

/// What `medchain bench` was asked to do.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Topology file used when no network runs.
    pub file: PathBuf,
    /// `$MEDCHAIN_HOME`.
    pub home: PathBuf,
    /// `--network`.
    pub network: Option<String>,
    /// Write the JSON report here.
    pub json: Option<PathBuf>,
    /// Write the HTML report here.
    pub html: Option<PathBuf>,
    /// Compare against this baseline.
    pub baseline: Option<PathBuf>,
    /// Allowed regression, percent.
    pub max_regression: f64,
    /// Keep a network this run brought up.
    pub keep: bool,
    /// Drive this JSON-RPC endpoint instead of a medchain network.
    pub rpc: Option<String>,
    /// Its WebSocket endpoint (default: the RPC URL with ws://).
    pub ws: Option<String>,
    /// Funded key for `--rpc`.
    pub key: Option<String>,
    /// No progress output.
    pub quiet: bool,
    /// Runtime for a network this run brings up (`None`: the default).
    pub runtime: Option<Kind>,
}

/// The run's outcome.
#[derive(Debug)]
pub struct BenchOutcome {
    /// The report.
    pub report: BenchReport,
    /// The baseline comparison, when asked for.
    pub comparison: Option<Comparison>,
}

/// Where load goes and what it runs against.
struct Setup {
    network: String,
    consensus: String,
    chain_id: u64,
    targets: Vec<String>,
    ws: String,
    observer_http: String,
    funder: PrivateKeySigner,
    funder_rpc: String,
    simple: alloy::primitives::Address,
    medical: alloy::primitives::Address,
    pids: Vec<(String, u32)>,
    /// (node, container, its engine), on the docker runtime.
    containers: Option<Vec<(String, String, bollard::Docker)>>,
    drain: Duration,
    seed: u64,
    created: Option<State>,
}

/// Runs the benchmark.
pub async fn bench(opts: &BenchOptions) -> anyhow::Result<BenchOutcome> {
    let scenario = scenario::load(&opts.scenario)?;
    let baseline = opts.baseline.as_deref().map(baseline::load).transpose()?;
    if opts.baseline.is_some() && !(opts.max_regression >= 0.0 && opts.max_regression <= 1000.0) {
        return Err(InputError::new(format!(
            "--max-regression {}: expected a percentage between 0 and 1000",
            opts.max_regression
        ))
        .into());
    }
    let setup = match &opts.rpc {
        Some(url) => external(opts, url).await?,
        None => local(opts, &scenario).await?,
    };
    let result = drive(opts, &scenario, &setup).await;
    if let Some(state) = setup.created {
        if !opts.keep {
            if !opts.quiet {
                eprintln!(
                    "tearing down network {} (brought up for this run; --keep keeps it)",
                    setup.network
                );
            }
            down::down(state, true).await?;
        }
    }
    let report = result?;
    let comparison = baseline.map(|b| baseline::compare(&report, &b, opts.max_regression));
    Ok(BenchOutcome { report, comparison })
}

async fn local(opts: &BenchOptions, scenario: &Scenario) -> anyhow::Result<Setup> {
    let name = match &opts.network {
        Some(n) => n.clone(),
        None => up::load_topology(&opts.file)?.network,
    };
    let running = match State::load(&opts.home, &name) {
        Ok(s) if !s.plan.nodes.is_empty() => {
            let alive = status::alive(&s).await.unwrap_or_default();
            (!alive.is_empty() && alive.iter().all(|a| *a)).then_some(s)
        }
        _ => None,
    };
    let (mut state, created) = match running {
        Some(s) => (s, false),
        None => {
            if opts.network.is_some() && !State::path(&opts.home, &name).exists() {
                let _ = network::select(&opts.home, Some(&name), &opts.file)?;
            }
            let outcome = up::up(&up::UpOptions {
                file: opts.file.clone(),
                home: opts.home.clone(),
                dry_run: false,
                seed: None,
                geth: None,
                quiet: opts.quiet,
                no_deploy: false,
                runtime: opts.runtime,
            })
            .await?;
            match outcome {
                up::UpOutcome::Running { state, .. } => (*state, true),
                up::UpOutcome::Planned(_) => unreachable!("not a dry run"),
            }
        }
    };
    if !state.contracts.contains_key(MEDICAL_KEY) || !state.contracts.contains_key(SIMPLE_KEY) {
        deploy::deploy(&mut state, &[Which::Medical, Which::Simple]).await?;
    }
    let nodes = &state.plan.nodes;
    let chosen: Vec<_> = match &scenario.target {
        Target::All => nodes.iter().collect(),
        Target::Sealers => nodes.iter().filter(|n| n.role == Role::Sealer).collect(),
        Target::Members => {
            let m: Vec<_> = nodes.iter().filter(|n| n.role == Role::Member).collect();
            if m.is_empty() {
                nodes.iter().collect()
            } else {
                m
            }
        }
        Target::Node(name) => {
            let n: Vec<_> = nodes.iter().filter(|n| &n.name == name).collect();
            if n.is_empty() {
                return Err(InputError::new(format!(
                    "{}: target: no node {name:?} in network {}; nodes: {}",
                    opts.scenario.display(),
                    state.plan.topology.network,
                    nodes
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into());
            }
            n
        }
    };
    let topo = &state.plan.topology;
    let drain = match topo.consensus {
        Consensus::Clique => Duration::from_secs((20 * topo.block_period).max(30)),
        Consensus::Ethash => Duration::from_secs(180),
    };
    Ok(Setup {
        network: topo.network.clone(),
        consensus: topo.consensus.to_string(),
        chain_id: topo.chain_id,
        targets: chosen.iter().map(|n| n.rpc_url()).collect(),
        ws: chosen[0].ws_url(),
        observer_http: chosen[0].rpc_url(),
        funder: state.plan.accounts[0].signer(),
        funder_rpc: chosen[0].rpc_url(),
        simple: state.contracts[SIMPLE_KEY],
        medical: state.contracts[MEDICAL_KEY],
        pids: nodes
            .iter()
            .filter_map(|n| state.pids.get(&n.name).map(|p| (n.name.clone(), *p)))
            .collect(),
        containers: match state.kind() {
            Kind::Docker => {
                let rt = DockerRuntime::connect(&state.plan.topology).await?;
                Some(
                    nodes
                        .iter()
                        .map(|n| {
                            (
                                n.name.clone(),
                                container_plan::container_name(&state.plan, n),
                                rt.engine(&state.plan, &n.hospital).clone(),
                            )
                        })
                        .collect(),
                )
            }
            Kind::Process => None,
        },
        drain,
        seed: state.plan.seed,
        created: created.then_some(state),
    })
}

async fn external(opts: &BenchOptions, url: &str) -> anyhow::Result<Setup> {
    let key = opts
        .key
        .as_deref()
        .ok_or_else(|| InputError::new("--rpc needs --key: a funded private key that deploys the contracts and funds the workers"))?;
    let funder = parse_key(key)?;
    let url = &endpoint::parse("--rpc", url, &["http", "https"])?;
    let ws = match &opts.ws {
        Some(ws) => endpoint::parse("--ws", ws, &["ws", "wss"])?,
        None => endpoint::default_ws(url),
    };
    let rpc = crate::rpc::Rpc::new(url)?;
    let chain_id: String = rpc
        .call("eth_chainId", serde_json::json!([]))
        .await
        .with_context(|| {
            format!("--rpc {url}: no JSON-RPC answer; is a node serving HTTP JSON-RPC there?")
        })?;
    endpoint::check_ws(&ws, opts.ws.is_some()).await?;
    let deployed = contract::deploy(url, &funder, &[Which::Medical, Which::Simple], &[]).await?;
    Ok(Setup {
        network: "external".into(),
        consensus: "external".into(),
        chain_id: crate::rpc::parse_hex_u64(&chain_id)?,
        targets: vec![url.to_string()],
        ws,
        observer_http: url.to_string(),
        funder_rpc: url.to_string(),
        funder,
        simple: deployed[SIMPLE_KEY],
        medical: deployed[MEDICAL_KEY],
        pids: vec![],
        containers: None,
        drain: Duration::from_secs(120),
        seed: rand::random(),
        created: None,
    })
}

async fn drive(
    opts: &BenchOptions,
    scenario: &Scenario,
    setup: &Setup,
) -> anyhow::Result<BenchReport> {
    let tag: u64 = rand::random::<u64>() >> 16;
    let keys: Vec<PrivateKeySigner> = (0..scenario.workers)
        .map(|w| keys::derive(setup.seed, &format!("bench/{tag:x}/{w}")).signer())
        .collect();
    let mut env = Env {
        tag,
        simple: setup.simple,
        medical: setup.medical,
        workers: keys.iter().map(|k| k.address()).collect(),
        opened_accounts: 0,
        opened_emrs: 0,
        emr_transfers: 0,
        next_sequence: vec![1; keys.len()],
    };
    let say = |m: String| {
        if !opts.quiet {
            eprintln!("{m}");
        }
    };
    say(format!(
        "bench {}: {} rounds, {} workers → {}",
        scenario.name,
        scenario.rounds.len(),
        scenario.workers,
        setup.targets.join(", ")
    ));
    let medical = (scenario.contract == ContractKind::Medical).then_some((setup.medical, &env));
    let workers = setup_workers(
        &setup.funder,
        &setup.funder_rpc,
        &setup.targets,
        keys,
        medical,
    )
    .await?;
    env.next_sequence = vec![1; workers.len()];
    let mut fleets = std::collections::HashMap::new();
    for round in &scenario.rounds {
        if let scenario::Workload::DeviceFleet { devices, .. } = round.workload {
            say(format!(
                "round {}: setting up {devices} simulated devices (fund + register)",
                round.label
            ));
            let fleet = fleet::setup(
                &fleet::SetupInputs {
                    funder: &setup.funder,
                    funder_rpc: &setup.funder_rpc,
                    chain_id: setup.chain_id,
                    medical: setup.medical,
                    targets: &setup.targets,
                    seed: setup.seed,
                    tag,
                },
                &round.label,
                devices,
            )
            .await?;
            say(format!(
                "round {}: {devices} devices ready in {:.1} s",
                round.label, fleet.setup_s
            ));
            fleets.insert(round.label.clone(), fleet);
        }
    }

    let tracker = Tracker::new(scenario.confirmations);
    let stop = Arc::new(Notify::new());
    let observer = tokio::spawn(observer::run(
        tracker.clone(),
        setup.ws.clone(),
        setup.observer_http.clone(),
        stop.clone(),
    ));

    let docker_monitor = setup
        .containers
        .as_ref()
        .map(|targets| DockerMonitor::start(targets.clone()));
    let mut targets = setup.pids.clone();
    targets.push(resources::self_usage_target());
    let monitor = Arc::new(std::sync::Mutex::new(ProcessMonitor::new(targets)));
    let monitor_stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (m, s) = (monitor.clone(), monitor_stop.clone());
        tokio::spawn(async move {
            // Bounded by the run: stops when the flag is set.
            while !s.load(Ordering::Relaxed) {
                if let Ok(mut g) = m.lock() {
                    g.sample();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };

    let cancel = Arc::new(Notify::new());
    let cancelled = Arc::new(AtomicBool::new(false));
    let ctrlc = {
        let (c, f) = (cancel.clone(), cancelled.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                f.store(true, Ordering::Relaxed);
                c.notify_waiters();
            }
        })
    };

    let mut engine = Engine {
        chain_id: setup.chain_id,
        workers,
        tracker: tracker.clone(),
        env,
        drain: setup.drain,
        cancel: cancel.clone(),
        cancelled: cancelled.clone(),
        fleets,
    };
    let mut rounds = Vec::new();
    let mut failure = None;
    for round in &scenario.rounds {
        if cancelled.load(Ordering::Relaxed) {
            break;
        }
        if observer.is_finished() {
            failure = Some(anyhow!(
                "the block observer stopped; is the node's WebSocket endpoint up?"
            ));
            break;
        }
        let bar = if opts.quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::new(match round.length {
                scenario::Length::Count(n) => n,
                scenario::Length::Seconds(_) => 0,
            });
            b.set_style(
                ProgressStyle::with_template("{spinner} round {msg} [{elapsed}] {pos}/{len}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b.set_message(format!("{} ({})", round.label, round.workload.op()));
            b
        };
        let progress = |sent: u64, _total: u64| bar.set_position(sent);
        match engine.run_round(round, &progress).await {
            Ok(r) => {
                bar.finish_and_clear();
                say(format!(
                    "round {}: {} succ, {} fail, {:.1} TPS, avg latency {:.2} s",
                    r.label, r.succ, r.fail, r.throughput_tps, r.avg_latency_s
                ));
                rounds.push(r);
            }
            Err(e) => {
                bar.finish_and_clear();
                failure = Some(e);
                break;
            }
        }
    }
    stop.notify_waiters();
    monitor_stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    ctrlc.abort();
    observer.abort();
    let usage = monitor.lock().map(|m| m.finish()).unwrap_or_default();
    let (driver, mut nodes): (Vec<_>, Vec<_>) = usage
        .into_iter()
        .partition(|u| u.node == resources::self_usage_target().0);
    if let Some(m) = docker_monitor {
        nodes.extend(m.finish().await);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(BenchReport {
        schema: SCHEMA,
        network: setup.network.clone(),
        scenario: scenario.name.clone(),
        consensus: setup.consensus.clone(),
        runtime: if setup.containers.is_some() {
            "docker".into()
        } else if setup.pids.is_empty() {
            String::new()
        } else {
            "process".into()
        },
        rounds,
        resources: nodes,
        driver: driver.into_iter().next(),
        partial: cancelled.load(Ordering::Relaxed),
    })
}
