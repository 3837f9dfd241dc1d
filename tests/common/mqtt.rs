//! A real MQTT client (rumqttc over rustls) for the broker's accounts, as
//! their credential files describe them.

use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration,
    Transport,
};
use serde_json::Value;

/// An account's credentials file (`<network dir>/broker/credentials/<user>.json`).
pub fn credentials(broker_dir: &std::path::Path, user: &str) -> Value {
    let path = broker_dir.join(format!("credentials/{user}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The account's password.
pub fn password(c: &Value) -> String {
    c["password"].as_str().unwrap().to_string()
}

/// Connects as `c`'s user with `password` (TLS pinned to the broker's CA
/// unless `plain`); the client once the broker accepted it, else why not.
pub async fn connect(
    c: &Value,
    password: &str,
    plain: bool,
) -> Result<(AsyncClient, EventLoop), String> {
    // rustls is built with both aws-lc-rs (ours) and ring (rumqttc's):
    // name the provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let port: u16 = c["url"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let user = c["username"].as_str().unwrap();
    let mut o = MqttOptions::new(format!("{user}-{}", rand_suffix()), "127.0.0.1", port);
    o.set_credentials(user, password);
    o.set_keep_alive(Duration::from_secs(5));
    if !plain {
        let ca = std::fs::read(c["ca_file"].as_str().unwrap()).unwrap();
        o.set_transport(Transport::tls_with_config(TlsConfiguration::Simple {
            ca,
            alpn: None,
            client_auth: None,
        }));
    }
    let (client, mut ev) = AsyncClient::new(o, 10);
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(a))) => return Ok(a.code),
                Ok(_) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .map_err(|_| "no answer within 10 s".to_string())??;
    match first {
        ConnectReturnCode::Success => Ok((client, ev)),
        code => Err(format!("{code:?}")),
    }
}

fn rand_suffix() -> u32 {
    std::process::id()
        ^ (std::time::SystemTime::now()
            .elapsed()
            .unwrap_or_default()
            .subsec_nanos())
}

/// The publishes `ev` receives within `limit`.
pub async fn received(ev: &mut EventLoop, limit: Duration) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        loop {
            if let Ok(Event::Incoming(Packet::Publish(p))) = ev.poll().await {
                out.push((p.topic.clone(), p.payload.to_vec()));
            }
        }
    })
    .await;
    out
}

/// The next publish `ev` receives within `limit`.
pub async fn next_publish(ev: &mut EventLoop, limit: Duration) -> Option<(String, Vec<u8>)> {
    tokio::time::timeout(limit, async {
        loop {
            if let Ok(Event::Incoming(Packet::Publish(p))) = ev.poll().await {
                return (p.topic.clone(), p.payload.to_vec());
            }
        }
    })
    .await
    .ok()
}

/// Drives `ev` until the broker acknowledged the last request.
pub async fn settle(ev: &mut EventLoop) {
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) | Ok(Event::Incoming(Packet::PubAck(_))) => {
                    break
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
    })
    .await;
}

/// Subscribes at QoS 1 and waits for the broker's acknowledgement.
pub async fn subscribe(client: &AsyncClient, ev: &mut EventLoop, topic: &str) {
    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    settle(ev).await;
}
