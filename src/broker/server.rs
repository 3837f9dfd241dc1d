//! The broker's mosquitto process: started detached on a free loopback
//! port, recorded in `<network dir>/broker/broker.json`, and only ever
//! signalled after its command line was checked to be the mosquitto of
//! this network's configuration.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::{accounts, config};
use crate::gateway::tls;
use crate::pid::signal;
use crate::plan::Plan;
use crate::{daemon, ports, private_fs};

/// First port tried (MQTT over TLS's registered port).
const PORT_BASE: u16 = 8883;
/// How long mosquitto may take to accept connections.
const READY: Duration = Duration::from_secs(15);

/// A running broker, as `broker start` recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Running {
    pub pid: u32,
    /// `mqtts://127.0.0.1:<port>`.
    pub url: String,
    pub port: u16,
    pub config: PathBuf,
    /// The CA clients pin.
    pub ca_file: PathBuf,
}

impl daemon::Record for Running {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn config(&self) -> &Path {
        &self.config
    }
}

/// The broker's directory in a network's directory.
pub fn dir_of(network_dir: &Path) -> PathBuf {
    network_dir.join("broker")
}

fn record_path(network_dir: &Path) -> PathBuf {
    dir_of(network_dir).join("broker.json")
}

/// The network's broker, when its recorded process still runs with the
/// network's configuration.
pub fn running(network_dir: &Path) -> Option<Running> {
    daemon::running(&record_path(network_dir))
}

/// The invoking user's name, for mosquitto's `user` option.
fn user_name() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            if is_root() {
                "root".into()
            } else {
                "mosquitto".into()
            }
        })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Writes the TLS material, credentials, password file, ACL and
/// configuration for a broker on `port`; returns the configuration's path
/// and the CA file.
fn prepare(plan: &Plan, port: u16) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = dir_of(&plan.dir);
    private_fs::create_dir(&dir)?;
    let network = &plan.topology.network;
    let tls_dir = dir.join("tls");
    let served = tls::issue_server_cert_at(
        &tls_dir,
        &format!("medchain broker CA {network}"),
        &format!("medchain broker {network}"),
        &["127.0.0.1".to_string(), "localhost".to_string()],
    )?;
    let ca = served.ca.context("the broker's CA")?;
    let accounts = accounts::accounts(plan)?;
    let url = format!("mqtts://127.0.0.1:{port}");
    let creds = accounts::write_credentials(&dir, network, &accounts, &url, &ca)?;
    let (passwords, acl) = (dir.join("passwords"), dir.join("acl"));
    accounts::write_password_file(&passwords, &creds)?;
    private_fs::write(&acl, config::acl(network, &accounts).as_bytes())?;
    let conf = dir.join("mosquitto.conf");
    let paths = config::Paths {
        ca: &ca,
        cert: &tls_dir.join("cert.pem"),
        key: &tls_dir.join("cert.key"),
        passwords: &passwords,
        acl: &acl,
    };
    private_fs::write(&conf, config::render(port, &user_name(), &paths).as_bytes())?;
    Ok((conf, ca))
}

/// Starts the network's broker; when it already runs, rewrites its
/// accounts (devices provisioned since) and has it reload them (SIGHUP).
/// Returns it and whether it was already running.
pub async fn start(plan: &Plan) -> anyhow::Result<(Running, bool)> {
    if let Some(r) = running(&plan.dir) {
        prepare(plan, r.port)?;
        signal(r.pid, libc::SIGHUP);
        return Ok((r, true));
    }
    let mut base = PORT_BASE;
    let mut previous = previous_port(&plan.dir);
    for _ in 0..5 {
        let port = match previous.take() {
            Some(p) => p,
            None => ports::free_loopback_port(base)?,
        };
        let (conf, ca) = prepare(plan, port)?;
        if let Some(pid) = launch(&plan.dir, &conf, port).await? {
            let r = Running {
                pid,
                url: format!("mqtts://127.0.0.1:{port}"),
                port,
                config: conf,
                ca_file: ca,
            };
            daemon::save(&record_path(&plan.dir), &r)?;
            return Ok((r, false));
        }
        base = port + 1;
    }
    bail!("mosquitto could not bind a loopback port in 5 tries")
}

/// The port the broker last listened on (its URL in the gateway's
/// credentials), when it can be bound now: a restarted broker keeps its
/// URL, so devices provisioned with it need no new config.
fn previous_port(network_dir: &Path) -> Option<u16> {
    let path = dir_of(network_dir).join("credentials/gateway.json");
    let c: accounts::Credentials =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let port: u16 = c.url.rsplit(':').next()?.parse().ok()?;
    ports::free_loopback_port(port).ok().filter(|p| *p == port)
}

/// Runs mosquitto with `conf` and waits until it accepts connections on
/// `port`: its pid, `None` when it lost the port, else an error with the
/// end of its log.
async fn launch(network_dir: &Path, conf: &Path, port: u16) -> anyhow::Result<Option<u32>> {
    let log_path = dir_of(network_dir).join("mosquitto.log");
    let pid = daemon::spawn(Command::new(mosquitto_bin()).arg("-c").arg(conf), &log_path)
        .context("starting mosquitto (Debian's mosquitto package: apt-get install mosquitto)")?;
    let accepts = || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    };
    if daemon::wait_ready(pid, READY, Duration::from_millis(100), accepts).await {
        return Ok(Some(pid));
    }
    let tail = daemon::abandon(pid, "mosquitto", &log_path).await?;
    if tail.contains("Address already in use") {
        return Ok(None);
    }
    bail!("mosquitto did not accept connections on 127.0.0.1:{port} within {} s; last log lines from {}:\n{tail}", READY.as_secs(), log_path.display())
}

/// Debian installs mosquitto in /usr/sbin, which a normal user's PATH may
/// lack: that path when it exists, else `mosquitto` from the PATH.
fn mosquitto_bin() -> PathBuf {
    let sbin = PathBuf::from("/usr/sbin/mosquitto");
    if sbin.is_file() {
        sbin
    } else {
        PathBuf::from("mosquitto")
    }
}

/// Stops the network's broker when it runs; its pid if it did.
pub async fn stop(network_dir: &Path) -> anyhow::Result<Option<u32>> {
    daemon::stop::<Running>(&record_path(network_dir), "mosquitto").await
}
