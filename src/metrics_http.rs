//! Serving Prometheus metrics over HTTP on loopback: `GET /metrics` in
//! the text format, anything else 404; each connection in its own task,
//! bounded in time. Used by the bench's exporter and by `watch`'s.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::net::TcpListener;

/// How long one scrape connection may stay open.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// What a scrape answers: the metrics in Prometheus' text format.
pub type Encode = Arc<dyn Fn() -> String + Send + Sync>;

/// A running metrics server: its reserved port (released on drop), its
/// `127.0.0.1:<port>` address and the serving task.
pub(crate) struct Served {
    pub port: crate::ports::ServicePort,
    pub address: String,
    pub task: tokio::task::JoinHandle<()>,
}

/// Reserves a loopback port for this process's service `name` (from
/// `base` up, in the machine-wide registry), binds it and serves `encode`.
pub(crate) async fn start(name: &str, base: u16, encode: Encode) -> anyhow::Result<Served> {
    let port = crate::ports::Registry::machine().reserve_process_port(name, base)?;
    let address = format!("127.0.0.1:{}", port.port);
    let listener = TcpListener::bind(&address)
        .await
        .with_context(|| format!("binding the {name} metrics exporter to {address}"))?;
    let task = tokio::spawn(serve(listener, encode));
    Ok(Served {
        port,
        address,
        task,
    })
}

/// Accepts scrapes until aborted; each connection in its own task,
/// bounded in time.
pub async fn serve(listener: TcpListener, encode: Encode) {
    use hyper_util::rt::TokioIo;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, say: wait instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let m = encode.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let m = m.clone();
                async move { Ok::<_, Infallible>(answer(&req, &m)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        });
    }
}

/// `GET /metrics`: the text format; anything else: 404.
fn answer(req: &Request<Incoming>, encode: &Encode) -> Response<Full<Bytes>> {
    let (status, kind, body) =
        if req.method() == hyper::Method::GET && req.uri().path() == "/metrics" {
            (200, "text/plain; version=0.0.4; charset=utf-8", encode())
        } else {
            (
                404,
                "text/plain",
                "not found: the metrics are at /metrics\n".into(),
            )
        };
    Response::builder()
        .status(status)
        .header("content-type", kind)
        .body(Full::new(Bytes::from(body)))
        .expect("a static response builds")
}
