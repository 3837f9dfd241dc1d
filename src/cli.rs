//! The command line, as clap derive structs: each flag's doc comment is its
//! help text. Parsing only; [`run`] hands each command to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::contract::Which;
use crate::error::InputError;
use crate::geth::{self, GethVersion};
use crate::network::{self, accounts, compose, down, logs, status, up};
use crate::runtime::Kind;
use crate::state::State;
use crate::{bench, device, records, txinfo};

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
    /// (Re)deploy the contracts onto the running network.
    Deploy {
        /// Only this contract (default: both).
        #[arg(long, value_enum)]
        contract: Option<Which>,
    },
    /// Store or read medical records in MedicalRecords.
    Records {
        #[command(subcommand)]
        command: RecordsCommand,
    },
    /// Grant an address global read access to medical records (as admin).
    Authorize {
        /// Address to authorize.
        address: String,
        /// Revoke instead of grant.
        #[arg(long)]
        revoke: bool,
    },
    /// Explain a transaction: block, status, gas used, decoded call and events.
    Tx {
        /// Transaction hash.
        hash: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a benchmark scenario (Caliper's rounds) and report latency and throughput.
    Bench(BenchArgs),
    /// Provision ESP32 devices: wallets, registration, read access, gas, firmware config files.
    Device {
        #[command(subcommand)]
        command: device::DeviceCommand,
    },
    /// Manage the pinned geth binaries.
    Geth {
        #[command(subcommand)]
        command: GethCommand,
    },
    /// Docker images of geth, built offline.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Write compose/<network>/docker-compose.yml: the network for plain `docker compose up`.
    Compose {
        /// Topology file.
        #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
        file: PathBuf,
        /// Directory the export goes under.
        #[arg(long, default_value = "compose")]
        out: PathBuf,
        /// Seed for deterministic keys (default: the file's, else the running network's, else random).
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// `medchain image …`.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build medchain/geth:v<version> offline (FROM scratch + the provisioned static geth) on the local engine.
    Build {
        /// Only this release (1.13.15 for clique, 1.11.6 for ethash); default both.
        #[arg(long)]
        version: Option<String>,
    },
}

/// Which patient a records command is about.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PatientArgs {
    /// The patient's SSN; hashed off-chain with the network's salt, never sent.
    #[arg(long)]
    pub ssn: Option<String>,
    /// The patient id (0x…, 32 bytes) instead of an SSN.
    #[arg(long)]
    pub patient: Option<String>,
}

/// `medchain records …`.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// Store one reading (as a CLI device registered for the patient, or --key).
    Add {
        #[command(flatten)]
        patient: PatientArgs,
        /// Heart rate, beats per minute.
        #[arg(long)]
        heart_rate: u16,
        /// Oxygen saturation, percent.
        #[arg(long)]
        spo2: u16,
        /// Systolic blood pressure, mmHg.
        #[arg(long, default_value_t = 120)]
        systolic: u16,
        /// Diastolic blood pressure, mmHg.
        #[arg(long, default_value_t = 80)]
        diastolic: u16,
        /// Body temperature, °C.
        #[arg(long, default_value_t = 36.8)]
        temperature: f64,
        /// Private key of a registered device to write as.
        #[arg(long)]
        key: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read a page of a patient's records (as admin, or --key).
    Get {
        #[command(flatten)]
        patient: PatientArgs,
        /// First record to show.
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// Most records to show.
        #[arg(long, default_value_t = 20)]
        limit: u64,
        /// Private key of the reader (must be allowed to read).
        #[arg(long)]
        key: Option<String>,
    },
}

/// Flags of `medchain bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenario file, e.g. scenarios/simple.yaml.
    pub scenario: PathBuf,
    /// Topology file to bring a network up from when none is running.
    #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Write the JSON report (schema 1) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report with charts here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Compare against this earlier JSON report; exit 1 when worse than allowed.
    #[arg(long, requires = "max_regression")]
    pub baseline: Option<PathBuf>,
    /// Allowed drop in throughput / rise in p95 latency per round, percent.
    #[arg(long, requires = "baseline")]
    pub max_regression: Option<f64>,
    /// Run the scenario once per point of this sweep file (a fresh network each).
    #[arg(long, conflicts_with_all = ["baseline", "rpc", "html"])]
    pub sweep: Option<PathBuf>,
    /// Keep a network this run brought up (default: tear it down).
    #[arg(long)]
    pub keep: bool,
    /// Runtime for a network this run brings up (default: docker when an engine answers, else process).
    #[arg(long, value_enum, env = "MEDCHAIN_RUNTIME")]
    pub runtime: Option<Kind>,
    /// Drive any JSON-RPC endpoint instead of a medchain network.
    #[arg(long, help_heading = "External endpoint")]
    pub rpc: Option<String>,
    /// WebSocket endpoint for new heads (default: --rpc with ws://).
    #[arg(long, requires = "rpc", help_heading = "External endpoint")]
    pub ws: Option<String>,
    /// Funded private key for --rpc (deploys contracts, funds workers).
    #[arg(long, requires = "rpc", help_heading = "External endpoint")]
    pub key: Option<String>,
    /// No progress output.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Flags of `medchain up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Topology file.
    #[arg(short = 'f', long = "file", default_value = DEFAULT_FILE)]
    pub file: PathBuf,
    /// Runtime for the nodes (default: docker when an engine answers, else process).
    #[arg(long, value_enum, env = "MEDCHAIN_RUNTIME")]
    pub runtime: Option<Kind>,
    /// Print the full plan (nodes, ports, geth arguments, peering) and start nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seed for deterministic keys, for reproducible experiments.
    #[arg(long)]
    pub seed: Option<u64>,
    /// geth binary to use instead of the pinned, provisioned one.
    #[arg(long)]
    pub geth: Option<PathBuf>,
    /// Do not deploy the contracts.
    #[arg(long)]
    pub no_deploy: bool,
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
            let opts = up::UpOptions {
                file: a.file,
                home: g.home.clone(),
                dry_run: a.dry_run,
                seed: a.seed,
                geth: a.geth,
                quiet: a.quiet,
                no_deploy: a.no_deploy,
                runtime: a.runtime,
            };
            match up::up(&opts).await? {
                up::UpOutcome::Planned(plan) => println!("{plan}"),
                up::UpOutcome::Running {
                    state,
                    elapsed,
                    converged,
                    height,
                    already,
                } => println!(
                    "{}",
                    up::summary(&state, elapsed, converged, height, already)
                ),
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
            let n = down::down(state, purge).await?;
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
                    serde_json::to_string_pretty(&accounts::accounts_json(&state.plan))?
                );
            } else {
                println!("{}", accounts::accounts_text(&state));
            }
        }
        Command::Deploy { contract } => {
            let mut state = load(g)?;
            let which = match contract {
                Some(w) => vec![w],
                None => vec![Which::Medical, Which::Simple],
            };
            network::deploy::deploy(&mut state, &which).await?;
            for (k, a) in &state.contracts {
                println!("{k}: {a:#x}");
            }
        }
        Command::Records { command } => {
            let state = load(g)?;
            match command {
                RecordsCommand::Add {
                    patient,
                    heart_rate,
                    spo2,
                    systolic,
                    diastolic,
                    temperature,
                    key,
                    json,
                } => {
                    if !(-327.0..=327.0).contains(&temperature) {
                        return Err(InputError::new(format!(
                            "--temperature {temperature}: expected degrees Celsius, e.g. 36.8"
                        ))
                        .into());
                    }
                    let reading = records::Reading {
                        heart_rate,
                        spo2,
                        systolic,
                        diastolic,
                        temperature_centi_c: (temperature * 100.0).round() as i16,
                    };
                    let device = key.as_deref().map(records::parse_key).transpose()?;
                    let added =
                        records::add(&state, &patient_ref(&patient)?, reading, device).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&added)?);
                    } else {
                        println!(
                            "record {} for patient {:#x} (sequence {}) in block {}, tx {:#x}, gas {}",
                            added.record_id, added.patient, added.sequence, added.block, added.tx, added.gas_used
                        );
                    }
                }
                RecordsCommand::Get {
                    patient,
                    offset,
                    limit,
                    key,
                } => {
                    let reader = key.as_deref().map(records::parse_key).transpose()?;
                    let (total, page) =
                        records::get(&state, &patient_ref(&patient)?, offset, limit, reader)
                            .await?;
                    print!("{}", records::table(total, offset, &page));
                }
            }
        }
        Command::Authorize { address, revoke } => {
            let state = load(g)?;
            let user: alloy::primitives::Address = address.parse().map_err(|_| {
                InputError::new(format!("{address:?}: expected a 20-byte hex address (0x…)"))
            })?;
            let tx = records::authorize(&state, user, revoke).await?;
            println!(
                "{} {user:#x} (tx {tx:#x})",
                if revoke { "revoked" } else { "authorized" }
            );
        }
        Command::Tx { hash, json } => {
            let state = load(g)?;
            let h: alloy::primitives::B256 = hash.parse().map_err(|_| {
                InputError::new(format!(
                    "{hash:?}: expected a 32-byte transaction hash (0x…)"
                ))
            })?;
            let info = txinfo::explain(&state.client_rpc(), h).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                print!("{}", txinfo::text(&info));
            }
        }
        Command::Bench(b) => {
            let opts = bench::run::BenchOptions {
                scenario: b.scenario,
                file: b.file,
                home: g.home.clone(),
                network: g.network.clone(),
                json: b.json.clone(),
                html: b.html.clone(),
                baseline: b.baseline,
                max_regression: b.max_regression.unwrap_or(0.0),
                keep: b.keep,
                runtime: b.runtime,
                rpc: b.rpc,
                ws: b.ws,
                key: b.key,
                quiet: b.quiet,
            };
            if let Some(sweep) = &b.sweep {
                let rows = bench::sweep::run(&opts, sweep).await?;
                print!("{}", bench::sweep::table(&rows));
                if let Some(p) = &b.json {
                    if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(d)?;
                    }
                    std::fs::write(p, serde_json::to_string_pretty(&rows)?)?;
                    println!("JSON: {}", p.display());
                }
                return Ok(());
            }
            let out = bench::run::bench(&opts).await?;
            print!("{}", bench::report::table(&out.report));
            for p in [&b.json, &b.html].into_iter().flatten() {
                if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(d)?;
                }
            }
            if let Some(p) = &b.json {
                bench::report::write_json(&out.report, p)?;
                println!("JSON report: {}", p.display());
            }
            if let Some(p) = &b.html {
                bench::report::write_html(&out.report, p)?;
                println!("HTML report: {}", p.display());
            }
            if let Some(c) = out.comparison {
                for l in &c.lines {
                    println!("{l}");
                }
                if !c.ok {
                    anyhow::bail!(
                        "performance regressed beyond --max-regression (see the comparison above)"
                    );
                }
            }
            if out.report.partial {
                anyhow::bail!("the run was interrupted; the report holds the rounds that ran");
            }
        }
        Command::Device {
            command: device::DeviceCommand::Provision(a),
        } => {
            let json = a.json;
            let req = a.into_request()?;
            let out = device::provision(&load(g)?, &req).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("{}", device::table(&out));
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
        Command::Image {
            command: ImageCommand::Build { version },
        } => {
            let versions = match version {
                Some(v) => vec![GethVersion::parse(&v)?],
                None => GethVersion::ALL.to_vec(),
            };
            let docker = crate::runtime::docker::connect_engine(None).await?;
            for v in versions {
                let (path, _) = geth::resolve(v, None, &|m| eprintln!("{m}"))?;
                let tag = crate::runtime::image::build(&docker, v, &path).await?;
                println!(
                    "image {tag}: FROM scratch + {} (sha256 {})",
                    path.display(),
                    crate::runtime::image::sha256_file(&path)?
                );
            }
        }
        Command::Compose { file, out, seed } => {
            let dir = compose::export(&g.home, &file, &out, seed).await?;
            println!(
                "wrote {}; run it with `docker compose -f {} up -d`",
                dir.join("docker-compose.yml").display(),
                dir.join("docker-compose.yml").display()
            );
        }
    }
    Ok(())
}

fn patient_ref(p: &PatientArgs) -> Result<records::PatientRef, InputError> {
    match (&p.ssn, &p.patient) {
        (Some(ssn), _) if !ssn.trim().is_empty() => {
            Ok(records::PatientRef::Ssn(ssn.trim().to_string()))
        }
        (_, Some(id)) => id.parse().map(records::PatientRef::Id).map_err(|_| {
            InputError::new(format!("--patient {id:?}: expected a 32-byte hex id (0x…)"))
        }),
        _ => Err(InputError::new("--ssn: must not be empty")),
    }
}

fn load(g: &Global) -> anyhow::Result<State> {
    let name = network::select(
        &g.home,
        g.network.as_deref(),
        std::path::Path::new(DEFAULT_FILE),
    )?;
    State::load(&g.home, &name)
}
