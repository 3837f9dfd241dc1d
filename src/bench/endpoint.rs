//! The endpoints `medchain bench --rpc URL [--ws URL]` drives: checked
//! before anything is deployed or funded, so a typo is bad input (exit 2)
//! and an endpoint that does not answer fails at once with one clear line,
//! instead of a run that deploys, sends, and times every transaction out
//! because nobody watches the blocks.

use std::time::Duration;

use alloy::providers::{ProviderBuilder, WsConnect};
use anyhow::anyhow;

use crate::error::InputError;

/// Time a WebSocket endpoint may take to accept a connection.
const WS_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks that `url` (the value of `flag`) is an absolute URL with one of
/// `schemes` and a host; returns it unchanged.
pub fn parse(flag: &str, url: &str, schemes: &[&str]) -> Result<String, InputError> {
    let expected = || {
        let examples: Vec<String> = schemes
            .iter()
            .map(|s| {
                let port = if s.starts_with("ws") { 8546 } else { 8545 };
                format!("{s}://127.0.0.1:{port}")
            })
            .collect();
        format!("expected a URL such as {}", examples.join(" or "))
    };
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| InputError::new(format!("{flag} {url:?}: not a URL ({e}); {}", expected())))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(InputError::new(format!(
            "{flag} {url:?}: scheme {:?} is not supported; {}",
            parsed.scheme(),
            expected()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(InputError::new(format!(
            "{flag} {url:?}: no host; {}",
            expected()
        )));
    }
    Ok(url.to_string())
}

/// The WebSocket URL assumed when `--ws` is not given: the HTTP URL with
/// `ws://` (`wss://`), which is right when the node serves both on one
/// port (geth with `--ws.port` equal to `--http.port`).
pub(crate) fn default_ws(http: &str) -> String {
    http.replacen("http://", "ws://", 1)
        .replacen("https://", "wss://", 1)
}

/// Connects to the WebSocket endpoint the block observer will subscribe
/// on, and disconnects; `given` says whether the user passed `--ws`, so the
/// error can say what to do.
pub(crate) async fn check_ws(ws: &str, given: bool) -> anyhow::Result<()> {
    let hint = if given {
        "is the node serving WebSocket JSON-RPC there?"
    } else {
        "pass --ws URL: geth serves WebSocket on its own port (--ws.port; `medchain status --json` lists each node's ws)"
    };
    match tokio::time::timeout(
        WS_CONNECT_TIMEOUT,
        ProviderBuilder::new().connect_ws(WsConnect::new(ws.to_string())),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(anyhow!(
            "--ws {ws}: cannot subscribe to new blocks ({e}); {hint}"
        )),
        Err(_) => Err(anyhow!(
            "--ws {ws}: no WebSocket answer within {WS_CONNECT_TIMEOUT:?}; {hint}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: &[&str] = &["http", "https"];

    #[test]
    fn accepts_http_urls() {
        for url in [
            "http://127.0.0.1:8545",
            "https://node.example:443/rpc",
            "http://localhost",
        ] {
            assert_eq!(parse("--rpc", url, HTTP).unwrap(), url);
        }
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        for (url, words) in [
            ("garbage", "not a URL"),
            ("127.0.0.1:8545", "not a URL"),
            ("localhost:8545", "scheme \"localhost\""),
            ("ws://127.0.0.1:8546", "scheme \"ws\""),
            ("ftp://127.0.0.1", "scheme \"ftp\""),
            ("http://", "not a URL"),
        ] {
            let e = parse("--rpc", url, HTTP).unwrap_err().to_string();
            assert!(
                e.starts_with("--rpc") && e.contains(words) && e.contains("http://127.0.0.1:8545"),
                "{url}: {e}"
            );
        }
    }

    #[test]
    fn default_ws_swaps_the_scheme() {
        assert_eq!(default_ws("http://127.0.0.1:8545"), "ws://127.0.0.1:8545");
        assert_eq!(default_ws("https://n.example/rpc"), "wss://n.example/rpc");
    }
}
