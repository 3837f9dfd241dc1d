//! `medchain up`: topology file → plan → running, peered, advancing network.
//!
//! This file decides what to do (new network, resume, already running,
//! refuse) and records the state; [`converge`](super::converge) does the
//! starting and peering. If anything fails or the user presses Ctrl-C,
//! every node this invocation started is stopped again: nothing
//! half-started is left running.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::converge::prepare_start_and_converge;
use super::down::stop_all;
use super::files::{ensure_dag, load_topology, write_files};
use super::lock::NetworkLock;
use super::orphans::{self, stop_strays};
use crate::contract::Which;
use crate::error::InputError;
use crate::geth;
use crate::keys::KeySource;
use crate::network::deploy;
use crate::plan::{self, Plan, PlanInputs};
use crate::ports;
use crate::progress::Progress;
use crate::runtime::{self, AnyRuntime, Kind, Runtime};
use crate::state::{State, SCHEMA};
use crate::table::Table;
use crate::topology::Topology;

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
        /// The network's lock, held until this is dropped: a caller that
        /// goes on changing the network (`bench`) keeps it.
        lock: Option<NetworkLock>,
    },
}

/// Brings the network described by `opts.file` up (or resumes it), holding
/// its lock: a network that exists is locked before its state is read, a
/// new one just before its first file is written (so bad input creates
/// nothing). A dry run takes no lock.
pub async fn up(opts: &UpOptions) -> anyhow::Result<UpOutcome> {
    // Ctrl-C ends it (stopping what it started): see `apply`.
    let _handled = crate::interrupt::handled_here();
    let progress = Progress::new(opts.quiet);
    let topo = load_topology(&opts.file)?;
    let lock = match opts.dry_run || !opts.home.join(&topo.network).is_dir() {
        true => None,
        false => Some(NetworkLock::acquire(&opts.home, &topo.network)?),
    };
    // Without the lock a network is new: one whose state appears meanwhile
    // is refused when the lock is taken.
    let existing = match State::path(&opts.home, &topo.network).is_file() {
        true if opts.dry_run || lock.is_some() => Some(State::load(&opts.home, &topo.network)?),
        // Data without its state (deleted): a new plan would not match the
        // chain there. State::load says what to do.
        false if opts.home.join(&topo.network).join("nodes").is_dir() => {
            State::load(&opts.home, &topo.network)?;
            None
        }
        _ => None,
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
        (None, None) => runtime::default_kind().await,
    };
    let rt = runtime::connect(kind, &topo).await?;
    up_on(&rt, opts, topo, existing, progress, lock).await
}

/// `up` on a chosen runtime: resume checks, plan, then apply.
async fn up_on(
    rt: &AnyRuntime,
    opts: &UpOptions,
    topo: Topology,
    existing: Option<State>,
    progress: Progress,
    lock: Option<NetworkLock>,
) -> anyhow::Result<UpOutcome> {
    let key_source = choose_keys(opts, &topo, existing.as_ref())?;
    if let Some(prev) = &existing {
        if let Some(height) = already_running(rt, opts, prev).await? {
            return Ok(UpOutcome::Running {
                state: Box::new(prev.clone()),
                elapsed: progress.elapsed(),
                converged: progress.elapsed(),
                height,
                already: true,
                lock,
            });
        }
    }
    let plan = plan_network(opts, &topo, key_source, existing.as_ref())?;
    rt.check_plan(&plan)?;
    if opts.dry_run {
        return Ok(UpOutcome::Planned(Box::new(plan)));
    }
    let contracts = existing.map(|e| e.contracts).unwrap_or_default();
    apply(rt, opts, plan, contracts, progress, lock).await
}

