//! `medchain up`: topology file → plan → running, peered, advancing network.
//!
//! Order matters: every node starts with sealing configured but stopped, the
//! planned edges are added with `admin_addPeer` and confirmed in
//! `admin_peers`, and only then do sealers start (`miner_start`), so no
//! Clique signer seals a lonely fork it cannot leave. If anything fails or
//! the user presses Ctrl-C, every node this invocation started is stopped
//! again: nothing half-started is left running.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use serde_json::json;

use crate::contract::{Which, MEDICAL_KEY, SIMPLE_KEY};
use crate::error::InputError;
use crate::geth;
use crate::keys;
use crate::network::deploy;
use crate::plan::{self, Plan, PlanInputs, Role};
use crate::ports;
use crate::progress::Progress;
use crate::rpc::Rpc;
use crate::runtime::docker::{self, DockerRuntime};
use crate::runtime::process::ProcessRuntime;
use crate::runtime::{Kind, Runtime};
use crate::state::{State, SCHEMA};
use crate::topology::{self, Consensus, Topology};

/// What `up` was asked to do.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Topology file.
    pub file: PathBuf,
    /// `$MEDCHAIN_HOME`.
    pub home: PathBuf,
    /// Print the plan and start nothing.
    pub dry_run: bool,
    /// Seed for keys (overrides the file's `seed`).
    pub seed: Option<u64>,
    /// Explicit geth binary.
    pub geth: Option<PathBuf>,
    /// No progress lines.
    pub quiet: bool,
    /// Skip deploying the contracts.
    pub no_deploy: bool,
    /// Runtime to use; `None`: docker when an engine answers, else process
    /// (a network that exists keeps the runtime it was created with).
    pub runtime: Option<Kind>,
}

/// The outcome of a successful `up`.
#[derive(Debug)]
pub enum UpOutcome {
    /// `--dry-run`: the plan that would be applied.
    Planned(Box<Plan>),
    /// The network runs; `elapsed` is command start → peered and advancing.
    Running {
        /// Recorded state.
        state: Box<State>,
        /// Wall time of the whole command.
        elapsed: Duration,
        /// Command start → peered and advancing (before deploying).
        converged: Duration,
        /// Height all nodes agreed on.
        height: u64,
        /// Whether the nodes were already running.
        already: bool,
    },
}

/// Reads and validates the topology file.
pub fn load_topology(file: &Path) -> anyhow::Result<Topology> {
    let text = fs::read_to_string(file).map_err(|e| {
        InputError::new(format!(
            "{}: cannot read the topology file ({e}); pass -f FILE, or create medchain.yaml (see README)",
            file.display()
        ))
    })?;
    Ok(topology::parse(&text, &file.display().to_string())?)
}

/// Brings the network described by `opts.file` up (or resumes it).
pub async fn up(opts: &UpOptions) -> anyhow::Result<UpOutcome> {
    let progress = Progress::new(opts.quiet);
    let topo = load_topology(&opts.file)?;
    let existing = if State::path(&opts.home, &topo.network).is_file() {
        Some(State::load(&opts.home, &topo.network)?)
    } else {
        None
    };
    let kind = match (&existing, opts.runtime) {
        (Some(prev), Some(k)) if prev.kind() != k => {
            return Err(InputError::new(format!(
                "--runtime {k}: network {:?} was created with runtime {}; drop --runtime, or `medchain down --purge` first",
                topo.network,
                prev.kind()
            ))
            .into())
        }
        (Some(prev), _) => prev.kind(),
        (None, Some(k)) => k,
        (None, None) => docker::default_kind().await,
    };
    match kind {
        Kind::Process => up_on(&ProcessRuntime, opts, topo, existing, progress).await,
        Kind::Docker => {
            let rt = DockerRuntime::connect(&topo).await?;
            up_on(&rt, opts, topo, existing, progress).await
        }
    }
}

