//! A device's write as a test sends it: `addRecord` signed with the
//! device's own key, straight to the client node, with a fixed gas limit so
//! that a write the contract refuses is still mined (and seen refused on
//! chain). The content digest stands for a sealed reading: what is tested
//! is who may write, not the sealing (tests/privacy_esp32.rs covers that).

use alloy::primitives::{keccak256, B256};
use alloy::signers::local::PrivateKeySigner;
use medchain::contract::{signing_provider, PrivateRecords};
use medchain::privacy::chain::PrivateNet;
use medchain::state::State;

/// Funds `device` (once), then sends its reading `sequence` for `patient`;
/// the transaction's hash and whether it succeeded.
pub fn send_reading(
    state: &State,
    device: &PrivateKeySigner,
    patient: B256,
    sequence: u64,
    fund: bool,
) -> (B256, bool) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let net = PrivateNet::of(state).unwrap();
        if fund {
            net.fund(device.address()).await.unwrap();
        }
        let provider = signing_provider(&net.url, device).unwrap();
        let records = PrivateRecords::new(net.contract, provider.clone());
        let version = records.patients(patient).call().await.unwrap().keyVersion;
        let pending = records
            .addRecord(
                patient,
                keccak256(sequence.to_be_bytes()),
                version,
                1_796_000_000_000 + sequence,
                sequence,
            )
            .gas(300_000)
            .send()
            .await
            .unwrap();
        let hash = *pending.tx_hash();
        let receipt =
            medchain::contract::wait_receipt(&provider, hash, std::time::Duration::from_secs(60))
                .await
                .unwrap();
        (hash, receipt.status())
    })
}