/// Where keys derive from: a resumed network keeps its own (and refuses a
/// different topology or `--seed`); a new one takes `--seed` or the file's
/// `seed` (deterministic test keys), else a fresh secret from the OS
/// random generator.
fn choose_keys(
    opts: &UpOptions,
    topo: &Topology,
    existing: Option<&State>,
) -> Result<KeySource, InputError> {
    let Some(prev) = existing else {
        return Ok(KeySource::new(opts.seed.or(topo.seed)));
    };
    if prev.plan.topology != *topo {
        return Err(InputError::new(format!(
            "{}: network {:?} already exists in {} with a different topology; run `medchain down --purge` to start over, or rename `network`",
            opts.file.display(),
            topo.network,
            opts.home.display()
        )));
    }
    if let Some(s) = opts
        .seed
        .filter(|s| Some(*s) != prev.plan.key_source.seed())
    {
        return Err(InputError::new(format!(
            "--seed {s}: network {:?} already has its keys ({}); they cannot change. Drop --seed or `medchain down --purge` first",
            topo.network,
            prev.plan.key_source.describe()
        )));
    }
    Ok(prev.plan.key_source.clone())
}

/// For a network that exists: the height when all its nodes already run,
/// an error when only some do (resuming would fork it), `None` when none
/// runs and it can be started again.
async fn already_running(
    rt: &AnyRuntime,
    opts: &UpOptions,
    prev: &State,
) -> anyhow::Result<Option<u64>> {
    let mut running: Vec<&str> = Vec::new();
    for n in &prev.plan.nodes {
        if let Some(h) = prev.handle(&n.name) {
            if rt.is_running(n, &h).await {
                running.push(n.name.as_str());
            }
        }
    }
    if opts.dry_run || running.is_empty() {
        return Ok(None);
    }
    if running.len() == prev.plan.nodes.len() {
        let height = super::control::block_number(rt, &prev.plan, &prev.plan.nodes[0])
            .await
            .unwrap_or(0);
        return Ok(Some(height));
    }
    Err(InputError::new(format!(
        "network {:?} is partly running ({}); run `medchain down` first, then `medchain up`",
        prev.plan.topology.network,
        running.join(", ")
    ))
    .into())
}

/// The plan to apply. A resumed network keeps its endpoints (device
/// configs and tools point at them) unless something else took one
/// meanwhile.
fn plan_network(
    opts: &UpOptions,
    topo: &Topology,
    key_source: KeySource,
    existing: Option<&State>,
) -> anyhow::Result<Plan> {
    let previous: Option<Vec<_>> = existing.map(|e| e.plan.nodes.iter().map(|n| n.ports).collect());
    let dir = opts.home.join(&topo.network);
    let ports = if opts.dry_run {
        ports::choose(
            plan::node_count(topo),
            previous.as_deref(),
            &BTreeSet::new(),
        )?
    } else {
        ports::Registry::machine().reserve(&dir, plan::node_count(topo), previous.as_deref())?
    };
    Ok(plan::plan(
        topo,
        &PlanInputs {
            key_source,
            home: opts.home.clone(),
            ports,
            dag_dir: geth::dag_dir(),
        },
    ))
}

/// Applies a plan: provisions geth, writes the files, records the state,
/// starts and converges the nodes (stopping them all again on failure or
/// Ctrl-C), then deploys the contracts that are missing.
async fn apply(
    rt: &AnyRuntime,
    opts: &UpOptions,
    plan: Plan,
    contracts: std::collections::BTreeMap<String, alloy::primitives::Address>,
    progress: Progress,
    lock: Option<NetworkLock>,
) -> anyhow::Result<UpOutcome> {
    let geth_path = {
        let p = &progress;
        let (path, _) = geth::resolve(plan.geth, opts.geth.as_deref(), &|m| p.step(m))?;
        path
    };
    let lock = match lock {
        Some(l) => l,
        None => lock_new(opts, &plan)?,
    };
    progress.step(format!(
        "network {}: {} nodes, {} (geth {})",
        plan.topology.network,
        plan.nodes.len(),
        plan.topology.consensus,
        plan.geth
    ));
    let mut state = State {
        schema: SCHEMA,
        runtime: rt.kind(),
        geth_path: geth_path.clone(),
        plan,
        pids: Default::default(),
        containers: Default::default(),
        contracts,
    };
    // Recorded before any other file: an `up` interrupted from here on
    // leaves a state the next command reads (and `up` resumes from).
    state.save()?;
    write_files(&state.plan)?;
    if let Some(dag) = &state.plan.dag_dir {
        ensure_dag(&geth_path, dag, &progress).await?;
    }
    let result = crate::interrupt::cancellable(prepare_start_and_converge(
        rt, &geth_path, &mut state, &progress,
    ))
    .await;
    let height = match result {
        Ok(h) => h,
        Err(e) => return Err(abandon(rt, &mut state, &progress, e).await),
    };
    let converged = progress.elapsed();
    if !opts.no_deploy {
        match crate::interrupt::cancellable(deploy_missing(&mut state, &progress)).await {
            Err(e) if crate::interrupt::is_interrupted(&e) => {
                return Err(abandon(rt, &mut state, &progress, e).await)
            }
            r => r?,
        }
    }
    progress.finish();
    Ok(UpOutcome::Running {
        elapsed: progress.elapsed(),
        converged,
        state: Box::new(state),
        height,
        already: false,
        lock: Some(lock),
    })
}

