//! `medchain bench <scenario>`: run a benchmark (or a sweep of them) and
//! write its reports.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Global;
use crate::bench::{self, run::BenchOptions};
use crate::error::InputError;
use crate::runtime::Kind;
use crate::{out, outln};

/// Flags of `medchain bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenario file, e.g. scenarios/simple.yaml.
    pub scenario: PathBuf,
    /// Topology file: its network is used, and brought up when it does not run
    /// (default: the only network running under --home, else ./medchain.yaml).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Write the JSON report (schema 1) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report with charts here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Compare against this earlier JSON report; exit 1 when worse than allowed.
    #[arg(long, requires = "max_regression")]
    pub baseline: Option<PathBuf>,
    /// Allowed drop in throughput / rise in p95 latency per round, percent.
    #[arg(long, requires = "baseline")]
    pub max_regression: Option<f64>,
    /// Run the scenario once per point of this sweep file (a fresh network each).
    #[arg(long, conflicts_with_all = ["baseline", "rpc", "html"])]
    pub sweep: Option<PathBuf>,
    /// Keep a network this run brought up (default: tear it down).
    #[arg(long)]
    pub keep: bool,
    /// Runtime for a network this run brings up (default: docker when an engine answers, else process).
    #[arg(long, env = "MEDCHAIN_RUNTIME", value_parser = super::runtime_arg())]
    pub runtime: Option<Kind>,
    /// Drive any JSON-RPC endpoint instead of a medchain network.
    #[arg(long, help_heading = "External endpoint")]
    pub rpc: Option<String>,
    /// WebSocket endpoint for new heads (default: --rpc with ws://).
    #[arg(long, requires = "rpc", help_heading = "External endpoint")]
    pub ws: Option<String>,
    /// Funded private key for --rpc (deploys contracts, funds workers).
    #[arg(long, requires = "rpc", help_heading = "External endpoint")]
    pub key: Option<String>,
    /// No progress output.
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not serve the run's Prometheus metrics (served by default on a loopback port, scraped by `medchain monitor`).
    #[arg(long, help_heading = "Metrics")]
    pub no_metrics: bool,
    /// Push the run's metrics to this Prometheus Pushgateway after every round (e.g. http://127.0.0.1:9091).
    #[arg(long, help_heading = "Metrics")]
    pub pushgateway: Option<String>,
}

impl BenchArgs {
    /// The library's options for these flags; `--max-regression` must be a
    /// percentage.
    pub(crate) fn to_options(&self, g: &Global) -> Result<BenchOptions, InputError> {
        let max_regression = self.max_regression.unwrap_or(0.0);
        if self.baseline.is_some() && !(0.0..=1000.0).contains(&max_regression) {
            return Err(InputError::new(format!(
                "--max-regression {max_regression}: expected a percentage between 0 and 1000"
            )));
        }
        Ok(BenchOptions {
            scenario: self.scenario.clone(),
            file: self.file.clone(),
            home: g.home.clone(),
            network: g.network.clone(),
            json: self.json.clone(),
            html: self.html.clone(),
            baseline: self.baseline.clone(),
            max_regression,
            keep: self.keep,
            runtime: self.runtime,
            rpc: self.rpc.clone(),
            ws: self.ws.clone(),
            key: self.key.clone(),
            quiet: self.quiet,
            metrics: !self.no_metrics,
            pushgateway: self.pushgateway.clone(),
        })
    }
}

/// Runs the benchmark (or the sweep), prints the table, writes the reports,
/// and fails when the baseline comparison, an interrupt or a round's
/// failure ratio (above the scenario's `max_fail_pct`) says so.
pub(crate) async fn execute(args: BenchArgs, g: &Global) -> anyhow::Result<()> {
    let opts = args.to_options(g)?;
    if let Some(sweep) = &args.sweep {
        return run_sweep(&opts, sweep, args.json.as_deref()).await;
    }
    let outcome = bench::run::bench(&opts).await?;
    out!("{}", bench::report::table(&outcome.report));
    if let Some(p) = &args.json {
        create_parent(p)?;
        bench::report::write_json(&outcome.report, p)?;
        outln!("JSON report: {}", p.display());
    }
    if let Some(p) = &args.html {
        create_parent(p)?;
        bench::report::write_html(&outcome.report, p)?;
        outln!("HTML report: {}", p.display());
    }
    if let Some(c) = outcome.comparison {
        for l in &c.lines {
            outln!("{l}");
        }
        if !c.ok {
            anyhow::bail!(
                "performance regressed beyond --max-regression (see the comparison above)"
            );
        }
    }
    if let Some(why) = &outcome.report.failure {
        anyhow::bail!(
            "{why}; the report holds the {} round(s) that completed",
            outcome.report.rounds.len()
        );
    }
    if outcome.report.partial {
        // Exit 130, like any command Ctrl-C ended.
        return Err(anyhow::Error::from(crate::interrupt::Interrupted)
            .context("the run was interrupted; the report holds the rounds that ran"));
    }
    if !outcome.fail_breaches.is_empty() {
        // One line naming each round over its max_fail_pct and its ratio.
        anyhow::bail!("{}", outcome.fail_breaches.join("; "));
    }
    Ok(())
}

/// `--sweep`: one run per point, a table of them, and their JSON.
async fn run_sweep(opts: &BenchOptions, sweep: &Path, json: Option<&Path>) -> anyhow::Result<()> {
    let rows = bench::sweep::run(opts, sweep).await?;
    out!("{}", bench::sweep::table(&rows));
    if let Some(p) = json {
        create_parent(p)?;
        std::fs::write(p, serde_json::to_string_pretty(&rows)?)?;
        outln!("JSON: {}", p.display());
    }
    Ok(())
}

/// Creates the directory a report goes into.
fn create_parent(p: &Path) -> anyhow::Result<()> {
    if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d)?;
    }
    Ok(())
}
