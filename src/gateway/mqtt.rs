//! The gateway's MQTT bridge (`medchain gateway --mqtt`): connects to the
//! network's broker as the `gateway` account (TLS, trusting only the
//! broker's CA), subscribes to its hospital's device transaction topics,
//! forwards each message's call to the member node and publishes the
//! answer on the device's `ack` topic (QoS 1). Message formats are in
//! [`super::mqtt_message`].
//!
//! It trusts the broker for who published (each device may publish only
//! on its own topic) and checks that a transaction is signed by the
//! topic's device; the chain checks everything else. A resent
//! transaction is answered with its hash again ("already known", or "nonce
//! too low" for one already mined), so a device that lost an ack may send
//! the same bytes until it gets one. After a broker restart it reconnects,
//! re-reading its credentials file, and subscribes again.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::access_log::{AccessLog, Entry};
use super::allow::RpcError;
use super::binding;
use super::mqtt_message::{self as msg, Resent};
use super::rate::{retry_after_secs, RateLimiter};
use super::upstream::Upstream;
use crate::broker::accounts::Credentials;
use crate::broker::client::{self, read_credentials};
use crate::broker::server;

/// Time to connect and subscribe at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause before reconnecting after the broker went away.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
/// Messages handled at once (further ones wait for a slot).
const IN_FLIGHT: usize = 64;
/// JSON-RPC code of a message refused as a whole (rate limit).
const REFUSED: i64 = -32001;
/// JSON-RPC code when the member does not answer.
const UPSTREAM_ERROR: i64 = -32603;

/// What the bridge needs besides its connection.
pub struct BridgeConfig {
    pub network: String,
    pub hospital: String,
    pub net_dir: PathBuf,
    pub upstream: Upstream,
    pub limiter: RateLimiter,
    pub log: Arc<AccessLog>,
}

/// A connected, subscribed bridge, not yet serving.
pub struct Bridge {
    client: AsyncClient,
    events: EventLoop,
    shared: Arc<Shared>,
    /// The broker's URL, for the operator.
    pub url: String,
    /// The subscription.
    pub filter: String,
}

struct Shared {
    cfg: BridgeConfig,
    client: AsyncClient,
    /// The broker's address, in the access log's peer column.
    peer: SocketAddr,
}

/// The `gateway` account's credentials file of a network.
fn credentials_path(net_dir: &Path) -> PathBuf {
    server::dir_of(net_dir).join("credentials/gateway.json")
}

/// Client options from the credentials file.
fn options(c: &Credentials, hospital: &str) -> anyhow::Result<MqttOptions> {
    // Unique per connection in this process (the bench may run several).
    static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("medchain-gateway-{hospital}-{}-{n}", std::process::id());
    let mut o = client::options(c, id, Duration::from_secs(10))?;
    o.set_max_packet_size(msg::MAX_PAYLOAD + 1024, msg::MAX_PAYLOAD + 1024);
    Ok(o)
}

/// Connects to the running broker of `cfg.net_dir` and subscribes; an
/// error saying what to do when the broker does not run or refuses.
pub async fn connect(cfg: BridgeConfig) -> anyhow::Result<Bridge> {
    let Some(running) = server::running(&cfg.net_dir) else {
        bail!("--mqtt: network {}'s broker is not running; start it with `medchain broker start`, or drop --mqtt", cfg.network);
    };
    let creds = read_credentials(&credentials_path(&cfg.net_dir))
        .context("--mqtt: the gateway's broker account")?;
    let (client, mut events) = AsyncClient::new(options(&creds, &cfg.hospital)?, 256);
    let filter = msg::tx_filter(&cfg.network, &cfg.hospital);
    let ready = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    client.subscribe(&filter, QoS::AtLeastOnce).await?;
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(anyhow::Error::new(e)),
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, ready)
        .await
        .with_context(|| {
            format!(
                "--mqtt: the broker at {} did not answer within {} s",
                running.url,
                CONNECT_TIMEOUT.as_secs()
            )
        })?
        .with_context(|| {
            format!(
                "--mqtt: connecting to the broker at {} as `gateway`",
                running.url
            )
        })?;
    let peer = SocketAddr::from(([127, 0, 0, 1], running.port));
    Ok(Bridge {
        client: client.clone(),
        events,
        shared: Arc::new(Shared { cfg, client, peer }),
        url: running.url,
        filter,
    })
}

