//! What `medchain gateway` serves, checked: the flags on their own
//! ([`ServeRequest::new`]), then against the network ([`resolve`]). Every
//! problem is an [`InputError`] naming the flag, before anything is
//! created or bound.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::error::InputError;
use crate::plan::Role;
use crate::state::State;

/// Default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8600";
/// Default sustained rate per client (requests per second).
pub const DEFAULT_RATE: f64 = 20.0;
/// Default burst per client.
pub const DEFAULT_BURST: u32 = 40;
/// Default largest request body, in KiB.
pub const DEFAULT_MAX_BODY_KIB: usize = 64;
/// Default most open connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 128;

/// How the gateway speaks TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// A server certificate from the hospital's generated CA, for these
    /// names and addresses.
    Generate(Vec<String>),
    /// The operator's certificate chain and key (PEM files).
    Provided { cert: PathBuf, key: PathBuf },
    /// No TLS (`--insecure-plaintext`, loopback only).
    Plaintext,
}

/// The flags, checked on their own.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeRequest {
    /// Hospital whose member is fronted.
    pub hospital: String,
    /// A named member node, else the hospital's first member.
    pub node: Option<String>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS choice.
    pub tls: Tls,
    /// Requests per second per client.
    pub rate: f64,
    /// Burst per client.
    pub burst: u32,
    /// Largest body, bytes.
    pub max_body: usize,
    /// Most open connections.
    pub max_connections: usize,
    /// Access log file, else `<network>/gateway/access-<hospital>.log`.
    pub access_log: Option<PathBuf>,
    /// Do not echo the access log to stderr.
    pub quiet: bool,
    /// Also answer devices over the network's MQTT broker.
    pub mqtt: bool,
}

/// The flags as given (strings and numbers), before checking.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub hospital: String,
    pub node: Option<String>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_name: Vec<String>,
    pub insecure_plaintext: bool,
    pub rate: Option<f64>,
    pub burst: Option<u32>,
    pub max_body_kib: Option<usize>,
    pub max_connections: Option<usize>,
    pub access_log: Option<PathBuf>,
    pub quiet: bool,
    pub mqtt: bool,
}

fn err(msg: String) -> InputError {
    InputError::new(msg)
}

impl ServeRequest {
    /// Checks the flags.
    pub fn new(f: &Flags) -> Result<ServeRequest, InputError> {
        if f.hospital.trim().is_empty() {
            return Err(err(
                "--hospital: must not be empty; pass a hospital name from the topology".into(),
            ));
        }
        let text = f.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = text.parse().map_err(|_| {
            err(format!(
                "--listen {text:?}: expected IP:PORT, e.g. 127.0.0.1:8600 or 192.168.1.10:8600 (the address on the hospital LAN)"
            ))
        })?;
        let tls = tls_choice(f, listen)?;
        let rate = f.rate.unwrap_or(DEFAULT_RATE);
        if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
            return Err(err(format!("--rate {rate}: expected requests per second per client, above 0 and at most 100000")));
        }
        let burst = f.burst.unwrap_or(DEFAULT_BURST);
        if !(1..=100_000).contains(&burst) {
            return Err(err(format!(
                "--burst {burst}: expected 1 to 100000 requests"
            )));
        }
        let kib = f.max_body_kib.unwrap_or(DEFAULT_MAX_BODY_KIB);
        if !(1..=16 * 1024).contains(&kib) {
            return Err(err(format!(
                "--max-body-kib {kib}: expected 1 to 16384 KiB"
            )));
        }
        let conns = f.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if !(1..=10_000).contains(&conns) {
            return Err(err(format!(
                "--max-connections {conns}: expected 1 to 10000"
            )));
        }
        Ok(ServeRequest {
            hospital: f.hospital.trim().to_string(),
            node: f.node.clone(),
            listen,
            tls,
            rate,
            burst,
            max_body: kib * 1024,
            max_connections: conns,
            access_log: f.access_log.clone(),
            quiet: f.quiet,
            mqtt: f.mqtt,
        })
    }
}

