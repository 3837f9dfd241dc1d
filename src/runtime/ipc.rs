//! medchain's control channel to a node: geth's IPC socket, never a TCP
//! port. Client endpoints (HTTP/WS) serve only `eth,net,web3`; everything
//! else medchain needs — peering, mining control, txpool, reading a sealer
//! that has no RPC port — is a JSON-RPC call over the node's IPC socket.
//!
//! - Process runtime: the socket is `<datadir>/geth.ipc` inside the
//!   node's 0700 directory; [`call_socket`] connects to it directly.
//! - Docker runtime: the socket is `/data/geth.ipc` inside the container
//!   (on its volume, never published). [`call_exec`] runs `geth attach
//!   --exec` in the container through the Engine API's exec, so it works
//!   the same on a remote engine (over its TLS API) and needs neither root
//!   access to Docker's volume directory nor a published port.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one call may take.
pub(crate) const IPC_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON-RPC 2.0 request object.
fn request(method: &str, params: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// The `result` of a JSON-RPC response, or its `error` as an error naming
/// `method` and `node`.
pub(crate) fn result_of(node: &str, method: &str, mut response: Value) -> anyhow::Result<Value> {
    if let Some(e) = response.get("error").filter(|e| !e.is_null()) {
        bail!(
            "{node}: {method}: {} (code {})",
            e["message"].as_str().unwrap_or("error"),
            e["code"]
        );
    }
    match response.get_mut("result") {
        Some(r) => Ok(r.take()),
        None => bail!("{node}: {method}: answer without a result: {response}"),
    }
}

/// Calls `method` over the unix socket at `path` (process runtime); one
/// connection per call, bounded by [`IPC_TIMEOUT`].
pub(crate) async fn call_socket(
    node: &str,
    path: &Path,
    method: &str,
    params: Value,
) -> anyhow::Result<Value> {
    let exchange = async {
        let mut s = tokio::net::UnixStream::connect(path)
            .await
            .with_context(|| format!("{node}: connecting to {}", path.display()))?;
        s.write_all(request(method, &params).to_string().as_bytes())
            .await?;
        read_one_value(&mut s).await
    };
    let response = tokio::time::timeout(IPC_TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow!("{node}: {method} over IPC timed out after {IPC_TIMEOUT:?}"))??;
    result_of(node, method, response)
}

/// Reads from `s` until the bytes form one complete JSON value.
async fn read_one_value(s: &mut tokio::net::UnixStream) -> anyhow::Result<Value> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 65536];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            bail!("IPC connection closed before a complete answer");
        }
        buf.extend_from_slice(&chunk[..n]);
        match serde_json::from_slice::<Value>(&buf) {
            Ok(v) => return Ok(v),
            Err(e) if e.is_eof() => continue,
            Err(e) => return Err(e).context("IPC answer is not JSON"),
        }
    }
}

/// The JavaScript `geth attach --exec` runs: the request through the
/// console's provider, its raw JSON answer printed on one line.
pub(crate) fn attach_script(method: &str, params: &Value) -> String {
    format!(
        "console.log(JSON.stringify(web3.currentProvider.send({})))",
        request(method, params)
    )
}

/// Calls `method` on the node in `container` through `geth attach --exec`
/// on its IPC socket `ipc` (docker runtime), bounded by [`IPC_TIMEOUT`].
pub(crate) async fn call_exec(
    docker: &Docker,
    container: &str,
    geth: &str,
    ipc: &str,
    method: &str,
    params: Value,
) -> anyhow::Result<Value> {
    let cmd = vec![
        geth.to_string(),
        "attach".into(),
        "--exec".into(),
        attach_script(method, &params),
        ipc.to_string(),
    ];
    let run = async {
        let exec = docker
            .create_exec(
                container,
                CreateExecOptions {
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(cmd),
                    ..Default::default()
                },
            )
            .await
            .with_context(|| format!("{container}: creating an exec"))?;
        let opts = StartExecOptions {
            detach: false,
            tty: false,
            output_capacity: Some(64 << 20),
        };
        let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&exec.id, Some(opts)).await?
        else {
            bail!("{container}: exec did not attach");
        };
        let mut text = String::new();
        while let Some(chunk) = output.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk?.into_bytes()));
        }
        Ok::<_, anyhow::Error>(text)
    };
    let text = tokio::time::timeout(IPC_TIMEOUT, run)
        .await
        .map_err(|_| anyhow!("{container}: {method} over IPC timed out after {IPC_TIMEOUT:?}"))??;
    let line = text
        .lines()
        .find(|l| l.starts_with('{') || l.starts_with('['))
        .ok_or_else(|| anyhow!("{container}: {method} over IPC: {}", text.trim()))?;
    let response: Value =
        serde_json::from_str(line).with_context(|| format!("{container}: {method}: {line}"))?;
    result_of(container, method, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_errors_are_told_apart() {
        let ok = json!({"jsonrpc": "2.0", "id": 1, "result": "0x1"});
        assert_eq!(result_of("n", "m", ok).unwrap(), json!("0x1"));
        let err = json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "the method x does not exist/is not available"}});
        let e = result_of("n", "x", err).unwrap_err().to_string();
        assert!(e.contains("does not exist") && e.contains("n: x"), "{e}");
        // A null result (admin_addTrustedPeer of a known peer) is a result.
        let null = json!({"jsonrpc": "2.0", "id": 1, "result": null});
        assert_eq!(result_of("n", "m", null).unwrap(), Value::Null);
    }

    #[test]
    fn the_attach_script_sends_the_request_as_json() {
        let js = attach_script("admin_addPeer", &json!(["enode://ab@1.2.3.4:5"]));
        assert!(js.starts_with("console.log(JSON.stringify(web3.currentProvider.send({"));
        assert!(js.contains(r#""method":"admin_addPeer""#), "{js}");
        assert!(js.contains(r#""params":["enode://ab@1.2.3.4:5"]"#), "{js}");
    }

    #[tokio::test]
    async fn a_missing_socket_is_an_error_naming_the_node() {
        let e = call_socket(
            "n0",
            Path::new("/nonexistent/geth.ipc"),
            "eth_blockNumber",
            json!([]),
        )
        .await
        .unwrap_err();
        assert!(format!("{e:#}").contains("n0: connecting to /nonexistent/geth.ipc"));
    }
}
