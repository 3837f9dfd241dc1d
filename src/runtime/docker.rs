//! The docker runtime: one container per node, through the Docker Engine
//! API (bollard; never the docker CLI). What the containers look like is
//! decided purely in [`container_plan`](super::container_plan); this file
//! only talks to the engine.
//!
//! - `prepare`: picks each node's image (never pulling, see
//!   [`image`](super::image)), creates the hospital and backbone networks
//!   and a named volume per node, all labelled `medchain.network=<net>`.
//! - `init`: a one-shot container receives the node's genesis, node key,
//!   keystore and password into its volume (archive upload, so a remote
//!   engine works the same) and runs `geth init`.
//! - `start`: the node's container, RPC published on 127.0.0.1, joined to
//!   its networks, with a health check.
//! - `teardown`: removes every container and network with the label, and
//!   with `purge` the volumes too — from the labels alone.
//!
//! A hospital may name its own engine (`docker_host`); its networks,
//! volumes and containers live there.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, NetworkConnectRequest,
    NetworkCreateRequest, PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;

use super::container_plan as cp;
use super::docker_stats::DockerMonitor;
use super::ipc;
use super::{
    docker_signal, image, labelled, Handle, Kind, LinkProxy, NodeMonitor, NodeSignal, Orphan,
    Runtime,
};
use crate::geth::GethVersion;
use crate::plan::{NodePlan, Plan};
use crate::topology::Topology;

/// How long a ping may take before an engine counts as absent.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// The runtime `up` uses when none is asked for: docker when the local
/// engine answers, else process.
pub async fn default_kind() -> Kind {
    let Ok(d) = Docker::connect_with_defaults() else {
        return Kind::Process;
    };
    match tokio::time::timeout(PING_TIMEOUT, d.ping()).await {
        Ok(Ok(_)) => Kind::Docker,
        _ => Kind::Process,
    }
}

/// The local engine (DOCKER_HOST, else the default socket), version
/// negotiated, or a clear error when it does not answer.
pub(crate) async fn connect_engine(host: Option<&str>) -> anyhow::Result<Docker> {
    let label = host
        .map(str::to_string)
        .or_else(|| std::env::var("DOCKER_HOST").ok())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let d = match host {
        Some(h) => Docker::connect_with_host(h),
        None => Docker::connect_with_defaults(),
    }
    .with_context(|| format!("Docker engine {label}: cannot connect"))?;
    let d = match tokio::time::timeout(PING_TIMEOUT, d.negotiate_version()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            bail!("Docker engine {label} does not answer ({e}): start dockerd, or use --runtime process")
        }
        Err(_) => bail!(
            "Docker engine {label} did not answer within {} s: start dockerd, or use --runtime process",
            PING_TIMEOUT.as_secs()
        ),
    };
    Ok(d)
}

/// Builds `medchain/geth:v<version>` on the local engine (DOCKER_HOST,
/// else the default socket). Returns the tag.
pub async fn build_local_image(v: GethVersion, geth: &Path) -> anyhow::Result<String> {
    let docker = connect_engine(None).await?;
    image::build(&docker, v, geth).await
}

/// Runs nodes as Docker containers.
pub struct DockerRuntime {
    /// The local default engine.
    local: Docker,
    /// Engines named by hospitals (`docker_host`), by endpoint.
    remote: BTreeMap<String, Docker>,
    /// Image chosen per node by `prepare`.
    images: Mutex<BTreeMap<String, String>>,
    /// Open IPC consoles by container name (see [`ipc::Session`]).
    sessions: tokio::sync::Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<ipc::Session>>>>,
}

impl DockerRuntime {
    /// Connects to the local engine and every engine the topology's
    /// hospitals name.
    pub async fn connect(topo: &Topology) -> anyhow::Result<Self> {
        let local = connect_engine(None).await?;
        let mut remote = BTreeMap::new();
        for h in &topo.hospitals {
            if let Some(host) = &h.docker_host {
                if !remote.contains_key(host) {
                    let d = connect_engine(Some(host))
                        .await
                        .with_context(|| format!("hospital {}", h.name))?;
                    remote.insert(host.clone(), d);
                }
            }
        }
        Ok(Self {
            local,
            remote,
            images: Mutex::new(BTreeMap::new()),
            sessions: tokio::sync::Mutex::new(BTreeMap::new()),
        })
    }

