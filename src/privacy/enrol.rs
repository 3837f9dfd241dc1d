//! Taking many patients into custody and registering many devices at
//! once, as `device provision` does on a private network: every
//! registration is sent, then all are awaited together, so provisioning a
//! fleet costs a few blocks instead of several blocks per device (the
//! clear path batches the same way).
//!
//! [`super::patients::register`] and [`super::patients::register_device`]
//! are these for one patient or device. Devices are registered once their
//! patients' registrations are mined, so each `registerDevice` is first
//! run as a call, and a refusal (a patient the hospital does not hold)
//! comes with the contract's reason before anything is sent.

use alloy::primitives::{Address, Bytes, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;

use k256::elliptic_curve::sec1::ToEncodedPoint;

use super::chain::{secret_of, wrap_for, PrivateNet};
use super::{custody, envelope};
use crate::contract::{confirm, reverted, transact};
use crate::error::InputError;

/// Gas limit of a `registerDevice` (well above what it uses; sent
/// without an estimate, as it was just run as a call).
const REGISTER_DEVICE_GAS: u64 = 200_000;

/// What `patient register` did.
#[derive(Debug, serde::Serialize)]
pub struct Registered {
    /// The patient's pseudonymous id.
    pub patient: B256,
    /// The custodian hospital.
    pub hospital: String,
    /// The patient's wallet.
    pub wallet: Address,
    /// False when the hospital already held the patient.
    pub new: bool,
}

/// Publishes `who`'s public key on chain (once), so keys can be wrapped to
/// it; funds it first when it has no ether.
pub async fn publish_reader_key(net: &PrivateNet, who: &PrivateKeySigner) -> anyhow::Result<()> {
    let c = net.as_(who)?;
    let known = c
        .readerKey(who.address())
        .call()
        .await
        .map_err(|e| reverted("readerKey", e))?;
    if !known.is_empty() {
        return Ok(());
    }
    net.fund(who.address()).await?;
    let point = secret_of(who).public_key().to_encoded_point(false);
    let call = c.publishReaderKey(Bytes::from(point.as_bytes()[1..].to_vec()));
    transact(&call, "publishReaderKey").await?;
    Ok(())
}

/// Takes each patient of `ssns` (distinct) into `hospital`'s custody (or
/// finds them there), sending every new registration before waiting for
/// any; funds the new patients' wallets. In the order of `ssns`.
pub async fn register_patients(
    net: &PrivateNet,
    hospital: &str,
    ssns: &[String],
) -> anyhow::Result<Vec<Registered>> {
    let hkey = net.hospital(hospital)?.clone();
    publish_reader_key(net, &hkey).await?;
    let c = net.as_(&hkey)?;
    let names = net.hospital_names();
    let (mut out, mut sent) = (Vec::with_capacity(ssns.len()), Vec::new());
    for ssn in ssns {
        if let Some((h, e)) = custody::find(&net.dir, &names, ssn)? {
            if h != hospital {
                return Err(InputError::new(format!(
                    "--ssn: this patient is already in the custody of hospital {h} (patient {:#x}); a patient has one custodian",
                    e.patient
                ))
                .into());
            }
        }
        let (entry, _) = custody::entry_for(&net.dir, hospital, ssn)?;
        let wallet = net.patient_wallet(entry.patient);
        let on_chain =
            (c.patients(entry.patient).call().await).map_err(|e| reverted("patients", e))?;
        let new = on_chain.custodian == Address::ZERO;
        if new {
            let digest = (c
                .registrationDigest(entry.patient, hkey.address())
                .call()
                .await)
                .map_err(|e| reverted("registrationDigest", e))?;
            let sig = wallet.sign_message_sync(digest.as_slice())?;
            let (secret, public) = envelope::new_data_key();
            let readers = [
                (wallet.address(), secret_of(&wallet).public_key()),
                (hkey.address(), secret_of(&hkey).public_key()),
            ];
            let (addrs, wrapped) = wrap_for(&secret, entry.patient, 1, &readers);
            let call = c.registerPatient(
                entry.patient,
                wallet.address(),
                Bytes::from(sig.as_bytes().to_vec()),
                Bytes::from(public),
                addrs,
                wrapped,
            );
            let pending = call
                .send()
                .await
                .map_err(|e| reverted("registerPatient", e))?;
            sent.push(*pending.tx_hash());
        }
        out.push(Registered {
            patient: entry.patient,
            hospital: hospital.to_string(),
            wallet: wallet.address(),
            new,
        });
    }
    for h in sent {
        confirm(c.provider(), h, "registerPatient").await?;
    }
    let wallets: Vec<Address> = out.iter().filter(|r| r.new).map(|r| r.wallet).collect();
    net.fund_all(&wallets).await?;
    Ok(out)
}

/// Registers each `(device, patient)` of `devices` that is not active yet
/// as `hospital`, every transaction sent before waiting for any, and funds
/// every device without ether. For each, true when this call registered it.
pub async fn register_devices(
    net: &PrivateNet,
    hospital: &PrivateKeySigner,
    devices: &[(Address, B256)],
) -> anyhow::Result<Vec<bool>> {
    let c = net.as_(hospital)?;
    let (mut registered, mut sent) = (Vec::with_capacity(devices.len()), Vec::new());
    for (device, patient) in devices {
        let d = (c.devices(*device).call().await).map_err(|e| reverted("devices", e))?;
        if !d.active {
            let call = c.registerDevice(*device, *patient).gas(REGISTER_DEVICE_GAS);
            call.call()
                .await
                .map_err(|e| reverted("registerDevice", e))?;
            let pending = call
                .send()
                .await
                .map_err(|e| reverted("registerDevice", e))?;
            sent.push(*pending.tx_hash());
        }
        registered.push(!d.active);
    }
    for h in sent {
        confirm(c.provider(), h, "registerDevice").await?;
    }
    let all: Vec<Address> = devices.iter().map(|(d, _)| *d).collect();
    net.fund_all(&all).await?;
    Ok(registered)
}
