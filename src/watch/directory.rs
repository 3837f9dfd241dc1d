//! What `watch` knows about the parties in a record: the hospital of each
//! device medchain provisioned (from the same device configs the broker
//! makes accounts from), each patient's thresholds (per-patient overrides
//! resolved to on-chain ids with the network's salt) and pseudonyms.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};

use super::pseudonym::PseudonymKey;
use super::thresholds::{Limits, PatientKey, Thresholds};
use crate::broker::accounts::{self, Role};
use crate::contract::patient_id;
use crate::plan::Plan;

/// The hospital name of a device medchain did not provision.
pub const UNASSIGNED: &str = "unassigned";

/// How often an unknown device makes the device configs be read again.
const REFRESH: Duration = Duration::from_secs(10);

/// Devices, patients and pseudonyms of one network.
pub struct Directory {
    plan: Plan,
    hospitals: HashMap<Address, String>,
    read_at: Option<Instant>,
    defaults: Limits,
    limits: HashMap<B256, Limits>,
    pseudonyms: PseudonymKey,
}

impl Directory {
    /// The directory of `plan`'s network with `thresholds`.
    pub fn new(plan: &Plan, thresholds: &Thresholds, pseudonyms: PseudonymKey) -> Directory {
        let limits = thresholds
            .patients
            .iter()
            .map(|(k, l)| {
                let id = match k {
                    PatientKey::Ssn(ssn) => patient_id(plan.patient_salt, ssn),
                    PatientKey::Id(id) => *id,
                };
                (id, l.clone())
            })
            .collect();
        let mut d = Directory {
            plan: plan.clone(),
            hospitals: HashMap::new(),
            read_at: None,
            defaults: thresholds.defaults.clone(),
            limits,
            pseudonyms,
        };
        d.refresh();
        d
    }

    /// The network's name.
    pub fn network(&self) -> &str {
        &self.plan.topology.network
    }

    /// The thresholds that apply to `patient`.
    pub fn limits(&self, patient: B256) -> &Limits {
        self.limits.get(&patient).unwrap_or(&self.defaults)
    }

    /// The pseudonym of `patient` in topics.
    pub fn pseudonym(&self, patient: B256) -> String {
        self.pseudonyms.of(patient)
    }

    /// The hospital of `device`, reading the device configs again (at most
    /// every [`REFRESH`]) when it is not known yet.
    pub fn hospital(&mut self, device: Address) -> String {
        if !self.hospitals.contains_key(&device)
            && self.read_at.is_none_or(|t| t.elapsed() >= REFRESH)
        {
            self.refresh();
        }
        self.hospitals
            .get(&device)
            .cloned()
            .unwrap_or_else(|| UNASSIGNED.to_string())
    }

    /// Reads the provisioned devices' configs; a config that cannot be
    /// read is skipped with a warning (its device shows as unassigned).
    fn refresh(&mut self) {
        self.read_at = Some(Instant::now());
        match accounts::accounts(&self.plan) {
            Ok(list) => {
                for a in list {
                    if let Role::Device { hospital, address } = a.role {
                        if let Ok(addr) = address.parse::<Address>() {
                            self.hospitals.insert(addr, hospital);
                        }
                    }
                }
            }
            Err(e) => eprintln!("watch: warning: reading the device configs: {e:#}"),
        }
    }
}
