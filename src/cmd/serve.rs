//! `medchain serve`: the web console of a running network, on loopback
//! (plain HTTP) or over TLS, in the foreground until Ctrl-C or SIGTERM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use super::Global;
use crate::outln;
use crate::serve::app::{App, Auth};
use crate::serve::chain::ChainRef;
use crate::serve::nonces::Nonces;
use crate::serve::session::Sessions;
use crate::serve::{https, live, options, routes};

/// Flags of `medchain serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one. Plain HTTP: loopback only; any address with TLS.
    #[arg(long, value_name = "IP:PORT", default_value = options::DEFAULT_LISTEN)]
    pub listen: String,
    /// Serve HTTPS with a certificate from the console's own CA (`<network dir>/serve/tls/ca.pem`).
    #[arg(long)]
    pub tls: bool,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<std::path::PathBuf>,
    /// A host name or address browsers reach the console by (repeatable): put in the generated certificate and accepted as `Host`.
    #[arg(long, value_name = "NAME")]
    pub tls_name: Vec<String>,
    /// Seconds a sign-in nonce stays valid (it is also single-use).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub nonce_ttl: u64,
    /// Seconds a sign-in session lasts.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub session_ttl: u64,
}

/// Checks the flags, takes the network's first snapshot, binds, prints
/// where it listens and serves until asked to stop.
pub(crate) async fn execute(a: ServeArgs, g: &Global) -> anyhow::Result<()> {
    let flags = options::TlsFlags {
        tls: a.tls,
        cert: a.tls_cert.clone(),
        key: a.tls_key.clone(),
        names: a.tls_name.clone(),
    };
    let listen = options::listen(&a.listen, &flags)?;
    let state = Arc::new(super::load(g)?);
    let network = state.plan.topology.network.clone();
    let served = https::served(&listen.tls, &state.plan.dir, &network)?;
    let rpc_url = state.client_rpc()?;
    let (feed, refresh) = live::start(state.clone()).await?;
    let addr = listen.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        crate::error::InputError::new(format!(
            "--listen {addr}: cannot listen there ({e}); pick another port, or 0 for any free one"
        ))
    })?;
    let local = listener.local_addr()?;
    let scheme = if served.is_some() { "https" } else { "http" };
    outln!("console for network {network} listening on {scheme}://{local}");
    if let Some(ca) = served.as_ref().and_then(|s| s.ca.as_ref()) {
        outln!(
            "  TLS: certificate from the console's CA {} (import it in the browser)",
            ca.display()
        );
    }
    // Without a records contract only the public views work.
    let chain = ChainRef::of(&state).ok();
    outln!("  views: Network and Explorer (public: what any node's RPC shows); Patient, Doctor and Benchmarks after Sign-In with Ethereum{}",
        if chain.is_some() { "" } else { " (unavailable: no records contract)" });
    let auth = Arc::new(Auth {
        nonces: Mutex::new(Nonces::new(Duration::from_secs(a.nonce_ttl))),
        sessions: Mutex::new(Sessions::new(Duration::from_secs(a.session_ttl))),
    });
    let app = routes::router(App {
        feed,
        rpc_url,
        auth,
        chain,
        secure: served.is_some(),
        hosts: listen.hosts,
        history: Default::default(),
    });
    let stop = crate::interrupt::ctrl_c_or_term();
    // The refresh loop runs on this task, beside the server, and ends with it.
    match served {
        Some(s) => tokio::select! {
            r = https::serve(listener, app, &s, stop) => r?,
            _ = refresh => {}
        },
        None => tokio::select! {
            r = axum::serve(listener, app).with_graceful_shutdown(stop) => r?,
            _ = refresh => {}
        },
    }
    Ok(())
}
