//! The MQTT sink: each notice published with QoS 1 (retain off) on
//! `medchain/<network>/<hospital>/alarms/<pseudonym>` to the network's
//! broker (`medchain broker`), as the `watch` account, over TLS pinned to
//! the broker's CA. A notice counts as delivered when the broker's PUBACK
//! for it arrives; until then (broker down, restarted, slow) it is
//! published again on a new connection, so a subscriber may see a notice
//! twice around a broker restart, never zero times, and can drop the
//! repeat by its `key`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use rumqttc::{AsyncClient, ConnectReturnCode, Event, Packet, QoS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::alarm::Notice;

/// How long connecting, and each PUBACK, may take.
const ANSWER: Duration = Duration::from_secs(10);

/// What the connection's event loop reports.
enum Heard {
    Connected(ConnectReturnCode),
    PubAck,
    Down(String),
}

/// A live connection: the client, and what its event loop hears.
struct Conn {
    client: AsyncClient,
    heard: mpsc::UnboundedReceiver<Heard>,
    task: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The MQTT sink of one network.
pub struct MqttSink {
    /// The `watch` account's credentials file, read again at every
    /// connection (a restarted broker may listen on another port).
    credentials: PathBuf,
    client_id: String,
    conn: Option<Conn>,
}

impl MqttSink {
    /// A sink that will connect with the credentials in `credentials`.
    /// Its client id is its own (process and sink), so several `watch`es
    /// of one network (one per hospital on a private network) do not take
    /// each other's connection: the broker drops the older of two clients
    /// with one id.
    pub fn new(credentials: PathBuf, network: &str) -> MqttSink {
        static SINKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SINKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        MqttSink {
            credentials,
            client_id: format!("medchain-watch-{network}-{}-{n}", std::process::id()),
            conn: None,
        }
    }

    /// Connects once, now, so a wrong password or an absent broker is
    /// reported when `watch` starts.
    pub async fn check(&mut self) -> anyhow::Result<()> {
        self.connect().await.map(|c| self.conn = Some(c))
    }

    /// Publishes `n` and waits for the broker's PUBACK.
    pub async fn deliver(&mut self, n: &Notice) -> anyhow::Result<()> {
        let result = self.publish(n).await;
        if result.is_err() {
            // A fresh connection for the retry: the old one's event loop
            // would otherwise publish its unacknowledged copy again too.
            self.conn = None;
        }
        result
    }

    async fn publish(&mut self, n: &Notice) -> anyhow::Result<()> {
        if self.conn.is_none() {
            self.conn = Some(self.connect().await?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        conn.client
            .publish(n.topic(), QoS::AtLeastOnce, false, serde_json::to_vec(n)?)
            .await
            .context("queueing the publish")?;
        tokio::time::timeout(ANSWER, async {
            loop {
                match conn.heard.recv().await {
                    Some(Heard::PubAck) => return Ok(()),
                    Some(Heard::Connected(_)) => continue,
                    Some(Heard::Down(e)) => bail!("connection lost: {e}"),
                    None => bail!("connection lost"),
                }
            }
        })
        .await
        .map_err(|_| anyhow!("no PUBACK within {ANSWER:?}"))?
    }

    /// A connection the broker accepted.
    async fn connect(&self) -> anyhow::Result<Conn> {
        let c = crate::broker::client::read_credentials(&self.credentials)
            .context("start the broker with `medchain broker start`")?;
        let o =
            crate::broker::client::options(&c, self.client_id.clone(), Duration::from_secs(15))?;
        let (client, mut ev) = AsyncClient::new(o, 16);
        let (tx, heard) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let h = match ev.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(a))) => Heard::Connected(a.code),
                    Ok(Event::Incoming(Packet::PubAck(_))) => Heard::PubAck,
                    Ok(_) => continue,
                    Err(e) => Heard::Down(e.to_string()),
                };
                let down = matches!(h, Heard::Down(_));
                if tx.send(h).is_err() || down {
                    return;
                }
            }
        });
        let mut conn = Conn {
            client,
            heard,
            task,
        };
        let code = tokio::time::timeout(ANSWER, conn.heard.recv())
            .await
            .map_err(|_| anyhow!("the broker at {} did not answer within {ANSWER:?}", c.url))?;
        match code {
            Some(Heard::Connected(ConnectReturnCode::Success)) => Ok(conn),
            Some(Heard::Connected(code)) => bail!(
                "the broker at {} refused user {:?}: {code:?}",
                c.url,
                c.username
            ),
            Some(Heard::Down(e)) => bail!("connecting to the broker at {}: {e}", c.url),
            _ => bail!("connecting to the broker at {}: connection lost", c.url),
        }
    }
}
