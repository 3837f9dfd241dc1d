#![allow(dead_code)]

//! What the watch tests run beside medchain: the `watch` process with its
//! output collected, a webhook receiver (a real HTTP server) and an alarm
//! subscriber (a real MQTT client with a persistent session on the
//! network's mosquitto).

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use serde_json::Value;

use crate::common::TestNet;

/// Lines a child printed, shared with the thread reading them.
type Lines = Arc<Mutex<Vec<String>>>;

/// Polls `f` every 100 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

fn collect(r: impl std::io::Read + Send + 'static, echo: &'static str) -> Lines {
    let lines: Lines = Arc::default();
    let l = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            eprintln!("{echo}{line}");
            l.lock().unwrap().push(line);
        }
    });
    lines
}

/// A running `medchain watch`, killed on drop.
pub struct Watch {
    child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Watch {
    /// Starts `medchain watch <args>` for `net` and waits until it follows
    /// the chain.
    pub fn start(net: &TestNet, args: &[&str], secret: Option<&Path>) -> Watch {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_medchain"));
        cmd.current_dir(net.dir.path())
            .env("MEDCHAIN_HOME", net.home())
            .env("MEDCHAIN_RUNTIME", "process")
            .arg("watch")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(s) = secret {
            cmd.env("MEDCHAIN_WEBHOOK_SECRET", s);
        }
        let mut child = cmd.spawn().expect("medchain watch starts");
        let stdout = collect(child.stdout.take().unwrap(), "watch| ");
        let stderr = collect(child.stderr.take().unwrap(), "watch! ");
        let mut w = Watch {
            child,
            stdout,
            stderr,
        };
        let ready = wait_until(Duration::from_secs(30), || {
            w.stderr
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.starts_with("watch: following"))
                || w.child.try_wait().ok().flatten().is_some()
        });
        let following = w
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("watch: following"));
        assert!(
            ready && following,
            "watch did not start: {:?}",
            w.stderr.lock().unwrap()
        );
        w
    }

    /// The notices printed so far (`--json`).
    pub fn notices(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?} is not JSON: {e}")))
            .collect()
    }

    /// The text its metrics exporter serves now.
    pub fn metrics(&self) -> String {
        let url = self
            .stderr
            .lock()
            .unwrap()
            .iter()
            .find_map(|l| l.strip_prefix("watch: metrics on ").map(str::to_string))
            .expect("watch announces its metrics");
        let rest = url.strip_prefix("http://").unwrap();
        let (addr, path) = rest.split_once('/').unwrap();
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// Ends the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it as an operator would (SIGTERM) and returns its exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Call {
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

/// A webhook receiver on 127.0.0.1 that answers 503 to its first
/// `fail_first` requests, then 200.
pub struct Hook {
    pub url: String,
    pub calls: Arc<Mutex<Vec<Call>>>,
}

impl Hook {
    pub fn start(fail_first: usize) -> Hook {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/alarms", listener.local_addr().unwrap());
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let c = calls.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(serve(listener, c, fail_first));
        });
        Hook { url, calls }
    }

    /// The bodies of the requests answered 200, parsed.
    pub fn delivered(&self) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.status == 200)
            .map(|c| serde_json::from_slice(&c.body).unwrap())
            .collect()
    }
}

async fn serve(listener: std::net::TcpListener, calls: Arc<Mutex<Vec<Call>>>, fail_first: usize) {
    let l = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let (s, _) = l.accept().await.unwrap();
        let calls = calls.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let calls = calls.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await.unwrap().to_bytes().to_vec();
                        let mut c = calls.lock().unwrap();
                        let status = if c.len() < fail_first { 503 } else { 200 };
                        c.push(Call {
                            headers: parts.headers,
                            body,
                            status,
                        });
                        let mut r = Response::new(Full::new(Bytes::from_static(b"ok")));
                        *r.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(r)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                .await;
        });
    }
}

/// A hospital's alarm reader: `<hospital>-alarms` on the network's
/// broker, subscribed to its hospital's alarms with a persistent session,
/// reconnecting (with the credentials file's current URL) whenever the
/// connection drops.
pub struct Subscriber {
    pub got: Arc<Mutex<Vec<(String, Value)>>>,
    pub subscribed: Arc<Mutex<bool>>,
}

impl Subscriber {
    pub fn start(creds: PathBuf) -> Subscriber {
        // rustls is built with both aws-lc-rs (ours) and ring (rumqttc's):
        // name the provider.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let subscribed: Arc<Mutex<bool>> = Arc::default();
        let (g, s) = (got.clone(), subscribed.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                loop {
                    subscribe_once(&creds, &g, &s).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            });
        });
        let sub = Subscriber { got, subscribed };
        assert!(
            wait_until(Duration::from_secs(15), || *sub.subscribed.lock().unwrap()),
            "the alarm reader could not subscribe"
        );
        sub
    }

    /// The notices received so far.
    pub fn notices(&self) -> Vec<Value> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One connection: subscribe, collect until it drops.
async fn subscribe_once(creds: &Path, got: &Mutex<Vec<(String, Value)>>, subscribed: &Mutex<bool>) {
    let Ok(text) = std::fs::read_to_string(creds) else {
        return;
    };
    let c: Value = serde_json::from_str(&text).unwrap();
    let port: u16 = c["url"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let user = c["username"].as_str().unwrap();
    let mut o = MqttOptions::new(format!("test-{user}"), "127.0.0.1", port);
    o.set_credentials(user, c["password"].as_str().unwrap());
    o.set_clean_session(false);
    o.set_keep_alive(Duration::from_secs(5));
    let ca = std::fs::read(c["ca_file"].as_str().unwrap()).unwrap();
    o.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
        ca,
        alpn: None,
        client_auth: None,
    }));
    let (client, mut ev) = AsyncClient::new(o, 10);
    let topic = c["subscribe"][0].as_str().unwrap().to_string();
    client.subscribe(&topic, QoS::AtLeastOnce).await.unwrap();
    loop {
        match ev.poll().await {
            Ok(Event::Incoming(Packet::SubAck(_))) => *subscribed.lock().unwrap() = true,
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let v: Value = serde_json::from_slice(&p.payload).unwrap();
                got.lock().unwrap().push((p.topic.clone(), v));
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("alarm reader: {e}");
                return;
            }
        }
    }
}
