//! The gateway's TLS: a certificate the operator provides (`--tls-cert`,
//! `--tls-key`), or one medchain issues from a per-hospital CA it
//! generates.
//!
//! The generated CA lives in `<network>/gateway/<hospital>/` (`ca.pem`,
//! and `ca.key` 0600) and is what devices pin (`device provision
//! --gateway` writes it into their configs). Each gateway start issues a
//! fresh server certificate from it for the names and addresses the
//! gateway is reached by (`cert.pem`, `cert.key` 0600), so changing the
//! names never needs the devices re-provisioned.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls;

use super::utc::Utc;
use crate::error::InputError;
use crate::keys;

/// Where a hospital's generated CA and server certificate live.
pub fn dir(net_dir: &Path, hospital: &str) -> PathBuf {
    net_dir.join("gateway").join(hospital)
}

/// The generated CA certificate (PEM) of a hospital's gateway.
pub fn ca_path(net_dir: &Path, hospital: &str) -> PathBuf {
    dir(net_dir, hospital).join("ca.pem")
}

/// The certificate and key the gateway serves with.
#[derive(Debug, Clone)]
pub struct Served {
    /// Certificate chain, PEM.
    pub cert_pem: String,
    /// Private key, PEM.
    pub key_pem: String,
    /// The CA clients should pin (PEM file), when medchain generated it.
    pub ca: Option<PathBuf>,
    /// SHA-256 fingerprint of the CA (generated) or of the served leaf.
    pub fingerprint: String,
}

/// SHA-256 of a DER certificate as colon-separated hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The CA's parameters: the same every time, so an [`Issuer`] rebuilt from
/// them and the stored key signs certificates that chain to the stored CA.
fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "medchain");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let year = Utc::now().year;
    p.not_before = date_time_ymd(year - 1, 1, 1);
    p.not_after = date_time_ymd(year + 20, 1, 1);
    p
}

/// The hospital's CA: loaded, or generated and stored on first use.
/// Returns its PEM, its key and the path of `ca.pem`.
pub fn ensure_ca(
    net_dir: &Path,
    network: &str,
    hospital: &str,
) -> anyhow::Result<(String, KeyPair, PathBuf)> {
    ensure_ca_at(&dir(net_dir, hospital), &gateway_ca_name(network, hospital))
}

fn gateway_ca_name(network: &str, hospital: &str) -> String {
    format!("medchain gateway CA {network}/{hospital}")
}

/// A CA named `cn` kept in directory `d` (`ca.pem`, `ca.key` 0600):
/// loaded, or generated and stored on first use. Returns its PEM, its key
/// and the path of `ca.pem`.
pub fn ensure_ca_at(d: &Path, cn: &str) -> anyhow::Result<(String, KeyPair, PathBuf)> {
    let (cert, key) = (d.join("ca.pem"), d.join("ca.key"));
    if cert.is_file() && key.is_file() {
        let pem = std::fs::read_to_string(&cert)
            .with_context(|| format!("reading {}", cert.display()))?;
        let key_pem =
            std::fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?;
        let kp = KeyPair::from_pem(&key_pem)
            .with_context(|| format!("{} is not a private key; delete {} to generate a new CA (devices must then be re-provisioned)", key.display(), d.display()))?;
        return Ok((pem, kp, cert));
    }
    let kp = KeyPair::generate()?;
    let ca = ca_params(cn).self_signed(&kp)?;
    crate::private_fs::create_dir(d)?;
    keys::write_private(&key, kp.serialize_pem().as_bytes())?;
    keys::write_private(&cert, ca.pem().as_bytes())?;
    Ok((ca.pem(), kp, cert))
}

/// Issues a server certificate for `names` (DNS names or IP addresses)
/// from the hospital's CA, stores it beside the CA and returns it.
pub fn issue_server_cert(
    net_dir: &Path,
    network: &str,
    hospital: &str,
    names: &[String],
) -> anyhow::Result<Served> {
    let leaf = format!("medchain gateway {network}/{hospital}");
    issue_server_cert_at(
        &dir(net_dir, hospital),
        &gateway_ca_name(network, hospital),
        &leaf,
        names,
    )
}

