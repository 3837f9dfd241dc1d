//! Caliper-style Prometheus queries in rounds: a scenario's (or a round's)
//! `monitors: prometheus: {url, queries: [...]}` names PromQL expressions
//! that are evaluated over each round's window (`query_range`, from the
//! round's start to its end, every `step` seconds) and reduced to one
//! figure per series by a `statistic` (max, avg, min or sum) times a
//! `multiplier`, as Caliper's Prometheus monitor does. The figures become
//! a table in every report format.
//!
//! Each query takes Caliper's keys (`name`, `query`, `step`, `label`,
//! `statistic`, `multiplier`). The monitor is written either in short form
//! (`prometheus: {url, include, queries}`) or in Caliper's own long form
//! (`resource: [{module: prometheus, options: {url, metrics: {include,
//! queries}}}]`, see [`super::caliper_resource`]), so a Caliper benchmark's
//! monitor block can be pasted as it is. `include` keeps only the series
//! whose name matches one of its regular expressions, as Caliper's filter
//! does. A Prometheus that cannot be reached, or a query it refuses, is a
//! warning on the round, never a failed run.
//!
//! Parsing ([`check`]) and the statistic ([`reduce`]) are pure; only
//! [`evaluate`] talks to Prometheus.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::caliper_resource::{self, RawResource};
use super::prom_raw::{Fields, RawProm, RawQuery};
use crate::error::Problems;

/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most queries one monitor may hold.
const MAX_QUERIES: usize = 64;
/// Most series one query reports (the rest are counted in a warning).
const MAX_SERIES: usize = 50;

/// How a query's samples over the round become one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    /// The largest sample.
    Max,
    /// The mean of the samples.
    Avg,
    /// The smallest sample.
    Min,
    /// The sum of the samples.
    Sum,
}

/// One query, as the scenario gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    /// The row's name in the report.
    pub name: String,
    /// PromQL.
    pub query: String,
    /// Seconds between evaluations over the round.
    pub step_s: f64,
    /// The series label whose value names each row (Caliper's `label`);
    /// `None`: every label of the series.
    pub label: Option<String>,
    /// Reduction over the round.
    pub statistic: Statistic,
    /// Factor applied to the figure (e.g. 1e-6 for bytes to MB).
    pub multiplier: f64,
}

/// A `monitors: prometheus:` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromMonitor {
    /// The Prometheus server (its HTTP API's base URL).
    pub url: String,
    /// Queries, in the order written.
    pub queries: Vec<Query>,
    /// Regular expressions (checked when parsed): only series whose name
    /// matches one are reported; empty keeps every series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
}

/// `monitors:` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitors {
    prometheus: Option<RawProm>,
    resource: Option<Vec<RawResource>>,
    transaction: Option<serde_yaml::Value>,
}

/// The checked `monitors` block at `field` (`monitors` or
/// `rounds[i].monitors`); problems are recorded in `p`.
pub(crate) fn check(field: &str, raw: RawMonitors, p: &mut Problems) -> Option<PromMonitor> {
    if raw.transaction.is_some() {
        p.add(
            &format!("{field}.transaction"),
            "Caliper's transaction monitors are not read: the bench serves its own metrics while it runs (docs/monitoring.md, \"Benchmark metrics\"); remove this key",
        );
    }
    let (fields, prom) = match (raw.prometheus, raw.resource) {
        (Some(_), Some(_)) => {
            p.add(
                field,
                "expected either `prometheus:` or Caliper's `resource:` list, not both",
            );
            return None;
        }
        (Some(prom), None) => (Fields::under(&format!("{field}.prometheus")), prom),
        (None, Some(list)) => caliper_resource::prometheus(field, list, p)?,
        (None, None) => {
            p.add(
                field,
                "expected `prometheus: {url, queries: [{name, query, statistic}]}` or Caliper's `resource: [{module: prometheus, options: {url, metrics: {queries}}}]`",
            );
            return None;
        }
    };
    check_prom(&fields, prom, p)
}

