//! The study's experiments: one scenario run on a fresh network per point
//! of a sweep — Clique signer count × block period, ethash miner count ×
//! genesis difficulty — and one table of the results.
//!
//! ```yaml
//! name: consensus
//! hospitals: 2                 # sealers spread over these, one member each
//! clique: { signers: [1, 3], block_period: [1, 2] }
//! ethash: { miners: [1, 3], difficulty: ["0x200"] }
//! ```

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::result::BenchReport;
use super::run::{bench, BenchOptions};
use crate::error::{InputError, Problems};
use crate::table::Table;

/// One network configuration of a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// `clique` or `ethash`.
    pub consensus: String,
    /// Signers or miners.
    pub sealers: u64,
    /// Clique block period, seconds.
    pub block_period: Option<u64>,
    /// Ethash genesis difficulty.
    pub difficulty: Option<u128>,
}

/// A parsed sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// Name (networks are `sweep-<name>-<i>`).
    pub name: String,
    /// Hospitals the sealers are spread over.
    pub hospitals: u64,
    /// Points, clique first.
    pub points: Vec<Point>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    hospitals: Option<u64>,
    clique: Option<RawClique>,
    ethash: Option<RawEthash>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClique {
    signers: Vec<u64>,
    block_period: Vec<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEthash {
    miners: Vec<u64>,
    difficulty: Vec<String>,
}

/// The default of every sweep key: what a key the file leaves out means.
/// The parser takes each default from [`DEFAULTS`] and nowhere else. The
/// `clique` and `ethash` sections have none: a section lists both of its
/// dimensions, and a sweep needs at least one section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defaults {
    /// `name`.
    pub name: &'static str,
    /// `hospitals`.
    pub hospitals: u64,
}

/// The sweep defaults.
pub(crate) const DEFAULTS: Defaults = Defaults {
    name: "sweep",
    hospitals: 2,
};

/// Parses a sweep file, reporting every problem found (the first as the
/// headline, the others as details).
pub fn parse(text: &str, file: &str) -> Result<Sweep, InputError> {
    let raw: Raw = crate::error::from_yaml(text, file, &[])?;
    let mut p = Problems::new(file);
    let name = raw.name.unwrap_or_else(|| DEFAULTS.name.into());
    if !crate::topology::is_valid_name(&name) || name.len() > 20 {
        p.add(
            "name",
            format!("{name:?}: expected up to 20 of a-z, 0-9, '-'"),
        );
    }
    let hospitals = raw.hospitals.unwrap_or(DEFAULTS.hospitals);
    if !(1..=8).contains(&hospitals) {
        p.add(
            "hospitals",
            format!("{hospitals} is out of range: expected 1 to 8"),
        );
    }
    let mut points = Vec::new();
    if let Some(c) = &raw.clique {
        points.extend(clique_points(c, &mut p));
    }
    if let Some(e) = &raw.ethash {
        points.extend(ethash_points(e, &mut p));
    }
    if points.is_empty() {
        p.add(
            "clique/ethash",
            "no points: give clique {signers, block_period} and/or ethash {miners, difficulty}",
        );
    }
    p.finish(Sweep {
        name,
        hospitals,
        points,
    })
}

/// The Clique points: every signer count × every block period, each value
/// checked once.
fn clique_points(c: &RawClique, p: &mut Problems) -> Vec<Point> {
    for (k, s) in c.signers.iter().enumerate() {
        if !(1..=16).contains(s) {
            p.add(
                &format!("clique.signers[{k}]"),
                format!("{s} is out of range: expected 1 to 16"),
            );
        }
    }
    for (k, b) in c.block_period.iter().enumerate() {
        if !(1..=60).contains(b) {
            p.add(
                &format!("clique.block_period[{k}]"),
                format!("{b} is out of range: expected 1 to 60"),
            );
        }
    }
    let mut points = Vec::new();
    for s in &c.signers {
        for b in &c.block_period {
            points.push(Point {
                consensus: "clique".into(),
                sealers: *s,
                block_period: Some(*b),
                difficulty: None,
            });
        }
    }
    points
}

/// The ethash points: every miner count × every genesis difficulty, each
/// value checked once (difficulties as a topology file takes them).
fn ethash_points(e: &RawEthash, p: &mut Problems) -> Vec<Point> {
    for (k, m) in e.miners.iter().enumerate() {
        if !(1..=8).contains(m) {
            p.add(
                &format!("ethash.miners[{k}]"),
                format!("{m} is out of range: expected 1 to 8"),
            );
        }
    }
    let mut difficulties = Vec::new();
    for (k, d) in e.difficulty.iter().enumerate() {
        match crate::topology::parse_quantity(d).filter(|v| *v > 0 && *v <= u64::MAX as u128) {
            Some(v) => difficulties.push(v),
            None => p.add(
                &format!("ethash.difficulty[{k}]"),
                format!("{d:?}: expected a positive number up to 2^64-1 such as \"0x200\""),
            ),
        }
    }
    let mut points = Vec::new();
    for m in &e.miners {
        for d in &difficulties {
            points.push(Point {
                consensus: "ethash".into(),
                sealers: *m,
                block_period: None,
                difficulty: Some(*d),
            });
        }
    }
    points
}