/// Issues a server certificate named `leaf_cn` for `names` from the CA
/// named `ca_cn` in directory `d` (created on first use), stores it there
/// (`cert.pem`, `cert.key` 0600) and returns it.
pub fn issue_server_cert_at(
    d: &Path,
    ca_cn: &str,
    leaf_cn: &str,
    names: &[String],
) -> anyhow::Result<Served> {
    let (ca_pem, ca_key, ca_file) = ensure_ca_at(d, ca_cn)?;
    let issuer = Issuer::new(ca_params(ca_cn), ca_key);
    let mut p = CertificateParams::new(names.to_vec()).map_err(|e| {
        InputError::new(format!(
            "--tls-name {names:?}: {e}; give host names or IP addresses"
        ))
    })?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, leaf_cn);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.use_authority_key_identifier_extension = true;
    let year = Utc::now().year;
    p.not_before = date_time_ymd(year - 1, 1, 1);
    p.not_after = date_time_ymd(year + 2, 1, 1);
    let key = KeyPair::generate()?;
    let cert = p.signed_by(&key, &issuer)?;
    keys::write_private(&d.join("cert.pem"), cert.pem().as_bytes())?;
    keys::write_private(&d.join("cert.key"), key.serialize_pem().as_bytes())?;
    let ca_der =
        CertificateDer::from_pem_slice(ca_pem.as_bytes()).context("reading the CA back")?;
    Ok(Served {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        ca: Some(ca_file),
        fingerprint: fingerprint(&ca_der),
    })
}

/// The operator's certificate chain and key, read and checked.
pub fn provided(cert: &Path, key: &Path) -> anyhow::Result<Served> {
    let read = |p: &Path, flag: &str| {
        std::fs::read_to_string(p).map_err(|e| {
            InputError::new(format!(
                "{flag} {}: {e}; give a readable PEM file",
                p.display()
            ))
        })
    };
    let served = Served {
        cert_pem: read(cert, "--tls-cert")?,
        key_pem: read(key, "--tls-key")?,
        ca: None,
        fingerprint: String::new(),
    };
    let config = server_config(&served).map_err(|e| {
        InputError::new(format!(
            "--tls-cert {} / --tls-key {}: {e:#}; give a PEM certificate chain and its PEM private key",
            cert.display(),
            key.display()
        ))
    })?;
    drop(config);
    let leaf = CertificateDer::from_pem_slice(served.cert_pem.as_bytes())?;
    Ok(Served {
        fingerprint: fingerprint(&leaf),
        ..served
    })
}

/// The rustls server configuration (TLS 1.2 and 1.3, HTTP/1.1).
pub fn server_config(s: &Served) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(s.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .context("the certificate is not PEM")?;
    anyhow::ensure!(!chain.is_empty(), "no certificate in the certificate file");
    let key = PrivateKeyDer::from_pem_slice(s.key_pem.as_bytes())
        .context("the key is not a PEM private key")?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the key does not match the certificate")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_ca_is_generated_once_and_private_and_signs_server_certs() {
        let home = tempfile::tempdir().unwrap();
        let net = home.path().join("n");
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let a = issue_server_cert(&net, "n", "h", &names).unwrap();
        let b = issue_server_cert(&net, "n", "h", &names).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint, "same CA both times");
        assert_ne!(a.cert_pem, b.cert_pem, "a fresh server certificate");
        let d = dir(&net, "h");
        for f in ["ca.pem", "ca.key", "cert.pem", "cert.key"] {
            let mode = std::fs::metadata(d.join(f)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
        assert_eq!(
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(server_config(&a).is_ok());
        // Another hospital has its own CA.
        let c = issue_server_cert(&net, "n", "other", &names).unwrap();
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn provided_files_are_checked() {
        let home = tempfile::tempdir().unwrap();
        let net = home.path().join("n");
        let s = issue_server_cert(&net, "n", "h", &["gw.example".to_string()]).unwrap();
        let d = dir(&net, "h");
        let ok = provided(&d.join("cert.pem"), &d.join("cert.key")).unwrap();
        assert_eq!(ok.cert_pem, s.cert_pem);
        assert!(ok.ca.is_none());
        let e = provided(&d.join("missing.pem"), &d.join("cert.key")).unwrap_err();
        assert!(e.to_string().starts_with("--tls-cert"), "{e}");
        // A key that is not the certificate's.
        let e = provided(&d.join("cert.pem"), &d.join("ca.key")).unwrap_err();
        assert!(e.to_string().contains("--tls-cert"), "{e}");
        assert!(crate::error::exit_code(&e) == 2);
    }
}
