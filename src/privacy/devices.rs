//! `medchain device provision` on a private network.
//!
//! Each device's patient is taken into the hospital's custody first (a
//! salt of the patient's own, kept by the hospital; see [`super::patients`])
//! and the device registered to write for that one patient, by the
//! hospital, in `PrivateRecords`. The device's config then holds the
//! patient's *id* — never an SSN or a salt — and the store URL of the
//! hospital's gateway, where it puts each sealed reading before sending
//! `addRecord`. It is granted no read access: what it seals opens only
//! with the patient's data key, which it never holds.
//!
//! A device of a private network needs a gateway (`--gateway`): the store
//! is served there, not by geth. Registrations are sent together and
//! awaited together ([`super::enrol`]).

use std::collections::HashMap;

use alloy::primitives::B256;

use super::chain::PrivateNet;
use super::enrol;
use crate::device::{self, Done, Outcome, ProvisionRequest};
use crate::error::InputError;
use crate::state::State;

/// Provisions the devices of `req` on the running private network:
/// patients into custody, devices registered and funded, config files and
/// the index written. Safe to re-run.
pub async fn provision(state: &State, req: &ProvisionRequest) -> anyhow::Result<Outcome> {
    if req.gateway.is_none() {
        return Err(InputError::new(format!(
            "--gateway: network {} is private, so its devices put sealed readings in the store the hospital's gateway serves; start `medchain gateway --hospital {}` and pass its URL with --gateway",
            state.plan.topology.network, req.hospital
        ))
        .into());
    }
    let mut plans = device::plan_devices(state, req)?;
    let net = PrivateNet::of(state)?;
    let hospital = net.hospital(&req.hospital)?.clone();
    let mut ssns: Vec<String> = plans.iter().map(|d| d.ssn.clone()).collect();
    ssns.sort();
    ssns.dedup();
    let ids: HashMap<String, B256> = enrol::register_patients(&net, &req.hospital, &ssns)
        .await?
        .into_iter()
        .zip(&ssns)
        .map(|(r, ssn)| (ssn.clone(), r.patient))
        .collect();
    for d in &mut plans {
        d.patient = ids[&d.ssn];
    }
    let pairs: Vec<_> = plans.iter().map(|d| (d.key.address, d.patient)).collect();
    let done = enrol::register_devices(&net, &hospital, &pairs)
        .await?
        .into_iter()
        .map(|registered| Done {
            registered,
            authorized: false,
            funded: registered,
        })
        .collect();
    let (mut devices, entries) = device::write_configs(state, req, net.contract, &plans, done)?;
    // As on a clear network: a running broker issues each device an
    // account, written into its config (transactions may go over MQTT; the
    // sealed readings still go to the gateway's store).
    device::link_broker(state, &mut devices).await?;
    let index = device::save_index(state, entries)?;
    Ok(Outcome {
        network: net.network.clone(),
        hospital: req.hospital.clone(),
        rpc_url: plans[0].rpc_url.clone(),
        registrar: hospital.address(),
        registrar_role: "hospital".to_string(),
        synthetic_patients: req.patients == device::Patients::Synthetic,
        test_keys: state.plan.key_source.is_test(),
        devices,
        index,
    })
}
