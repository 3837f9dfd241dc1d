//! Caliper's long form of a round's monitors, so a Caliper benchmark's
//! block can be used as it is written there:
//!
//! ```yaml
//! monitors:
//!   resource:
//!     - module: prometheus
//!       options:
//!         url: http://127.0.0.1:9090
//!         metrics:
//!           include: [sealer-.*]
//!           queries: [{name: Peers, query: p2p_peers, label: node, statistic: max}]
//! ```
//!
//! Only `module: prometheus` is read. Caliper's `docker` and `process`
//! modules sample containers and processes, which medchain's report does
//! on its own (its resource table), so they are refused with a line saying
//! so rather than silently dropped.

use serde::Deserialize;

use super::prom_raw::{Fields, RawProm, RawQuery};
use crate::error::Problems;

/// One entry of `monitors.resource`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResource {
    module: Option<String>,
    /// Read only for `prometheus` (other modules' options differ).
    options: Option<serde_yaml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptions {
    url: Option<String>,
    metrics: Option<RawMetrics>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    include: Option<Vec<String>>,
    queries: Option<Vec<RawQuery>>,
}

/// The one `module: prometheus` entry of `field.resource`, as the short
/// form's settings with the long form's field names; `None` (problems
/// recorded) when there is not exactly one, or another module is listed.
pub(crate) fn prometheus(
    field: &str,
    list: Vec<RawResource>,
    p: &mut Problems,
) -> Option<(Fields, RawProm)> {
    let mut found = None;
    for (i, r) in list.into_iter().enumerate() {
        let f = format!("{field}.resource[{i}]");
        match r.module.as_deref() {
            Some("prometheus") if found.is_some() => {
                p.add(&format!("{f}.module"), "a second `prometheus` monitor: expected one, with every query under its `options.metrics.queries`");
            }
            Some("prometheus") => {
                let options = match r.options.map(serde_yaml::from_value::<RawOptions>) {
                    None => RawOptions::default(),
                    Some(Ok(o)) => o,
                    Some(Err(e)) => {
                        p.add(&format!("{f}.options"), format!("{e}: expected {{url, metrics: {{include, queries}}}}"));
                        RawOptions::default()
                    }
                };
                found = Some((f, options));
            }
            Some(m @ ("docker" | "process")) => p.add(
                &format!("{f}.module"),
                format!("{m:?}: medchain samples the nodes' processes and containers itself (the report's resource table); keep only `module: prometheus` here"),
            ),
            other => {
                let got = other.map_or("missing".to_string(), |m| format!("{m:?}"));
                p.add(&format!("{f}.module"), format!("{got}: expected `prometheus`"));
            }
        }
    }
    let Some((f, options)) = found else {
        p.add(
            &format!("{field}.resource"),
            "expected one entry `{module: prometheus, options: {url, metrics: {queries}}}`",
        );
        return None;
    };
    let metrics = options.metrics.unwrap_or_default();
    let fields = Fields {
        url: format!("{f}.options.url"),
        include: format!("{f}.options.metrics.include"),
        queries: format!("{f}.options.metrics.queries"),
    };
    let prom = RawProm {
        url: options.url,
        include: metrics.include,
        queries: metrics.queries,
    };
    Some((fields, prom))
}

#[cfg(test)]
mod tests {
    use crate::bench::prom_queries::{check, RawMonitors, Statistic};
    use crate::error::Problems;

    fn parse(yaml: &str) -> Result<crate::bench::prom_queries::PromMonitor, Vec<String>> {
        let raw: RawMonitors = serde_yaml::from_str(yaml).unwrap();
        let mut p = Problems::new("s.yaml");
        let m = check("monitors", raw, &mut p);
        p.finish(m)
            .map_err(|e| std::iter::once(e.message).chain(e.details).collect())
            .map(|m| m.expect("a monitor when there is no problem"))
    }

    #[test]
    fn calipers_long_form_reads_as_the_short_one() {
        let m = parse(
            "resource:\n  - module: prometheus\n    options:\n      url: http://127.0.0.1:9090\n      metrics:\n        include: [dev-.*, sealer]\n        queries:\n          - {name: Max Memory (MB), query: 'sum(x) by (name)', step: 10, label: name, statistic: max, multiplier: 0.000001}\n",
        )
        .unwrap();
        assert_eq!(m.url, "http://127.0.0.1:9090");
        assert_eq!(m.include, ["dev-.*", "sealer"]);
        assert_eq!(m.queries[0].statistic, Statistic::Max);
        assert_eq!(m.queries[0].step_s, 10.0);
        assert_eq!(m.queries[0].label.as_deref(), Some("name"));
    }

    #[test]
    fn other_modules_and_missing_parts_name_their_field() {
        let e =
            parse("resource:\n  - module: prometheus\n    options: {url: http://x, interval: 1}\n")
                .unwrap_err();
        assert!(
            e[0].contains("monitors.resource[0].options: unknown field `interval`"),
            "{e:?}"
        );
        let e =
            parse("resource:\n  - module: docker\n    options: {interval: 1, containers: [all]}\n")
                .unwrap_err();
        assert!(
            e[0].contains("monitors.resource[0].module: \"docker\": medchain samples"),
            "{e:?}"
        );
        assert!(
            e[1].contains("monitors.resource: expected one entry"),
            "{e:?}"
        );
        let e = parse("resource:\n  - module: prometheus\n    options:\n      metrics: {queries: [{name: a, query: up, statistic: median}]}\n").unwrap_err();
        assert!(
            e[0].contains("monitors.resource[0].options.url: missing"),
            "{e:?}"
        );
        assert!(
            e[1].contains("monitors.resource[0].options.metrics.queries[0].statistic: \"median\""),
            "{e:?}"
        );
        let e = parse("transaction: [{module: prometheus}]\nprometheus: {url: http://x, queries: [{name: a, query: up, statistic: max}]}\n").unwrap_err();
        assert!(
            e[0].contains("monitors.transaction: Caliper's transaction monitors are not read"),
            "{e:?}"
        );
    }
}
