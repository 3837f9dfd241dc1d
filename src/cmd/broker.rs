//! `medchain broker start|stop`: mosquitto on loopback for the network,
//! TLS and per-device / per-service accounts (see docs/mqtt.md).

use clap::Subcommand;

use super::Global;
use crate::broker::server;
use crate::outln;

/// `medchain broker …`.
#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Start mosquitto on 127.0.0.1 (TLS, passwords, ACL); when it runs, refresh its accounts.
    Start,
    /// Stop the network's mosquitto (`down` does too).
    Stop,
}

/// Runs a broker subcommand on the network [`super::load_to_change`]
/// selects.
pub(crate) async fn execute(cmd: BrokerCommand, g: &Global) -> anyhow::Result<()> {
    let (state, _lock) = super::load_to_change(g)?;
    match cmd {
        BrokerCommand::Start => {
            let (r, already) = server::start(&state.plan).await?;
            let what = if already {
                "already running; accounts refreshed"
            } else {
                "started"
            };
            outln!(
                "broker: mosquitto {what} on {} (pid {}); CA {}; credentials in {}",
                r.url,
                r.pid,
                r.ca_file.display(),
                server::dir_of(&state.plan.dir)
                    .join("credentials")
                    .display()
            );
        }
        BrokerCommand::Stop => match server::stop(&state.plan.dir).await? {
            Some(pid) => outln!("broker: mosquitto (pid {pid}) stopped"),
            None => outln!("broker: not running"),
        },
    }
    Ok(())
}