impl Bridge {
    /// Serves until dropped: answers every message, reconnects and
    /// subscribes again whenever the broker goes away.
    pub async fn run(mut self) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut down_since: Option<Instant> = None;
        loop {
            match self.events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    if let Some(t) = down_since.take() {
                        eprintln!(
                            "medchain gateway: MQTT: reconnected after {:.1} s",
                            t.elapsed().as_secs_f64()
                        );
                    }
                    if let Err(e) = self.client.try_subscribe(&self.filter, QoS::AtLeastOnce) {
                        eprintln!("medchain gateway: MQTT: subscribing again: {e}");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let (shared, slots) = (self.shared.clone(), slots.clone());
                    tokio::spawn(async move {
                        let Ok(_permit) = slots.acquire_owned().await else {
                            return;
                        };
                        shared.handle(&p.topic, &p.payload).await;
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    if down_since.is_none() {
                        eprintln!("medchain gateway: MQTT: {e}; reconnecting");
                        down_since = Some(Instant::now());
                    }
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    self.refresh_options();
                }
            }
        }
    }

    /// Re-reads the credentials file: a restarted broker may listen on
    /// another port.
    fn refresh_options(&mut self) {
        let path = credentials_path(&self.shared.cfg.net_dir);
        let fresh = read_credentials(&path).and_then(|c| options(&c, &self.shared.cfg.hospital));
        match fresh {
            Ok(o) => self.events.mqtt_options = o,
            Err(e) => {
                eprintln!("medchain gateway: MQTT: keeping the previous broker settings: {e:#}")
            }
        }
    }
}

impl Shared {
    /// Answers one message on its device's `ack` topic and logs it.
    async fn handle(&self, topic: &str, payload: &[u8]) {
        let start = Instant::now();
        let Some((device, ack_topic)) =
            msg::parse_tx_topic(&self.cfg.network, &self.cfg.hospital, topic)
        else {
            return;
        };
        let client = format!("mqtt:{device:#x}");
        let (status, note, method, answer) = self.answer(device, payload).await;
        self.cfg.log.write(&Entry {
            peer: self.peer,
            client: Some(&client),
            methods: method.as_deref(),
            status,
            latency: start.elapsed(),
            note: note.as_deref(),
        });
        let body = answer.to_string().into_bytes();
        if let Err(e) = self
            .client
            .publish(ack_topic, QoS::AtLeastOnce, false, body)
            .await
        {
            eprintln!("medchain gateway: MQTT: answering {client}: {e}");
        }
    }

    /// The answer to one message, with its access-log status, note and
    /// method.
    async fn answer(
        &self,
        device: alloy::primitives::Address,
        payload: &[u8],
    ) -> (u16, Option<String>, Option<String>, Value) {
        let m = match msg::parse(payload) {
            Ok(m) => m,
            Err((id, e)) => {
                return (
                    400,
                    Some(e.message.clone()),
                    None,
                    msg::refusal(None, &id, &e),
                )
            }
        };
        let mut call = m.request.calls[0].clone();
        let method = Some(call.method.clone());
        if let Err(wait) = self
            .cfg
            .limiter
            .check(&format!("{device:#x}"), 1, Instant::now())
        {
            let secs = retry_after_secs(wait);
            let e = RpcError::new(
                REFUSED,
                format!("rate limit: {device:#x} over its request rate; retry after {secs} s"),
            );
            return (
                429,
                Some(e.message.clone()),
                method,
                msg::refusal(Some(&m.form), &call.id, &e),
            );
        }
        if call.verdict.is_ok() {
            call.verdict = binding::check(Some(device), &call.method, call.raw.get("params"));
        }
        if let Err(e) = &call.verdict {
            let note = format!("refused {}: {}", call.method, e.message);
            return (
                200,
                Some(note),
                method,
                msg::ack(&m.form, &e.response(&call.id)),
            );
        }
        let request = super::allow::Request {
            batch: false,
            calls: vec![call.clone()],
        };
        let response = match self.cfg.upstream.forward(&request).await {
            Ok(body) => serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
            Err(e) => {
                let err = RpcError::new(UPSTREAM_ERROR, e.clone());
                return (
                    502,
                    Some(e),
                    method,
                    msg::ack(&m.form, &err.response(&call.id)),
                );
            }
        };
        let response = self.idempotent(&call, response).await;
        (200, None, method, msg::ack(&m.form, &response))
    }

    /// A send the node refuses because it already has the transaction is
    /// answered with the transaction's hash.
    async fn idempotent(&self, call: &super::allow::Call, response: Value) -> Value {
        if call.method != "eth_sendRawTransaction" {
            return response;
        }
        let Some(message) = response.pointer("/error/message").and_then(Value::as_str) else {
            return response;
        };
        let raw = call
            .raw
            .pointer("/params/0")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(hash) = msg::tx_hash(raw) else {
            return response;
        };
        let known = match msg::resent(message) {
            Resent::Known => true,
            Resent::NonceUsed => {
                let q = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionByHash", "params": [format!("{hash:#x}")]});
                let found = self
                    .cfg
                    .upstream
                    .post(&q)
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                found.is_some_and(|v| v.get("result").is_some_and(|r| !r.is_null()))
            }
            Resent::Other => false,
        };
        if known {
            msg::success(&call.id, hash)
        } else {
            response
        }
    }
}
