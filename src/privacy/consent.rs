//! Consent that governs keys. Granting hands the reader every key version
//! the patient holds, wrapped to the reader's published public key, in the
//! consent transaction itself; revoking moves the patient to a fresh data
//! key in the same transaction, wrapped to everyone who keeps access, so
//! records written afterwards are sealed to a key the revoked reader never
//! receives. (What the revoked reader already unwrapped, it keeps: records
//! written before the revocation stay readable to it. docs/privacy.md.)

use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use k256::PublicKey;

use super::chain::{data_secret, reader_public_key, secret_of, wrap_for, Contract, PrivateNet};
use super::envelope;
use crate::contract::{reverted, transact, PrivateRecords};
use crate::error::InputError;

/// The patient's current key version, or an input error when the id is
/// not registered.
pub async fn current_version(c: &Contract, patient: B256) -> anyhow::Result<u32> {
    let p = c
        .patients(patient)
        .call()
        .await
        .map_err(|e| reverted("patients", e))?;
    if p.custodian == Address::ZERO {
        return Err(InputError::new(format!(
            "patient {patient:#x} is not registered on this network; register them with `medchain patient register`"
        ))
        .into());
    }
    Ok(p.keyVersion)
}

/// The patient (`wallet`) lets `reader` read, handing it every key version.
pub async fn grant(
    net: &PrivateNet,
    patient: B256,
    reader: Address,
    wallet: &PrivateKeySigner,
) -> anyhow::Result<B256> {
    let c = net.as_(wallet)?;
    let current = current_version(&c, patient).await?;
    let pk = reader_public_key(&c, reader).await?;
    let mut versions = Vec::new();
    let mut wrapped = Vec::new();
    for v in 1..=current {
        let secret = data_secret(&c, patient, v, wallet).await?;
        let (_, w) = wrap_for(&secret, patient, v, &[(reader, pk)]);
        versions.push(v);
        wrapped.extend(w);
    }
    let call = c.grantConsent(patient, reader, versions, wrapped);
    call.call().await.map_err(|e| reverted("grantConsent", e))?;
    Ok(transact(&call, "grantConsent").await?.transaction_hash)
}

/// The patient (`wallet`) withdraws `reader`'s consent and rotates to a
/// new data key for everyone who keeps access. Returns the new version.
pub async fn revoke(
    net: &PrivateNet,
    patient: B256,
    reader: Address,
    wallet: &PrivateKeySigner,
) -> anyhow::Result<(u32, B256)> {
    let c = net.as_(wallet)?;
    let current = current_version(&c, patient).await?;
    let keep = keepers(&c, patient, reader, wallet).await?;
    let (secret, public) = envelope::new_data_key();
    let next = current + 1;
    let (addrs, wrapped) = wrap_for(&secret, patient, next, &keep);
    let call = c.revokeConsent(patient, reader, Bytes::from(public), addrs, wrapped);
    call.call()
        .await
        .map_err(|e| reverted("revokeConsent", e))?;
    Ok((
        next,
        transact(&call, "revokeConsent").await?.transaction_hash,
    ))
}

/// Who receives the new key when `revoked` loses consent: the patient, the
/// custodian, and every other reader the patient consented to or the
/// admin made a global reader, as long as they may still read and have
/// published a key.
async fn keepers(
    c: &Contract,
    patient: B256,
    revoked: Address,
    wallet: &PrivateKeySigner,
) -> anyhow::Result<Vec<(Address, PublicKey)>> {
    let mut keep = vec![(wallet.address(), secret_of(wallet).public_key())];
    keep.extend(other_keepers(c, patient, revoked, wallet.address()).await?);
    Ok(keep)
}

/// [`keepers`] but the patient's own wallet (`patient_wallet`), whose key
/// the caller holds: the custodian and the other consent holders and
/// global readers that may still read and have published a key. The
/// console hands these to the page, which builds the revocation itself.
pub async fn other_keepers(
    c: &Contract,
    patient: B256,
    revoked: Address,
    patient_wallet: Address,
) -> anyhow::Result<Vec<(Address, PublicKey)>> {
    let p = c
        .patients(patient)
        .call()
        .await
        .map_err(|e| reverted("patients", e))?;
    let mut keep: Vec<(Address, PublicKey)> = Vec::new();
    let mut candidates = vec![p.custodian];
    candidates.extend(
        event_addresses(
            c,
            PrivateRecords::ConsentGranted::SIGNATURE_HASH,
            Some(patient),
        )
        .await?,
    );
    candidates
        .extend(event_addresses(c, PrivateRecords::GlobalReaderSet::SIGNATURE_HASH, None).await?);
    for a in candidates {
        if a == revoked || a == patient_wallet || keep.iter().any(|(k, _)| *k == a) {
            continue;
        }
        let still = c
            .canRead(patient, a)
            .call()
            .await
            .map_err(|e| reverted("canRead", e))?;
        if still {
            if let Ok(pk) = reader_public_key(c, a).await {
                keep.push((a, pk));
            }
        }
    }
    Ok(keep)
}

/// The addresses in the first indexed address slot of every `event` log
/// of the contract (for ConsentGranted: the second topic is the patient,
/// the third the reader).
async fn event_addresses(
    c: &Contract,
    event: B256,
    patient: Option<B256>,
) -> anyhow::Result<Vec<Address>> {
    let mut filter = Filter::new()
        .address(*c.address())
        .event_signature(event)
        .from_block(0);
    if let Some(p) = patient {
        filter = filter.topic1(p);
    }
    let logs = c.provider().get_logs(&filter).await?;
    let slot = if patient.is_some() { 2 } else { 1 };
    Ok(logs
        .iter()
        .filter_map(|l| l.topics().get(slot).map(|t| Address::from_word(*t)))
        .collect())
}

/// The custodian hospital hands `reader` (one of its doctors, or a reader
/// with consent) every key version it holds.
pub async fn share(
    net: &PrivateNet,
    patient: B256,
    reader: Address,
    hospital: &PrivateKeySigner,
) -> anyhow::Result<()> {
    let c = net.as_(hospital)?;
    let current = current_version(&c, patient).await?;
    let pk = reader_public_key(&c, reader).await?;
    for v in 1..=current {
        let Ok(secret) = data_secret(&c, patient, v, hospital).await else {
            continue;
        };
        let (addrs, wrapped) = wrap_for(&secret, patient, v, &[(reader, pk)]);
        let call = c.shareKeys(patient, v, addrs, wrapped);
        call.call().await.map_err(|e| reverted("shareKeys", e))?;
        transact(&call, "shareKeys").await?;
    }
    Ok(())
}