/// `up` on a chosen runtime.
async fn up_on(
    rt: &impl Runtime,
    opts: &UpOptions,
    topo: Topology,
    existing: Option<State>,
    progress: Progress,
) -> anyhow::Result<UpOutcome> {
    let seed = match &existing {
        Some(prev) => {
            if prev.plan.topology != topo {
                return Err(InputError::new(format!(
                    "{}: network {:?} already exists in {} with a different topology; run `medchain down --purge` to start over, or rename `network`",
                    opts.file.display(),
                    topo.network,
                    opts.home.display()
                ))
                .into());
            }
            if let Some(s) = opts.seed.filter(|s| *s != prev.plan.seed) {
                return Err(InputError::new(format!(
                    "--seed {s}: network {:?} was created with seed {}; its keys cannot change. Drop --seed or `medchain down --purge` first",
                    topo.network, prev.plan.seed
                ))
                .into());
            }
            prev.plan.seed
        }
        None => opts
            .seed
            .or(topo.seed)
            .unwrap_or_else(|| rand::random::<u64>() >> 1),
    };

    if let Some(prev) = &existing {
        let mut running: Vec<&str> = Vec::new();
        for n in &prev.plan.nodes {
            if let Some(h) = prev.handle(&n.name) {
                if rt.is_running(n, &h).await {
                    running.push(n.name.as_str());
                }
            }
        }
        if !opts.dry_run && running.len() == prev.plan.nodes.len() {
            let height = Rpc::new(&prev.plan.nodes[0].rpc_url())?
                .block_number()
                .await
                .unwrap_or(0);
            return Ok(UpOutcome::Running {
                state: Box::new(prev.clone()),
                elapsed: progress.elapsed(),
                converged: progress.elapsed(),
                height,
                already: true,
            });
        }
        if !running.is_empty() && !opts.dry_run {
            return Err(InputError::new(format!(
                "network {:?} is partly running ({}); run `medchain down` first, then `medchain up`",
                topo.network,
                running.join(", ")
            ))
            .into());
        }
    }

    // A resumed network keeps its endpoints (device configs and tools point
    // at them) unless something else took one meanwhile.
    let previous: Option<Vec<_>> = existing
        .as_ref()
        .map(|e| e.plan.nodes.iter().map(|n| n.ports).collect());
    let ports = match previous {
        Some(p) if ports::all_free(&p) => p,
        _ => ports::allocate(plan::node_count(&topo), &BTreeSet::new())?,
    };
    let plan = plan::plan(
        &topo,
        &PlanInputs {
            seed,
            home: opts.home.clone(),
            ports,
            dag_dir: geth::dag_dir(),
        },
    );
    if opts.dry_run {
        return Ok(UpOutcome::Planned(Box::new(plan)));
    }

    let geth_path = {
        let p = &progress;
        let (path, _) = geth::resolve(plan.geth, opts.geth.as_deref(), &|m| p.step(m))?;
        path
    };
    progress.step(format!(
        "network {}: {} nodes, {} (geth {})",
        topo.network,
        plan.nodes.len(),
        topo.consensus,
        plan.geth
    ));

    write_files(&plan)?;
    if let Some(dag) = &plan.dag_dir {
        ensure_dag(&geth_path, dag, &progress)?;
    }

    let mut state = State {
        schema: SCHEMA,
        runtime: rt.name().to_string(),
        geth_path: geth_path.clone(),
        plan,
        pids: Default::default(),
        containers: Default::default(),
        contracts: existing.map(|e| e.contracts).unwrap_or_default(),
    };
    state.save()?;

    let result = tokio::select! {
        r = prepare_start_and_converge(rt, &geth_path, &mut state, &progress) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted by Ctrl-C")),
    };
    match result {
        Ok(height) => {
            let converged = progress.elapsed();
            if !opts.no_deploy {
                let missing: Vec<Which> =
                    [(Which::Medical, MEDICAL_KEY), (Which::Simple, SIMPLE_KEY)]
                        .into_iter()
                        .filter(|(_, k)| !state.contracts.contains_key(*k))
                        .map(|(w, _)| w)
                        .collect();
                if !missing.is_empty() {
                    progress.step("deploying MedicalRecords and Simple");
                    deploy::deploy(&mut state, &missing).await.context(
                        "the network is up but deploying the contracts failed; retry with `medchain deploy`",
                    )?;
                }
            }
            progress.finish();
            Ok(UpOutcome::Running {
                elapsed: progress.elapsed(),
                converged,
                state: Box::new(state),
                height,
                already: false,
            })
        }
        Err(e) => {
            progress.step("failed: stopping every node this command started");
            stop_all(rt, &mut state).await;
            if let Err(t) = rt.teardown(&state.plan, false).await {
                eprintln!("warning: {t:#}");
            }
            let _ = state.save();
            Err(e)
        }
    }
}

/// Stops every node recorded in `state`, all at once, and forgets their
/// handles.
pub async fn stop_all(rt: &impl Runtime, state: &mut State) {
    let stops = state.plan.nodes.iter().filter_map(|n| {
        state.handle(&n.name).map(|h| async move {
            if let Err(e) = rt.stop(n, &h, Duration::from_secs(20)).await {
                eprintln!("warning: {e:#}");
            }
        })
    });
    futures::future::join_all(stops).await;
    state.clear_handles();
}