    /// The local engine.
    pub fn local(&self) -> &Docker {
        &self.local
    }

    /// The engine a hospital's nodes run on.
    pub fn engine(&self, plan: &Plan, hospital: &str) -> &Docker {
        cp::engine_of(plan, hospital)
            .and_then(|h| self.remote.get(h))
            .unwrap_or(&self.local)
    }

    /// Every engine the plan uses, each once, with the hospitals on it.
    fn engines<'a>(&'a self, plan: &'a Plan) -> Vec<(&'a Docker, Vec<&'a str>)> {
        let mut by: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
        for h in &plan.topology.hospitals {
            by.entry(h.docker_host.as_deref())
                .or_default()
                .push(h.name.as_str());
        }
        by.into_iter()
            .map(|(host, hs)| {
                let d = host.and_then(|h| self.remote.get(h)).unwrap_or(&self.local);
                (d, hs)
            })
            .collect()
    }

    fn image_of(&self, node: &NodePlan) -> anyhow::Result<String> {
        self.images
            .lock()
            .map_err(|_| anyhow!("image table poisoned"))?
            .get(&node.name)
            .cloned()
            .ok_or_else(|| anyhow!("{}: no image chosen (prepare did not run)", node.name))
    }

    /// Removes a container by name if it exists (stopped leftovers of an
    /// interrupted run).
    async fn remove_if_present(docker: &Docker, name: &str) -> anyhow::Result<()> {
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        match docker.remove_container(name, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("removing container {name}")),
        }
    }

    /// The files a node's volume starts with, as a tar: genesis, node key,
    /// keystore and password, at the paths geth expects under the datadir.
    fn seed_archive(plan: &Plan, node: &NodePlan) -> anyhow::Result<Vec<u8>> {
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |path: &Path, name: &str, mode: u32| -> anyhow::Result<()> {
            let data =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(mode);
            h.set_cksum();
            tar.append_data(&mut h, name, data.as_slice())?;
            Ok(())
        };
        add(&plan.genesis_path, "genesis.json", 0o644)?;
        add(
            &node.datadir.join("geth").join("nodekey"),
            "geth/nodekey",
            0o600,
        )?;
        if let Some(pw) = &node.password_file {
            add(pw, "password", 0o600)?;
            let ks = node.datadir.join("keystore");
            for e in std::fs::read_dir(&ks).with_context(|| format!("reading {}", ks.display()))? {
                let e = e?;
                let name = format!("keystore/{}", e.file_name().to_string_lossy());
                add(&e.path(), &name, 0o600)?;
            }
        }
        Ok(tar.into_inner()?)
    }

    /// Output of a container (stdout and stderr), its last `lines` lines.
    pub(crate) async fn container_log(docker: &Docker, name: &str, lines: usize) -> String {
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut out = String::new();
        let mut s = docker.logs(name, Some(opts));
        while let Some(Ok(chunk)) = s.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        out
    }

    fn label_filter(plan: &Plan) -> HashMap<String, Vec<String>> {
        labelled::filter(&plan.topology.network)
    }

    /// Every engine connected: the local one and those hospitals name.
    fn all_engines(&self) -> Vec<&Docker> {
        std::iter::once(&self.local)
            .chain(self.remote.values())
            .collect()
    }

    /// Chooses each node's image (never pulling, see [`image::resolve`]),
    /// resolving each engine and configured reference once, and records
    /// the choice for `init` and `start`.
    async fn choose_images(&self, plan: &Plan, geth: &Path) -> anyhow::Result<()> {
        let say = |m: String| eprintln!("  {m}");
        let mut resolved: BTreeMap<(Option<&str>, Option<&str>), String> = BTreeMap::new();
        let mut chosen: BTreeMap<String, String> = BTreeMap::new();
        for node in &plan.nodes {
            let key = (
                cp::engine_of(plan, &node.hospital),
                cp::configured_image(plan, node),
            );
            let img = match resolved.get(&key) {
                Some(img) => img.clone(),
                None => {
                    let docker = self.engine(plan, &node.hospital);
                    let img = image::resolve(docker, key.1, plan.geth, geth, &say).await?;
                    resolved.insert(key, img.clone());
                    img
                }
            };
            chosen.insert(node.name.clone(), img);
        }
        *self
            .images
            .lock()
            .map_err(|_| anyhow!("image table poisoned"))? = chosen;
        Ok(())
    }

    /// Creates on `docker` the networks of the `hospitals` it runs that do
    /// not exist yet: each hospital's, and the backbone when one of their
    /// nodes is on it.
    async fn create_networks(
        docker: &Docker,
        plan: &Plan,
        hospitals: &[&str],
    ) -> anyhow::Result<()> {
        let mut wanted: Vec<String> = hospitals
            .iter()
            .map(|h| cp::hospital_network(plan, h))
            .collect();
        let backbone = (0..plan.nodes.len()).any(|i| {
            cp::on_backbone(plan, i) && hospitals.contains(&plan.nodes[i].hospital.as_str())
        });
        if backbone {
            wanted.push(cp::backbone_network(plan));
        }
        let existing: Vec<String> = docker
            .list_networks(Some(
                ListNetworksOptionsBuilder::default()
                    .filters(&Self::label_filter(plan))
                    .build(),
            ))
            .await
            .context("listing Docker networks")?
            .into_iter()
            .filter_map(|n| n.name)
            .collect();
        for name in wanted.into_iter().filter(|n| !existing.contains(n)) {
            Self::create_network(docker, plan, hospitals, name).await?;
        }
        Ok(())
    }

    /// Creates network `name`, labelled as the plan's and, when it is one
    /// of `hospitals`' own, with that hospital.
    async fn create_network(
        docker: &Docker,
        plan: &Plan,
        hospitals: &[&str],
        name: String,
    ) -> anyhow::Result<()> {
        let mut labels = cp::labels(plan, None, None);
        if let Some(h) = hospitals
            .iter()
            .find(|h| cp::hospital_network(plan, h) == name)
        {
            labels.insert(cp::LABEL_HOSPITAL.into(), h.to_string());
        }
        docker
            .create_network(NetworkCreateRequest {
                name: name.clone(),
                driver: Some("bridge".into()),
                labels: Some(hash_map(labels)),
                ..Default::default()
            })
            .await
            .with_context(|| {
                format!("creating Docker network {name} (does a network of that name exist without medchain's label? remove it)")
            })?;
        Ok(())
    }

    /// The open IPC console of `node`'s container, started on first use.
    async fn session(
        &self,
        plan: &Plan,
        node: &NodePlan,
        container: &str,
    ) -> anyhow::Result<Arc<tokio::sync::Mutex<ipc::Session>>> {
        let mut sessions = self.sessions.lock().await;
        if let Some(s) = sessions.get(container) {
            return Ok(s.clone());
        }
        let docker = self.engine(plan, &node.hospital);
        if !Self::ipc_opened(docker, container).await {
            bail!("{container}: geth has not opened its IPC socket yet");
        }
        let s = ipc::Session::open(docker, container, cp::GETH_BIN, &cp::ipc_path()).await?;
        let s = Arc::new(tokio::sync::Mutex::new(s));
        sessions.insert(container.to_string(), s.clone());
        Ok(s)
    }

    /// Sends `body` (a request, or a batch of `method` calls) through
    /// `node`'s console and returns the raw answer. A console that failed
    /// or hangs is not reused.
    async fn console_exchange(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let container = cp::container_name(plan, node);
        let session = self.session(plan, node, &container).await?;
        let mut console = session.lock().await;
        match tokio::time::timeout(ipc::IPC_TIMEOUT, console.call(method, body)).await {
            Ok(Ok(r)) => Ok(r),
            failed => {
                self.sessions.lock().await.remove(&container);
                Err(match failed {
                    Ok(Err(e)) => e.context(format!("{container}: {method} over IPC")),
                    _ => anyhow!(
                        "{container}: {method} over IPC timed out after {:?}",
                        ipc::IPC_TIMEOUT
                    ),
                })
            }
        }
    }

    /// Whether geth in `container` has opened its IPC socket, from its
    /// log of the last two minutes (cheap, where a `geth attach` that
    /// fails would start a process in a container still starting up): the
    /// "IPC endpoint opened" line, or no start-up line at all (the node
    /// started earlier, so the socket is open unless geth failed).
    async fn ipc_opened(docker: &Docker, container: &str) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i32)
            .unwrap_or(0);
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .since(now - 120)
            .build();
        let mut out = String::new();
        let mut s = docker.logs(container, Some(opts));
        while let Some(Ok(chunk)) = s.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        out.contains("IPC endpoint opened") || !out.contains("Maximum peer count")
    }

    /// The subnets Docker gave `networks` on `docker` (those that exist
    /// there): the only addresses a node accepts devp2p from.
    async fn subnets(docker: &Docker, networks: &[String]) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for net in networks {
            let Ok(n) = docker
                .inspect_network(
                    net,
                    None::<bollard::query_parameters::InspectNetworkOptions>,
                )
                .await
            else {
                continue;
            };
            let configs = n.ipam.and_then(|i| i.config).unwrap_or_default();
            out.extend(configs.into_iter().filter_map(|c| c.subnet));
        }
        if out.is_empty() {
            bail!(
                "none of the networks {} has a subnet on its engine",
                networks.join(", ")
            );
        }
        Ok(out)
    }

    /// One named volume per node on its engine (creating an existing one
    /// is a no-op).
    async fn create_volumes(&self, plan: &Plan) -> anyhow::Result<()> {
        for node in &plan.nodes {
            let docker = self.engine(plan, &node.hospital);
            docker
                .create_volume(VolumeCreateRequest {
                    name: Some(cp::volume_name(plan, node)),
                    labels: Some(hash_map(cp::labels(plan, Some(node), None))),
                    ..Default::default()
                })
                .await
                .with_context(|| format!("creating volume {}", cp::volume_name(plan, node)))?;
        }
        Ok(())
    }
}

