//! The command line, as clap derive structs: each flag's doc comment is its
//! help text. Parsing only; [`run`] hands each command to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::InputError;
use crate::geth::{self, GethVersion};
use crate::network::{self, accounts, down, logs, status, up};
use crate::state::State;

/// Bring a private multi-hospital Ethereum network online and measure it.
#[derive(Debug, Parser)]
#[command(name = "medchain", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Directory holding every network's state, keys, datadirs and logs.
    #[arg(
        long,
        global = true,
        env = "MEDCHAIN_HOME",
        default_value = ".medchain",
        help_heading = "Global"
    )]
    pub home: PathBuf,
    /// Network to act on (default: the one in ./medchain.yaml, else the only one in --home).
    #[arg(long, global = true, help_heading = "Global")]
    pub network: Option<String>,
}

/// The topology file commands other than `up` look at to pick a network.
const DEFAULT_FILE: &str = "medchain.yaml";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the network described by the topology file: plan, keys, genesis, geth nodes, peering.
    Up(UpArgs),
    /// Show every node: up/down, block, head, peers, txpool, disagreements.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop every node gracefully; data is kept so `up` resumes the same chain.
    Down {
        /// Also delete the network's datadirs, keys and logs.
        #[arg(long)]
        purge: bool,
    },
    /// Print a node's geth log.
    Logs {
        /// Node name, e.g. guadalajara-sealer-0.
        node: String,
        /// Keep printing new lines until Ctrl-C.
        #[arg(short = 'f', long = "follow")]
        follow: bool,
    },
    /// List the prefunded test accounts with their private keys.
    Accounts {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage the pinned geth binaries.
    Geth {
        #[command(subcommand)]
        command: GethCommand,
    },
}

/// Flags of `medchain up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Topology file.
    #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Runtime for the nodes (only `process` in this release).
    #[arg(long, default_value = "process")]
    pub runtime: String,
    /// Print the full plan (nodes, ports, geth arguments, peering) and start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seed for deterministic keys, for reproducible experiments.
    #[arg(long)]
    pub seed: Option<u64>,
    /// geth binary to use instead of the pinned, provisioned one.
    #[arg(long)]
    pub geth: Option<PathBuf>,
    /// Print nothing but the final summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `medchain geth …`.
#[derive(Debug, Subcommand)]
pub enum GethCommand {
    /// Find or build the pinned geth releases into ~/.cache/medchain/geth.
    Install {
        /// Only this release (1.13.15 for clique, 1.11.6 for ethash); default both.
        #[arg(long)]
        version: Option<String>,
    },
}

/// Runs a parsed command line.
pub async fn run(mut cli: Cli) -> anyhow::Result<()> {
    // Children and later invocations may run from other directories.
    cli.global.home = std::path::absolute(&cli.global.home)
        .map_err(|e| InputError::new(format!("--home {}: {e}", cli.global.home.display())))?;
    let g = &cli.global;
    match cli.command {
        Command::Up(a) => {
            if a.runtime != "process" {
                return Err(InputError::new(format!(
                    "--runtime {}: not available in this release; use --runtime process",
                    a.runtime
                ))
                .into());
            }
            let opts = up::UpOptions {
                file: a.file,
                home: g.home.clone(),
                dry_run: a.dry_run,
                seed: a.seed,
                geth: a.geth,
                quiet: a.quiet,
            };
            match up::up(&opts).await? {
                up::UpOutcome::Planned(plan) => println!("{plan}"),
                up::UpOutcome::Running {
                    state,
                    elapsed,
                    height,
                    already,
                } => println!("{}", up::summary(&state, elapsed, height, already)),
            }
        }
        Command::Status { json } => {
            let state = load(g)?;
            let s = status::status(&state).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print!("{}", status::table(&s));
            }
        }
        Command::Down { purge } => {
            let state = load(g)?;
            let name = state.plan.topology.network.clone();
            let n = down::down(state, purge)?;
            println!(
                "network {name}: stopped {n} node(s){}",
                if purge {
                    ", data purged"
                } else {
                    "; data kept (`medchain up` resumes)"
                }
            );
        }
        Command::Logs { node, follow } => logs::logs(&load(g)?, &node, follow).await?,
        Command::Accounts { json } => {
            let state = load(g)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&accounts::accounts_json(&state))?
                );
            } else {
                println!("{}", accounts::accounts_text(&state));
            }
        }
        Command::Geth {
            command: GethCommand::Install { version },
        } => {
            let versions = match version {
                Some(v) => vec![GethVersion::parse(&v)?],
                None => GethVersion::ALL.to_vec(),
            };
            for v in versions {
                let (path, source) = geth::resolve(v, None, &|m| eprintln!("{m}"))?;
                println!("geth {v}: {} ({source:?})", path.display());
            }
        }
    }
    Ok(())
}

fn load(g: &Global) -> anyhow::Result<State> {
    let name = network::select(
        &g.home,
        g.network.as_deref(),
        std::path::Path::new(DEFAULT_FILE),
    )?;
    State::load(&g.home, &name)
}
