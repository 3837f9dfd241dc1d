//! Orchestration of a network's life over a runtime: `up`, `status`,
//! `down`, `logs` and `accounts`, and the [`lifecycle`] API other commands
//! use to get a running network. Each reads or writes the network's
//! [`State`](crate::state::State) and nothing else; the runtime comes from
//! [`State::connect_runtime`](crate::state::State::connect_runtime) or
//! [`runtime::connect`](crate::runtime::connect).

pub mod accounts;
pub mod compose;
mod compose_prometheus;
pub(crate) mod control;
mod converge;
pub mod deploy;
pub(crate) mod dial_log;
pub mod down;
pub mod files;
pub mod lifecycle;
pub mod lock;
pub mod logs;
pub mod orphans;
pub mod status;
pub mod up;

use std::path::Path;

use crate::error::InputError;
use crate::state::{list_networks, State};
use crate::topology;

/// Which network a command acts on: `--network`, else the one named by the
/// topology file when it has state, else the only network under `home`,
/// else the only one of them whose state records running nodes. With
/// several candidates the error lists them.
pub(crate) fn select(
    home: &Path,
    explicit: Option<&str>,
    file: &Path,
) -> Result<String, InputError> {
    if let Some(n) = explicit {
        if !topology::is_valid_name(n) {
            return Err(InputError::new(format!(
                "--network {n:?}: not a valid network name (a-z, 0-9, '-')"
            )));
        }
        return Ok(n.to_string());
    }
    if let Ok(text) = std::fs::read_to_string(file) {
        if let Ok(t) = topology::parse(&text, &file.display().to_string()) {
            if home.join(&t.network).join("state.json").is_file() {
                return Ok(t.network);
            }
        }
    }
    let known = list_networks(home);
    let running: Vec<String> = known
        .iter()
        .filter(|n| State::load(home, n).is_ok_and(|s| s.started() > 0))
        .cloned()
        .collect();
    if let ([_, _, ..], [one]) = (known.as_slice(), running.as_slice()) {
        return Ok(one.clone());
    }
    match known.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(InputError::new(format!(
            "no network in {}: run `medchain up` first (or pass --home DIR)",
            home.display()
        ))),
        many => Err(InputError::new(format!(
            "several networks in {} ({}; running: {}); pass --network NAME",
            home.display(),
            many.join(", "),
            if running.is_empty() {
                "none".to_string()
            } else {
                running.join(", ")
            }
        ))),
    }
}
