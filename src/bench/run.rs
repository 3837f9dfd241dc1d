//! A whole `medchain bench` run, as Caliper runs one: use the running
//! network (or bring one up from the topology file, deploy, and tear it
//! down afterwards unless `--keep`; or drive any endpoint with `--rpc`),
//! fund workers, run every round with the observer and the resource
//! monitor alongside, then report and compare against a baseline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Notify;

use super::baseline::{self, Comparison};
use super::endpoint;
use super::engine::{setup_workers, Engine, Worker};
use super::exporter::Announce;
use super::failover::Targets;
use super::fleet::{self, Fleet};
use super::live::{Live, LiveOptions};
use super::observer::{self, Tracker};
use super::private::PrivateBench;
use super::prom_queries::{self, unix_s, PromMonitor, PromResults};
use super::pushgateway::Pushgateway;
use super::report::Progress;
use super::resources::{self, SampledProcesses};
use super::result::{self, BenchReport, ResourceUsage, RoundResult, SCHEMA};
use super::scenario::{self, ContractKind, Round, Scenario, Target};
use super::workload::Env;
use crate::contract::{self, Which, MEDICAL_KEY, SIMPLE_KEY};
use crate::error::InputError;
use crate::keys::KeySource;
use crate::network::lifecycle::{self, Want};
use crate::network::lock::NetworkLock;
use crate::plan::NodePlan;
use crate::records::parse_key;
use crate::runtime::{Kind, NodeMonitor, Runtime};
use crate::state::State;
use crate::topology::{Consensus, Privacy};

/// What `medchain bench` was asked to do.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Scenario file.
    pub scenario: PathBuf,
    /// Topology file (`-f`): its network is used, and brought up when it
    /// does not run. `None`: the only network running under `home`, else
    /// `./medchain.yaml`'s.
    pub file: Option<PathBuf>,
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
    /// Serve the run's Prometheus metrics on loopback while it runs.
    pub metrics: bool,
    /// Push the run's metrics to this Pushgateway after every round.
    pub pushgateway: Option<String>,
}

/// The run's outcome.
#[derive(Debug)]
pub struct BenchOutcome {
    /// The report.
    pub report: BenchReport,
    /// The baseline comparison, when asked for.
    pub comparison: Option<Comparison>,
    /// One line per round whose failure ratio exceeds its `max_fail_pct`.
    pub fail_breaches: Vec<String>,
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
    /// The records layout the records workloads run on (`None`: the
    /// scenario drives Simple); reports name it and warn when it is clear.
    records: Option<Privacy>,
    /// The private path's network and store (`records` is private).
    private: Option<PrivateBench>,
    drain: Duration,
    key_source: KeySource,
    /// The medchain network driven (`None` with `--rpc`).
    state: Option<State>,
    /// Whether this run brought the network up (and tears it down).
    created: bool,
    /// The network's lock while this run changes it (from bringing it up
    /// to tearing it down).
    lock: Option<NetworkLock>,
}

/// Runs the benchmark.
pub async fn bench(opts: &BenchOptions) -> anyhow::Result<BenchOutcome> {
    // Ctrl-C ends it, keeping what was measured and tearing down what it
    // brought up.
    let _handled = crate::interrupt::handled_here();
    let scenario = scenario::load(&opts.scenario)?;
    if let Some(u) = &opts.pushgateway {
        endpoint::parse("--pushgateway", u, &["http", "https"])?;
    }
    let baseline = opts.baseline.as_deref().map(baseline::load).transpose()?;
    if opts.baseline.is_some() && !(opts.max_regression >= 0.0 && opts.max_regression <= 1000.0) {
        return Err(InputError::new(format!(
            "--max-regression {}: expected a percentage between 0 and 1000",
            opts.max_regression
        ))
        .into());
    }
    let setup = match &opts.rpc {
        Some(url) => external(opts, url, &scenario).await?,
        None => local(opts, &scenario).await?,
    };
    // From Ctrl-C on, ending the round, the report and the teardown below
    // are a cleanup the interrupt backstop waits for.
    let _cleaning = CleanupOnInterrupt::start();
    let result = drive(opts, &scenario, &setup).await;
    let _lock = setup.lock;
    if let (true, Some(state)) = (setup.created && !opts.keep, setup.state) {
        // Faults may have started nodes again: their handles are on disk.
        let state = State::load(&opts.home, &setup.network).unwrap_or(state);
        if !opts.quiet {
            eprintln!(
                "tearing down network {} (brought up for this run; --keep keeps it)",
                setup.network
            );
        }
        lifecycle::teardown(state).await?;
    }
    let report = result?;
    let comparison = baseline.map(|b| baseline::compare(&report, &b, opts.max_regression));
    let fail_breaches = result::fail_breaches(&report, &scenario.rounds);
    Ok(BenchOutcome {
        report,
        comparison,
        fail_breaches,
    })
}

