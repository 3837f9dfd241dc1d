//! `medchain device provision`: ESP32 wallets, registration, read access,
//! gas and firmware config files.

use crate::cli::Global;
use crate::device::{self, DeviceCommand};
use crate::outln;

/// Provisions the devices and prints them as a table or JSON.
pub async fn execute(cmd: DeviceCommand, g: &Global) -> anyhow::Result<()> {
    let DeviceCommand::Provision(a) = cmd;
    let json = a.json;
    let req = a.into_request()?;
    let out = device::provision(&super::load(g)?, &req).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("{}", device::table(&out));
    }
    Ok(())
}
