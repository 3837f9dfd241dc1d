//! `medchain device provision`: ESP32 wallets, registration, read access,
//! gas and firmware config files.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Global;
use crate::device::{self, ProvisionRequest};
use crate::error::InputError;
use crate::outln;
use crate::topology::Privacy;

/// `medchain device …`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create, register, authorize and fund a hospital's ESP32 devices and write their config files.
    Provision(ProvisionArgs),
}

/// Flags of `medchain device provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// Hospital (a `name` in the topology) the devices belong to; its account registers them.
    #[arg(long)]
    pub hospital: String,
    /// Number of devices, 1 to 1000 (default: one per --ssn, else 1).
    #[arg(long)]
    pub count: Option<u64>,
    /// Patient SSN to bind devices to: once for all devices or once per device
    /// (repeat the flag). Default: synthetic test patients 000-00-0001, 000-00-0002, …
    #[arg(long = "ssn", value_name = "SSN")]
    pub ssn: Vec<String>,
    /// Directory for the config files (default: $MEDCHAIN_HOME/<network>/devices).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// URL devices reach the hospital's `medchain gateway` by (https://IP:PORT); default: the member node itself (loopback only).
    #[arg(long, value_name = "URL")]
    pub gateway: Option<String>,
    /// CA certificate (PEM) the devices pin for --gateway, when the gateway serves the operator's own certificate (default: the hospital's generated CA).
    #[arg(long, value_name = "FILE", requires = "gateway")]
    pub gateway_ca: Option<PathBuf>,
}

impl TryFrom<&ProvisionArgs> for ProvisionRequest {
    type Error = InputError;

    fn try_from(a: &ProvisionArgs) -> Result<ProvisionRequest, InputError> {
        let gateway = a
            .gateway
            .as_deref()
            .map(|url| crate::gateway::provisioning::check_link(url, a.gateway_ca.clone()))
            .transpose()?;
        Ok(
            ProvisionRequest::new(&a.hospital, a.count, &a.ssn, a.out.clone())?
                .with_gateway(gateway),
        )
    }
}

/// Provisions the devices and prints them as a table or JSON.
pub(crate) async fn execute(cmd: DeviceCommand, g: &Global) -> anyhow::Result<()> {
    let DeviceCommand::Provision(a) = cmd;
    let req = ProvisionRequest::try_from(&a)?;
    let (state, _lock) = super::load_to_change(g)?;
    let out = match state.plan.topology.privacy {
        Privacy::Private => crate::privacy::devices::provision(&state, &req).await?,
        Privacy::Clear => device::provision(&state, &req).await?,
    };
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("{}", device::table(&out));
    }
    Ok(())
}
