//! `medchain watch` as a whole: one per network at a time (a lock in
//! `<network dir>/watch/`), the follower deciding alarms into the journal,
//! and one task per sink delivering them, until Ctrl-C or SIGTERM.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, Context};
use tokio::sync::watch;

use super::checkpoint::Checkpoint;
use super::directory::Directory;
use super::exporter::Exporter;
use super::follow::{provider, Follower, Source};
use super::journal::Journal;
use super::metrics::WatchMetrics;
use super::mqtt::MqttSink;
use super::private::{self, PrivateReader};
use super::pseudonym::PseudonymKey;
use super::sink::{feed, Sink};
use super::thresholds::Thresholds;
use super::unreadable::Unreadable;
use super::webhook::Webhook;
use crate::error::InputError;
use crate::privacy::chain::PrivateNet;
use crate::privacy::store::FileStore;
use crate::private_fs;
use crate::state::State;
use crate::topology::{Consensus, Privacy};

/// Confirmation depth on ethash unless `--confirmations` says otherwise:
/// proof of work reorganises its last blocks routinely.
pub const ETHASH_DEPTH: u64 = 3;

/// What `watch` does.
pub struct Options {
    pub thresholds: Thresholds,
    /// Blocks on top of a record before it is alarmed (default: 0 on
    /// clique, [`ETHASH_DEPTH`] on ethash).
    pub confirmations: Option<u64>,
    /// The first block to read when no checkpoint exists (default: the
    /// next block).
    pub from_block: Option<u64>,
    /// Clear networks: the address records are read as (default: the
    /// admin account).
    pub reader: Option<Address>,
    /// Private networks: who opens the sealed readings (required there,
    /// refused on a clear network).
    pub reads_as: Option<ReadsAs>,
    /// The member node to follow (default: the first).
    pub node: Option<String>,
    /// Print notices on stdout (`Some(true)`: as JSON).
    pub terminal: Option<bool>,
    pub mqtt: bool,
    /// Webhook URL and HMAC secret.
    pub webhook: Option<(String, Vec<u8>)>,
    /// Where to keep the checkpoint, journal and cursors (default:
    /// [`dir_of`] the network's directory; `bench` uses its own).
    pub dir: Option<PathBuf>,
}

/// Who `watch` reads a private network's sealed readings as.
pub enum ReadsAs {
    /// A hospital of the network: the custodian of its patients, whose
    /// key opens every version of their data keys.
    Hospital(String),
    /// A reader's wallet key (a doctor with consent).
    Key(PrivateKeySigner),
}

/// The directory `watch` keeps its state in.
pub fn dir_of(network_dir: &Path) -> PathBuf {
    network_dir.join("watch")
}

/// Runs `watch` on `state`'s network until `shutdown` completes.
pub async fn run(
    state: &State,
    opts: Options,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let plan = &state.plan;
    let reader = private_reader(state, &opts)?;
    let dir = match (&opts.dir, &reader) {
        (Some(d), _) => d.clone(),
        (None, Some(r)) => private::state_dir(&dir_of(&plan.dir), r.address()),
        (None, None) => dir_of(&plan.dir),
    };
    private_fs::create_dir(&dir)?;
    let _lock = lock(&dir, &plan.topology.network)?;
    let source = source(state, &opts)?;
    let http = provider(&source.http)?;
    let thresholds = match reader {
        Some(_) => private::resolve_patients(&opts.thresholds, &PrivateNet::of(state)?)?,
        None => opts.thresholds.clone(),
    };
    let checkpoint_path = dir.join("checkpoint.json");
    let checkpoint = position(&http, &source, &dir, &checkpoint_path, opts.from_block).await?;
    let journal = Journal::open(&dir.join("journal.jsonl"))?;
    let sinks = sinks(state, &opts).await?;
    let key = PseudonymKey::load_or_create(&dir.join("pseudonym.key"))?;
    announce(&source, checkpoint.block, &sinks, reader.as_ref());
    let metrics = WatchMetrics::new();
    let exporter = Exporter::start(metrics.clone(), &plan.dir, &plan.topology.network).await?;
    eprintln!("watch: metrics on {}", exporter.url);
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = Vec::new();
    for s in sinks {
        let (cursors, m) = (dir.join("sinks"), metrics.clone());
        tasks.push(tokio::spawn(feed(
            s,
            journal.reader(),
            cursors,
            m,
            stop.clone(),
        )));
    }
    let private = match reader {
        Some(r) => Some(PrivateReader::new(
            http.clone(),
            source.contract,
            r,
            FileStore::open(&plan.dir)?,
        )),
        None => None,
    };
    let follower = Follower {
        dir: Directory::new(plan, &thresholds, key),
        source,
        http,
        journal,
        checkpoint,
        checkpoint_path,
        private,
        unreadable: Unreadable::new(metrics.clone()),
        metrics,
    };
    let following = tokio::spawn(follower.run(stop.clone()));
    shutdown.await;
    stop_tx.send_replace(true);
    let followed = following.await;
    for t in tasks {
        t.await??;
    }
    exporter.finish();
    followed?
}

