//! `medchain serve`: the web console of a running network, on loopback,
//! in the foreground until Ctrl-C or SIGTERM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use super::Global;
use crate::outln;
use crate::serve::app::{App, Auth};
use crate::serve::chain::ChainRef;
use crate::serve::nonces::Nonces;
use crate::serve::session::Sessions;
use crate::serve::{live, options, routes};

/// Flags of `medchain serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: loopback only (127.0.0.1 or [::1]); port 0 picks a free one.
    #[arg(long, value_name = "IP:PORT", default_value = options::DEFAULT_LISTEN)]
    pub listen: String,
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
    let addr = options::listen(&a.listen)?;
    let state = Arc::new(super::load(g)?);
    let rpc_url = state.client_rpc()?;
    let (feed, refresh) = live::start(state.clone()).await?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        crate::error::InputError::new(format!(
            "--listen {addr}: cannot listen there ({e}); pick another port, or 0 for any free one"
        ))
    })?;
    let local = listener.local_addr()?;
    outln!(
        "console for network {} listening on http://{local}",
        state.plan.topology.network
    );
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
    });
    let server =
        axum::serve(listener, app).with_graceful_shutdown(crate::interrupt::ctrl_c_or_term());
    // The refresh loop runs on this task, beside the server, and ends with it.
    tokio::select! {
        r = server => r?,
        _ = refresh => {}
    }
    Ok(())
}