/// A medchain network: the running one, or one brought up for this run;
/// contracts deployed; load aimed at the scenario's target nodes.
async fn local(opts: &BenchOptions, scenario: &Scenario) -> anyhow::Result<Setup> {
    let mut running = lifecycle::load_or_up(&Want {
        home: opts.home.clone(),
        network: opts.network.clone(),
        file: opts.file.clone(),
        runtime: opts.runtime,
        quiet: opts.quiet,
    })
    .await?;
    let contracts = async {
        lifecycle::ensure_contracts(&mut running).await?;
        records_layout(&running.state, scenario, &opts.scenario).await
    };
    let medical = crate::interrupt::cancellable(contracts).await;
    if let Err(e) = medical {
        // A network brought up for this run does not outlive it.
        if running.created {
            let _cleaning = crate::interrupt::cleaning();
            if let Err(t) = lifecycle::teardown(running.state).await {
                eprintln!("warning: {t:#}");
            }
        }
        return Err(e);
    }
    let (medical, records, private) = medical?;
    let state = running.state;
    let chosen = targets(opts, scenario, &state)?;
    let topo = &state.plan.topology;
    let drain = match topo.consensus {
        Consensus::Clique => Duration::from_secs((20 * topo.block_period).max(30)),
        Consensus::Ethash => Duration::from_secs(180),
    };
    Ok(Setup {
        network: topo.network.clone(),
        consensus: topo.consensus.to_string(),
        chain_id: topo.chain_id,
        targets: chosen.iter().map(|n| n.1.clone()).collect(),
        ws: chosen[0].2.clone(),
        observer_http: chosen[0].1.clone(),
        funder: state.plan.accounts[0].signer(),
        funder_rpc: chosen[0].1.clone(),
        simple: state.contracts[SIMPLE_KEY],
        medical: medical.unwrap_or_default(),
        records,
        private,
        drain,
        key_source: state.plan.key_source.clone(),
        created: running.created,
        state: Some(state),
        lock: running.lock,
    })
}

/// A records scenario's layout on a medchain network, as (the clear
/// MedicalRecords written to, the layout, the private path): nothing for a
/// scenario that drives Simple; the network's own MedicalRecords on a
/// `privacy: clear` network (a scenario saying `privacy: private` there is
/// an input error); on a private network the private path, unless the
/// scenario says `privacy: clear` (then a clear MedicalRecords deployed
/// for this run) or has a round with no private path yet (an input error
/// naming `privacy`).
async fn records_layout(
    state: &State,
    scenario: &Scenario,
    file: &std::path::Path,
) -> anyhow::Result<(Option<Address>, Option<Privacy>, Option<PrivateBench>)> {
    if scenario.contract != ContractKind::Medical {
        return Ok((None, None, None));
    }
    let network = &state.plan.topology.network;
    if let Some(a) = state.contracts.get(MEDICAL_KEY) {
        if scenario.privacy == Some(Privacy::Private) {
            return Err(InputError::new(format!(
                "{}: privacy: private: network {network} uses the published clear layout (its topology says `privacy: clear`), so it has no private records to bench; remove `privacy` or bench a private network",
                file.display()
            ))
            .into());
        }
        return Ok((Some(*a), Some(Privacy::Clear), None));
    }
    if scenario.privacy == Some(Privacy::Clear) {
        let a = deploy_clear(state).await?;
        return Ok((Some(a), Some(Privacy::Clear), None));
    }
    if let Some(r) = scenario
        .rounds
        .iter()
        .find(|r| !r.workload.has_private_path())
    {
        return Err(InputError::new(format!(
            "{}: privacy: round {:?}: op {} writes the published clear layout only, which network {network} does not use (privacy: private); add `privacy: clear` at the top of the scenario to deploy the clear layout for this run (its readings are public), or bench a network whose topology says `privacy: clear`",
            file.display(),
            r.label,
            r.workload.op()
        ))
        .into());
    }
    Ok((None, Some(Privacy::Private), Some(PrivateBench::of(state)?)))
}

