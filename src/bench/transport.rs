//! How a worker's requests reach its node: one persistent HTTP/1.1
//! connection per worker that *pipelines* ([`Pipe`]): each request is
//! written the moment the worker starts it, without waiting for the
//! answers to earlier ones, and the answers come back in the order the
//! requests were written.
//!
//! Why this transport (docs/performance.md, "Issue 13", has the figures):
//! a worker must keep several requests in flight and still submit its
//! account's nonces in order, so the node never holds a gap. On one
//! HTTP/1.1 connection geth's server (Go's `net/http`) reads the next
//! request only after it has answered the previous one, so pipelined
//! transactions reach the pool in the order written. geth's WebSocket
//! server instead handles each message in its own goroutine, so two
//! transactions written in order may enter the pool out of order; and
//! JSON-RPC batches would hold each request back until its batch leaves,
//! instead of at the rate controller's time.
//!
//! Reads need no order: a worker spreads them over [`READ_PIPES`]
//! connections, which geth serves concurrently, so a read does not queue
//! behind the reads written before it on one connection.
//!
//! `https://` endpoints (`bench --rpc`) go through the pooled client one
//! request at a time ([`Link::Serial`]): ordered, but one round trip per
//! request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use super::failover::{rpc_call, CallError};
use super::result::Cause;

/// Longest a node may stay silent while a request waits for its answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest a connection may take to open: a live node on loopback accepts
/// at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the reader checks the oldest request's age while it waits.
const TICK: Duration = Duration::from_millis(250);
/// Connections one worker spreads its reads over.
pub(crate) const READ_PIPES: usize = 4;

/// Raises this process's soft limit on open files to its hard limit: each
/// account keeps its own connections (one for transactions, up to
/// [`READ_PIPES`] for reads), so a scenario with many workers can hold
/// thousands of sockets, past the common soft limit of 1024.
pub(crate) fn raise_open_files_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one rlimit we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// A call's answer, once it comes.
pub(crate) type Answer = oneshot::Receiver<Result<Value, CallError>>;

/// An answer that is already known.
fn ready(r: Result<Value, CallError>) -> Answer {
    let (tx, rx) = oneshot::channel();
    let _ = tx.send(r);
    rx
}

/// The error of a call whose connection went (`delivered`: the request
/// may have reached the node).
fn unreachable(delivered: bool, message: String) -> CallError {
    CallError {
        cause: Cause::Unreachable,
        delivered,
        message,
    }
}

/// Waits for an answer; a dropped sender (the connection went) is an
/// unreachable node that may have had the request.
pub(crate) async fn answer(a: Answer) -> Result<Value, CallError> {
    a.await
        .unwrap_or_else(|_| Err(unreachable(true, "the connection closed".into())))
}

/// A worker's way to its node.
pub(crate) enum Link {
    /// Plain HTTP: pipelined connections (transactions all go over the
    /// first, in order; reads round-robin over all) and the next read's.
    Pipe(Vec<Pipe>, usize),
    /// HTTPS: the pooled client, one request at a time.
    Serial {
        /// The pooled client.
        client: reqwest::Client,
        /// The endpoint.
        url: String,
    },
}

impl Link {
    /// A link to `url`.
    pub(crate) fn new(url: &str, client: &reqwest::Client) -> Self {
        match (0..READ_PIPES).map(|_| Pipe::new(url)).collect() {
            Some(pipes) => Link::Pipe(pipes, 0),
            None => Link::Serial {
                client: client.clone(),
                url: url.to_string(),
            },
        }
    }

    /// Starts a call: when this returns, the request has been written; an
    /// `ordered` call is written after every ordered call started before
    /// it, on one connection. Its answer comes through the returned
    /// [`Answer`].
    pub(crate) async fn start(&mut self, method: &str, params: Value, ordered: bool) -> Answer {
        match self {
            Link::Pipe(pipes, next) => {
                let i = if ordered {
                    0
                } else {
                    *next = (*next + 1) % pipes.len();
                    *next
                };
                pipes[i].start(method, params).await
            }
            Link::Serial { client, url } => ready(rpc_call(client, url, method, params).await),
        }
    }
}

/// A request waiting for its answer.
struct Waiter {
    sent: Instant,
    tx: oneshot::Sender<Result<Value, CallError>>,
}

/// Requests written and not yet answered, in order; `None` once the
/// connection is dead (its waiters have been failed).
type Queue = Arc<Mutex<Option<VecDeque<Waiter>>>>;

fn lock(q: &Queue) -> std::sync::MutexGuard<'_, Option<VecDeque<Waiter>>> {
    q.lock().unwrap_or_else(|p| p.into_inner())
}

/// An open connection: its write half, its queue and the task reading
/// its answers.
struct Conn {
    write: OwnedWriteHalf,
    queue: Queue,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Its waiters are dropped with it: their calls fail as unreachable.
        self.reader.abort();
    }
}

/// One pipelined HTTP/1.1 connection to a JSON-RPC endpoint, opened on
/// first use and again after it breaks.
pub(crate) struct Pipe {
    addr: String,
    host: String,
    path: String,
    conn: Option<Conn>,
    id: u64,
}

