//! A network's life as other commands need it, over whichever runtime runs
//! it: find a running network or bring one up, make sure the contracts are
//! deployed, stop every node, tear down. `bench` (and any later command
//! that needs a network) uses this instead of repeating `up` and `down`.

use std::path::PathBuf;

use crate::contract::Which;
use crate::runtime::Kind;
use crate::state::State;

use super::lock::NetworkLock;
use super::{deploy, down, select, status, up};

/// Which network a command that needs one running should use, and how to
/// bring it up when it is not running.
#[derive(Debug, Clone)]
pub struct Want {
    /// `$MEDCHAIN_HOME`.
    pub home: PathBuf,
    /// `--network`, if given.
    pub network: Option<String>,
    /// `-f FILE`, if given: the topology to use (and to bring up).
    pub file: Option<PathBuf>,
    /// Runtime for a network brought up here (`None`: the default).
    pub runtime: Option<Kind>,
    /// No progress lines.
    pub quiet: bool,
}

/// A running network and whether this invocation brought it up (and so
/// should tear it down).
pub struct Running {
    /// Its state.
    pub state: State,
    /// Brought up by this invocation.
    pub created: bool,
    /// The network's lock when this invocation changes the network (it
    /// brought it up, so it will tear it down): keep it until then.
    pub lock: Option<NetworkLock>,
}

/// The topology file used when neither `--network` nor `-f` is given.
pub(crate) const DEFAULT_FILE: &str = "medchain.yaml";

/// The network `want` names, running: `--network`; else `-f`'s network;
/// else the one [`select`] finds under `--home` (the only one running);
/// else `./medchain.yaml`'s. When its nodes do not all run, it is brought
/// up from the topology file (and `created` is set).
pub(crate) async fn load_or_up(want: &Want) -> anyhow::Result<Running> {
    let file = want
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
    let name = match (&want.network, &want.file) {
        (Some(n), _) => select(&want.home, Some(n), &file)?,
        (None, Some(f)) => super::files::load_topology(f)?.network,
        (None, None) => match select(&want.home, None, &file) {
            Ok(n) => n,
            Err(e) if !file.exists() => return Err(e.into()),
            Err(_) => super::files::load_topology(&file)?.network,
        },
    };
    if let Ok(state) = State::load(&want.home, &name) {
        if all_alive(&state).await {
            return Ok(Running {
                state,
                created: false,
                lock: None,
            });
        }
    }
    let outcome = up::up(&up::UpOptions {
        file,
        home: want.home.clone(),
        dry_run: false,
        seed: None,
        geth: None,
        quiet: want.quiet,
        no_deploy: false,
        runtime: want.runtime,
    })
    .await?;
    match outcome {
        up::UpOutcome::Running { state, lock, .. } => Ok(Running {
            state: *state,
            created: true,
            lock,
        }),
        up::UpOutcome::Planned(_) => anyhow::bail!("`up` planned instead of starting"),
    }
}

/// Whether the network has nodes and every one of them runs.
pub(crate) async fn all_alive(state: &State) -> bool {
    if state.plan.nodes.is_empty() {
        return false;
    }
    let alive = status::alive(state).await.unwrap_or_default();
    !alive.is_empty() && alive.iter().all(|a| *a)
}

/// Deploys the records contract and Simple unless both are recorded, under the
/// network's lock (taken for the deployment when `running` holds none).
pub(crate) async fn ensure_contracts(running: &mut Running) -> anyhow::Result<()> {
    let state = &running.state;
    let wanted = [Which::records(state.plan.topology.privacy), Which::Simple];
    if wanted
        .iter()
        .all(|w| state.contracts.contains_key(w.state_key()))
    {
        return Ok(());
    }
    let _lock = match running.lock {
        Some(_) => None,
        None => Some(lock_and_reload(&mut running.state)?),
    };
    deploy::deploy(&mut running.state, &wanted).await
}

/// Locks the network of `state` and reloads its state as of holding the
/// lock.
fn lock_and_reload(state: &mut State) -> anyhow::Result<NetworkLock> {
    let network = state.plan.topology.network.clone();
    let home = state
        .plan
        .dir
        .parent()
        .unwrap_or(&state.plan.dir)
        .to_path_buf();
    let lock = NetworkLock::acquire(&home, &network)?;
    *state = State::load(&home, &network)?;
    Ok(lock)
}

/// Stops every node and deletes the network's data (a network brought up
/// for one run). The caller holds the network's lock.
pub(crate) async fn teardown(state: State) -> anyhow::Result<()> {
    down::down(state, true).await.map(|_| ())
}
