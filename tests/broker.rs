//! `medchain broker` end to end with Debian's real mosquitto and a real
//! MQTT client (rumqttc over TLS): only TLS with a password gets in; a
//! device may publish only on its own transaction topic and the gateway
//! receives it; a device publishing on another device's topic reaches no
//! one; credentials are 0600; `down` stops the broker. Without mosquitto
//! these tests fail, they never skip.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::{alive, TestNet};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration,
    Transport,
};
use serde_json::Value;

const TOPO: &str = "\
network: mqtt-e2e
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

fn creds(dir: &Path, user: &str) -> Value {
    let path = dir.join(format!("credentials/{user}.json"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Connects as `user` with `password` (TLS pinned to the broker's CA
/// unless `plain`); the client once the broker accepted it, else why not.
async fn connect(
    c: &Value,
    password: &str,
    plain: bool,
) -> Result<(AsyncClient, EventLoop), String> {
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
async fn received(ev: &mut EventLoop, limit: Duration) -> Vec<(String, Vec<u8>)> {
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

/// Drives `ev` until the broker acknowledged the last request.
async fn settle(ev: &mut EventLoop) {
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

#[test]
fn only_authenticated_tls_clients_use_only_their_own_topics() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "36", "--quiet"]);
    net.ok(&["device", "provision", "--hospital", "ward", "--count", "2"]);
    let out = net.ok(&["broker", "start"]).stdout;
    assert!(
        out.starts_with("broker: mosquitto started on mqtts://127.0.0.1:"),
        "{out}"
    );
    let st = net.status();
    let pid = st["broker"]["pid"]
        .as_u64()
        .expect("status shows the broker");
    let dir = net.home().join("mqtt-e2e/broker");
    let (gw, d1, d2) = (
        creds(&dir, "gateway"),
        creds(&dir, "ward-device-1"),
        creds(&dir, "ward-device-2"),
    );
    // rustls is built with both aws-lc-rs (ours) and ring (rumqttc's):
    // name the provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pw = |c: &Value| c["password"].as_str().unwrap().to_string();
        // No TLS, or a wrong password: refused.
        assert!(
            connect(&d1, &pw(&d1), true).await.is_err(),
            "plaintext MQTT got in"
        );
        let e = connect(&d1, "wrong", false)
            .await
            .err()
            .expect("a wrong password got in");
        assert!(
            e.contains("BadUserNamePassword") || e.contains("NotAuthorized"),
            "{e}"
        );

        let (g, mut gev) = connect(&gw, &pw(&gw), false).await.unwrap();
        g.subscribe(gw["subscribe"][0].as_str().unwrap(), QoS::AtLeastOnce)
            .await
            .unwrap();
        settle(&mut gev).await;
        let (c1, mut ev1) = connect(&d1, &pw(&d1), false).await.unwrap();
        let own = d1["publish"][0].as_str().unwrap().to_string();
        let other = d2["publish"][0].as_str().unwrap().to_string();
        assert!(
            own.starts_with("medchain/mqtt-e2e/ward/devices/0x") && own.ends_with("/tx"),
            "{own}"
        );
        c1.publish(&own, QoS::AtLeastOnce, false, b"0xf86b-own".to_vec())
            .await
            .unwrap();
        settle(&mut ev1).await;
        c1.publish(&other, QoS::AtLeastOnce, false, b"0xf86b-forged".to_vec())
            .await
            .unwrap();
        settle(&mut ev1).await;
        let got = received(&mut gev, Duration::from_secs(3)).await;
        assert_eq!(
            got,
            vec![(own.clone(), b"0xf86b-own".to_vec())],
            "the gateway got only the device's own topic"
        );
    });
    net.ok(&["down"]);
    assert!(!alive(pid), "mosquitto {pid} survived down");
}