/// One Prometheus monitor's settings, whichever form they came in.
fn check_prom(f: &Fields, prom: RawProm, p: &mut Problems) -> Option<PromMonitor> {
    let url = match prom.url.as_deref().map(str::trim) {
        None | Some("") => {
            p.add(&f.url, "missing: expected the Prometheus server's URL, e.g. http://127.0.0.1:9090 (`medchain status` shows the monitor's)");
            None
        }
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            p.add(
                &f.url,
                format!("{u:?}: expected an http:// or https:// URL, e.g. http://127.0.0.1:9090"),
            );
            None
        }
        Some(u) => Some(u.trim_end_matches('/').to_string()),
    };
    let include = check_include(&f.include, prom.include.unwrap_or_default(), p);
    let raw_queries = prom.queries.unwrap_or_default();
    if raw_queries.is_empty() || raw_queries.len() > MAX_QUERIES {
        p.add(
            &f.queries,
            format!("expected 1 to {MAX_QUERIES} queries, each {{name, query, statistic: max|avg|min|sum}}"),
        );
    }
    let queries: Vec<Query> = raw_queries
        .into_iter()
        .enumerate()
        .filter_map(|(i, q)| check_query(&format!("{}[{i}]", f.queries), q, p))
        .collect();
    Some(PromMonitor {
        url: url?,
        queries,
        include,
    })
}

/// `include`'s expressions, each checked to compile.
fn check_include(f: &str, include: Vec<String>, p: &mut Problems) -> Vec<String> {
    for (i, e) in include.iter().enumerate() {
        if let Err(err) = regex::Regex::new(e) {
            let why = err
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .to_string();
            p.add(
                &format!("{f}[{i}]"),
                format!("{e:?} is not a regular expression ({why}): expected e.g. \"sealer-.*\""),
            );
        }
    }
    include
}

/// One query at `f`, with Caliper's defaults (step 1 s, multiplier 1).
fn check_query(f: &str, q: RawQuery, p: &mut Problems) -> Option<Query> {
    let name = q.name.filter(|n| !n.trim().is_empty());
    if name.is_none() {
        p.add(
            &format!("{f}.name"),
            "missing: expected the row's name in the report, e.g. \"Peers\"",
        );
    }
    let query = q.query.filter(|n| !n.trim().is_empty());
    if query.is_none() {
        p.add(
            &format!("{f}.query"),
            "missing: expected a PromQL expression, e.g. p2p_peers",
        );
    }
    let statistic = match q.statistic.as_deref() {
        Some("max") => Some(Statistic::Max),
        Some("avg") => Some(Statistic::Avg),
        Some("min") => Some(Statistic::Min),
        Some("sum") => Some(Statistic::Sum),
        other => {
            let got = other.map_or("missing".to_string(), |s| format!("{s:?}"));
            p.add(
                &format!("{f}.statistic"),
                format!("{got}: expected max, avg, min or sum"),
            );
            None
        }
    };
    let step_s = q.step.unwrap_or(1.0);
    if !(step_s > 0.0 && step_s <= 3600.0) {
        p.add(
            &format!("{f}.step"),
            format!("{step_s}: expected seconds between evaluations, more than 0 and at most 3600"),
        );
    }
    let multiplier = q.multiplier.unwrap_or(1.0);
    if !multiplier.is_finite() {
        p.add(
            &format!("{f}.multiplier"),
            "expected a finite number (default 1)",
        );
    }
    Some(Query {
        name: name?,
        query: query?,
        step_s,
        label: q.label.filter(|l| !l.is_empty()),
        statistic: statistic?,
        multiplier,
    })
}

/// One figure of a round: a query's statistic for one series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromFigure {
    /// The query's name.
    pub name: String,
    /// The series (its `label`'s value, or all its labels).
    pub series: String,
    /// The statistic.
    pub statistic: String,
    /// Statistic × multiplier (`null` when the series had no number).
    pub value: Option<f64>,
}

/// A round's Prometheus figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromResults {
    /// The server queried.
    pub url: String,
    /// The round's window, Unix seconds.
    pub start_s: f64,
    /// The window's end, Unix seconds.
    pub end_s: f64,
    /// The queries, as the scenario gave them.
    pub queries: Vec<Query>,
    /// Figures in query order.
    pub figures: Vec<PromFigure>,
    /// What went wrong (unreachable server, refused query, no data):
    /// warnings, not failures.
    pub warnings: Vec<String>,
}

