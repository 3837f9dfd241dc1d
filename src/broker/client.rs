//! What every MQTT client of a network's broker needs (the gateway's
//! bridge, `watch`, the bench's fleets and alarm subscriber): its
//! credentials file, the broker's port and TLS trusting only the broker's
//! CA, and client options built from them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls;

use super::accounts::Credentials;

/// Reads an account's credentials file.
pub fn read_credentials(path: &Path) -> anyhow::Result<Credentials> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a broker credentials file", path.display()))
}

/// The port of an `mqtts://127.0.0.1:<port>` URL.
pub fn port_of(url: &str) -> anyhow::Result<u16> {
    url.strip_prefix("mqtts://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("broker URL {url:?}: expected mqtts://127.0.0.1:<port>"))
}

/// rustls trusting only the broker's CA (aws-lc-rs, as the rest of
/// medchain).
pub fn tls_config(ca_file: &Path) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca_file)
        .with_context(|| format!("reading the broker's CA {}", ca_file.display()))?
    {
        roots.add(c.with_context(|| format!("{}: not a PEM certificate", ca_file.display()))?)?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Options to connect as `c` with `id`: the broker's loopback port, the
/// account's password, TLS trusting only the broker's CA.
pub fn options(c: &Credentials, id: String, keep_alive: Duration) -> anyhow::Result<MqttOptions> {
    let mut o = MqttOptions::new(id, "127.0.0.1", port_of(&c.url)?);
    o.set_credentials(&c.username, &c.password);
    o.set_keep_alive(keep_alive);
    o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        tls_config(&c.ca_file)?,
    )));
    Ok(o)
}