/// Writes genesis, node keys, keystores, password files and the test
/// accounts' keys into the network's directory.
pub(crate) fn write_files(plan: &Plan) -> anyhow::Result<()> {
    fs::create_dir_all(&plan.dir).with_context(|| format!("creating {}", plan.dir.display()))?;
    fs::write(
        &plan.genesis_path,
        serde_json::to_string_pretty(&plan.genesis)?,
    )
    .with_context(|| format!("writing {}", plan.genesis_path.display()))?;
    keys::write_private(
        &plan.dir.join("keys.json"),
        serde_json::to_string_pretty(&super::accounts::accounts_json(plan))?.as_bytes(),
    )?;
    for n in &plan.nodes {
        keys::write_private(
            &n.datadir.join("geth").join("nodekey"),
            hex::encode(n.node_key.secret).as_bytes(),
        )?;
        if let Some(pw_file) = &n.password_file {
            let pw = keys::password(plan.seed, &n.name);
            keys::write_private(pw_file, pw.as_bytes())?;
            keys::write_keystore(&n.datadir.join("keystore"), &n.account, &pw, plan.seed)?;
        }
    }
    Ok(())
}

/// Initialises every node's chain, in parallel.
async fn init_all(rt: &impl Runtime, geth: &Path, plan: &Plan) -> anyhow::Result<()> {
    let inits = plan.nodes.iter().map(|n| rt.init(geth, plan, n));
    for r in futures::future::join_all(inits).await {
        r?;
    }
    Ok(())
}

/// File name geth gives the epoch-0 DAG (revision 23, seed hash prefix) on
/// little-endian machines; while generating it writes a suffixed temp file.
const DAG_EPOCH0: &str = "full-R23-0000000000000000";

