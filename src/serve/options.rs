//! What `medchain serve` may listen on, and with which TLS.
//!
//! Plain HTTP is for loopback only: its session cookie travels in clear,
//! so anything but 127.0.0.1 / [::1] needs TLS (`--tls`, a certificate
//! from the console's own CA, or `--tls-cert`/`--tls-key`, the operator's).
//! Everything is checked before anything starts.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::error::InputError;
pub use crate::gateway::options::Tls;

/// The default address: loopback, port 8700.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";

/// The TLS flags as given.
#[derive(Debug, Clone, Default)]
pub struct TlsFlags {
    /// `--tls`: serve HTTPS with a certificate from the console's CA.
    pub tls: bool,
    /// `--tls-cert`: the operator's PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// `--tls-key`: its PEM private key.
    pub key: Option<PathBuf>,
    /// `--tls-name`: host names or addresses the console is reached by.
    pub names: Vec<String>,
}

/// Where and how the console listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// The socket address.
    pub addr: SocketAddr,
    /// HTTPS or plain HTTP ([`Tls::Plaintext`], loopback only).
    pub tls: Tls,
    /// `Host` names besides loopback the console answers to (`--tls-name`
    /// and a specific listening address): the DNS-rebinding check.
    pub hosts: Vec<String>,
}

/// Checks `--listen` and the TLS flags together.
pub fn listen(text: &str, f: &TlsFlags) -> Result<Listen, InputError> {
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        InputError::new(format!(
            "--listen {text:?}: expected IP:PORT, e.g. {DEFAULT_LISTEN} (port 0: any free port)"
        ))
    })?;
    let ip = addr.ip();
    let mut names: Vec<String> = Vec::new();
    for n in &f.names {
        let n = n.trim();
        if n.is_empty() || (n.contains(['/', ':', ' ']) && n.parse::<IpAddr>().is_err()) {
            return Err(InputError::new(format!(
                "--tls-name {n:?}: expected a host name or an IP address the console is reached by"
            )));
        }
        names.push(n.to_string());
    }
    let tls = match (f.tls, &f.cert, &f.key) {
        (_, Some(cert), Some(key)) => Tls::Provided { cert: cert.clone(), key: key.clone() },
        (_, Some(_), None) | (_, None, Some(_)) => return Err(InputError::new(
            "--tls-cert and --tls-key: give both (the PEM certificate chain and its key), or use --tls for a generated certificate",
        )),
        (true, None, None) => Tls::Generate(Vec::new()),
        (false, None, None) => Tls::Plaintext,
    };
    if tls == Tls::Plaintext && !ip.is_loopback() {
        return Err(InputError::new(format!(
            "--listen {addr}: off loopback the console needs TLS (its session cookie would travel in clear): add --tls (a certificate from the console's own CA) or --tls-cert/--tls-key, or listen on 127.0.0.1"
        )));
    }
    if ip.is_unspecified() && names.is_empty() {
        return Err(InputError::new(format!(
            "--listen {addr}: listening on every address needs --tls-name with the name or address browsers use (e.g. --tls-name 192.168.1.10)"
        )));
    }
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.insert(0, ip.to_string());
    }
    names.dedup();
    let tls = match tls {
        Tls::Generate(_) => {
            let mut all = names.clone();
            all.extend(["localhost".to_string(), "127.0.0.1".to_string()]);
            all.dedup();
            Tls::Generate(all)
        }
        other => other,
    };
    Ok(Listen {
        addr,
        tls,
        hosts: names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_loopback_only_and_tls_opens_other_addresses() {
        let plain = TlsFlags::default();
        assert_eq!(listen("127.0.0.1:0", &plain).unwrap().addr.port(), 0);
        assert!(listen("[::1]:8700", &plain).is_ok());
        for bad in ["0.0.0.0:8700", "192.0.2.1:80", "nope", "127.0.0.1"] {
            let e = listen(bad, &plain).unwrap_err().to_string();
            assert!(e.starts_with("--listen "), "{bad}: {e}");
        }
        let tls = TlsFlags {
            tls: true,
            ..Default::default()
        };
        let l = listen("192.0.2.1:443", &tls).unwrap();
        assert_eq!(l.hosts, vec!["192.0.2.1".to_string()]);
        assert!(matches!(l.tls, Tls::Generate(ref n) if n.contains(&"192.0.2.1".to_string())));
        let e = listen("0.0.0.0:443", &tls).unwrap_err().to_string();
        assert!(e.contains("--tls-name"), "{e}");
        let named = TlsFlags {
            names: vec!["console.ward".into()],
            ..tls.clone()
        };
        assert_eq!(
            listen("0.0.0.0:443", &named).unwrap().hosts,
            vec!["console.ward".to_string()]
        );
        let half = TlsFlags {
            cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(listen("127.0.0.1:0", &half)
            .unwrap_err()
            .to_string()
            .starts_with("--tls-cert"));
    }
}