/// The TLS choice the flags make: plaintext only on loopback; a generated
/// certificate names the listening address unless it is a wildcard, which
/// then needs `--tls-name`.
fn tls_choice(f: &Flags, listen: SocketAddr) -> Result<Tls, InputError> {
    let ip = listen.ip();
    if f.insecure_plaintext {
        if !ip.is_loopback() {
            return Err(err(format!(
                "--insecure-plaintext: only allowed with a loopback --listen (127.0.0.1 or ::1), got {ip}; \
                 drop it to serve TLS (devices on a LAN must not send tokens in the clear)"
            )));
        }
        return Ok(Tls::Plaintext);
    }
    match (&f.tls_cert, &f.tls_key) {
        (Some(cert), Some(key)) => {
            return Ok(Tls::Provided {
                cert: cert.clone(),
                key: key.clone(),
            })
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(err("--tls-cert and --tls-key: give both (the PEM certificate chain and its key), or neither to use a generated certificate".into()))
        }
        (None, None) => {}
    }
    let mut names: Vec<String> = Vec::new();
    for n in &f.tls_name {
        let n = n.trim();
        if n.is_empty() || (n.contains(['/', ':', ' ']) && n.parse::<IpAddr>().is_err()) {
            return Err(err(format!("--tls-name {n:?}: expected a host name or an IP address the devices use to reach the gateway")));
        }
        names.push(n.to_string());
    }
    if ip.is_unspecified() {
        if names.is_empty() {
            return Err(err(format!(
                "--listen {listen}: listening on every address needs --tls-name with the name or address devices connect to (e.g. --tls-name 192.168.1.10)"
            )));
        }
    } else {
        names.insert(0, ip.to_string());
        if ip.is_loopback() {
            names.push("localhost".to_string());
        }
    }
    names.dedup();
    Ok(Tls::Generate(names))
}

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The checked flags.
    pub req: ServeRequest,
    /// Network name.
    pub network: String,
    /// Network directory.
    pub net_dir: PathBuf,
    /// The member fronted.
    pub node: String,
    /// Its HTTP JSON-RPC endpoint.
    pub upstream: String,
    /// The access log file.
    pub access_log: PathBuf,
    /// The network keeps records private (`privacy: private`): the
    /// gateway then also takes devices' sealed readings (`PUT /store/…`).
    pub private: bool,
}