/// After a failure or Ctrl-C: stops every node this command started —
/// those recorded and any it spawned but had not recorded yet (found by
/// datadir or label) — and saves the state with none running. Returns
/// `cause`.
async fn abandon(
    rt: &AnyRuntime,
    state: &mut State,
    progress: &Progress,
    cause: anyhow::Error,
) -> anyhow::Error {
    let _cleaning = crate::interrupt::cleaning();
    progress.step(if crate::interrupt::is_interrupted(&cause) {
        "interrupted: stopping every node this command started"
    } else {
        "failed: stopping every node this command started"
    });
    stop_all(rt, state).await;
    let (network, dir) = (&state.plan.topology.network, &state.plan.dir);
    stop_strays(rt, network, dir, orphans::GRACE).await;
    if let Err(t) = rt.teardown(&state.plan, false).await {
        eprintln!("warning: {t:#}");
    }
    if let Err(e) = state.save() {
        eprintln!("warning: {e:#}");
    }
    cause
}

/// Locks a network this command creates; refused when another command
/// created it since this one looked.
fn lock_new(opts: &UpOptions, plan: &Plan) -> anyhow::Result<NetworkLock> {
    let network = &plan.topology.network;
    let lock = NetworkLock::acquire(&opts.home, network)?;
    if State::path(&opts.home, network).is_file() {
        anyhow::bail!(
            "network {network} was created by another command while this one prepared it; run `medchain up` again"
        );
    }
    Ok(lock)
}

/// Deploys the network's records contract (PrivateRecords, or
/// MedicalRecords under `privacy: clear`) and Simple where the state
/// records no address.
async fn deploy_missing(state: &mut State, progress: &Progress) -> anyhow::Result<()> {
    let missing: Vec<Which> = [Which::records(state.plan.topology.privacy), Which::Simple]
        .into_iter()
        .filter(|w| !state.contracts.contains_key(w.state_key()))
        .collect();
    if !missing.is_empty() {
        progress.step("deploying the records contract and Simple");
        deploy::deploy(state, &missing).await.context(
            "the network is up but deploying the contracts failed; retry with `medchain deploy`",
        )?;
    }
    Ok(())
}

/// Endpoints and where the keys are, printed when `up` ends.
pub(crate) fn summary(
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
    let endpoints = Table {
        title: String::new(),
        headers: ["NODE", "HOSPITAL", "ROLE", "RPC", "WS"]
            .map(String::from)
            .to_vec(),
        rows: plan
            .nodes
            .iter()
            .map(|n| {
                vec![
                    n.name.clone(),
                    n.hospital.clone(),
                    n.role.to_string(),
                    n.rpc_url().unwrap_or_else(|| "- (IPC only)".into()),
                    n.ws_url().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect(),
        note: None,
    };
    out.push_str(&endpoints.render_plain(&[]));
    for (k, a) in &state.contracts {
        let _ = writeln!(out, "contract {k}: {a:#x}");
    }
    let _ = writeln!(out, "{}", crate::privacy::notice(plan.topology.privacy));
    let _ = write!(
        out,
        "chain id {}; {} prefunded test accounts: `medchain accounts` prints their private keys (also in {})",
        plan.topology.chain_id,
        plan.accounts.len(),
        plan.dir.join("keys.json").display()
    );
    out
}
