//! A Prometheus monitor's settings as a scenario writes them, before they
//! are checked ([`super::prom_queries`]), in whichever form they came:
//! medchain's short `prometheus:` block or Caliper's long `resource:` one
//! ([`super::caliper_resource`]).

use serde::Deserialize;

/// A Prometheus monitor's settings, from either form.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProm {
    pub(crate) url: Option<String>,
    pub(crate) include: Option<Vec<String>>,
    pub(crate) queries: Option<Vec<RawQuery>>,
}

/// Where each of a monitor's settings sits in the file, for messages.
pub(crate) struct Fields {
    pub(crate) url: String,
    pub(crate) include: String,
    pub(crate) queries: String,
}

impl Fields {
    /// The short form's fields under `f` (`….prometheus`).
    pub(crate) fn under(f: &str) -> Self {
        Self {
            url: format!("{f}.url"),
            include: format!("{f}.include"),
            queries: format!("{f}.queries"),
        }
    }
}

/// One query as written (Caliper's keys).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuery {
    pub(crate) name: Option<String>,
    pub(crate) query: Option<String>,
    pub(crate) step: Option<f64>,
    pub(crate) label: Option<String>,
    pub(crate) statistic: Option<String>,
    pub(crate) multiplier: Option<f64>,
}