fn hash_map(m: BTreeMap<String, String>) -> HashMap<String, String> {
    m.into_iter().collect()
}

/// The container of node `i` (`networks` being its networks, from
/// [`cp::networks_of`]): geth with the node's arguments, its volume (and
/// the DAG read-only when it mines), RPC published as
/// [`cp::published_ports`] says, a health check, and attached to its
/// first network; `start` connects the others.
fn node_container(
    plan: &Plan,
    i: usize,
    image: String,
    networks: &[String],
    netrestrict: Option<String>,
) -> ContainerCreateBody {
    let node = &plan.nodes[i];
    let (exposed, port_bindings) = port_config(plan, i);
    ContainerCreateBody {
        image: Some(image),
        entrypoint: Some(vec![cp::GETH_BIN.into()]),
        cmd: Some(cp::container_args(plan, node, netrestrict)),
        hostname: Some(node.name.clone()),
        labels: Some(hash_map(cp::labels(plan, Some(node), None))),
        exposed_ports: Some(exposed),
        stop_signal: Some("SIGINT".into()),
        stop_timeout: Some(20),
        healthcheck: Some(HealthConfig {
            test: Some(cp::health_check(node)),
            interval: Some(30_000_000_000),
            timeout: Some(10_000_000_000),
            retries: Some(3),
            start_period: Some(5_000_000_000),
            ..Default::default()
        }),
        host_config: Some(HostConfig {
            binds: Some(binds(plan, node)),
            port_bindings: Some(port_bindings),
            network_mode: Some(networks[0].clone()),
            ..Default::default()
        }),
        networking_config: Some(bollard::models::NetworkingConfig {
            endpoints_config: Some(HashMap::from([(networks[0].clone(), endpoint(node))])),
        }),
        ..Default::default()
    }
}

