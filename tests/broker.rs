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

use common::mqtt::{self, connect, received, settle};
use common::{alive, TestNet};
use rumqttc::QoS;
use serde_json::Value;

const TOPO: &str = "\
network: mqtt-e2e
privacy: clear
block_period: 1
hospitals:
  - {name: ward, sealers: 1, members: 1}
";

fn creds(dir: &Path, user: &str) -> Value {
    let path = dir.join(format!("credentials/{user}.json"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    mqtt::credentials(dir, user)
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
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pw = mqtt::password;
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