/// Generates the epoch-0 ethash DAG once into the shared cache directory,
/// so miners map one file instead of each building 1 GB.
fn ensure_dag(geth: &Path, dir: &Path, progress: &Progress) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ready = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() == DAG_EPOCH0);
    if ready {
        return Ok(());
    }
    progress.step(format!(
        "generating the shared ethash DAG in {} (one time, ~1 GB, a few minutes)",
        dir.display()
    ));
    let out = std::process::Command::new(geth)
        .args(["makedag", "0"])
        .arg(dir)
        .output()
        .context("running geth makedag")?;
    if !out.status.success() {
        bail!(
            "geth makedag failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Prepares the runtime, initialises the chains, starts nodes, peers them,
/// starts sealing and waits until the chain advances with all nodes
/// agreeing. Returns the agreed height.
async fn prepare_start_and_converge(
    rt: &impl Runtime,
    geth: &Path,
    state: &mut State,
    progress: &Progress,
) -> anyhow::Result<u64> {
    rt.prepare(&state.plan, geth).await?;
    progress.step("initialising chains from genesis");
    init_all(rt, geth, &state.plan).await?;
    progress.step(format!(
        "starting {} geth nodes ({})",
        state.plan.nodes.len(),
        rt.name()
    ));
    // All at once (containers take a moment each); every node that did
    // start is recorded before any error surfaces, so it is stopped again.
    let plan = state.plan.clone();
    let started =
        futures::future::join_all(plan.nodes.iter().map(|n| rt.start(geth, &plan, n))).await;
    let mut first_error = None;
    for (n, r) in plan.nodes.iter().zip(started) {
        match r {
            Ok(h) => state.set_handle(&n.name, h),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    state.save()?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let rpcs: Vec<Rpc> = plan
        .nodes
        .iter()
        .map(|n| Rpc::new(&n.rpc_url()))
        .collect::<anyhow::Result<_>>()?;

    progress.step("waiting for every node's RPC");
    wait_ready(rt, &plan, state, &rpcs).await?;
    wait_unlocked(&plan, &rpcs).await?;
    let start_height = max_height(&rpcs).await;

    progress.step(format!(
        "peering: {} edges ({})",
        plan.edges.len(),
        plan.topology.peering
    ));
    peer(rt, &plan, &rpcs).await?;

    // Members first: on geth v1.13 a node only accepts propagated blocks
    // once marked synced; marked before any block exists, members import
    // every competing first block and follow the heaviest chain.
    for (n, rpc) in plan.nodes.iter().zip(&rpcs) {
        if n.role == Role::Member && plan.geth.members_start_miner_once() {
            rpc.call::<serde_json::Value>("miner_start", plan.geth.miner_start_params())
                .await
                .with_context(|| format!("{}: miner_start", n.name))?;
            rpc.call::<serde_json::Value>("miner_stop", json!([]))
                .await
                .with_context(|| format!("{}: miner_stop", n.name))?;
        }
    }
    let sealers: Vec<usize> = (0..plan.nodes.len())
        .filter(|i| plan.nodes[*i].role == Role::Sealer)
        .collect();
    // Sealers start together; they are marked synced by their own
    // miner_start (a sealer held back would discard the first blocks).
    progress.step("starting sealers");
    for i in &sealers {
        rpcs[*i]
            .call::<serde_json::Value>("miner_start", plan.geth.miner_start_params())
            .await
            .with_context(|| format!("{}: miner_start", plan.nodes[*i].name))?;
    }

    if start_height > 0 {
        rebroadcast_pending(&plan, &rpcs).await;
    }

    progress.step("waiting for the chain to advance and every node to agree");
    let height = wait_agreement(&plan, &rpcs, start_height).await?;
    progress.step(format!(
        "peered and advancing at block {height} after {:.1} s",
        progress.elapsed().as_secs_f64()
    ));
    Ok(height)
}

/// Waits until every node answers JSON-RPC; a node that exits is reported
/// with the end of its log.
async fn wait_ready(
    rt: &impl Runtime,
    plan: &Plan,
    state: &State,
    rpcs: &[Rpc],
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut pending: Vec<usize> = (0..plan.nodes.len()).collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for i in pending {
            let n = &plan.nodes[i];
            if rpcs[i].block_number().await.is_ok() {
                continue;
            }
            let running = match state.handle(&n.name) {
                Some(h) => rt.is_running(n, &h).await,
                None => false,
            };
            if !running {
                bail!(
                    "{}: geth exited during start-up; its last lines:\n{}",
                    n.name,
                    rt.log_tail(plan, n, 15).await
                );
            }
            still.push(i);
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let names: Vec<_> = pending
                .iter()
                .map(|i| plan.nodes[*i].name.as_str())
                .collect();
            bail!(
                "RPC did not answer within 60 s on: {}; see their logs (medchain logs <node>)",
                names.join(", ")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until every node with a keystore has unlocked its account. geth
/// unlocks only after its RPC is up, and a miner started before that fails
/// to seal and does not retry.
async fn wait_unlocked(plan: &Plan, rpcs: &[Rpc]) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    for (n, rpc) in plan.nodes.iter().zip(rpcs) {
        if n.password_file.is_none() {
            continue;
        }
        let account = format!("{:#x}", n.account.address);
        loop {
            let signed = rpc
                .call::<String>("eth_sign", json!([account, "0x00"]))
                .await;
            if signed.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: account {account} was not unlocked within 30 s ({}); see {}",
                    n.name,
                    signed.err().map(|e| e.to_string()).unwrap_or_default(),
                    n.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// On resume, nodes reload their pending transactions from disk and
/// announce them when peering — before the sealers' miners run, when
/// sealers ignore transactions from peers — and nothing announces them
/// again. Re-sending each node's pending transactions to the sealers once
/// sealing runs lets them be mined. Bounded to 10,000 per node; failures
/// (already known, nonce too low) are expected and ignored.
async fn rebroadcast_pending(plan: &Plan, rpcs: &[Rpc]) {
    let sealers: Vec<&Rpc> = plan
        .nodes
        .iter()
        .zip(rpcs)
        .filter(|(n, _)| n.role == Role::Sealer)
        .map(|(_, r)| r)
        .collect();
    for rpc in rpcs {
        let Ok(content) = rpc
            .call::<serde_json::Value>("txpool_content", json!([]))
            .await
        else {
            continue;
        };
        let hashes: Vec<String> = content["pending"]
            .as_object()
            .into_iter()
            .flat_map(|by_sender| by_sender.values())
            .filter_map(|by_nonce| by_nonce.as_object())
            .flat_map(|m| m.values())
            .filter_map(|tx| tx["hash"].as_str().map(str::to_string))
            .take(10_000)
            .collect();
        for h in hashes {
            let Ok(raw) = rpc
                .call::<String>("eth_getRawTransactionByHash", json!([h]))
                .await
            else {
                continue;
            };
            for s in &sealers {
                let _ = s
                    .call::<String>("eth_sendRawTransaction", json!([raw]))
                    .await;
            }
        }
    }
}

async fn max_height(rpcs: &[Rpc]) -> u64 {
    let mut h = 0;
    for r in rpcs {
        h = h.max(r.block_number().await.unwrap_or(0));
    }
    h
}

/// Adds every planned edge and waits until each appears in `admin_peers`.
async fn peer(rt: &impl Runtime, plan: &Plan, rpcs: &[Rpc]) -> anyhow::Result<()> {
    for e in &plan.edges {
        let enode = rt.enode(plan, e.from, e.to).await?;
        let added: bool = rpcs[e.from]
            .call("admin_addPeer", json!([enode]))
            .await
            .with_context(|| format!("{}: admin_addPeer", plan.nodes[e.from].name))?;
        if !added {
            bail!(
                "{}: admin_addPeer refused {}",
                plan.nodes[e.from].name,
                plan.nodes[e.to].name
            );
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut missing = Vec::new();
        for (i, rpc) in rpcs.iter().enumerate() {
            let keys: BTreeSet<String> = rpc.peer_keys().await?.into_iter().collect();
            for e in plan.edges.iter().filter(|e| e.from == i || e.to == i) {
                let other = if e.from == i { e.to } else { e.from };
                if !keys.contains(&plan.nodes[other].node_key.public_hex) {
                    missing.push((i, other));
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let lines: Vec<String> = missing
                .iter()
                .map(|(a, b)| format!("{} lacks peer {}", plan.nodes[*a].name, plan.nodes[*b].name))
                .collect();
            bail!(
                "peering incomplete after 30 s: {}; check the nodes' logs (medchain logs <node>)",
                lines.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long the chain may take to advance once sealing starts.
fn advance_timeout(plan: &Plan) -> Duration {
    match plan.topology.consensus {
        Consensus::Clique => Duration::from_secs(30 + 4 * plan.topology.block_period),
        Consensus::Ethash => Duration::from_secs(300),
    }
}

/// Waits until every node is past `start` and all report the same hash at
/// the lowest head among them.
async fn wait_agreement(plan: &Plan, rpcs: &[Rpc], start: u64) -> anyhow::Result<u64> {
    let limit = advance_timeout(plan);
    let deadline = Instant::now() + limit;
    let mut last;
    loop {
        let mut heights = Vec::new();
        for r in rpcs {
            heights.push(r.block_number().await?);
        }
        let common = *heights.iter().min().unwrap_or(&0);
        if common > start {
            let mut hashes = Vec::new();
            for r in rpcs {
                hashes.push(r.block_hash(common).await?);
            }
            if hashes.iter().all(|h| h.is_some() && *h == hashes[0]) {
                return Ok(common);
            }
            last = format!("nodes disagree on block {common}");
        } else {
            let behind: Vec<String> = plan
                .nodes
                .iter()
                .zip(&heights)
                .filter(|(_, h)| **h <= start)
                .map(|(n, h)| format!("{} at {h}", n.name))
                .collect();
            last = format!("not past block {start}: {}", behind.join(", "));
        }
        if Instant::now() > deadline {
            bail!(
                "the chain did not advance with all nodes agreeing within {} s ({last}); check sealer logs (medchain logs <node>)",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Endpoints and where the keys are, printed when `up` ends.
pub fn summary(
    state: &State,
    elapsed: Duration,
    converged: Duration,
    height: u64,
    already: bool,
) -> String {
    let plan = &state.plan;
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "network {} {}: {} nodes, {} (geth {}), peering {}, block {height}{}",
        plan.topology.network,
        if already { "is already up" } else { "is up" },
        plan.nodes.len(),
        plan.topology.consensus,
        plan.geth,
        plan.topology.peering,
        if already {
            String::new()
        } else {
            format!(
                " — peered and advancing in {:.1} s, ready in {:.1} s",
                converged.as_secs_f64(),
                elapsed.as_secs_f64()
            )
        }
    );
    let _ = writeln!(
        out,
        "{:<28} {:<12} {:<7} {:<24} {:<22}",
        "NODE", "HOSPITAL", "ROLE", "RPC", "WS"
    );
    for n in &plan.nodes {
        let _ = writeln!(
            out,
            "{:<28} {:<12} {:<7} {:<24} {:<22}",
            n.name,
            n.hospital,
            n.role,
            n.rpc_url(),
            n.ws_url()
        );
    }
    for (k, a) in &state.contracts {
        let _ = writeln!(out, "contract {k}: {a:#x}");
    }
    let _ = write!(
        out,
        "chain id {}; {} prefunded test accounts: `medchain accounts` prints their private keys (also in {})",
        plan.topology.chain_id,
        plan.accounts.len(),
        plan.dir.join("keys.json").display()
    );
    out
}