/// Says on stderr what `watch` follows, from where, into which sinks, and
/// as which reader on a private network.
fn announce(
    source: &Source,
    checkpoint_block: u64,
    sinks: &[Sink],
    reader: Option<&PrivateKeySigner>,
) {
    eprintln!(
        "watch: following {} from block {} ({} confirmation(s)); sinks: {}",
        source.ws,
        checkpoint_block + 1,
        source.depth,
        sinks
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(r) = reader {
        eprintln!(
            "watch: private network: opening sealed readings as {:#x}; alarms carry the decrypted values (docs/alarms.md)",
            r.address()
        );
    }
}

/// Holds `<dir>/watch.lock` for the life of the process.
fn lock(dir: &Path, network: &str) -> anyhow::Result<File> {
    let path = dir.join("watch.lock");
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(private_fs::FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(anyhow!(
            "another `medchain watch` is following network {network} (it holds {}); stop it first",
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).context(format!("locking {}", path.display()))
        }
    }
}

/// The node, contract, reader and depth `opts` ask for.
fn source(state: &State, opts: &Options) -> anyhow::Result<Source> {
    let plan = &state.plan;
    let members: Vec<_> = plan.nodes.iter().filter(|n| n.serves_clients()).collect();
    let node = match &opts.node {
        None => members.first().copied(),
        Some(name) => Some(
            members
                .iter()
                .copied()
                .find(|n| &n.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = members.iter().map(|n| n.name.as_str()).collect();
                    InputError::new(format!(
                        "--node {name:?}: not a member node of network {}; members: {}",
                        plan.topology.network,
                        names.join(", ")
                    ))
                })?,
        ),
    };
    let node = node.ok_or_else(|| anyhow!("{}", state.client_rpc().unwrap_err()))?;
    let depth = opts.confirmations.unwrap_or(match plan.topology.consensus {
        Consensus::Clique => 0,
        Consensus::Ethash => ETHASH_DEPTH,
    });
    Ok(Source {
        http: node.rpc_url().expect("a member serves clients"),
        ws: node.ws_url().expect("a member serves clients"),
        contract: match plan.topology.privacy {
            Privacy::Private => state.private_address()?,
            Privacy::Clear => state.medical_address_for("`medchain watch`")?,
        },
        reader: opts.reader.unwrap_or_else(|| state.admin_key().address()),
        depth,
    })
}

