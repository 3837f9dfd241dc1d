//! The chain as the console's signed-in views read it: the client
//! endpoint, the records contract of the network's layout, its chain id
//! and its directory (the store of sealed readings, the bench reports).
//!
//! The console reads with plain `eth_call`s and holds no key of anyone's:
//! a view that must act "as" an address (MedicalRecords' read checks)
//! sets the call's `from`, which proves nothing and needs no key.

use std::path::PathBuf;

use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;

use crate::contract::{MedicalRecords, PrivateRecords};
use crate::state::State;
use crate::topology::Privacy;

/// What the signed-in views read.
#[derive(Debug, Clone)]
pub struct ChainRef {
    /// Client JSON-RPC endpoint.
    pub url: String,
    /// The network's records layout.
    pub privacy: Privacy,
    /// The records contract (PrivateRecords or MedicalRecords).
    pub records: Address,
    /// EIP-155 chain id (what a sign-in message must name).
    pub chain_id: u64,
    /// The network's directory.
    pub dir: PathBuf,
}

impl ChainRef {
    /// The chain of `state`.
    pub fn of(state: &State) -> anyhow::Result<Self> {
        let privacy = state.plan.topology.privacy;
        let records = match privacy {
            Privacy::Private => state.private_address()?,
            Privacy::Clear => state.medical_address()?,
        };
        Ok(Self {
            url: state.client_rpc()?,
            privacy,
            records,
            chain_id: state.plan.topology.chain_id,
            dir: state.plan.dir.clone(),
        })
    }

    /// A read-only provider (every call with the RPC time limit).
    pub fn provider(&self) -> anyhow::Result<DynProvider> {
        Ok(ProviderBuilder::new()
            .connect_client(crate::rpc_timeout::client(&self.url)?)
            .erased())
    }

    /// PrivateRecords, read-only.
    pub fn private(&self) -> anyhow::Result<PrivateRecords::PrivateRecordsInstance<DynProvider>> {
        Ok(PrivateRecords::new(self.records, self.provider()?))
    }

    /// MedicalRecords, read-only.
    pub fn clear(&self) -> anyhow::Result<MedicalRecords::MedicalRecordsInstance<DynProvider>> {
        Ok(MedicalRecords::new(self.records, self.provider()?))
    }

    /// The topics of every log of the records contract with event
    /// signature `event` whose indexed topic `slot` (1–3) is `value`.
    pub async fn logs(
        &self,
        event: B256,
        slot: usize,
        value: B256,
    ) -> anyhow::Result<Vec<Vec<B256>>> {
        let mut f = Filter::new()
            .address(self.records)
            .event_signature(event)
            .from_block(0);
        f = match slot {
            1 => f.topic1(value),
            2 => f.topic2(value),
            _ => f.topic3(value),
        };
        let logs = self.provider()?.get_logs(&f).await?;
        Ok(logs.iter().map(|l| l.topics().to_vec()).collect())
    }
}
