//! The `bench --html` page: one self-contained offline file (inline CSS,
//! inline SVG charts, no scripts, fonts or links) that a researcher can
//! attach to a paper's artefacts or a CI run.
//!
//! Charts are drawn by `plotters` into SVG strings; the page comes from a
//! `minijinja` template (`report.html`) whose HTML auto-escaping keeps
//! user-supplied labels inert. Only the charts are inserted unescaped, and
//! plotters escapes the text it puts in them.

use std::path::Path;

use anyhow::Context;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use serde::Serialize;

use super::table::{num_trimmed, Table, PARTIAL_NOTE};
use super::tables::all_tables;
use crate::bench::result::{BenchReport, RoundResult};

/// The page template, compiled into the binary so the report needs no files.
const TEMPLATE: &str = include_str!("report.html");

/// Chart size in pixels (width, height).
const CHART_SIZE: (u32, u32) = (440, 290);

const SUBMITTED: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const COMMITTED: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const LATENCY: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const BARS: RGBColor = RGBColor(0x94, 0x67, 0xbd);

/// Everything the template shows.
#[derive(Serialize)]
struct Page<'a> {
    title: String,
    network: &'a str,
    scenario: &'a str,
    consensus: &'a str,
    records_layout: Option<&'a str>,
    schema: u32,
    partial: bool,
    partial_note: &'static str,
    warnings: &'a [String],
    version: &'static str,
    tables: Vec<Table>,
    rounds: Vec<RoundView<'a>>,
}

/// One round's section: its label and charts.
#[derive(Serialize)]
struct RoundView<'a> {
    label: &'a str,
    op: &'a str,
    charts: Vec<Chart>,
}

/// One inline SVG chart and its caption.
#[derive(Serialize)]
struct Chart {
    caption: &'static str,
    svg: String,
}

/// Writes the HTML report of `report` to `path`.
pub fn write_html(report: &BenchReport, path: &Path) -> anyhow::Result<()> {
    let html = render_html(report)?;
    std::fs::write(path, html)
        .with_context(|| format!("cannot write the HTML report to {}", path.display()))
}

/// The HTML page [`write_html`] writes.
pub fn render_html(report: &BenchReport) -> anyhow::Result<String> {
    let rounds = report
        .rounds
        .iter()
        .map(|r| {
            Ok(RoundView {
                label: &r.label,
                op: &r.op,
                charts: round_charts(r)
                    .with_context(|| format!("cannot draw the charts of round {:?}", r.label))?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let page = Page {
        title: format!("medchain bench: {} on {}", report.scenario, report.network),
        network: &report.network,
        scenario: &report.scenario,
        consensus: &report.consensus,
        records_layout: report.records_layout.as_deref(),
        schema: report.schema,
        partial: report.partial,
        partial_note: PARTIAL_NOTE,
        warnings: &report.warnings,
        version: env!("CARGO_PKG_VERSION"),
        tables: all_tables(report),
        rounds,
    };
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .context("the HTML report template does not parse")?;
    env.get_template("report.html")?
        .render(minijinja::value::Serde(&page))
        .context("cannot render the HTML report")
}

/// The three charts of a round, in page order.
fn round_charts(round: &RoundResult) -> anyhow::Result<Vec<Chart>> {
    Ok(vec![
        Chart {
            caption: "Throughput over time: submitted vs committed per second",
            svg: throughput_chart(round)?,
        },
        Chart {
            caption: "Latency over time: mean latency of the transactions committed each second",
            svg: latency_chart(round)?,
        },
        Chart {
            caption: "Latency distribution",
            svg: histogram_chart(round)?,
        },
    ])
}

/// Submitted and committed transactions per second over the round.
fn throughput_chart(round: &RoundResult) -> anyhow::Result<String> {
    let tl = &round.timeline;
    let x_max = axis_max(tl.iter().map(|p| p.t_s));
    let y_max = axis_max(tl.iter().map(|p| p.submitted.max(p.committed) as f64));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Throughput (TPS)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .x_desc("time since round start (s)")
            .y_desc("transactions / s")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                tl.iter().map(|p| (p.t_s, p.submitted as f64)),
                SUBMITTED.stroke_width(2),
            ))?
            .label("submitted")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SUBMITTED));
        chart
            .draw_series(LineSeries::new(
                tl.iter().map(|p| (p.t_s, p.committed as f64)),
                COMMITTED.stroke_width(2),
            ))?
            .label("committed")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COMMITTED));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
    }
    Ok(inline_svg(svg))
}

/// Mean latency of the transactions committed in each second (seconds in
/// which nothing committed have no latency and are left out).
fn latency_chart(round: &RoundResult) -> anyhow::Result<String> {
    let points: Vec<(f64, f64)> = round
        .timeline
        .iter()
        .filter(|p| p.committed > 0 && p.avg_latency_s.is_finite())
        .map(|p| (p.t_s, p.avg_latency_s))
        .collect();
    let x_max = axis_max(round.timeline.iter().map(|p| p.t_s));
    let y_max = axis_max(points.iter().map(|p| p.1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Average latency (s)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .x_desc("time since round start (s)")
            .y_desc("latency (s)")
            .draw()?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            LATENCY.stroke_width(2),
        ))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 2, LATENCY.filled())))?;
        root.present()?;
    }
    Ok(inline_svg(svg))
}

/// The latency histogram as bars, one per bucket, labelled by the bucket's
/// upper bound.
fn histogram_chart(round: &RoundResult) -> anyhow::Result<String> {
    let hist = &round.latency_histogram;
    // Discrete plotters ranges include their end: 0..=last is one segment
    // per bucket.
    let last = hist.len().saturating_sub(1) as u32;
    let y_max = hist.iter().map(|b| b.count).max().unwrap_or(0);
    let y_max = (y_max + y_max / 10).max(1);
    let label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => hist
            .get(*i as usize)
            .map(|b| {
                if b.le_s.is_finite() {
                    format!("≤{}", num_trimmed(b.le_s))
                } else {
                    "more".to_string()
                }
            })
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Latency distribution", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d((0u32..last).into_segmented(), 0u64..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(hist.len().clamp(1, 12))
            .x_label_formatter(&label)
            .x_desc("latency bucket upper bound (s)")
            .y_desc("transactions")
            .draw()?;
        chart.draw_series(
            Histogram::vertical(&chart)
                .style(BARS.filled())
                .margin(2)
                .data(hist.iter().enumerate().map(|(i, b)| (i as u32, b.count))),
        )?;
        root.present()?;
    }
    Ok(inline_svg(svg))
}

/// Upper end of an axis holding `values`: 10 % headroom over the largest,
/// at least 1 so an empty or all-zero series still draws.
fn axis_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if max > 0.0 {
        max * 1.1
    } else {
        1.0
    }
}

/// Makes plotters' standalone SVG an inline one: HTML needs no XML
/// namespace declaration, and dropping it keeps the page free of any URL.
fn inline_svg(svg: String) -> String {
    svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "")
}