/// The topology of point `i`: sealers spread round-robin over the
/// hospitals, one member per hospital.
pub fn topology(sweep: &Sweep, i: usize) -> String {
    let p = &sweep.points[i];
    let mut out = format!(
        "network: sweep-{}-{i}\nconsensus: {}\n",
        sweep.name, p.consensus
    );
    if let Some(bp) = p.block_period {
        let _ = writeln!(out, "block_period: {bp}");
    }
    if let Some(d) = p.difficulty {
        let _ = writeln!(out, "difficulty: \"{d:#x}\"");
    }
    out.push_str("hospitals:\n");
    for h in 0..sweep.hospitals {
        let sealers = p.sealers / sweep.hospitals + u64::from(h < p.sealers % sweep.hospitals);
        let _ = writeln!(out, "  - {{ name: h{h}, sealers: {sealers}, members: 1 }}");
    }
    out
}

/// Runs every point; each brings its own network up and down.
pub async fn run(opts: &BenchOptions, file: &Path) -> anyhow::Result<Vec<(Point, BenchReport)>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| InputError::new(format!("{}: cannot read the sweep ({e})", file.display())))?;
    let sweep = parse(&text, &file.display().to_string())?;
    // Validate the scenario before the first network starts.
    super::scenario::load(&opts.scenario)?;
    std::fs::create_dir_all(&opts.home)?;
    let mut rows = Vec::new();
    for (i, p) in sweep.points.iter().enumerate() {
        let topo = opts.home.join(format!("sweep-{}-{i}.yaml", sweep.name));
        std::fs::write(&topo, topology(&sweep, i))?;
        if !opts.quiet {
            eprintln!(
                "sweep point {}/{}: {} with {} sealer(s){}",
                i + 1,
                sweep.points.len(),
                p.consensus,
                p.sealers,
                p.block_period
                    .map(|b| format!(", period {b} s"))
                    .or(p.difficulty.map(|d| format!(", difficulty {d:#x}")))
                    .unwrap_or_default()
            );
        }
        let point_opts = BenchOptions {
            file: Some(topo.clone()),
            network: None,
            keep: false,
            baseline: None,
            json: None,
            html: None,
            ..opts.clone()
        };
        let out = bench(&point_opts).await;
        let _ = std::fs::remove_file(&topo);
        rows.push((p.clone(), out?.report));
    }
    Ok(rows)
}

/// The sweep's results as a [`Table`]: one row per point × round, with
/// Caliper's figures and the chain's own.
pub(crate) fn results(rows: &[(Point, BenchReport)]) -> Table {
    let headers = [
        "consensus",
        "sealers",
        "period (s)",
        "difficulty",
        "round",
        "succ",
        "fail",
        "send TPS",
        "throughput TPS",
        "on-chain TPS",
        "avg latency (s)",
        "p95 latency (s)",
        "block interval (s)",
        "uncles",
    ];
    let mut cells = Vec::new();
    for (p, r) in rows {
        for round in &r.rounds {
            cells.push(vec![
                p.consensus.clone(),
                p.sealers.to_string(),
                p.block_period.map_or_else(|| "-".into(), |b| b.to_string()),
                p.difficulty
                    .map_or_else(|| "-".into(), |d| format!("{d:#x}")),
                round.label.clone(),
                round.succ.to_string(),
                round.fail.to_string(),
                format!("{:.1}", round.send_rate_tps),
                format!("{:.1}", round.throughput_tps),
                format!("{:.1}", round.onchain_tps),
                format!("{:.2}", round.avg_latency_s),
                format!("{:.2}", round.p95_latency_s),
                format!("{:.2}", round.chain.block_interval_avg_s),
                round.chain.uncles.to_string(),
            ]);
        }
    }
    Table {
        title: "Sweep results".into(),
        headers: headers.map(String::from).to_vec(),
        rows: cells,
        note: None,
    }
}

/// Columns of [`results`] that hold numbers (right-aligned): all but
/// consensus and round.
const NUMERIC: &[usize] = &[1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13];

/// The sweep's results as a Markdown table, the form docs/experiments.md
/// records them in, so a run pastes straight into the study's notes.
pub fn table(rows: &[(Point, BenchReport)]) -> String {
    markdown(&results(rows), NUMERIC)
}

