//! `medchain serve`: the web console of a running network, on loopback,
//! in the foreground until Ctrl-C or SIGTERM.

use std::sync::Arc;

use clap::Args;

use super::Global;
use crate::outln;
use crate::serve::{live, options, routes};

/// Flags of `medchain serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: loopback only (127.0.0.1 or [::1]); port 0 picks a free one.
    #[arg(long, value_name = "IP:PORT", default_value = options::DEFAULT_LISTEN)]
    pub listen: String,
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
    outln!("  views: Network and Explorer (public: what any node's RPC shows); sign-in and the role views are not built yet");
    let app = routes::router(routes::App { feed, rpc_url });
    let server =
        axum::serve(listener, app).with_graceful_shutdown(crate::interrupt::ctrl_c_or_term());
    // The refresh loop runs on this task, beside the server, and ends with it.
    tokio::select! {
        r = server => r?,
        _ = refresh => {}
    }
    Ok(())
}