/// A node container's mounts: its volume as the datadir, and the shared
/// DAG directory read-only when the node needs one.
fn binds(plan: &Plan, node: &NodePlan) -> Vec<String> {
    let mut binds = vec![format!("{}:{}", cp::volume_name(plan, node), cp::DATA_DIR)];
    if cp::needs_dag(plan, node) {
        if let Some(dag) = &plan.dag_dir {
            binds.push(format!("{}:{}:ro", dag.display(), cp::DAG_DIR));
        }
    }
    binds
}

/// Node `i`'s exposed ports (`<port>/tcp`) and their host bindings, from
/// [`cp::published_ports`].
fn port_config(plan: &Plan, i: usize) -> (Vec<String>, HashMap<String, Option<Vec<PortBinding>>>) {
    let mut port_bindings = HashMap::new();
    let mut exposed = Vec::new();
    for (ip, port) in cp::published_ports(plan, i) {
        let key = format!("{port}/tcp");
        exposed.push(key.clone());
        port_bindings.insert(
            key,
            Some(vec![PortBinding {
                host_ip: Some(ip),
                host_port: Some(port.to_string()),
            }]),
        );
    }
    (exposed, port_bindings)
}

/// A node container's settings on each of its networks: reachable by the
/// node's name.
fn endpoint(node: &NodePlan) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(vec![node.name.clone()]),
        ..Default::default()
    }
}

