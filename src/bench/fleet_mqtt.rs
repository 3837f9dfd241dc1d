//! A `device-fleet` round over MQTT (`transport: mqtt`): each simulated
//! device holds its own TLS connection to the network's broker (the
//! `bench` account, pinned to the broker's CA), subscribed to its `ack`
//! topic, and publishes every signed reading as `{"id","raw"}` on its `tx`
//! topic, as the firmware's MQTT transport does; the gateway's MQTT bridge
//! ([`crate::gateway::mqtt`]), run inside the bench for each target
//! hospital, forwards to the device's node and answers with the hash or
//! the node's error. A reading counts as sent when its ack says so.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures::StreamExt;
use rumqttc::{AsyncClient, Event, Packet, QoS};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};

use super::fresh_http::CallError;
use crate::broker::accounts::Credentials;
use crate::broker::server;
use crate::gateway::{access_log::AccessLog, mqtt, rate::RateLimiter, upstream::Upstream};
use crate::plan::Plan;
use crate::task::Owned;

/// Time for one reading's ack (as an HTTP request's timeout, plus the
/// bridge's hop).
const ACK_TIMEOUT: Duration = Duration::from_secs(15);
/// Time for a device to connect and subscribe.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Devices connecting at once.
const CONNECTING: usize = 32;

/// One device's MQTT connection.
pub struct DeviceLink {
    client: AsyncClient,
    tx_topic: String,
    acks: Mutex<mpsc::Receiver<Value>>,
    next_id: AtomicU64,
    _events: Owned,
}

impl std::fmt::Debug for DeviceLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceLink({})", self.tx_topic)
    }
}

impl DeviceLink {
    /// Publishes a signed reading and waits for its ack: `Ok` with the
    /// hash, the node's error, or no answer within [`ACK_TIMEOUT`].
    pub async fn send(&self, raw: &[u8]) -> Result<(), CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"id": id, "raw": format!("0x{}", hex::encode(raw))});
        let mut acks = self.acks.lock().await;
        self.client
            .publish(&self.tx_topic, QoS::AtLeastOnce, false, body.to_string())
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let wait = async {
            while let Some(ack) = acks.recv().await {
                if ack["id"] != json!(id) {
                    continue; // an answer to an earlier, timed-out reading
                }
                return match ack.get("hash") {
                    Some(h) if h.is_string() => Ok(()),
                    _ => Err(CallError::Node(
                        ack.pointer("/error/message")
                            .and_then(Value::as_str)
                            .unwrap_or("no hash in the ack")
                            .to_string(),
                    )),
                };
            }
            Err(CallError::Transport("the MQTT connection closed".into()))
        };
        tokio::time::timeout(ACK_TIMEOUT, wait)
            .await
            .unwrap_or_else(|_| Err(CallError::Transport("no ack within 15 s".into())))
    }
}

/// The round's bridges, one per target hospital; they stop when dropped.
pub struct Bridges(Vec<Owned>);

impl std::fmt::Debug for Bridges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bridges({})", self.0.len())
    }
}

/// The `bench` account's credentials; an error saying what to run when
/// the broker does not run or predates the account.
fn bench_credentials(net_dir: &Path, network: &str) -> anyhow::Result<Credentials> {
    if server::running(net_dir).is_none() {
        bail!(
            "transport: mqtt needs network {network}'s broker: run `medchain broker start` first"
        );
    }
    let path = server::dir_of(net_dir).join("credentials/bench.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{}: no `bench` broker account; run `medchain broker start` again to add it",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a credentials file", path.display()))
}

/// The hospital of the member serving `url`.
fn hospital_of<'a>(plan: &'a Plan, url: &str) -> Option<&'a str> {
    plan.nodes
        .iter()
        .find(|n| n.rpc_url().as_deref() == Some(url))
        .map(|n| n.hospital.as_str())
}

/// Starts a bridge for the hospital of every node in `urls` (no rate
/// limit beyond the fleet's own schedule; its log under the network's
/// `bench/` directory).
pub async fn bridges(plan: &Plan, urls: &[String]) -> anyhow::Result<Bridges> {
    let network = &plan.topology.network;
    bench_credentials(&plan.dir, network)?;
    let log = Arc::new(AccessLog::open(
        &plan.dir.join("bench/mqtt-bridge.log"),
        false,
    )?);
    let mut seen = HashMap::new();
    for url in urls {
        let hospital =
            hospital_of(plan, url).ok_or_else(|| anyhow!("no member node serves {url}"))?;
        if seen.contains_key(hospital) {
            continue;
        }
        let bridge = mqtt::connect(mqtt::BridgeConfig {
            network: network.clone(),
            hospital: hospital.to_string(),
            net_dir: plan.dir.clone(),
            upstream: Upstream::new(url)?,
            limiter: RateLimiter::new(100_000.0, 100_000),
            log: log.clone(),
        })
        .await?;
        seen.insert(hospital.to_string(), Owned::spawn(bridge.run()));
    }
    Ok(Bridges(seen.into_values().collect()))
}

/// Connects device `address` (lowercase 0x hex) of the node at `url`:
/// its own connection, subscribed to its ack topic.
async fn connect_device(
    plan: &Plan,
    creds: &Credentials,
    url: &str,
    address: String,
    n: u64,
) -> anyhow::Result<DeviceLink> {
    let network = &plan.topology.network;
    let hospital = hospital_of(plan, url).ok_or_else(|| anyhow!("no member node serves {url}"))?;
    let base = format!("medchain/{network}/{hospital}/devices/{address}");
    // Unique per connection in this process (one round's devices, or
    // several rounds').
    static CONNECTIONS: AtomicU64 = AtomicU64::new(0);
    let c = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    let id = format!("bench-{}-{c}-{n}", std::process::id());
    let o = crate::broker::client::options(creds, id, Duration::from_secs(30))?;
    let (client, mut events) = AsyncClient::new(o, 16);
    let ack_topic = format!("{base}/ack");
    let ready = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    client.subscribe(&ack_topic, QoS::AtLeastOnce).await?
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => return anyhow::Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, ready)
        .await
        .context("no answer from the broker")??;
    let (tx, rx) = mpsc::channel(16);
    let sub = client.clone();
    let pump = async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&p.payload) {
                        let _ = tx.try_send(v);
                    }
                }
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = sub.try_subscribe(&ack_topic, QoS::AtLeastOnce);
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    };
    Ok(DeviceLink {
        client,
        tx_topic: format!("{base}/tx"),
        acks: Mutex::new(rx),
        next_id: AtomicU64::new(1),
        _events: Owned::spawn(pump),
    })
}

/// One connection per device, `(node url, address)` each, in order.
pub async fn connect_devices(
    plan: &Plan,
    devices: &[(String, String)],
) -> anyhow::Result<Vec<Arc<DeviceLink>>> {
    let creds = bench_credentials(&plan.dir, &plan.topology.network)?;
    let creds = &creds;
    futures::stream::iter(devices.iter().enumerate())
        .map(|(n, (url, address))| async move {
            connect_device(plan, creds, url, address.clone(), n as u64)
                .await
                .map(Arc::new)
                .with_context(|| {
                    format!("connecting simulated device {n} ({address}) to the broker")
                })
        })
        .buffered(CONNECTING)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
