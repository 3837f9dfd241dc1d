//! Deploying the contracts onto a running network and recording their
//! addresses in its state (`status --json` → `contracts`).

use crate::contract::{self, Which};
use crate::state::State;

/// Deploys `which` from the admin account (the first test account),
/// registers the topology's hospitals in MedicalRecords, and saves the
/// addresses into the state.
pub async fn deploy(state: &mut State, which: &[Which]) -> anyhow::Result<()> {
    let hospitals: Vec<(String, alloy::primitives::Address)> = state
        .plan
        .hospital_keys
        .iter()
        .map(|(n, k)| (n.clone(), k.address))
        .collect();
    let deployed =
        contract::deploy(&state.client_rpc()?, &state.admin_key(), which, &hospitals).await?;
    state.contracts.extend(deployed);
    state.save()
}