/// The hospital's member node the gateway fronts: `--node`, which must be
/// a member of `--hospital`, else its first member.
pub fn resolve(state: &State, req: ServeRequest) -> Result<Options, InputError> {
    let plan = &state.plan;
    let hospitals: Vec<&str> = plan.hospital_keys.iter().map(|(n, _)| n.as_str()).collect();
    if !hospitals.contains(&req.hospital.as_str()) {
        return Err(err(format!(
            "--hospital {:?}: network {} has no such hospital; hospitals: {}",
            req.hospital,
            plan.topology.network,
            hospitals.join(", ")
        )));
    }
    let members: Vec<_> = plan
        .nodes
        .iter()
        .filter(|n| n.hospital == req.hospital && n.role == Role::Member)
        .collect();
    let names = || {
        members
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let node = match &req.node {
        Some(want) => members.iter().find(|n| &n.name == want).ok_or_else(|| {
            err(format!(
                "--node {want:?}: not a member node of hospital {}; its members: {}",
                req.hospital,
                if members.is_empty() { "none".to_string() } else { names() }
            ))
        })?,
        None => members.first().ok_or_else(|| {
            err(format!(
                "--hospital {}: has no member node to front (sealers serve no clients); give it `members: 1` in the topology and run `medchain up`",
                req.hospital
            ))
        })?,
    };
    let access_log = req.access_log.clone().unwrap_or_else(|| {
        plan.dir
            .join("gateway")
            .join(format!("access-{}.log", req.hospital))
    });
    Ok(Options {
        network: plan.topology.network.clone(),
        net_dir: plan.dir.clone(),
        node: node.name.clone(),
        upstream: node.rpc_url().ok_or_else(|| {
            err(format!(
                "node {}: serves no client RPC; name a member with --node",
                node.name
            ))
        })?,
        access_log,
        private: plan.topology.privacy == crate::topology::Privacy::Private,
        req,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(listen: &str) -> Flags {
        Flags {
            hospital: "h".into(),
            listen: Some(listen.into()),
            ..Flags::default()
        }
    }

    #[test]
    fn defaults_are_loopback_tls_with_bounded_limits() {
        let r = ServeRequest::new(&Flags {
            hospital: "h".into(),
            ..Flags::default()
        })
        .unwrap();
        assert_eq!(r.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(
            r.tls,
            Tls::Generate(vec!["127.0.0.1".into(), "localhost".into()])
        );
        assert_eq!((r.rate, r.burst, r.max_body), (20.0, 40, 65_536));
        assert_eq!(r.max_connections, 128);
    }

    #[test]
    fn plaintext_only_on_loopback() {
        let plain = |l: &str| {
            ServeRequest::new(&Flags {
                insecure_plaintext: true,
                ..flags(l)
            })
        };
        assert_eq!(plain("127.0.0.1:1").unwrap().tls, Tls::Plaintext);
        assert_eq!(plain("[::1]:1").unwrap().tls, Tls::Plaintext);
        for l in ["0.0.0.0:1", "192.168.1.10:1", "[::]:1"] {
            let e = plain(l).unwrap_err();
            assert!(
                e.message.starts_with("--insecure-plaintext"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn generated_certificates_name_the_address_devices_use() {
        let r = ServeRequest::new(&Flags {
            tls_name: vec!["gw.ward.example".into()],
            ..flags("192.168.1.10:8600")
        })
        .unwrap();
        assert_eq!(
            r.tls,
            Tls::Generate(vec!["192.168.1.10".into(), "gw.ward.example".into()])
        );
        let e = ServeRequest::new(&flags("0.0.0.0:8600")).unwrap_err();
        assert!(e.message.contains("--tls-name"), "{}", e.message);
        let any = ServeRequest::new(&Flags {
            tls_name: vec!["10.0.0.2".into()],
            ..flags("0.0.0.0:8600")
        })
        .unwrap();
        assert_eq!(any.tls, Tls::Generate(vec!["10.0.0.2".into()]));
        let half = ServeRequest::new(&Flags {
            tls_cert: Some("c.pem".into()),
            ..flags("127.0.0.1:1")
        })
        .unwrap_err();
        assert!(
            half.message.starts_with("--tls-cert and --tls-key"),
            "{}",
            half.message
        );
    }

    #[test]
    fn bad_flags_name_themselves() {
        let cases: Vec<(Flags, &str)> = vec![
            (flags("localhost:8600"), "--listen"),
            (flags("127.0.0.1"), "--listen"),
            (
                Flags {
                    rate: Some(0.0),
                    ..flags("127.0.0.1:1")
                },
                "--rate",
            ),
            (
                Flags {
                    rate: Some(f64::NAN),
                    ..flags("127.0.0.1:1")
                },
                "--rate",
            ),
            (
                Flags {
                    burst: Some(0),
                    ..flags("127.0.0.1:1")
                },
                "--burst",
            ),
            (
                Flags {
                    max_body_kib: Some(0),
                    ..flags("127.0.0.1:1")
                },
                "--max-body-kib",
            ),
            (
                Flags {
                    max_connections: Some(0),
                    ..flags("127.0.0.1:1")
                },
                "--max-connections",
            ),
            (
                Flags {
                    hospital: " ".into(),
                    ..flags("127.0.0.1:1")
                },
                "--hospital",
            ),
            (
                Flags {
                    tls_name: vec!["a/b".into()],
                    ..flags("127.0.0.1:1")
                },
                "--tls-name",
            ),
        ];
        for (f, flag) in cases {
            let e = ServeRequest::new(&f).unwrap_err();
            assert!(e.message.starts_with(flag), "{flag}: {}", e.message);
        }
    }
}