impl Runtime for DockerRuntime {
    fn name(&self) -> &'static str {
        "docker"
    }

    async fn prepare(&self, plan: &Plan, geth: &Path) -> anyhow::Result<()> {
        self.choose_images(plan, geth).await?;
        for (docker, hospitals) in self.engines(plan) {
            Self::create_networks(docker, plan, &hospitals).await?;
        }
        self.create_volumes(plan).await
    }

    async fn init(&self, _geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<()> {
        let docker = self.engine(plan, &node.hospital);
        let name = cp::init_container_name(plan, node);
        Self::remove_if_present(docker, &name).await?;
        let body = ContainerCreateBody {
            image: Some(self.image_of(node)?),
            entrypoint: Some(vec![cp::GETH_BIN.into()]),
            cmd: Some(cp::init_args()),
            labels: Some(hash_map(cp::labels(plan, Some(node), Some("init")))),
            host_config: Some(HostConfig {
                binds: Some(vec![format!(
                    "{}:{}",
                    cp::volume_name(plan, node),
                    cp::DATA_DIR
                )]),
                network_mode: Some("none".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                body,
            )
            .await
            .with_context(|| format!("creating container {name}"))?;
        let result = async {
            docker
                .upload_to_container(
                    &name,
                    Some(
                        UploadToContainerOptionsBuilder::default()
                            .path(cp::DATA_DIR)
                            .build(),
                    ),
                    bollard::body_full(Self::seed_archive(plan, node)?.into()),
                )
                .await
                .with_context(|| format!("copying keys and genesis into {name}"))?;
            docker
                .start_container(&name, None)
                .await
                .with_context(|| format!("starting {name}"))?;
            let mut wait = docker.wait_container(&name, None);
            let code = match tokio::time::timeout(Duration::from_secs(120), wait.next()).await {
                Ok(Some(Ok(r))) => r.status_code,
                // bollard reports a non-zero exit as an error item.
                Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError {
                    code, ..
                }))) => code,
                Ok(Some(Err(e))) => return Err(e).with_context(|| format!("waiting for {name}")),
                Ok(None) => bail!("{name}: wait ended without a status"),
                Err(_) => bail!("{name}: geth init did not finish within 120 s"),
            };
            if code != 0 {
                bail!(
                    "{}: geth init failed (exit {code}):\n{}",
                    node.name,
                    Self::container_log(docker, &name, 15).await
                );
            }
            Ok(())
        }
        .await;
        Self::remove_if_present(docker, &name).await?;
        result
    }

    async fn start(&self, _geth: &Path, plan: &Plan, node: &NodePlan) -> anyhow::Result<Handle> {
        let docker = self.engine(plan, &node.hospital);
        let name = cp::container_name(plan, node);
        Self::remove_if_present(docker, &name).await?;
        let i = plan
            .nodes
            .iter()
            .position(|n| n.name == node.name)
            .ok_or_else(|| anyhow!("{} is not in the plan", node.name))?;
        let networks = cp::networks_of(plan, i);
        let subnets = Self::subnets(docker, &cp::all_networks(plan)).await?;
        let netrestrict = cp::netrestrict(plan, &subnets);
        let body = node_container(plan, i, self.image_of(node)?, &networks, netrestrict);
        let created = docker
            .create_container(
                Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                body,
            )
            .await
            .with_context(|| format!("creating container {name}"))?;
        for net in &networks[1..] {
            docker
                .connect_network(
                    net,
                    NetworkConnectRequest {
                        container: created.id.clone(),
                        endpoint_config: Some(endpoint(node)),
                    },
                )
                .await
                .with_context(|| format!("connecting {name} to {net}"))?;
        }
        docker
            .start_container(&name, None)
            .await
            .with_context(|| format!("starting container {name}"))?;
        Ok(Handle::Container(created.id))
    }

    async fn is_running(&self, node: &NodePlan, handle: &Handle) -> bool {
        let Handle::Container(id) = handle else {
            return false;
        };
        // The handle's engine is the node's; try the local one first (all
        // of them when hospitals name engines).
        for docker in std::iter::once(&self.local).chain(self.remote.values()) {
            if let Ok(c) = docker.inspect_container(id, None).await {
                let ours = c
                    .config
                    .and_then(|c| c.labels)
                    .and_then(|l| l.get(cp::LABEL_NODE).cloned())
                    .is_some_and(|n| n == node.name);
                return ours && c.state.and_then(|s| s.running).unwrap_or(false);
            }
        }
        false
    }

    async fn signal(
        &self,
        node: &NodePlan,
        handle: &Handle,
        sig: NodeSignal,
    ) -> anyhow::Result<()> {
        let Handle::Container(id) = handle else {
            bail!("{}: not a container", node.name);
        };
        let engines = std::iter::once(&self.local).chain(self.remote.values());
        docker_signal::send(engines, id, &node.name, sig).await
    }

    async fn stop(&self, node: &NodePlan, handle: &Handle, grace: Duration) -> anyhow::Result<()> {
        let Handle::Container(id) = handle else {
            return Ok(());
        };
        for docker in std::iter::once(&self.local).chain(self.remote.values()) {
            let opts = StopContainerOptionsBuilder::default()
                .t(grace.as_secs() as i32)
                .build();
            match docker.stop_container(id, Some(opts)).await {
                Ok(()) => return Ok(()),
                // 304: already stopped; 404: not on this engine.
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 304, ..
                }) => return Ok(()),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => continue,
                Err(e) => return Err(e).with_context(|| format!("{}: stopping", node.name)),
            }
        }
        Ok(())
    }

    async fn admin_call(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let body = ipc::request(method, &params);
        let response = self.console_exchange(plan, node, method, &body).await?;
        ipc::result_of(&cp::container_name(plan, node), method, response)
    }

    async fn admin_batch(
        &self,
        plan: &Plan,
        node: &NodePlan,
        method: &str,
        params: &[serde_json::Value],
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let body = ipc::batch(method, params);
        let response = self.console_exchange(plan, node, method, &body).await?;
        ipc::results_of(&cp::container_name(plan, node), method, response)
    }

    async fn enode(&self, plan: &Plan, from: usize, to: usize) -> anyhow::Result<String> {
        if let Some(e) = cp::enode_across_engines(plan, from, to) {
            return Ok(e);
        }
        let node = &plan.nodes[to];
        let docker = self.engine(plan, &node.hospital);
        let name = cp::container_name(plan, node);
        let net = cp::shared_network(plan, from, to);
        let c = docker
            .inspect_container(&name, None)
            .await
            .with_context(|| format!("inspecting {name}"))?;
        let ip = c
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|m| m.get(&net).cloned())
            .and_then(|e| e.ip_address)
            .filter(|ip| !ip.is_empty())
            .ok_or_else(|| anyhow!("{name} has no address on network {net}"))?;
        Ok(format!(
            "enode://{}@{ip}:{}",
            node.node_key.public_hex, node.ports.p2p
        ))
    }

    async fn teardown(&self, plan: &Plan, purge: bool) -> anyhow::Result<()> {
        let engines: Vec<&Docker> = self.engines(plan).into_iter().map(|(d, _)| d).collect();
        labelled::remove_all(&engines, &plan.topology.network, purge).await
    }

    async fn log_tail(&self, plan: &Plan, node: &NodePlan, lines: usize) -> String {
        let docker = self.engine(plan, &node.hospital);
        Self::container_log(docker, &cp::container_name(plan, node), lines).await
    }

    async fn print_log(&self, plan: &Plan, node: &NodePlan, follow: bool) -> anyhow::Result<()> {
        let docker = self.engine(plan, &node.hospital);
        print_container_log(docker, &cp::container_name(plan, node), follow).await
    }

    fn container_name(&self, plan: &Plan, node: &NodePlan) -> Option<String> {
        Some(cp::container_name(plan, node))
    }

    /// Containers dial each other on the Docker network of their link; the
    /// host is that bridge's gateway, so a proxy on this machine listening
    /// on the gateway address is reachable from both ends (and from
    /// nothing outside the bridge), and forwards to the listening
    /// container's address. Hospitals on another engine (`docker_host`) run on another
    /// machine, whose bridges this one is not on.
    fn links_shapeable(&self, plan: &Plan) -> Result<(), String> {
        match plan.topology.hospitals.iter().find(|h| h.docker_host.is_some()) {
            Some(h) => Err(format!(
                "is not available for hospitals on another Docker engine (hospital {} has docker_host): the proxy runs on this machine; shape links of a network on this machine's engine, or use partition/heal",
                h.name
            )),
            None => Ok(()),
        }
    }

    async fn link_proxy(
        &self,
        plan: &Plan,
        listener: usize,
        dialer: usize,
    ) -> anyhow::Result<LinkProxy> {
        let from = &plan.nodes[listener];
        let name = cp::container_name(plan, from);
        let net = cp::shared_network(plan, listener, dialer);
        let c = self
            .engine(plan, &from.hospital)
            .inspect_container(&name, None)
            .await
            .with_context(|| format!("inspecting {name}"))?;
        let endpoint = c
            .network_settings
            .and_then(|s| s.networks)
            .and_then(|m| m.get(&net).cloned())
            .ok_or_else(|| anyhow!("{name} is not on network {net}"))?;
        let known = |v: Option<String>| v.filter(|a| !a.is_empty());
        let (Some(ip), Some(gateway)) = (known(endpoint.ip_address), known(endpoint.gateway))
        else {
            bail!("{name} has no address or gateway on network {net}");
        };
        Ok(LinkProxy {
            listen_host: gateway,
            upstream: format!("{ip}:{}", from.ports.p2p),
        })
    }

    async fn orphans(&self, network: &str, _dir: &Path) -> anyhow::Result<Vec<Orphan>> {
        labelled::running(&self.all_engines(), network).await
    }

    async fn stop_orphan(&self, o: &Orphan, _dir: &Path, grace: Duration) -> anyhow::Result<()> {
        match &o.handle {
            Handle::Container(id) => labelled::stop(&self.all_engines(), id, grace).await,
            Handle::Pid(_) => Ok(()),
        }
    }

    async fn teardown_labelled(&self, network: &str, purge: bool) -> anyhow::Result<()> {
        labelled::remove_all(&self.all_engines(), network, purge).await
    }

    fn start_monitor(&self, plan: &Plan, nodes: &[(&NodePlan, Handle)]) -> NodeMonitor {
        let targets = nodes
            .iter()
            .map(|(n, _)| {
                (
                    n.name.clone(),
                    cp::container_name(plan, n),
                    self.engine(plan, &n.hospital).clone(),
                )
            })
            .collect();
        NodeMonitor::Containers(DockerMonitor::start(targets))
    }
}

/// A container's output through the Docker API, to stdout; with `follow`,
/// until Ctrl-C or the container ends.
async fn print_container_log(docker: &Docker, name: &str, follow: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(follow)
        .build();
    let mut stream = docker.logs(name, Some(opts));
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            _ = crate::interrupt::wait() => return Ok(()),
            item = stream.next() => match item {
                Some(Ok(chunk)) => {
                    out.write_all(&chunk.into_bytes())?;
                    out.flush()?;
                }
                Some(Err(e)) => return Err(e).with_context(|| format!("reading the logs of container {name}")),
                None => return Ok(()),
            },
        }
    }
}
