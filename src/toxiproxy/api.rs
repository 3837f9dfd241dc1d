//! toxiproxy's HTTP API, the calls medchain makes: list, create and delete
//! proxies, and add or update a proxy's toxics (latency, bandwidth). Every
//! call has a time limit; an answer other than success is an error naming
//! the call and what toxiproxy said.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest a call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A proxy as toxiproxy reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Proxy {
    /// Its name.
    pub name: String,
    /// The address it accepts connections on (the bound port once
    /// created with port 0).
    pub listen: String,
    /// Where it forwards them.
    pub upstream: String,
    /// Its toxics.
    #[serde(default)]
    pub toxics: Vec<Toxic>,
}

/// A toxic: what it does to one direction of a proxy's connections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Toxic {
    /// Unique within its proxy.
    pub name: String,
    /// `latency` or `bandwidth` (toxiproxy has others medchain does not
    /// use).
    #[serde(rename = "type")]
    pub kind: String,
    /// `upstream` (client to server) or `downstream`.
    pub stream: String,
    /// The share of connections it applies to (1.0: all).
    pub toxicity: f64,
    /// Its settings (`latency` and `jitter` in ms; `rate` in KB/s).
    pub attributes: Value,
}

/// A client of one toxiproxy-server.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client of the server at `base` (`http://127.0.0.1:<port>`).
    pub fn new(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .expect("a plain HTTP client builds");
        Api {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// Sends `req` (`what` names it in errors); the answer's body.
    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> anyhow::Result<String> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("toxiproxy at {}: {what}", self.base))?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!(
                "toxiproxy at {}: {what}: {status}: {}",
                self.base,
                body.trim()
            );
        }
        Ok(body)
    }

    /// The server's version.
    pub async fn version(&self) -> anyhow::Result<String> {
        let url = format!("{}/version", self.base);
        self.send("GET /version", self.http.get(url)).await
    }

    /// Every proxy, by name.
    pub async fn proxies(&self) -> anyhow::Result<BTreeMap<String, Proxy>> {
        let url = format!("{}/proxies", self.base);
        let body = self.send("GET /proxies", self.http.get(url)).await?;
        serde_json::from_str(&body).context("toxiproxy's proxy list")
    }

    /// Creates proxy `name` accepting on `listen` (port 0: any free one)
    /// and forwarding to `upstream`; the proxy with its bound address.
    pub async fn create(&self, name: &str, listen: &str, upstream: &str) -> anyhow::Result<Proxy> {
        let url = format!("{}/proxies", self.base);
        let body = json!({"name": name, "listen": listen, "upstream": upstream, "enabled": true});
        let what = format!("creating proxy {name}");
        let text = self.send(&what, self.http.post(url).json(&body)).await?;
        serde_json::from_str(&text).with_context(|| format!("toxiproxy's answer to {what}"))
    }

    /// Deletes proxy `name`, closing its connections.
    pub async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let url = format!("{}/proxies/{name}", self.base);
        let what = format!("deleting proxy {name}");
        self.send(&what, self.http.delete(url)).await.map(drop)
    }

    /// Gives `proxy` the toxic `t`: its attributes updated when the proxy
    /// has a toxic of that name, else added. Open connections are shaped
    /// from then on.
    pub async fn set_toxic(&self, proxy: &Proxy, t: &Toxic) -> anyhow::Result<()> {
        let toxics = format!("{}/proxies/{}/toxics", self.base, proxy.name);
        if proxy.toxics.iter().any(|x| x.name == t.name) {
            let what = format!("updating toxic {} of {}", t.name, proxy.name);
            let body = json!({"attributes": t.attributes, "toxicity": t.toxicity});
            let req = self.http.post(format!("{toxics}/{}", t.name)).json(&body);
            return self.send(&what, req).await.map(drop);
        }
        let what = format!("adding toxic {} to {}", t.name, proxy.name);
        self.send(&what, self.http.post(toxics).json(t))
            .await
            .map(drop)
    }
}