impl Pipe {
    /// A pipe to `url` (`http://host:port/path`); `None` for any other
    /// scheme.
    pub(crate) fn new(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("http://")?;
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if hostport.rsplit(':').next()?.parse::<u16>().is_ok() {
            hostport.to_string()
        } else {
            format!("{hostport}:80")
        };
        Some(Self {
            addr,
            host: hostport.to_string(),
            path: path.to_string(),
            conn: None,
            id: 0,
        })
    }

    /// Writes one request (opening the connection if needed) and returns
    /// where its answer will come. A connection that cannot be opened
    /// fails the call as unreachable and undelivered.
    pub(crate) async fn start(&mut self, method: &str, params: Value) -> Answer {
        self.id += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params});
        let request = self.request(&body.to_string());
        if self.conn.as_ref().is_none_or(|c| lock(&c.queue).is_none()) {
            self.conn = None;
            match self.connect().await {
                Ok(c) => self.conn = Some(c),
                Err(e) => return ready(Err(e)),
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return ready(Err(unreachable(false, "no connection".into())));
        };
        let (tx, rx) = oneshot::channel();
        match lock(&conn.queue).as_mut() {
            Some(q) => q.push_back(Waiter {
                sent: Instant::now(),
                tx,
            }),
            None => return ready(Err(unreachable(false, "the connection closed".into()))),
        }
        let write = tokio::time::timeout(CALL_TIMEOUT, conn.write.write_all(&request)).await;
        if !matches!(write, Ok(Ok(()))) {
            // Everything written on it, this request included, may or may
            // not have reached the node.
            let why = match write {
                Ok(Err(e)) => format!("writing to {}: {e}", self.addr),
                _ => format!(
                    "writing to {}: no progress within {CALL_TIMEOUT:?}",
                    self.addr
                ),
            };
            fail_all(&conn.queue, &why);
            self.conn = None;
        }
        rx
    }

    /// The bytes of one POST carrying `body`.
    fn request(&self, body: &str) -> Vec<u8> {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.path,
            self.host,
            body.len()
        )
        .into_bytes()
    }

    /// Opens the connection and starts reading its answers.
    async fn connect(&self) -> Result<Conn, CallError> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| {
                unreachable(
                    false,
                    format!(
                        "connecting to {}: no answer within {CONNECT_TIMEOUT:?}",
                        self.addr
                    ),
                )
            })?
            .map_err(|e| unreachable(false, format!("connecting to {}: {e}", self.addr)))?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let queue: Queue = Arc::new(Mutex::new(Some(VecDeque::new())));
        let reader = tokio::spawn(read_answers(read, queue.clone(), self.addr.clone()));
        Ok(Conn {
            write,
            queue,
            reader,
        })
    }
}

/// Fails every request still waiting on a connection and marks it dead.
fn fail_all(queue: &Queue, why: &str) {
    let waiting = lock(queue).take().unwrap_or_default();
    for w in waiting {
        let _ = w.tx.send(Err(unreachable(true, why.to_string())));
    }
}

/// Reads answers off a connection and hands each to the oldest waiting
/// request, until the connection closes or breaks, or the node falls
/// silent: the oldest request has waited [`CALL_TIMEOUT`] and no answer
/// came in that time either (a node answering a long pipeline slowly is
/// not dead). Then fails whatever still waits.
async fn read_answers(mut read: OwnedReadHalf, queue: Queue, addr: String) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut last_answer = Instant::now();
    let why = loop {
        loop {
            match parse_response(&buf) {
                Ok(Some((used, status, body))) => {
                    last_answer = Instant::now();
                    let waiter = lock(&queue).as_mut().and_then(VecDeque::pop_front);
                    if let Some(w) = waiter {
                        let _ = w.tx.send(to_answer(status, &body));
                    }
                    buf.drain(..used);
                }
                Ok(None) => break,
                Err(e) => {
                    fail_all(&queue, &format!("{addr}: {e}"));
                    return;
                }
            }
        }
        match tokio::time::timeout(TICK, read.read_buf(&mut buf)).await {
            Ok(Ok(0)) => break format!("{addr} closed the connection"),
            Ok(Err(e)) => break format!("reading from {addr}: {e}"),
            Ok(Ok(_)) => {}
            Err(_) => {
                let oldest = lock(&queue)
                    .as_ref()
                    .and_then(|q| q.front().map(|w| w.sent));
                let silent = oldest.map(|sent| sent.max(last_answer).elapsed());
                if silent.is_some_and(|s| s >= CALL_TIMEOUT) {
                    break format!("{addr}: no answer within {CALL_TIMEOUT:?}");
                }
            }
        }
    };
    fail_all(&queue, &why);
}

