//! `medchain gateway`: serve one hospital's member node to devices on a LAN
//! (TLS, tokens, allow-list, limits, access log), and `gateway token …` to
//! mint, list and revoke tokens for clients that are not devices.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Global;
use crate::error::InputError;
use crate::gateway::options::{self, Flags, ServeRequest};
use crate::gateway::{server, tokens};
use crate::outln;

/// `medchain gateway [flags] | gateway token …`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct GatewayArgs {
    #[command(subcommand)]
    pub command: Option<GatewayCommand>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `medchain gateway …` subcommands.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Tokens of clients that are not devices (devices get theirs from `device provision`).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

/// `medchain gateway token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a token for a client (printed once; only its hash is stored).
    Add(TokenAddArgs),
    /// List the clients that hold tokens (never the tokens).
    List,
    /// Revoke a client's token (a device's too; re-provision it for a new one).
    Revoke(TokenRevokeArgs),
}

/// Flags of `medchain gateway` (serving).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Hospital (a `name` in the topology) whose member node is served.
    #[arg(long, required = true)]
    pub hospital: Option<String>,
    /// Member node to front (default: the hospital's first member).
    #[arg(long)]
    pub node: Option<String>,
    /// Address to listen on, IP:PORT; the hospital LAN address for real devices (port 0: any free port).
    #[arg(long, value_name = "IP:PORT", default_value = options::DEFAULT_LISTEN)]
    pub listen: String,
    /// PEM certificate chain to serve (with --tls-key); default: one issued from the hospital's generated CA.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Host name or IP address devices reach the gateway by, put in the generated certificate (repeatable; the --listen IP is always included).
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_name: Vec<String>,
    /// Serve plain HTTP instead of TLS: only with a loopback --listen (local tests, or behind a TLS proxy on this host).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "tls_name"])]
    pub insecure_plaintext: bool,
    /// Sustained requests per second per client (a batch counts each call).
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_RATE)]
    pub rate: f64,
    /// Requests a client may make at once above its rate.
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_BURST)]
    pub burst: u32,
    /// Largest request body in KiB (larger → HTTP 413).
    #[arg(long, value_name = "KIB", default_value_t = options::DEFAULT_MAX_BODY_KIB)]
    pub max_body_kib: usize,
    /// Most connections open at once (further ones wait).
    #[arg(long, value_name = "N", default_value_t = options::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Access log file (default: $MEDCHAIN_HOME/<network>/gateway/access-<hospital>.log).
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
    /// Do not echo the access log to stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also take devices' transactions over the network's MQTT broker (`medchain broker start` first; see docs/mqtt.md).
    #[arg(long)]
    pub mqtt: bool,
}

/// Flags of `gateway token add`.
#[derive(Debug, Args)]
pub struct TokenAddArgs {
    /// Client name for the access log: letters, digits, '.', '_' or '-'.
    pub name: String,
    /// Hospital whose gateway accepts the token.
    #[arg(long)]
    pub hospital: String,
}

/// Flags of `gateway token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// Client name.
    pub name: String,
}

impl ServeArgs {
    /// The flags, checked.
    pub fn into_request(&self) -> Result<ServeRequest, InputError> {
        ServeRequest::new(&Flags {
            hospital: self.hospital.clone().unwrap_or_default(),
            node: self.node.clone(),
            listen: Some(self.listen.clone()),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            tls_name: self.tls_name.clone(),
            insecure_plaintext: self.insecure_plaintext,
            rate: Some(self.rate),
            burst: Some(self.burst),
            max_body_kib: Some(self.max_body_kib),
            max_connections: Some(self.max_connections),
            access_log: self.access_log.clone(),
            quiet: self.quiet,
            mqtt: self.mqtt,
        })
    }
}

/// Runs `gateway` or `gateway token …`.
pub(crate) async fn execute(a: GatewayArgs, g: &Global) -> anyhow::Result<()> {
    match a.command {
        None => serve(&a.serve, g).await,
        Some(GatewayCommand::Token { command }) => token(command, g),
    }
}