/// Seconds since the Unix epoch of `t`.
pub fn unix_s(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Evaluates every query of `m` over `[start_s, end_s]`.
pub async fn evaluate(m: &PromMonitor, start_s: f64, end_s: f64) -> PromResults {
    let mut out = PromResults {
        url: m.url.clone(),
        start_s,
        end_s,
        queries: m.queries.clone(),
        ..Default::default()
    };
    let client = reqwest::Client::builder()
        .timeout(QUERY_TIMEOUT)
        .build()
        .expect("a plain HTTP client builds");
    // Checked when the scenario was parsed.
    let include: Vec<regex::Regex> = (m.include.iter())
        .filter_map(|e| regex::Regex::new(e).ok())
        .collect();
    for q in &m.queries {
        match range(&client, &m.url, q, start_s, end_s).await {
            Ok(v) => {
                let (figures, warning) = figures_of(q, &v, &include);
                out.figures.extend(figures);
                out.warnings.extend(warning);
            }
            Err(e) => {
                let w = format!("{}: {e}", q.name);
                let unreachable = e.contains("cannot reach");
                out.warnings.push(w);
                if unreachable {
                    // The others would fail the same way.
                    break;
                }
            }
        }
    }
    out
}

/// One `query_range` call: the answer's `data.result`, or why not.
async fn range(
    client: &reqwest::Client,
    url: &str,
    q: &Query,
    start_s: f64,
    end_s: f64,
) -> Result<Vec<Value>, String> {
    let params = [
        ("query", q.query.clone()),
        ("start", format!("{start_s:.3}")),
        ("end", format!("{:.3}", end_s.max(start_s))),
        ("step", format!("{}", q.step_s)),
    ];
    let resp = client
        .get(format!("{url}/api/v1/query_range"))
        .query(&params)
        .send()
        .await
        .map_err(|e| format!("cannot reach Prometheus at {url}: {e}"))?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("Prometheus at {url} answered {status} without JSON: {e}"))?;
    if body["status"] != "success" {
        return Err(format!(
            "Prometheus refused the query ({}): {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or("no reason given")
        ));
    }
    Ok(body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The figures of a `query_range` result (a matrix), keeping only the
/// series whose name matches one of `include` (all when it is empty), and
/// a warning when none is left or more than [`MAX_SERIES`] are.
fn figures_of(
    q: &Query,
    result: &[Value],
    include: &[regex::Regex],
) -> (Vec<PromFigure>, Option<String>) {
    let kept: Vec<(String, &Value)> = result
        .iter()
        .map(|s| (series_name(&s["metric"], q.label.as_deref()), s))
        .filter(|(name, _)| include.is_empty() || include.iter().any(|r| r.is_match(name)))
        .collect();
    if kept.is_empty() {
        let why = match result.is_empty() {
            true => "no data in the round's window",
            false => "no series matched `include`",
        };
        return (
            vec![PromFigure {
                name: q.name.clone(),
                series: "-".into(),
                statistic: stat_name(q.statistic).into(),
                value: None,
            }],
            Some(format!("{}: {why}", q.name)),
        );
    }
    let more = (kept.len() > MAX_SERIES).then(|| {
        format!(
            "{}: {} series, only the first {MAX_SERIES} reported",
            q.name,
            kept.len()
        )
    });
    let figures = kept
        .into_iter()
        .take(MAX_SERIES)
        .map(|(series, s)| PromFigure {
            name: q.name.clone(),
            series,
            statistic: stat_name(q.statistic).into(),
            value: reduce(&sample_values(s), q.statistic).map(|v| v * q.multiplier),
        })
        .collect();
    (figures, more)
}

/// The finite numbers of one series of a matrix.
fn sample_values(series: &Value) -> Vec<f64> {
    series["values"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|p| p[1].as_str()?.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .collect()
        })
        .unwrap_or_default()
}

/// A series' name: its `label`'s value (`unknown` without it, as Caliper
/// writes), or `{k="v",…}` of all its labels.
fn series_name(metric: &Value, label: Option<&str>) -> String {
    let Some(m) = metric.as_object() else {
        return "{}".into();
    };
    match label {
        Some(l) => m
            .get(l)
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        None => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={:?}", v.as_str().unwrap_or_default()))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
    }
}

fn stat_name(s: Statistic) -> &'static str {
    match s {
        Statistic::Max => "max",
        Statistic::Avg => "avg",
        Statistic::Min => "min",
        Statistic::Sum => "sum",
    }
}

