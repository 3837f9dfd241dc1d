//! A private network as the privacy commands see it: its PrivateRecords
//! contract, the store of sealed readings, the hospitals' keys, and the
//! key operations every role needs (a reader's public key from the chain,
//! a version's data secret from the key wrapped to a reader).

use std::path::PathBuf;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::signers::local::PrivateKeySigner;
use anyhow::anyhow;
use k256::{PublicKey, SecretKey};

use super::store::FileStore;
use super::wrap::{self, KeyFor};
use crate::contract::{reverted, signing_provider, wait_receipt, PrivateRecords, RECEIPT_TIMEOUT};
use crate::error::InputError;
use crate::keys::KeySource;
use crate::state::State;

/// The contract instance type every privacy operation uses.
pub type Contract = PrivateRecords::PrivateRecordsInstance<DynProvider>;

/// What the privacy commands need of a running private network.
#[derive(Debug, Clone)]
pub struct PrivateNet {
    /// Network name.
    pub network: String,
    /// Client JSON-RPC URL.
    pub url: String,
    /// The PrivateRecords address.
    pub contract: Address,
    /// The network's directory (custody registers, the store).
    pub dir: PathBuf,
    /// The admin (deployer) key, which funds new wallets.
    pub admin: PrivateKeySigner,
    /// Hospital names and keys, in topology order.
    pub hospitals: Vec<(String, PrivateKeySigner)>,
    /// Where medchain's simulated wallets (patients, CLI devices) come from.
    pub key_source: KeySource,
}

impl PrivateNet {
    /// The private network of `state`.
    pub fn of(state: &State) -> anyhow::Result<Self> {
        Ok(Self {
            network: state.plan.topology.network.clone(),
            url: state.client_rpc()?,
            contract: state.private_address()?,
            dir: state.plan.dir.clone(),
            admin: state.admin_key(),
            hospitals: state
                .plan
                .hospital_keys
                .iter()
                .map(|(n, k)| (n.clone(), k.signer()))
                .collect(),
            key_source: state.plan.key_source.clone(),
        })
    }

    /// The contract, sending as `who`.
    pub fn as_(&self, who: &PrivateKeySigner) -> anyhow::Result<Contract> {
        Ok(PrivateRecords::new(
            self.contract,
            signing_provider(&self.url, who)?,
        ))
    }

    /// The key of hospital `name`, or an input error listing the hospitals.
    pub fn hospital(&self, name: &str) -> Result<&PrivateKeySigner, InputError> {
        self.hospitals
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k)
            .ok_or_else(|| {
                let names: Vec<&str> = self.hospitals.iter().map(|(n, _)| n.as_str()).collect();
                InputError::new(format!(
                    "--hospital {name:?}: network {} has no such hospital; expected one of {}",
                    self.network,
                    names.join(", ")
                ))
            })
    }

    /// The hospital names.
    pub fn hospital_names(&self) -> Vec<String> {
        self.hospitals.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The embedded store of sealed readings.
    pub fn store(&self) -> anyhow::Result<FileStore> {
        FileStore::open(&self.dir)
    }

    /// The simulated wallet medchain holds for patient `patient` (the key
    /// a patient's own wallet app would hold; see docs/privacy.md).
    pub fn patient_wallet(&self, patient: B256) -> PrivateKeySigner {
        self.key_source
            .derive(&format!("patient-wallet/{patient:x}"))
            .signer()
    }

    /// Sends 1 ether from the admin to `to` when it has none, so a new
    /// wallet can pay for its transactions.
    pub async fn fund(&self, to: Address) -> anyhow::Result<()> {
        self.fund_all(&[to]).await
    }

    /// [`fund`](Self::fund) for each of `to`, every transfer sent before
    /// waiting for any.
    pub async fn fund_all(&self, to: &[Address]) -> anyhow::Result<()> {
        let provider = signing_provider(&self.url, &self.admin)?;
        let mut sent = Vec::new();
        for a in to {
            if provider.get_balance(*a).await? != U256::ZERO {
                continue;
            }
            let tx = alloy::rpc::types::TransactionRequest::default()
                .to(*a)
                .value(U256::from(10u64).pow(U256::from(18u64)));
            sent.push(*provider.send_transaction(tx).await?.tx_hash());
        }
        for h in sent {
            wait_receipt(&provider, h, RECEIPT_TIMEOUT).await?;
        }
        Ok(())
    }
}

/// The secp256k1 secret of an Ethereum wallet key.
pub fn secret_of(key: &PrivateKeySigner) -> SecretKey {
    SecretKey::from_slice(key.to_bytes().as_slice()).expect("a wallet key is a valid secret")
}

/// The public key `reader` published on chain, or an input error saying
/// how to publish one.
pub async fn reader_public_key(c: &Contract, reader: Address) -> anyhow::Result<PublicKey> {
    let raw = c
        .readerKey(reader)
        .call()
        .await
        .map_err(|e| reverted("readerKey", e))?;
    if raw.len() != 64 {
        return Err(InputError::new(format!(
            "reader {reader:#x} has published no public key, so no key can be wrapped to it; it must run `medchain doctor add` (or call publishReaderKey) first"
        ))
        .into());
    }
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(&raw);
    PublicKey::from_sec1_bytes(&sec1)
        .map_err(|_| anyhow!("reader {reader:#x}'s published key is not on secp256k1"))
}

/// The patient's data secret of `version`, from the key wrapped on chain
/// to `reader`.
pub async fn data_secret(
    c: &Contract,
    patient: B256,
    version: u32,
    reader: &PrivateKeySigner,
) -> anyhow::Result<SecretKey> {
    let wrapped = c
        .wrappedKey(patient, version, reader.address())
        .call()
        .await
        .map_err(|e| reverted("wrappedKey", e))?;
    if wrapped.is_empty() {
        anyhow::bail!(
            "no key of version {version} of patient {patient:#x} is wrapped to {:#x}: it has no consent for the records sealed to that key (or was revoked before they were written)",
            reader.address()
        );
    }
    let what = KeyFor {
        patient,
        version: u64::from(version),
    };
    let key = wrap::unwrap(&wrapped, &secret_of(reader), &what)?;
    SecretKey::from_slice(key.as_bytes())
        .map_err(|_| anyhow!("the unwrapped data key is not a secp256k1 secret"))
}

/// `secret` of `version` wrapped to each reader, as the two arrays
/// `shareKeys` and `revokeConsent` take.
pub fn wrap_for(
    secret: &SecretKey,
    patient: B256,
    version: u32,
    readers: &[(Address, PublicKey)],
) -> (Vec<Address>, Vec<Bytes>) {
    let key = super::seal::DataKey::from_bytes(secret.to_bytes().into());
    let what = KeyFor {
        patient,
        version: u64::from(version),
    };
    readers
        .iter()
        .map(|(a, pk)| (*a, Bytes::from(wrap::wrap(&key, pk, &what))))
        .unzip()
}
