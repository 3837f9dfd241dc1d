//! mosquitto's configuration and ACL for a network's broker.

use std::path::Path;

use super::accounts::{topics, Account};

/// Where a network's broker keeps its files.
pub struct Paths<'a> {
    pub ca: &'a Path,
    pub cert: &'a Path,
    pub key: &'a Path,
    pub passwords: &'a Path,
    pub acl: &'a Path,
    /// Where sessions and queued messages are saved (`mosquitto.db`).
    pub data: &'a Path,
}

/// `mosquitto.conf`: one TLS listener on 127.0.0.1:`port`, passwords
/// required, the ACL applied. Sessions, subscriptions and queued QoS 1
/// messages are persisted (saved on a clean stop and every minute), so an
/// alarm reader with a persistent session (clean session off) gets the
/// alarms published while it, or the broker, was restarting. `user` keeps mosquitto
/// running as the invoking user (as the nodes do) instead of switching to
/// the `mosquitto` account, which could not read the network's 0700
/// directory.
pub fn render(port: u16, user: &str, p: &Paths<'_>) -> String {
    format!(
        "# Written by `medchain broker start`; rewritten on every start.\n\
         user {user}\n\
         per_listener_settings false\n\
         allow_anonymous false\n\
         password_file {}\n\
         acl_file {}\n\
         persistence true\n\
         persistence_location {}/\n\
         autosave_interval 60\n\
         log_dest stderr\n\
         log_type error\nlog_type warning\nlog_type notice\n\
         listener {port} 127.0.0.1\n\
         cafile {}\n\
         certfile {}\n\
         keyfile {}\n\
         tls_version tlsv1.2\n",
        p.passwords.display(),
        p.acl.display(),
        p.data.display(),
        p.ca.display(),
        p.cert.display(),
        p.key.display(),
    )
}

/// The ACL: each account may write and read only its own topics; no
/// pattern or anonymous rule exists, so anything else is denied.
pub fn acl(network: &str, accounts: &[Account]) -> String {
    let mut out = String::from("# Written by `medchain broker start`; rewritten on every start.\n");
    for a in accounts {
        let (publish, subscribe) = topics(network, a);
        out.push_str(&format!("\nuser {}\n", a.username));
        for t in publish {
            out.push_str(&format!("topic write {t}\n"));
        }
        for t in subscribe {
            out.push_str(&format!("topic read {t}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::accounts::Role;

    #[test]
    fn each_account_gets_only_its_own_topics() {
        let accounts = vec![
            Account {
                username: "ward-device-1".into(),
                role: Role::Device {
                    hospital: "ward".into(),
                    address: "0xab".into(),
                },
            },
            Account {
                username: "gateway".into(),
                role: Role::Gateway,
            },
            Account {
                username: "ward-alarms".into(),
                role: Role::Alarms {
                    hospital: "ward".into(),
                },
            },
        ];
        let acl = acl("n", &accounts);
        assert!(acl.contains("user ward-device-1\ntopic write medchain/n/ward/devices/0xab/tx\ntopic read medchain/n/ward/devices/0xab/ack\n"), "{acl}");
        assert!(acl.contains("user gateway\ntopic write medchain/n/+/devices/+/ack\ntopic read medchain/n/+/devices/+/tx\n"), "{acl}");
        assert!(
            acl.contains("user ward-alarms\ntopic read medchain/n/ward/alarms/#\n"),
            "{acl}"
        );
        assert!(
            !acl.contains("pattern") && !acl.contains("topic readwrite"),
            "{acl}"
        );
        let p = Path::new("/x");
        let conf = render(
            8883,
            "root",
            &Paths {
                ca: p,
                cert: p,
                key: p,
                passwords: p,
                acl: p,
                data: p,
            },
        );
        assert!(conf.contains("listener 8883 127.0.0.1\n"), "{conf}");
        assert!(conf.contains("allow_anonymous false\n"), "{conf}");
        assert!(
            conf.contains("persistence true\npersistence_location /x/\n"),
            "{conf}"
        );
    }
}