/// `statistic` of `values`; `None` when there are none.
pub fn reduce(values: &[f64], statistic: Statistic) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let it = values.iter().copied();
    Some(match statistic {
        Statistic::Max => it.fold(f64::MIN, f64::max),
        Statistic::Min => it.fold(f64::MAX, f64::min),
        Statistic::Sum => it.sum(),
        Statistic::Avg => it.sum::<f64>() / values.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Option<PromMonitor>, Vec<String>> {
        let raw: RawMonitors = serde_yaml::from_str(yaml).unwrap();
        let mut p = Problems::new("s.yaml");
        let m = check("monitors", raw, &mut p);
        p.finish(m)
            .map_err(|e| std::iter::once(e.message).chain(e.details).collect())
    }

    #[test]
    fn a_caliper_style_block_parses_with_caliper_defaults() {
        let m = parse(
            "prometheus:\n  url: http://127.0.0.1:9090/\n  queries:\n    - {name: Peers, query: p2p_peers, label: node, statistic: max}\n    - {name: Mem, query: x, statistic: avg, step: 5, multiplier: 0.001}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(m.url, "http://127.0.0.1:9090");
        assert_eq!(m.queries[0].step_s, 1.0);
        assert_eq!(m.queries[0].multiplier, 1.0);
        assert_eq!(m.queries[0].label.as_deref(), Some("node"));
        assert_eq!(m.queries[1].statistic, Statistic::Avg);
        assert_eq!(m.queries[1].step_s, 5.0);
    }

    #[test]
    fn bad_blocks_name_the_field_and_what_is_expected() {
        let e = parse("prometheus:\n  queries: [{name: a, query: up, statistic: median}]\n")
            .unwrap_err();
        assert!(
            e[0].starts_with("s.yaml: monitors.prometheus.url: missing"),
            "{e:?}"
        );
        assert!(
            e[1].contains("monitors.prometheus.queries[0].statistic: \"median\": expected max, avg, min or sum"),
            "{e:?}"
        );
        let e = parse("prometheus:\n  url: 127.0.0.1:9090\n  queries: []\n").unwrap_err();
        assert!(
            e[0].contains("url: \"127.0.0.1:9090\": expected an http://"),
            "{e:?}"
        );
        assert!(e[1].contains("queries: expected 1 to"), "{e:?}");
        let e =
            parse("prometheus:\n  url: http://x\n  queries: [{query: up, step: 0}]\n").unwrap_err();
        assert!(
            e.iter().any(|l| l.contains("queries[0].name: missing")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|l| l.contains("queries[0].statistic: missing")),
            "{e:?}"
        );
        assert!(e.iter().any(|l| l.contains("queries[0].step: 0")), "{e:?}");
        assert!(parse("{}\n").unwrap_err()[0].contains("monitors: expected `prometheus:"));
        let e = parse("prometheus:\n  url: http://x\n  include: ['(']\n  queries: [{name: a, query: up, statistic: max}]\n").unwrap_err();
        assert!(
            e[0].contains("monitors.prometheus.include[0]: \"(\" is not a regular expression"),
            "{e:?}"
        );
    }

    #[test]
    fn statistics_reduce_as_caliper_does() {
        let v = [3.0, 1.0, 2.0];
        assert_eq!(reduce(&v, Statistic::Max), Some(3.0));
        assert_eq!(reduce(&v, Statistic::Min), Some(1.0));
        assert_eq!(reduce(&v, Statistic::Avg), Some(2.0));
        assert_eq!(reduce(&v, Statistic::Sum), Some(6.0));
        assert_eq!(reduce(&[], Statistic::Max), None);
    }

    #[test]
    fn a_matrix_becomes_one_figure_per_series() {
        let q = Query {
            name: "Peers".into(),
            query: "p2p_peers".into(),
            step_s: 1.0,
            label: Some("node".into()),
            statistic: Statistic::Max,
            multiplier: 2.0,
        };
        let result: Vec<Value> = serde_json::from_str(
            r#"[{"metric":{"node":"a"},"values":[[1,"1"],[2,"3"]]},
                {"metric":{"job":"geth"},"values":[[1,"NaN"]]}]"#,
        )
        .unwrap();
        let (f, w) = figures_of(&q, &result, &[]);
        assert!(w.is_none());
        assert_eq!((f[0].series.as_str(), f[0].value), ("a", Some(6.0)));
        assert_eq!((f[1].series.as_str(), f[1].value), ("unknown", None));
        let (f, w) = figures_of(&q, &[], &[]);
        assert_eq!(f[0].value, None);
        assert!(w.unwrap().contains("no data"));
        // Caliper's include: an unanchored match on the series' name.
        let only_a = [regex::Regex::new("^a$").unwrap()];
        let (f, _) = figures_of(&q, &result, &only_a);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].series, "a");
        let none = [regex::Regex::new("sealer").unwrap()];
        let (f, w) = figures_of(&q, &result, &none);
        assert_eq!(f[0].value, None);
        assert!(w.unwrap().contains("no series matched `include`"));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_warning() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let m = PromMonitor {
            url: format!("http://127.0.0.1:{port}"),
            queries: vec![
                Query {
                    name: "a".into(),
                    query: "up".into(),
                    step_s: 1.0,
                    label: None,
                    statistic: Statistic::Avg,
                    multiplier: 1.0,
                };
                2
            ],
            include: vec![],
        };
        let r = evaluate(&m, 1.0, 2.0).await;
        assert!(r.figures.is_empty());
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(
            r.warnings[0].contains("cannot reach Prometheus"),
            "{:?}",
            r.warnings
        );
    }
}
