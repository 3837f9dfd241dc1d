//! What the bench's Prometheus exporter costs the driver (issue 16's
//! "≤ 5 % of a saturating round's throughput"), measured piece by piece
//! on the same code the driver runs:
//!
//! - `per_transaction`: what the tracker adds for one committed
//!   transaction when the exporter is on (`submitted` + `committed`: two
//!   counter increments and one histogram observation);
//! - `sample`: the once-a-second sample of in-flight and send rate;
//! - `encode`: one scrape's text, for a run of four rounds with every
//!   series filled;
//! - `scrape_http`: one whole `GET /metrics` over loopback against the
//!   exporter's own server (its hyper server plus a reqwest client in the
//!   same process, so an upper bound on what serving one scrape costs).
//!
//! The exporter's CPU per second of a round is then
//! `rate × per_transaction + sample + scrape_http / scrape_interval`;
//! docs/performance.md divides it by the CPU the round uses.
//!
//! Run: `cargo bench --bench exporter -- --warm-up-time 1 --measurement-time 5`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use medchain::bench::metrics::BenchMetrics;

/// A run of four rounds, each with 10,000 events spread over the
/// histogram's buckets, as a scrape late in a run sees it.
fn filled() -> Arc<BenchMetrics> {
    let m = BenchMetrics::new();
    for (i, label) in ["open", "query", "transfer", "device-fleet"]
        .iter()
        .enumerate()
    {
        let r = m.round(i + 1, label);
        for k in 0..10_000u32 {
            r.submitted();
            r.committed(f64::from(k % 4000) / 1000.0);
        }
        r.sample(300, 812.5);
    }
    m
}

fn bench(c: &mut Criterion) {
    let m = filled();
    let r = m.round(5, "saturating");
    let mut g = c.benchmark_group("exporter");
    g.bench_function("per_transaction", |b| {
        b.iter(|| {
            r.submitted();
            r.committed(black_box(1.234));
        })
    });
    g.bench_function("sample", |b| {
        b.iter(|| r.sample(black_box(2900), black_box(812.5)))
    });
    g.bench_function("encode", |b| b.iter(|| black_box(m.encode())));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let url = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let served = m.clone();
        tokio::spawn(medchain::metrics_http::serve(
            listener,
            Arc::new(move || served.encode()),
        ));
        url
    });
    // A fresh connection per scrape, as Prometheus opens one per target
    // only when its kept-alive one was closed: the dearer case.
    g.bench_function("scrape_http", |b| {
        b.iter(|| {
            rt.block_on(async {
                let client = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .timeout(Duration::from_secs(5))
                    .build()
                    .expect("a client");
                let body = client.get(&url).send().await.unwrap().text().await;
                black_box(body.unwrap().len())
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