/// One complete HTTP/1.1 response at the start of `buf`: (bytes used,
/// status, body); `None` when more bytes are needed. Bodies come with a
/// `Content-Length` or chunked.
pub(crate) fn parse_response(buf: &[u8]) -> Result<Option<(usize, u16, Vec<u8>)>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| "a response head is not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "content-length" {
            length = Some(v.parse::<usize>().map_err(|_| "a bad Content-Length")?);
        } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let start = end + 4;
    if chunked {
        return Ok(dechunk(&buf[start..])?.map(|(used, body)| (start + used, status, body)));
    }
    let length = length.unwrap_or(0);
    if buf.len() < start + length {
        return Ok(None);
    }
    Ok(Some((
        start + length,
        status,
        buf[start..start + length].to_vec(),
    )))
}

/// A chunked body at the start of `buf`: (bytes used, body), or `None`
/// when it is not complete yet.
fn dechunk(buf: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let mut at = 0;
    let mut body = Vec::new();
    // Bounded by the buffer: each pass consumes at least one line.
    while at < buf.len() {
        let Some(nl) = buf[at..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&buf[at..at + nl]).map_err(|_| "a bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "a bad chunk size")?;
        let data = at + nl + 2;
        if size == 0 {
            // The last chunk; no trailers are expected.
            return Ok((buf.len() >= data + 2).then(|| (data + 2, body)));
        }
        if buf.len() < data + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[data..data + size]);
        at = data + size + 2;
    }
    Ok(None)
}

/// A JSON-RPC answer from an HTTP response: its `result`, or a rejection
/// (the node's error, or an answer that is not JSON-RPC).
fn to_answer(status: u16, body: &[u8]) -> Result<Value, CallError> {
    let rejected = |message: String| CallError {
        cause: Cause::Rejected,
        delivered: true,
        message,
    };
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        rejected(format!(
            "HTTP {status}: the answer is not JSON-RPC ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })?;
    if let Some(err) = v.get("error") {
        let msg = err["message"]
            .as_str()
            .map_or_else(|| err.to_string(), str::to_string);
        return Err(rejected(msg));
    }
    Ok(v.get("result").cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncBufReadExt;

    #[test]
    fn responses_parse_with_length_or_chunks_and_wait_for_their_end() {
        let one = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(
            parse_response(one).unwrap(),
            Some((one.len(), 200, b"hello".to_vec()))
        );
        assert_eq!(parse_response(&one[..one.len() - 1]).unwrap(), None);
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\nHTTP/1.1";
        let (used, status, body) = parse_response(chunked).unwrap().unwrap();
        assert_eq!((status, body.as_slice()), (200, b"hello".as_slice()));
        assert_eq!(&chunked[used..], b"HTTP/1.1");
        assert_eq!(parse_response(&chunked[..60]).unwrap(), None);
        assert!(parse_response(b"garbage\r\n\r\n").is_err());
    }

    /// A server that answers each request on a connection in order,
    /// echoing its JSON-RPC `params[0]`; it reads requests only as it
    /// answers them, as Go's net/http does.
    async fn echo_server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            let (r, mut w) = sock.into_split();
            let mut r = tokio::io::BufReader::new(r);
            loop {
                let mut len = 0;
                let mut line = String::new();
                // Head lines, then the body.
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).await.unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                let out =
                    json!({"jsonrpc": "2.0", "id": v["id"], "result": v["params"][0]}).to_string();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{out}",
                    out.len()
                );
                w.write_all(resp.as_bytes()).await.unwrap();
            }
        });
        url
    }

    #[tokio::test]
    async fn pipelined_requests_are_answered_in_order_on_one_connection() {
        let url = echo_server().await;
        let mut pipe = Pipe::new(&url).unwrap();
        let mut answers = Vec::new();
        for i in 0..50 {
            answers.push(pipe.start("echo", json!([i])).await);
        }
        for (i, a) in answers.into_iter().enumerate() {
            assert_eq!(answer(a).await.unwrap(), json!(i));
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_undelivered() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let mut pipe = Pipe::new(&url).unwrap();
        let e = answer(pipe.start("x", json!([])).await).await.unwrap_err();
        assert_eq!(e.cause, Cause::Unreachable);
        assert!(!e.delivered, "{e}");
    }

    #[tokio::test]
    async fn a_node_gone_mid_pipeline_fails_what_waits_as_maybe_delivered() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            if let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
            }
        });
        let mut pipe = Pipe::new(&url).unwrap();
        let a = pipe.start("x", json!([1])).await;
        let b = pipe.start("x", json!([2])).await;
        for ans in [a, b] {
            let e = answer(ans).await.unwrap_err();
            assert_eq!(e.cause, Cause::Unreachable, "{e}");
            assert!(e.delivered, "written before the node went: {e}");
        }
    }

    #[test]
    fn only_plain_http_is_pipelined() {
        assert!(Pipe::new("https://example.org").is_none());
        let p = Pipe::new("http://127.0.0.1:8545").unwrap();
        assert_eq!((p.addr.as_str(), p.path.as_str()), ("127.0.0.1:8545", "/"));
        let p = Pipe::new("http://localhost/rpc").unwrap();
        assert_eq!((p.addr.as_str(), p.path.as_str()), ("localhost:80", "/rpc"));
    }
}
