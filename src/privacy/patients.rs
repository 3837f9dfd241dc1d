//! Taking a patient into a hospital's custody on a private network, and
//! the hospital-side roles around it (doctors, devices).
//!
//! Registration: the hospital draws the patient's own salt (kept in its
//! custody register, see [`super::custody`]), the patient's wallet signs
//! that it is this patient at this hospital, and one transaction binds the
//! wallet, publishes the first data public key and its secret wrapped to
//! the patient and to the hospital. A stranger cannot claim the id: the
//! contract takes the registration only from a hospital, once, with the
//! signature of the wallet it binds.

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;

use super::chain::PrivateNet;
pub use super::enrol::{publish_reader_key, Registered};
use crate::contract::{reverted, transact};

/// Registers the patient known by `ssn` in `hospital`'s custody (or says
/// it already is).
pub async fn register(net: &PrivateNet, hospital: &str, ssn: &str) -> anyhow::Result<Registered> {
    let mut one = super::enrol::register_patients(net, hospital, &[ssn.to_string()]).await?;
    one.pop()
        .ok_or_else(|| anyhow::anyhow!("registering patient {ssn:?} gave no answer"))
}

/// Registers `doctor` as a doctor of `hospital` and publishes the
/// doctor's public key (so patients can wrap keys to it).
pub async fn add_doctor(
    net: &PrivateNet,
    hospital: &str,
    doctor: &PrivateKeySigner,
) -> anyhow::Result<()> {
    let hkey = net.hospital(hospital)?.clone();
    let c = net.as_(&hkey)?;
    let known = c
        .isDoctor(doctor.address())
        .call()
        .await
        .map_err(|e| reverted("isDoctor", e))?;
    if !known {
        transact(&c.registerDoctor(doctor.address()), "registerDoctor").await?;
    }
    publish_reader_key(net, doctor).await
}

/// Registers `device` to write for `patient`, as `hospital` (which must
/// hold the patient or have their consent), and funds it. True when this
/// call registered it (false: it already was).
pub async fn register_device(
    net: &PrivateNet,
    hospital: &PrivateKeySigner,
    device: Address,
    patient: B256,
) -> anyhow::Result<bool> {
    let one = super::enrol::register_devices(net, hospital, &[(device, patient)]).await?;
    Ok(one.first().copied().unwrap_or(false))
}