/// A clear-layout MedicalRecords deployed on a private network for this
/// run (`privacy: clear`), with the network's hospitals registered.
async fn deploy_clear(state: &State) -> anyhow::Result<Address> {
    let hospitals: Vec<(String, Address)> = state
        .plan
        .hospital_keys
        .iter()
        .map(|(n, k)| (n.clone(), k.address))
        .collect();
    let deployed = contract::deploy(
        &state.client_rpc()?,
        &state.admin_key(),
        &[Which::Medical],
        &hospitals,
    )
    .await?;
    Ok(deployed[MEDICAL_KEY])
}

/// The nodes that receive load (`target:`), as (node, HTTP URL, WS URL):
/// members, or the one member named. Sealers serve no clients, so a
/// sealer named as target (`sealers` and `all` are refused when the
/// scenario is read) is an input error, as is a network without members.
fn targets<'a>(
    opts: &BenchOptions,
    scenario: &Scenario,
    state: &'a State,
) -> Result<Vec<(&'a NodePlan, String, String)>, InputError> {
    let nodes = &state.plan.nodes;
    let endpoints = |n: &'a NodePlan| Some((n, n.rpc_url()?, n.ws_url()?));
    let chosen: Vec<_> = match &scenario.target {
        Target::Node(name) => {
            let Some(n) = nodes.iter().find(|n| &n.name == name) else {
                return Err(InputError::new(format!(
                    "{}: target: no node {name:?} in network {}; nodes: {}",
                    opts.scenario.display(),
                    state.plan.topology.network,
                    nodes
                        .iter()
                        .map(|n| n.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            endpoints(n).into_iter().collect()
        }
        _ => nodes.iter().filter_map(endpoints).collect(),
    };
    if chosen.is_empty() {
        return Err(InputError::new(format!(
            "{}: target: {}: expected a member node (sealers serve no clients: they open no RPC port); target `members` or name a member of network {}",
            opts.scenario.display(),
            scenario.target,
            state.plan.topology.network
        )));
    }
    Ok(chosen)
}

async fn external(opts: &BenchOptions, url: &str, scenario: &Scenario) -> anyhow::Result<Setup> {
    let key = opts
        .key
        .as_deref()
        .ok_or_else(|| InputError::new("--rpc needs --key: a funded private key that deploys the contracts and funds the workers"))?;
    if scenario.privacy == Some(Privacy::Private) {
        return Err(InputError::new(format!(
            "{}: privacy: private needs a medchain network (its hospitals and its store of sealed readings); with --rpc the records workloads write the clear layout: remove `privacy` or bench a medchain network",
            opts.scenario.display()
        ))
        .into());
    }
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
        records: (scenario.contract == ContractKind::Medical).then_some(Privacy::Clear),
        private: None,
        drain: Duration::from_secs(120),
        key_source: KeySource::new(None),
        state: None,
        created: false,
        lock: None,
    })
}

/// Runs every round against `setup`, with the block observer and the
/// resource monitors alongside, and assembles the report.
async fn drive(
    opts: &BenchOptions,
    scenario: &Scenario,
    setup: &Setup,
) -> anyhow::Result<BenchReport> {
    let say = |m: String| say_unless(opts.quiet, m);
    say(format!(
        "bench {}: {} rounds, {} workers × {} accounts → {}",
        scenario.name,
        scenario.rounds.len(),
        scenario.workers,
        scenario.accounts_per_worker,
        setup.targets.join(", ")
    ));
    let file = opts.scenario.display().to_string();
    let mut faults = super::faulted::prepare(scenario, setup.state.as_ref(), &file).await?;
    let tag: u64 = rand::random::<u64>() >> 16;
    let (env, workers) =
        crate::interrupt::cancellable(prepare_workers(scenario, setup, tag)).await?;
    let fleets = crate::interrupt::cancellable(prepare_fleets(scenario, setup, tag, &say)).await?;
    let signature_us = signature_cost().await;
    let tracker = Tracker::new(scenario.confirmations);
    let stop = Arc::new(Notify::new());
    let endpoints = observer::endpoints(
        setup.state.as_ref(),
        &setup.targets,
        &setup.ws,
        &setup.observer_http,
    );
    let observer = tokio::spawn(observer::run(tracker.clone(), endpoints, stop.clone()));
    let monitors = Monitors::start(setup).await;
    let mut live = start_live(opts, scenario, setup, &tracker, &say).await;
    let interrupt = Interrupt::install();
    let mut engine = Engine {
        chain_id: setup.chain_id,
        workers,
        tracker: tracker.clone(),
        targets: Arc::new(Targets::new(&setup.targets)?),
        env,
        drain: setup.drain,
        cancel: interrupt.cancel.clone(),
        cancelled: interrupt.cancelled.clone(),
        fleets,
        window: scenario.max_in_flight as usize,
        signature_us,
        state: setup.state.clone(),
        private: setup.private.clone().map(Arc::new),
    };
    let mut progress = Progress::new(opts.json.as_deref(), header(scenario, setup));
    let (rounds, failure) = run_rounds(
        opts,
        scenario,
        (&mut engine, faults.as_mut(), &mut live),
        &observer,
        &mut progress,
        &say,
    )
    .await;
    stop.notify_waiters();
    let warnings = live.finish();
    let partial = interrupt.finish();
    observer.abort();
    let (driver, nodes) = monitors.finish().await;
    // Completed rounds are kept when a later one fails (e.g. the observer
    // died): the report says why it is partial.
    let failure = match failure {
        Some(e) if rounds.is_empty() => return Err(e),
        Some(e) => Some(format!("{e:#}")),
        None => None,
    };
    Ok(BenchReport {
        rounds,
        resources: nodes,
        driver,
        partial: partial || failure.is_some(),
        failure,
        warnings,
        ..header(scenario, setup)
    })
}

/// Prints a progress line on stderr, unless `--quiet`.
fn say_unless(quiet: bool, line: String) {
    if !quiet {
        eprintln!("{line}");
    }
}

/// The run's live metrics: served (and announced to the network's
/// monitor) unless `--no-metrics`, pushed when `--pushgateway` is given.
async fn start_live(
    opts: &BenchOptions,
    scenario: &Scenario,
    setup: &Setup,
    tracker: &Arc<Tracker>,
    say: &impl Fn(String),
) -> Live {
    let announce = setup.state.as_ref().map(|s| Announce {
        network_dir: &s.plan.dir,
        network: &setup.network,
        scenario: &scenario.name,
    });
    let pushgateway = (opts.pushgateway.as_deref()).map(|u| Pushgateway::new(u, &setup.network));
    let o = LiveOptions {
        serve: opts.metrics,
        pushgateway,
        announce,
    };
    Live::start(o, tracker, say).await
}

/// One signature's CPU time on this machine, in this binary, µs (off the
/// runtime's threads): the yardstick of the driver's CPU time per
/// transaction. Also raises the open-files limit for the workers' sockets.
async fn signature_cost() -> f64 {
    // Each account keeps its own connections: room for them first.
    super::transport::raise_open_files_limit();
    tokio::task::spawn_blocking(|| super::signer::signature_cost_us(2000))
        .await
        .unwrap_or(0.0)
}

/// The report's run-wide fields, without rounds or figures.
fn header(scenario: &Scenario, setup: &Setup) -> BenchReport {
    BenchReport {
        schema: SCHEMA,
        network: setup.network.clone(),
        scenario: scenario.name.clone(),
        consensus: setup.consensus.clone(),
        runtime: setup
            .state
            .as_ref()
            .map(|s| s.kind().to_string())
            .unwrap_or_default(),
        records_layout: setup.records.map(|p| p.to_string()),
        warnings: if setup.records == Some(Privacy::Clear) {
            vec![crate::privacy::notice(Privacy::Clear).to_string()]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

/// The run's worker keys (derived from the network's key source and a per-run
/// tag, so runs never share accounts), funded and, for the medical
/// contract, registered; and the environment the workloads read.
async fn prepare_workers(
    scenario: &Scenario,
    setup: &Setup,
    tag: u64,
) -> anyhow::Result<(Env, Vec<Worker>)> {
    // Each worker sends from accounts_per_worker accounts, each over its
    // own ordered connection.
    let keys: Vec<PrivateKeySigner> = (0..scenario.workers * scenario.accounts_per_worker)
        .map(|w| {
            setup
                .key_source
                .derive(&format!("bench/{tag:x}/{w}"))
                .signer()
        })
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
    let clear = setup.records == Some(Privacy::Clear);
    let medical = clear.then_some((setup.medical, &env));
    let mut workers = setup_workers(
        &setup.funder,
        &setup.funder_rpc,
        &setup.targets,
        keys,
        medical,
    )
    .await?;
    if let Some(pb) = &setup.private {
        let devices = pb.setup(&env.workers, tag, "").await?;
        for (w, d) in workers.iter_mut().zip(devices) {
            w.private = Some(d);
        }
    }
    env.next_sequence = vec![1; workers.len()];
    Ok((env, workers))
}

/// Sets up the simulated ESP32 fleet of every `device-fleet` round (funded
/// and registered before the first round starts), by round label.
async fn prepare_fleets(
    scenario: &Scenario,
    setup: &Setup,
    tag: u64,
    say: &impl Fn(String),
) -> anyhow::Result<HashMap<String, Fleet>> {
    let mut fleets = HashMap::new();
    for round in &scenario.rounds {
        let scenario::Workload::DeviceFleet {
            devices, transport, ..
        } = round.workload
        else {
            continue;
        };
        say(format!(
            "round {}: setting up {devices} simulated devices (fund + register)",
            round.label
        ));
        let inputs = fleet::SetupInputs {
            funder: &setup.funder,
            funder_rpc: &setup.funder_rpc,
            chain_id: setup.chain_id,
            medical: setup.medical,
            targets: &setup.targets,
            keys: &setup.key_source,
            tag,
            private: setup.private.as_ref(),
        };
        let mut fleet = fleet::setup(&inputs, &round.label, devices).await?;
        if transport == scenario::FleetTransport::Mqtt {
            say(format!(
                "round {}: connecting {devices} devices to the broker (transport: mqtt)",
                round.label
            ));
            connect_over_mqtt(&mut fleet, setup, &round.label).await?;
        }
        say(format!(
            "round {}: {devices} devices ready in {:.1} s",
            round.label, fleet.setup_s
        ));
        fleets.insert(round.label.clone(), fleet);
    }
    Ok(fleets)
}

/// Gives every device of `fleet` its MQTT connection and starts the
/// gateway's MQTT bridge for the hospitals they send to.
async fn connect_over_mqtt(fleet: &mut Fleet, setup: &Setup, round: &str) -> anyhow::Result<()> {
    let plan = &setup
        .state
        .as_ref()
        .ok_or_else(|| {
            InputError::new(format!(
                "round {round}: transport: mqtt needs a medchain network with its broker, not --rpc"
            ))
        })?
        .plan;
    let context = |e: anyhow::Error| e.context(format!("round {round}: transport: mqtt"));
    fleet.bridges = Some(
        super::fleet_mqtt::bridges(plan, &setup.targets)
            .await
            .map_err(context)?,
    );
    let devices: Vec<(String, String)> = fleet
        .devices
        .iter()
        .map(|d| (d.url.clone(), format!("{:#x}", d.signer.address())))
        .collect();
    let links = super::fleet_mqtt::connect_devices(plan, &devices)
        .await
        .map_err(context)?;
    for (d, link) in fleet.devices.iter_mut().zip(links) {
        d.mqtt = Some(link);
    }
    Ok(())
}

/// Runs the rounds in order until one fails, Ctrl-C, or the observer
/// stops; returns the rounds that completed and the failure, if any. Each
/// round's result goes to the JSON report (`progress`) as soon as it ends.
async fn run_rounds(
    opts: &BenchOptions,
    scenario: &Scenario,
    (engine, mut faults, live): (
        &mut Engine,
        Option<&mut super::faulted::FaultNet>,
        &mut Live,
    ),
    observer: &tokio::task::JoinHandle<anyhow::Result<()>>,
    report: &mut Progress,
    say: &impl Fn(String),
) -> (Vec<RoundResult>, Option<anyhow::Error>) {
    let mut rounds = Vec::new();
    for (i, round) in scenario.rounds.iter().enumerate() {
        if engine.cancelled.load(Ordering::Relaxed) {
            break;
        }
        if observer.is_finished() {
            let e = anyhow!("the block observer stopped; is the node's WebSocket endpoint up?");
            return (rounds, Some(e));
        }
        let bar = round_bar(opts.quiet, round);
        let progress = |sent: u64, _total: u64| bar.set_position(sent);
        let net = faults.as_deref_mut();
        live.round_starts(&engine.tracker, i + 1, &round.label);
        let began = SystemTime::now();
        let result = super::faulted::run_round(net, engine, round, &progress, say).await;
        bar.finish_and_clear();
        live.round_ended(&engine.tracker).await;
        match result {
            Ok(mut r) => {
                if let Some(m) = &round.monitors {
                    r.prometheus = Some(query_prometheus(m, began, say).await);
                }
                say(format!(
                    "round {}: {} succ, {} fail, {:.1} TPS, avg latency {}",
                    r.label,
                    r.succ,
                    r.fail,
                    r.throughput_tps,
                    with_unit(&super::report::latency_cell(r.avg_latency_s))
                ));
                if let (Some(s), Some(t)) = (&r.send_shortfall, r.target_tps) {
                    say(format!(
                        "round {}: sent {:.1} TPS, {:.1}% of the target {t:.1} TPS; bound by {}: {}",
                        r.label, r.send_rate_tps, s.achieved_pct, s.cause, s.detail
                    ));
                }
                report.round_done(&r);
                rounds.push(r);
            }
            Err(e) => return (rounds, Some(e)),
        }
    }
    (rounds, None)
}

/// The round's Prometheus queries over its window (from `began` to now);
/// what could not be queried is said now and kept in the result.
async fn query_prometheus(
    m: &PromMonitor,
    began: SystemTime,
    say: &impl Fn(String),
) -> PromResults {
    let r = prom_queries::evaluate(m, unix_s(began), unix_s(SystemTime::now())).await;
    for w in &r.warnings {
        say(format!("warning: prometheus: {w}"));
    }
    r
}

/// A latency cell with its unit: cells in seconds carry none.
fn with_unit(cell: &str) -> String {
    if cell.ends_with("ms") {
        cell.to_string()
    } else {
        format!("{cell} s")
    }
}

/// A round's progress bar (hidden with `--quiet`).
fn round_bar(quiet: bool, round: &Round) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
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
}

/// The driver's own resource use and the nodes', sampled while the rounds
/// run (the nodes' through their runtime).
struct Monitors {
    driver: SampledProcesses,
    nodes: NodeMonitor,
}

impl Monitors {
    /// Starts both; a runtime that cannot be reached leaves the node rows
    /// out with a warning rather than failing the run.
    async fn start(setup: &Setup) -> Self {
        let driver = SampledProcesses::start(vec![resources::self_usage_target()]);
        let nodes = match &setup.state {
            None => NodeMonitor::None,
            Some(state) => match state.connect_runtime().await {
                Ok(rt) => {
                    let handles: Vec<_> = state
                        .plan
                        .nodes
                        .iter()
                        .filter_map(|n| state.handle(&n.name).map(|h| (n, h)))
                        .collect();
                    rt.start_monitor(&state.plan, &handles)
                }
                Err(e) => {
                    eprintln!("warning: no node resource figures: {e:#}");
                    NodeMonitor::None
                }
            },
        };
        Self { driver, nodes }
    }

    /// Stops sampling: the driver's row and one row per node.
    async fn finish(self) -> (Option<ResourceUsage>, Vec<ResourceUsage>) {
        let driver = self.driver.finish().await.into_iter().next();
        (driver, self.nodes.finish().await)
    }
}

/// Holds an [`crate::interrupt::cleaning`] guard from Ctrl-C until dropped.
struct CleanupOnInterrupt(tokio::task::JoinHandle<()>);

impl CleanupOnInterrupt {
    fn start() -> Self {
        Self(tokio::spawn(async {
            crate::interrupt::wait().await;
            let _guard = crate::interrupt::cleaning();
            std::future::pending::<()>().await;
        }))
    }
}

impl Drop for CleanupOnInterrupt {
    fn drop(&mut self) {
        // Dropping the task's future drops its guard.
        self.0.abort();
    }
}

/// Ctrl-C during the rounds: sets the flag and wakes the engine, which
/// ends the round early and keeps what was measured.
struct Interrupt {
    cancel: Arc<Notify>,
    cancelled: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    /// Starts listening for Ctrl-C.
    fn install() -> Self {
        let cancel = Arc::new(Notify::new());
        let cancelled = Arc::new(AtomicBool::new(false));
        let task = {
            let (c, f) = (cancel.clone(), cancelled.clone());
            tokio::spawn(async move {
                crate::interrupt::wait().await;
                f.store(true, Ordering::Relaxed);
                c.notify_waiters();
            })
        };
        Self {
            cancel,
            cancelled,
            task,
        }
    }

    /// Stops listening; whether Ctrl-C was pressed.
    fn finish(self) -> bool {
        self.task.abort();
        self.cancelled.load(Ordering::Relaxed)
    }
}
