//! The top-level command line: global options and one variant per
//! subcommand, each dispatched in one line to its module under
//! [`crate::cmd`], which holds its flags, validation and output.

use clap::{Parser, Subcommand};

use crate::cmd::{self, Global};
use crate::error::InputError;

/// Bring a private multi-hospital Ethereum network online and measure it.
#[derive(Debug, Parser)]
#[command(name = "medchain", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the network described by the topology file: plan, keys, genesis, geth nodes, peering.
    Up(cmd::up::UpArgs),
    /// Show every node: up/down, block, head, peers, txpool, disagreements.
    Status(cmd::status::StatusArgs),
    /// Stop every node gracefully; data is kept so `up` resumes the same chain.
    Down(cmd::down::DownArgs),
    /// Print a node's geth log.
    Logs(cmd::logs::LogsArgs),
    /// List the prefunded test accounts with their private keys.
    Accounts(cmd::accounts::AccountsArgs),
    /// (Re)deploy the contracts onto the running network.
    Deploy(cmd::deploy::DeployArgs),
    /// Store or read medical records in MedicalRecords.
    Records {
        #[command(subcommand)]
        command: cmd::records::RecordsCommand,
    },
    /// Grant an address global read access to medical records (as admin).
    Authorize(cmd::authorize::AuthorizeArgs),
    /// Private networks: take a patient into a hospital's custody.
    Patient {
        #[command(subcommand)]
        command: cmd::patient::PatientCommand,
    },
    /// Private networks: register a hospital's doctor and publish its key.
    Doctor {
        #[command(subcommand)]
        command: cmd::doctor::DoctorCommand,
    },
    /// Private networks: a patient grants or revokes consent; a custodian shares keys.
    Consent {
        #[command(subcommand)]
        command: cmd::consent::ConsentCommand,
    },
    /// Explain a transaction: block, status, gas used, decoded call and events.
    Tx(cmd::tx::TxArgs),
    /// Do a fault by hand: kill, stop, resume, restart, pause or unpause nodes; partition, delay, limit (bandwidth) or heal peer links.
    Fault(cmd::fault::FaultArgs),
    /// Run a benchmark scenario (Caliper's rounds) and report latency and throughput.
    Bench(cmd::bench::BenchArgs),
    /// Provision ESP32 devices: wallets, registration, read access, gas, firmware config files.
    Device {
        #[command(subcommand)]
        command: cmd::device::DeviceCommand,
    },
    /// Manage the pinned geth binaries.
    Geth {
        #[command(subcommand)]
        command: cmd::geth::GethCommand,
    },
    /// Manage the pinned toxiproxy that shapes peer links (delay, bandwidth faults).
    Toxiproxy {
        #[command(subcommand)]
        command: cmd::toxiproxy::ToxiproxyCommand,
    },
    /// Docker images of geth, built offline.
    Image {
        #[command(subcommand)]
        command: cmd::image::ImageCommand,
    },
    /// Write compose/<network>/docker-compose.yml: the network for plain `docker compose up`.
    Compose(cmd::compose::ComposeArgs),
    /// MQTT broker (mosquitto) on loopback: TLS, an account per device and per service, topic ACLs.
    Broker {
        #[command(subcommand)]
        command: cmd::broker::BrokerCommand,
    },
    /// Prometheus on loopback scraping every node's geth metrics.
    Monitor {
        #[command(subcommand)]
        command: cmd::monitor::MonitorCommand,
    },
    /// Alarm on abnormal readings: thresholds, then the terminal, MQTT and a signed webhook, once per record.
    Watch(cmd::watch::WatchArgs),
    /// Serve a hospital's member node to devices on a LAN: TLS, tokens, allow-list, limits, access log.
    Gateway(cmd::gateway::GatewayArgs),
    /// Web console on loopback: the network's nodes and blocks live, and an explorer of its transactions.
    Serve(cmd::serve::ServeArgs),
}

impl Cli {
    /// Whether this command runs on a single-threaded async runtime.
    ///
    /// `bench` does: its driver's per-transaction work is small (a signature,
    /// one request written, one answer read), so on a multi-threaded runtime
    /// much of its CPU went to threads parking and waking each other (a
    /// timer wake on one thread, the answer on another). On one thread the
    /// same rounds cost the driver about 13 % less CPU per transaction
    /// (docs/performance.md); its ceiling is one core, which the report
    /// names as the bound (`driver CPU`) if a round ever reaches it.
    pub fn single_threaded(&self) -> bool {
        matches!(self.command, Command::Bench(_))
    }
}

/// Runs a parsed command line.
pub async fn run(mut cli: Cli) -> anyhow::Result<()> {
    // Children and later invocations may run from other directories.
    cli.global.home = std::path::absolute(&cli.global.home)
        .map_err(|e| InputError::new(format!("--home {}: {e}", cli.global.home.display())))?;
    let g = &cli.global;
    match cli.command {
        Command::Up(a) => cmd::up::execute(a, g).await,
        Command::Status(a) => cmd::status::execute(a, g).await,
        Command::Down(a) => cmd::down::execute(a, g).await,
        Command::Logs(a) => cmd::logs::execute(a, g).await,
        Command::Accounts(a) => cmd::accounts::execute(a, g).await,
        Command::Deploy(a) => cmd::deploy::execute(a, g).await,
        Command::Records { command } => cmd::records::execute(command, g).await,
        Command::Authorize(a) => cmd::authorize::execute(a, g).await,
        Command::Patient { command } => cmd::patient::execute(command, g).await,
        Command::Doctor { command } => cmd::doctor::execute(command, g).await,
        Command::Consent { command } => cmd::consent::execute(command, g).await,
        Command::Tx(a) => cmd::tx::execute(a, g).await,
        Command::Bench(a) => cmd::bench::execute(a, g).await,
        Command::Fault(a) => cmd::fault::execute(a, g).await,
        Command::Device { command } => cmd::device::execute(command, g).await,
        Command::Geth { command } => cmd::geth::execute(command).await,
        Command::Toxiproxy { command } => cmd::toxiproxy::execute(command).await,
        Command::Image { command } => cmd::image::execute(command).await,
        Command::Compose(a) => cmd::compose::execute(a, g).await,
        Command::Gateway(a) => cmd::gateway::execute(a, g).await,
        Command::Serve(a) => cmd::serve::execute(a, g).await,
        Command::Watch(a) => cmd::watch::execute(a, g).await,
        Command::Broker { command } => cmd::broker::execute(command, g).await,
        Command::Monitor { command } => cmd::monitor::execute(command, g).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