/// Serves until Ctrl-C or SIGTERM.
async fn serve(a: &ServeArgs, g: &Global) -> anyhow::Result<()> {
    let req = a.into_request()?;
    let state = super::load(g)?;
    let opts = options::resolve(&state, req)?;
    let gw = server::start(opts).await?;
    let r = &gw.ready;
    outln!(
        "gateway for hospital {} listening on {}",
        a.hospital.as_deref().unwrap_or_default(),
        r.url
    );
    outln!("  forwards to node {} ({})", r.node, r.upstream);
    match &r.served {
        Some(s) => match &s.ca {
            Some(ca) => outln!(
                "  TLS: certificate from the generated CA {} (SHA-256 {}); devices pin this CA",
                ca.display(),
                s.fingerprint
            ),
            None => outln!("  TLS: the given certificate (SHA-256 {})", s.fingerprint),
        },
        None => {
            outln!("  PLAINTEXT (--insecure-plaintext): loopback only, tokens travel unencrypted")
        }
    }
    outln!("  tokens: {} ({} client(s) of this hospital; device provision and gateway token add issue more)", r.tokens.display(), r.clients);
    if let Some((url, topics)) = &r.mqtt {
        outln!("  MQTT: answering {topics} on {url} as `gateway` (QoS 1 acks)");
    }
    outln!("  access log: {}", r.access_log.display());
    gw.serve(crate::interrupt::ctrl_c_or_term()).await
}

/// `gateway token add | list | revoke`.
fn token(cmd: TokenCommand, g: &Global) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Add(a) => token_add(&a, g),
        TokenCommand::List => {
            let state = super::load(g)?;
            let file = tokens::load(&tokens::store_path(&state.plan.dir))?;
            outln!("{}", list(&file));
            Ok(())
        }
        TokenCommand::Revoke(a) => {
            let (state, _lock) = super::load_to_change(g)?;
            let path = tokens::store_path(&state.plan.dir);
            let mut file = tokens::load(&path)?;
            if !file.revoke(&a.name) {
                return Err(InputError::new(format!(
                    "{}: no client of that name holds a token; see `medchain gateway token list`",
                    a.name
                ))
                .into());
            }
            file.save(&path)?;
            outln!("revoked the token of {}", a.name);
            Ok(())
        }
    }
}

/// `gateway token add`: mints a token and prints it once.
fn token_add(a: &TokenAddArgs, g: &Global) -> anyhow::Result<()> {
    check_name(&a.name)?;
    let (state, _lock) = super::load_to_change(g)?;
    let hospitals: Vec<&str> = state
        .plan
        .hospital_keys
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    if !hospitals.contains(&a.hospital.as_str()) {
        return Err(InputError::new(format!(
            "--hospital {:?}: network {} has no such hospital; hospitals: {}",
            a.hospital,
            state.plan.topology.network,
            hospitals.join(", ")
        ))
        .into());
    }
    let path = tokens::store_path(&state.plan.dir);
    let mut file = tokens::load(&path)?;
    if file
        .tokens
        .iter()
        .any(|e| e.name == a.name && e.device.is_some())
    {
        return Err(InputError::new(format!(
            "{}: is a device's token; to rotate it, `gateway token revoke` it and run `device provision` again; or pick another name",
            a.name
        ))
        .into());
    }
    let replaced = file.tokens.iter().any(|e| e.name == a.name);
    let token = file.issue(&[tokens::NewClient {
        name: a.name.clone(),
        hospital: a.hospital.clone(),
        device: None,
    }]);
    file.save(&path)?;
    if replaced {
        eprintln!("{}: its previous token no longer works", a.name);
    }
    eprintln!("token for {} at hospital {}'s gateway (shown once; send it as Authorization: Bearer <token>):", a.name, a.hospital);
    outln!("{}", token[0]);
    Ok(())
}

/// Client names go into the access log: a short word.
fn check_name(name: &str) -> Result<(), InputError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(InputError::new(format!(
            "NAME {name:?}: expected 1 to 64 letters, digits, '.', '_' or '-', e.g. caliper-1"
        )))
    }
}

/// The clients as plain columns.
fn list(file: &tokens::TokenFile) -> String {
    let t = crate::table::Table {
        title: String::new(),
        headers: ["CLIENT", "HOSPITAL", "BOUND TO DEVICE", "ISSUED (UNIX)"]
            .iter()
            .map(|h| h.to_string())
            .collect(),
        rows: file
            .tokens
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    e.hospital.clone(),
                    e.device.map_or("-".to_string(), |d| d.to_checksum(None)),
                    e.issued.to_string(),
                ]
            })
            .collect(),
        note: None,
    };
    t.render_plain(&[]).trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_are_short_words() {
        assert!(check_name("caliper-1").is_ok());
        assert!(check_name("ops.team_2").is_ok());
        for bad in ["", "a b", "x/y", &"n".repeat(65)] {
            assert!(
                check_name(bad).unwrap_err().message.starts_with("NAME"),
                "{bad}"
            );
        }
    }
}
