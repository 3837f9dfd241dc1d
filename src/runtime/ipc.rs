//! medchain's control channel to a node: geth's IPC socket, never a TCP
//! port. Client endpoints (HTTP/WS) serve only `eth,net,web3`; everything
//! else medchain needs — peering, mining control, txpool, reading a sealer
//! that has no RPC port — is a JSON-RPC call over the node's IPC socket.
//!
//! - Process runtime: the socket is `<datadir>/geth.ipc` inside the
//!   node's 0700 directory; [`call_socket`] connects to it directly.
//! - Docker runtime: the socket is `/data/geth.ipc` inside the container
//!   (on its volume, never published). A [`Session`] is one `geth attach`
//!   on that socket, started in the container through the Engine API's
//!   exec with its stdin and stdout attached, kept open for the command's
//!   life: each call is one line of JavaScript sending the request through
//!   the console's provider and printing the answer after a marker. It
//!   works the same on a remote engine (over its TLS API) and needs
//!   neither root access to Docker's volume directory nor a published
//!   port; one long-lived console per node instead of one `geth attach
//!   --exec` per call keeps `up` as fast as it was over HTTP.

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
pub(crate) fn request(method: &str, params: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// A JSON-RPC 2.0 batch calling `method` once for each of `params`, with
/// ids 1, 2, … in that order. geth runs a batch's calls one after another
/// on one goroutine, with no round trip to the caller between them.
pub(crate) fn batch(method: &str, params: &[Value]) -> Value {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"jsonrpc": "2.0", "id": i + 1, "method": method, "params": p}))
        .collect()
}

/// The results of a [`batch`] answer in request order, or the first error
/// (a JSON-RPC error of one call, or of the whole batch).
pub(crate) fn results_of(node: &str, method: &str, response: Value) -> anyhow::Result<Vec<Value>> {
    let Value::Array(mut answers) = response else {
        return result_of(node, method, response).map(|v| vec![v]);
    };
    answers.sort_by_key(|a| a["id"].as_u64().unwrap_or(0));
    answers
        .into_iter()
        .map(|a| result_of(node, method, a))
        .collect()
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
    let response = exchange_socket(node, path, method, &request(method, &params)).await?;
    result_of(node, method, response)
}

/// Sends `body` (a request or a batch of `method` calls) over the unix
/// socket at `path` and reads the answer, bounded by [`IPC_TIMEOUT`].
pub(crate) async fn exchange_socket(
    node: &str,
    path: &Path,
    method: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let exchange = async {
        let mut s = tokio::net::UnixStream::connect(path)
            .await
            .with_context(|| format!("{node}: connecting to {}", path.display()))?;
        s.write_all(body.to_string().as_bytes()).await?;
        read_one_value(&mut s).await
    };
    tokio::time::timeout(IPC_TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow!("{node}: {method} over IPC timed out after {IPC_TIMEOUT:?}"))?
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

/// The line of JavaScript a [`Session`] sends for request number `id`:
/// `body` (a request, or a [`batch`]: the console's provider takes both)
/// through the console's provider, its raw JSON answer (or the exception,
/// as a JSON-RPC error) printed after [`marker`]`(id)`.
pub(crate) fn session_line(id: u64, body: &Value) -> String {
    let m = marker(id);
    format!(
        "try {{ console.log(\"{m}\" + JSON.stringify(web3.currentProvider.send({body}))) }} catch (e) {{ console.log(\"{m}\" + JSON.stringify({{error: {{code: -32603, message: String(e)}}}})) }}\n"
    )
}

/// What precedes the answer to request `id` in a session's output.
fn marker(id: u64) -> String {
    format!("@@medchain-{id}@@")
}

/// One `geth attach` console on a container's IPC socket, through the
/// engine's exec (stdin and stdout attached).
pub(crate) struct Session {
    input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
    output: std::pin::Pin<
        Box<
            dyn futures::Stream<
                    Item = Result<bollard::container::LogOutput, bollard::errors::Error>,
                > + Send,
        >,
    >,
    pending: String,
    next_id: u64,
}

impl Session {
    /// Starts `geth attach <ipc>` in `container`.
    pub(crate) async fn open(
        docker: &Docker,
        container: &str,
        geth: &str,
        ipc: &str,
    ) -> anyhow::Result<Self> {
        let exec = docker
            .create_exec(
                container,
                CreateExecOptions {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    cmd: Some(vec![geth, "attach", ipc]),
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
        match docker.start_exec(&exec.id, Some(opts)).await? {
            StartExecResults::Attached { output, input } => Ok(Self {
                input,
                output,
                pending: String::new(),
                next_id: 0,
            }),
            StartExecResults::Detached => bail!("{container}: exec did not attach"),
        }
    }

    /// Sends `body` (a request or a [`batch`] of `method` calls) and
    /// returns the JSON-RPC answer; an error when the console ends (e.g.
    /// geth's IPC socket is not there yet).
    pub(crate) async fn call(&mut self, method: &str, body: &Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.input
            .write_all(session_line(id, body).as_bytes())
            .await?;
        self.input.flush().await?;
        let m = marker(id);
        loop {
            if let Some(at) = self.pending.find(&m) {
                let rest = &self.pending[at + m.len()..];
                if let Some(end) = rest.find('\n') {
                    let answer = serde_json::from_str(rest[..end].trim())
                        .with_context(|| format!("{method}: {}", &rest[..end]));
                    self.pending = rest[end + 1..].to_string();
                    return answer;
                }
            }
            match self.output.next().await {
                Some(chunk) => self
                    .pending
                    .push_str(&String::from_utf8_lossy(&chunk?.into_bytes())),
                None => bail!("geth attach ended: {}", self.pending.trim()),
            }
        }
    }
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
    fn a_batch_numbers_its_calls_and_its_answers_come_back_in_that_order() {
        let b = batch("admin_addPeer", &[json!(["a"]), json!(["b"])]);
        assert_eq!(b[0]["id"], 1);
        assert_eq!(b[1]["params"], json!(["b"]));
        assert_eq!(b[1]["method"], "admin_addPeer");
        // geth may answer a batch in any order.
        let answer = json!([
            {"jsonrpc": "2.0", "id": 2, "result": false},
            {"jsonrpc": "2.0", "id": 1, "result": true}
        ]);
        let got = results_of("n", "admin_addPeer", answer).unwrap();
        assert_eq!(got, vec![json!(true), json!(false)]);
        let failed = json!([
            {"jsonrpc": "2.0", "id": 1, "result": true},
            {"jsonrpc": "2.0", "id": 2, "error": {"code": -32000, "message": "invalid enode"}}
        ]);
        let e = results_of("n", "admin_addPeer", failed).unwrap_err();
        assert!(e.to_string().contains("invalid enode"), "{e}");
    }

    #[test]
    fn a_session_line_sends_the_request_and_marks_its_answer() {
        let js = session_line(
            7,
            &request("admin_addPeer", &json!(["enode://ab@1.2.3.4:5"])),
        );
        assert!(js.starts_with(
            "try { console.log(\"@@medchain-7@@\" + JSON.stringify(web3.currentProvider.send({"
        ));
        assert!(js.contains(r#""method":"admin_addPeer""#), "{js}");
        assert!(js.contains(r#""params":["enode://ab@1.2.3.4:5"]"#), "{js}");
        assert!(js.ends_with("}\n") && js.matches('\n').count() == 1, "{js}");
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
