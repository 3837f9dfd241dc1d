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
use crate::error::InputError;

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

#[derive(Debug, Deserialize)]
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

/// Parses a sweep file.
pub fn parse(text: &str, file: &str) -> Result<Sweep, InputError> {
    let raw: Raw = serde_yaml::from_str(text).map_err(|e| {
        let (loc, cause) = crate::error::yaml_location(&e, file);
        InputError::new(format!("{loc}: {cause}"))
    })?;
    let bad = |f: &str, m: String| InputError::new(format!("{file}: {f}: {m}"));
    let name = raw.name.unwrap_or_else(|| "sweep".into());
    if !crate::topology::is_valid_name(&name) || name.len() > 20 {
        return Err(bad(
            "name",
            format!("{name:?}: expected up to 20 of a-z, 0-9, '-'"),
        ));
    }
    let hospitals = raw.hospitals.unwrap_or(2);
    if !(1..=8).contains(&hospitals) {
        return Err(bad(
            "hospitals",
            format!("{hospitals} is out of range: expected 1 to 8"),
        ));
    }
    let mut points = Vec::new();
    if let Some(c) = raw.clique {
        for s in &c.signers {
            if !(1..=16).contains(s) {
                return Err(bad(
                    "clique.signers",
                    format!("{s} is out of range: expected 1 to 16"),
                ));
            }
            for p in &c.block_period {
                if !(1..=60).contains(p) {
                    return Err(bad(
                        "clique.block_period",
                        format!("{p} is out of range: expected 1 to 60"),
                    ));
                }
                points.push(Point {
                    consensus: "clique".into(),
                    sealers: *s,
                    block_period: Some(*p),
                    difficulty: None,
                });
            }
        }
    }
    if let Some(e) = raw.ethash {
        for m in &e.miners {
            if !(1..=8).contains(m) {
                return Err(bad(
                    "ethash.miners",
                    format!("{m} is out of range: expected 1 to 8"),
                ));
            }
            for d in &e.difficulty {
                let v = u128::from_str_radix(
                    d.trim_start_matches("0x"),
                    if d.starts_with("0x") { 16 } else { 10 },
                )
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| {
                    bad(
                        "ethash.difficulty",
                        format!("{d:?}: expected a positive number such as \"0x200\""),
                    )
                })?;
                points.push(Point {
                    consensus: "ethash".into(),
                    sealers: *m,
                    block_period: None,
                    difficulty: Some(v),
                });
            }
        }
    }
    if points.is_empty() {
        return Err(bad(
            "clique/ethash",
            "no points: give clique {signers, block_period} and/or ethash {miners, difficulty}"
                .into(),
        ));
    }
    Ok(Sweep {
        name,
        hospitals,
        points,
    })
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

/// The sweep's results as a Markdown table (one row per point × round).
pub fn table(rows: &[(Point, BenchReport)]) -> String {
    let mut out = String::from(
        "| consensus | sealers | period (s) | difficulty | round | succ | fail | send TPS | throughput TPS | on-chain TPS | avg latency (s) | p95 latency (s) | block interval (s) | uncles |\n\
         | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (p, r) in rows {
        for round in &r.rounds {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} |",
                p.consensus,
                p.sealers,
                p.block_period.map(|b| b.to_string()).unwrap_or_else(|| "-".into()),
                p.difficulty.map(|d| format!("{d:#x}")).unwrap_or_else(|| "-".into()),
                round.label,
                round.succ,
                round.fail,
                round.send_rate_tps,
                round.throughput_tps,
                round.onchain_tps,
                round.avg_latency_s,
                round.p95_latency_s,
                round.chain.block_interval_avg_s,
                round.chain.uncles
            );
        }
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
}
