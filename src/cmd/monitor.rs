//! `medchain monitor start|stop`: Prometheus on loopback scraping every
//! node of the running network (see docs/monitoring.md).

use clap::Subcommand;

use super::Global;
use crate::error::InputError;
use crate::monitor::{config, server};
use crate::outln;

/// `medchain monitor …`.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Start Prometheus on 127.0.0.1 scraping every node (reloads its configuration when it runs).
    Start {
        /// How long samples are kept, as Prometheus writes durations: 1h to 1y (e.g. 12h, 1d, 2w).
        #[arg(long, default_value = "1d")]
        retention: String,
    },
    /// Stop the network's Prometheus (`down` does too).
    Stop,
}

/// Runs a monitor subcommand on the network [`super::load_to_change`]
/// selects.
pub(crate) async fn execute(cmd: MonitorCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        MonitorCommand::Start { retention } => {
            if !config::valid_retention(&retention) {
                return Err(InputError::new(format!(
                    "medchain monitor start: --retention {retention:?}: expected a duration from 1h to 1y such as 12h, 1d or 2w"
                ))
                .into());
            }
            let (state, _lock) = super::load_to_change(g)?;
            let (r, already) = server::start(&state.plan, &retention).await?;
            let what = if already {
                "already running; configuration reloaded"
            } else {
                "started"
            };
            outln!(
                "monitor: prometheus {what} on {} (pid {}), scraping {} node(s) every {}; configuration {}",
                r.url,
                r.pid,
                state.plan.nodes.len(),
                config::SCRAPE_INTERVAL,
                r.config.display()
            );
        }
        MonitorCommand::Stop => {
            let (state, _lock) = super::load_to_change(g)?;
            match server::stop(&state.plan.dir).await? {
                Some(pid) => outln!("monitor: prometheus (pid {pid}) stopped"),
                None => outln!("monitor: not running"),
            }
        }
    }
    Ok(())
}