/// Draws a [`Table`] as a GitHub Markdown table: header, a `---` rule
/// (`---:` for the `right` columns) and one line per row, no padding. A
/// `|` in a cell is escaped and control characters become spaces, so a
/// round label cannot break the table. Title and note are not drawn.
fn markdown(t: &Table, right: &[usize]) -> String {
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for cell in cells {
            let cell: String = cell
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let _ = write!(s, " {} |", cell.replace('|', "\\|"));
        }
        s.push('\n');
        s
    };
    let rule: Vec<String> = (0..t.headers.len())
        .map(|i| if right.contains(&i) { "---:" } else { "---" }.to_string())
        .collect();
    let mut out = line(&t.headers);
    out.push_str(&line(&rule));
    for row in &t.rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_the_cross_product_and_topologies_parse() {
        let s = parse(
            "name: t\nhospitals: 2\nclique: {signers: [1, 3], block_period: [1, 2]}\nethash: {miners: [3], difficulty: [\"0x200\"]}\n",
            "s.yaml",
        )
        .unwrap();
        assert_eq!(s.points.len(), 5);
        for i in 0..s.points.len() {
            let t = crate::topology::parse(&topology(&s, i), "gen").unwrap();
            assert_eq!(t.sealer_count(), s.points[i].sealers);
            assert_eq!(t.hospitals.len(), 2);
        }
        let t = crate::topology::parse(&topology(&s, 4), "gen").unwrap();
        assert_eq!(t.difficulty, 0x200);
        assert_eq!(t.hospitals[0].sealers, 2);
    }

    #[test]
    fn bad_sweeps_name_the_field() {
        assert!(parse("name: t\n", "s")
            .unwrap_err()
            .message
            .contains("no points"));
        assert!(parse("clique: {signers: [0], block_period: [1]}\n", "s")
            .unwrap_err()
            .message
            .contains("clique.signers"));
        assert!(parse("ethash: {miners: [1], difficulty: [\"zz\"]}\n", "s")
            .unwrap_err()
            .message
            .contains("ethash.difficulty"));
    }

    #[test]
    fn every_problem_in_a_sweep_is_reported() {
        let e = parse(
            "name: Bad Name\nhospitals: 9\nclique: {signers: [0, 2, 17], block_period: [0]}\nethash: {miners: [9], difficulty: [\"zz\", \"0x200\", \"0x0\"]}\n",
            "s.yaml",
        )
        .unwrap_err();
        let all: Vec<String> = std::iter::once(e.message).chain(e.details).collect();
        let want = [
            "s.yaml: name: \"Bad Name\"",
            "s.yaml: hospitals: 9 is out of range",
            "s.yaml: clique.signers[0]: 0 is out of range",
            "s.yaml: clique.signers[2]: 17 is out of range",
            "s.yaml: clique.block_period[0]: 0 is out of range",
            "s.yaml: ethash.miners[0]: 9 is out of range",
            "s.yaml: ethash.difficulty[0]: \"zz\": expected a positive number",
            "s.yaml: ethash.difficulty[2]: \"0x0\": expected a positive number",
        ];
        assert_eq!(all.len(), want.len(), "{all:#?}");
        for (got, want) in all.iter().zip(want) {
            assert!(got.starts_with(want), "{got:?} should start with {want:?}");
        }
        // Absent keys take the defaults record; a blank file lacks only points.
        let e = parse("", "s.yaml").unwrap_err();
        assert!(
            e.message.starts_with("s.yaml: clique/ethash: no points"),
            "{e}"
        );
        assert!(e.details.is_empty(), "{e}");
        let s = parse("clique: {signers: [1], block_period: [1]}\n", "s").unwrap();
        assert_eq!(
            (s.name.as_str(), s.hospitals),
            (DEFAULTS.name, DEFAULTS.hospitals)
        );
        let e = parse("clique: {signers: [1]}\n", "s").unwrap_err().message;
        assert!(
            e.starts_with("s:1:9: clique: missing field `block_period`; add it"),
            "{e}"
        );
    }

    #[test]
    fn results_print_as_the_markdown_table_the_experiments_doc_records() {
        let round = |label: &str| crate::bench::result::RoundResult {
            label: label.into(),
            succ: 400,
            send_rate_tps: 40.0,
            throughput_tps: 36.25,
            onchain_tps: 36.4,
            avg_latency_s: 1.555,
            p95_latency_s: 2.0,
            chain: crate::bench::result::ChainFigures {
                block_interval_avg_s: 1.0,
                ..Default::default()
            },
            ..Default::default()
        };
        let report = BenchReport {
            rounds: vec![round("open"), round("a|b\nc")],
            ..Default::default()
        };
        let point = Point {
            consensus: "clique".into(),
            sealers: 1,
            block_period: Some(1),
            difficulty: None,
        };
        let out = table(&[(point, report)]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{out}");
        let doc = include_str!("../../docs/experiments.md");
        for head in &lines[..2] {
            assert!(
                doc.lines().any(|l| l == *head),
                "docs/experiments.md lacks {head}"
            );
        }
        assert_eq!(
            lines[2],
            "| clique | 1 | 1 | - | open | 400 | 0 | 40.0 | 36.2 | 36.4 | 1.55 | 2.00 | 1.00 | 0 |"
        );
        assert!(lines[3].contains("| a\\|b c |"), "{out}");
        let t = results(&[]);
        assert_eq!(t.headers.len(), 14);
        assert!(t.rows.is_empty());
    }
}
