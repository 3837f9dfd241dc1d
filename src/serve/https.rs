//! Serving the console over TLS: the gateway's certificate code
//! (`gateway::tls`: a CA generated once per network, a fresh server
//! certificate from it at every start, or the operator's PEM files) and
//! tokio-rustls, each connection handed to the same axum router over
//! HTTP/1.1.
//!
//! The console's CA lives in `<network dir>/serve/tls/` (`ca.pem`, `ca.key`
//! 0600; `cert.pem`, `cert.key` reissued at each start): a browser that is
//! to trust the console imports `ca.pem`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use tower::ServiceExt;

use super::options::Tls;
use crate::gateway::tls::{self, Served};

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the console's generated CA and certificate live.
pub fn dir(net_dir: &Path) -> PathBuf {
    net_dir.join("serve").join("tls")
}

/// The certificate to serve: issued from the console's CA for `names`, or
/// the operator's. `None` for plain HTTP.
pub fn served(t: &Tls, net_dir: &Path, network: &str) -> anyhow::Result<Option<Served>> {
    Ok(match t {
        Tls::Plaintext => None,
        Tls::Provided { cert, key } => Some(tls::provided(cert, key)?),
        Tls::Generate(names) => Some(tls::issue_server_cert_at(
            &dir(net_dir),
            &format!("medchain console CA {network}"),
            &format!("medchain console {network}"),
            names,
        )?),
    })
}

/// Accepts TLS connections on `listener` and serves `app` on each, until
/// `stop` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    s: &Served,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(s)?);
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stop => return Ok(()),
            a = listener.accept() => match a {
                Ok(c) => c,
                Err(_) => continue,
            },
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    app.clone().oneshot(req.map(axum::body::Body::new))
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), svc)
                .await;
        });
    }
}