/// The wallet key a private network's records are opened with, from
/// `--hospital` or `--key`; `None` on a clear network. Either flag on the
/// wrong kind of network, or neither on a private one, is an input error.
fn private_reader(state: &State, opts: &Options) -> anyhow::Result<Option<PrivateKeySigner>> {
    let network = &state.plan.topology.network;
    match (state.plan.topology.privacy, &opts.reads_as) {
        (Privacy::Clear, None) => Ok(None),
        (Privacy::Clear, Some(r)) => Err(InputError::new(format!(
            "{}: network {network} is clear (privacy: clear); records are read in clear as --reader ADDRESS there, leave out {0}",
            r.flag()
        ))
        .into()),
        (Privacy::Private, _) if opts.reader.is_some() => Err(InputError::new(format!(
            "--reader: network {network} keeps its records private and an address opens nothing; give --hospital NAME (the custodian) or --key K (a doctor with consent) instead"
        ))
        .into()),
        (Privacy::Private, None) => Err(InputError::new(format!(
            "--hospital/--key: network {network} keeps its records private, so watch must open them as a reader; give --hospital NAME (the custodian hospital) or --key K (a doctor with consent)"
        ))
        .into()),
        (Privacy::Private, Some(ReadsAs::Key(k))) => Ok(Some(k.clone())),
        (Privacy::Private, Some(ReadsAs::Hospital(h))) => {
            Ok(Some(PrivateNet::of(state)?.hospital(h)?.clone()))
        }
    }
}

impl ReadsAs {
    /// The flag that gave it.
    fn flag(&self) -> &'static str {
        match self {
            ReadsAs::Hospital(_) => "--hospital",
            ReadsAs::Key(_) => "--key",
        }
    }
}

/// Where to start: the checkpoint when it is of this chain and contract,
/// else afresh (the journal and cursors of another chain are moved aside).
async fn position(
    http: &alloy::providers::DynProvider,
    source: &Source,
    dir: &Path,
    path: &Path,
    from_block: Option<u64>,
) -> anyhow::Result<Checkpoint> {
    let genesis = block_hash(http, 0).await?;
    if let Some(c) = Checkpoint::load(path)? {
        if c.genesis == genesis && c.contract == source.contract {
            if from_block.is_some() {
                eprintln!(
                    "watch: --from-block ignored: resuming after block {} from {}",
                    c.block,
                    path.display()
                );
            }
            return Ok(c);
        }
        let aside = dir.join(format!("previous-{}", std::process::id()));
        eprintln!(
            "watch: {} is of another chain or contract (network recreated or redeployed); starting afresh, the old state moved to {}",
            path.display(),
            aside.display()
        );
        private_fs::create_dir(&aside)?;
        for name in ["checkpoint.json", "journal.jsonl", "sinks"] {
            let _ = std::fs::rename(dir.join(name), aside.join(name));
        }
    }
    let head = http.get_block_number().await?;
    let next = from_block
        .unwrap_or(head.saturating_sub(source.depth) + 1)
        .max(1);
    let parent = block_hash(http, next - 1).await?;
    let c = Checkpoint::before(genesis, source.contract, next, parent);
    c.save(path)?;
    Ok(c)
}

/// The hash of block `n` (which must exist).
async fn block_hash(http: &alloy::providers::DynProvider, n: u64) -> anyhow::Result<B256> {
    let b = http
        .get_block_by_number(n.into())
        .await
        .with_context(|| format!("reading block {n}"))?
        .ok_or_else(|| {
            InputError::new(format!(
                "--from-block: block {n} does not exist yet; give a block at or below the head"
            ))
        })?;
    Ok(b.header.hash)
}

/// The sinks `opts` asks for, each checked once now.
async fn sinks(state: &State, opts: &Options) -> anyhow::Result<Vec<Sink>> {
    let mut out = Vec::new();
    if let Some(json) = opts.terminal {
        out.push(Sink::Terminal { json });
    }
    if opts.mqtt {
        let dir = &state.plan.dir;
        if crate::broker::server::running(dir).is_none() {
            return Err(InputError::new(format!(
                "--mqtt: network {}'s broker is not running; start it with `medchain broker start`",
                state.plan.topology.network
            ))
            .into());
        }
        let creds = crate::broker::server::dir_of(dir).join("credentials/watch.json");
        let mut m = MqttSink::new(creds, &state.plan.topology.network);
        m.check().await?;
        out.push(Sink::Mqtt(Box::new(m)));
    }
    if let Some((url, secret)) = &opts.webhook {
        out.push(Sink::Webhook(Webhook::new(url, secret.clone())?));
    }
    Ok(out)
}
