//! `medchain watch`: alarms on abnormal readings, to the terminal, MQTT and
//! a webhook (see docs/alarms.md).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use clap::Args;

use super::Global;
use crate::error::InputError;
use crate::watch::run::{self, Options, ReadsAs};
use crate::watch::thresholds::{self, Thresholds};

/// The environment variable that may hold the webhook's HMAC secret.
pub const SECRET_ENV: &str = "MEDCHAIN_WEBHOOK_SECRET";

/// `medchain watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Thresholds file (YAML: defaults and per-patient overrides); without it the contract's thresholds apply.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
    /// Blocks on top of a record's block before it is alarmed [default: 0 on clique, 3 on ethash].
    #[arg(long, value_name = "N")]
    pub confirmations: Option<u64>,
    /// First block to read when watch has no checkpoint yet [default: the next block].
    #[arg(long, value_name = "N")]
    pub from_block: Option<u64>,
    /// Clear networks: address records are read as [default: the admin account].
    #[arg(long, value_name = "ADDRESS")]
    pub reader: Option<String>,
    /// Private networks: open sealed readings as this hospital (the custodian of its patients).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["key", "reader"])]
    pub hospital: Option<String>,
    /// Private networks: open sealed readings with this wallet key (a doctor with consent; 0x…).
    #[arg(long, value_name = "KEY", conflicts_with = "reader")]
    pub key: Option<String>,
    /// Member node to follow [default: the first member].
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Print each notice as one JSON object per line instead of a summary.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Print no notices (use with --mqtt or --webhook).
    #[arg(long)]
    pub quiet: bool,
    /// Publish alarms to the network's broker (`medchain broker start`) as the `watch` account.
    #[arg(long)]
    pub mqtt: bool,
    /// POST alarms to this URL (https, or http to a loopback address), signed with HMAC-SHA256.
    #[arg(long, value_name = "URL", requires = "webhook_secret_file")]
    pub webhook: Option<String>,
    /// File (0600) holding the webhook's HMAC secret; or set MEDCHAIN_WEBHOOK_SECRET.
    #[arg(long, value_name = "FILE", env = SECRET_ENV, hide_env_values = true)]
    pub webhook_secret_file: Option<PathBuf>,
}

/// Runs `watch` until Ctrl-C or SIGTERM.
pub(crate) async fn execute(a: WatchArgs, g: &Global) -> anyhow::Result<()> {
    let thresholds = match &a.thresholds {
        Some(p) => thresholds::load(p)?,
        None => Thresholds::default(),
    };
    let reader = match &a.reader {
        Some(r) => Some(r.trim().parse::<Address>().map_err(|_| {
            InputError::new(format!(
                "--reader {r:?}: expected a 20-byte hex address (0x…)"
            ))
        })?),
        None => None,
    };
    let reads_as = match (&a.hospital, &a.key) {
        (Some(h), _) => Some(ReadsAs::Hospital(h.clone())),
        (None, Some(k)) => Some(ReadsAs::Key(crate::records::parse_key(k)?)),
        (None, None) => None,
    };
    let webhook = match (&a.webhook, &a.webhook_secret_file) {
        (Some(url), Some(f)) => Some((check_url(url)?, read_secret(f)?)),
        _ => None,
    };
    if a.quiet && !a.mqtt && webhook.is_none() {
        return Err(InputError::new(
            "medchain watch --quiet: no sink, alarms would go nowhere; add --mqtt or --webhook URL, or leave out --quiet",
        )
        .into());
    }
    let state = super::load(g)?;
    let opts = Options {
        thresholds,
        confirmations: a.confirmations,
        from_block: a.from_block,
        reader,
        reads_as,
        node: a.node,
        terminal: (!a.quiet).then_some(a.json),
        mqtt: a.mqtt,
        webhook,
        dir: None,
    };
    let _handled = crate::interrupt::handled_here();
    // Alarms may go out over TLS (MQTT, an https webhook): one crypto
    // provider for the process (aws-lc-rs, as the gateway's).
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    run::run(&state, opts, crate::interrupt::ctrl_c_or_term()).await
}

/// The webhook URL, when it is https, or http to a loopback address
/// (alarms carry patient data: nothing else travels in clear).
fn check_url(url: &str) -> Result<String, InputError> {
    let u = reqwest_tls::Url::parse(url).map_err(|e| {
        InputError::new(format!(
            "--webhook {url:?}: not a URL ({e}); expected https://host/path"
        ))
    })?;
    let loopback = matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match u.scheme() {
        "https" => Ok(url.to_string()),
        "http" if loopback => Ok(url.to_string()),
        "http" => Err(InputError::new(format!(
            "--webhook {url:?}: alarms carry patient data and go over https only (plain http only to 127.0.0.1); use an https URL"
        ))),
        s => Err(InputError::new(format!(
            "--webhook {url:?}: scheme {s:?} is not http(s); expected https://host/path"
        ))),
    }
}

/// The webhook secret in `path`: a file only its owner can read, not empty.
fn read_secret(path: &Path) -> Result<Vec<u8>, InputError> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        InputError::new(format!("--webhook-secret-file {shown}: cannot read it ({e}); write the secret there with mode 0600"))
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(InputError::new(format!(
            "--webhook-secret-file {shown}: readable by other users (mode {:o}); run `chmod 600 {shown}`",
            meta.permissions().mode() & 0o777
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        InputError::new(format!(
            "--webhook-secret-file {shown}: cannot read it ({e})"
        ))
    })?;
    let secret = text.trim_end_matches(['\n', '\r']).as_bytes().to_vec();
    if secret.len() < 16 {
        return Err(InputError::new(format!(
            "--webhook-secret-file {shown}: the secret has {} bytes; use at least 16 (e.g. `openssl rand -hex 32`)",
            secret.len()
        )));
    }
    Ok(secret)
}
