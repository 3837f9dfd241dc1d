//! What `device provision --gateway URL [--gateway-ca FILE]` writes into a
//! device's config so it talks to the hospital's gateway: the gateway's URL
//! and the CA certificate the device pins (the given file, else the
//! hospital's generated CA, created on first use so devices can be
//! provisioned before the gateway first starts).

use std::path::{Path, PathBuf};

use crate::error::InputError;

/// Where a hospital's devices reach its gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLink {
    /// `https://host:port` (or `http://` on loopback).
    pub url: String,
    /// The CA to pin (PEM, read from `--gateway-ca`), when not the
    /// generated one.
    pub ca: Option<String>,
}

/// Checks `--gateway` and `--gateway-ca` (reading the CA file), before
/// anything is sent.
pub fn check_link(url: &str, ca_file: Option<PathBuf>) -> Result<DeviceLink, InputError> {
    let bad = |why: &str| {
        InputError::new(format!(
            "--gateway {url:?}: {why}; give the gateway's URL as devices reach it, e.g. https://192.168.1.10:8600"
        ))
    };
    let u = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    let host = u.host_str().ok_or_else(|| bad("no host"))?;
    if !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(bad("no user, query or fragment expected"));
    }
    if u.path() != "/" {
        return Err(bad("the gateway serves only the path /"));
    }
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match u.scheme() {
        "https" => {}
        "http" if loopback => {
            if ca_file.is_some() {
                return Err(InputError::new(
                    "--gateway-ca: only applies to an https:// --gateway",
                ));
            }
        }
        "http" => return Err(bad(
            "plain http only to a loopback gateway (it refuses plaintext elsewhere); use https://",
        )),
        _ => return Err(bad("expected https://")),
    }
    Ok(DeviceLink {
        url: url.trim_end_matches('/').to_string(),
        ca: ca_file.as_deref().map(read_ca).transpose()?,
    })
}

/// A CA certificate file given with `--gateway-ca`.
fn read_ca(file: &Path) -> Result<String, InputError> {
    let pem = std::fs::read_to_string(file).map_err(|e| {
        InputError::new(format!(
            "--gateway-ca {}: {e}; give the PEM file of the CA that signed the gateway's certificate",
            file.display()
        ))
    })?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(InputError::new(format!(
            "--gateway-ca {}: no PEM certificate in it; give the CA certificate (-----BEGIN CERTIFICATE-----)",
            file.display()
        )));
    }
    Ok(pem)
}

/// The CA certificate (PEM) devices pin for `link`: `None` for plain http.
pub fn ca_pem(
    link: &DeviceLink,
    net_dir: &Path,
    network: &str,
    hospital: &str,
) -> anyhow::Result<Option<String>> {
    if !link.url.starts_with("https://") {
        return Ok(None);
    }
    match &link.ca {
        Some(pem) => Ok(Some(pem.clone())),
        None => Ok(Some(super::tls::ensure_ca(net_dir, network, hospital)?.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_https_or_loopback_http() {
        let ok = check_link("https://192.168.1.10:8600/", None).unwrap();
        assert_eq!(ok.url, "https://192.168.1.10:8600");
        let e = check_link(
            "https://gw.ward.example:8600",
            Some("/nonexistent/ca.pem".into()),
        )
        .unwrap_err();
        assert!(
            e.message.starts_with("--gateway-ca /nonexistent/ca.pem"),
            "{}",
            e.message
        );
        assert!(check_link("http://127.0.0.1:8600", None).is_ok());
        for bad in [
            "http://192.168.1.10:8600",
            "ftp://x",
            "https://u:p@x:1",
            "https://x:1/rpc",
            "not a url",
        ] {
            let e = check_link(bad, None).unwrap_err();
            assert!(e.message.starts_with("--gateway "), "{bad}: {}", e.message);
        }
        let e = check_link("http://127.0.0.1:1", Some("ca.pem".into())).unwrap_err();
        assert!(e.message.starts_with("--gateway-ca"), "{}", e.message);
    }

    #[test]
    fn the_generated_ca_is_pinned_unless_one_is_given() {
        let home = tempfile::tempdir().unwrap();
        let net = home.path().join("n");
        let link = check_link("https://127.0.0.1:8600", None).unwrap();
        let pem = ca_pem(&link, &net, "n", "h").unwrap().unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(
            pem,
            std::fs::read_to_string(super::super::tls::ca_path(&net, "h")).unwrap()
        );
        let plain = check_link("http://127.0.0.1:8600", None).unwrap();
        assert_eq!(ca_pem(&plain, &net, "n", "h").unwrap(), None);
        let f = home.path().join("not.pem");
        std::fs::write(&f, "hello").unwrap();
        let e = check_link("https://x:1", Some(f.clone())).unwrap_err();
        assert!(e.message.contains("no PEM certificate"), "{}", e.message);
        std::fs::write(&f, &pem).unwrap();
        let given = check_link("https://x:1", Some(f)).unwrap();
        assert_eq!(ca_pem(&given, &net, "n", "other").unwrap(), Some(pem));
    }
}
