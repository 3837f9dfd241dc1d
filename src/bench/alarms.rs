//! Alarm latency of a `device-fleet` round with `abnormal_share` (issue
//! 15, item 5): the fleet's abnormal readings are the alarms a doctor
//! must get, so the round runs the real path beside the fleet — `watch`
//! (in this process, its own state under `<network dir>/bench/`) deciding
//! alarms and publishing them to the network's mosquitto, and an MQTT
//! subscriber (the `all-alarms` account) timing their arrival. Latency is
//! from the reading's submission to the alarm's arrival at the subscriber;
//! an abnormal reading that committed with no alarm by the end is lost, a
//! second arrival of one is a duplicate.
//!
//! On a private network the readings are sealed, so `watch` runs as a
//! reader that can open them: one `watch` per hospital, each as that
//! hospital (the custodian of the fleet's patients it holds), as a
//! consortium would run them. Each opens its own patients' readings and
//! reports the others' as unreadable, so every abnormal reading still
//! raises exactly one alarm.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use anyhow::{anyhow, Context};
use hdrhistogram::Histogram;
use rumqttc::{AsyncClient, Event, Packet, QoS};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::broker::accounts::Credentials;
use crate::rpc::Rpc;
use crate::state::State;
use crate::watch::run::{self as watch_run, Options, ReadsAs};
use crate::watch::thresholds::Thresholds;

/// How long alarms may still arrive after the round's last commit.
pub const GRACE: Duration = Duration::from_secs(10);

/// What the round's alarms did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmFigures {
    /// The share of readings sent abnormal (heart rate 150 /min).
    pub abnormal_share: f64,
    /// Abnormal readings submitted.
    pub abnormal_sent: u64,
    /// Of those, committed on chain: each must raise one alarm.
    pub abnormal_committed: u64,
    /// Alarms that arrived for them (first arrivals).
    pub delivered: u64,
    /// Committed abnormal readings with no alarm within the grace period.
    pub lost: u64,
    /// Arrivals after the first for the same record.
    pub duplicated: u64,
    /// Alarms for records that were not this round's abnormal readings.
    pub unexpected: u64,
    /// Reading submission → alarm arrival, seconds.
    pub latency_p50_s: f64,
    pub latency_p95_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
}

/// The running measurement of one round.
pub struct Probe {
    share: f64,
    http: String,
    expected: Mutex<HashMap<B256, Instant>>,
    arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
    stop: watch::Sender<bool>,
    watchers: Vec<JoinHandle<anyhow::Result<()>>>,
    subscriber: JoinHandle<()>,
}

impl Probe {
    /// Starts the broker (or refreshes its accounts), the subscriber and
    /// `watch` for round `round` — one `watch` as each of `hospitals` on a
    /// private network (empty: one reading the clear layout) — and waits
    /// until all are ready.
    pub async fn start(
        state: &State,
        round: &str,
        share: f64,
        hospitals: &[String],
    ) -> anyhow::Result<Probe> {
        let plan = &state.plan;
        crate::broker::server::start(plan)
            .await
            .context("starting the network's MQTT broker for the alarm measurement")?;
        let creds = crate::broker::server::dir_of(&plan.dir).join("credentials/all-alarms.json");
        let arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
        let subscriber = subscribe(&creds, arrivals.clone()).await?;
        let (stop, stopped) = watch::channel(false);
        let readers: Vec<Option<&String>> = match hospitals.is_empty() {
            true => vec![None],
            false => hospitals.iter().map(Some).collect(),
        };
        let mut watchers = Vec::with_capacity(readers.len());
        for reader in readers {
            let name = reader.map_or(format!("watch-{round}"), |h| format!("watch-{round}-{h}"));
            let dir = plan.dir.join("bench").join(name);
            let w = start_watch(state, &dir, reader.cloned(), stopped.clone());
            let ready = wait_following(&dir, &w).await;
            watchers.push(w);
            if let Err(e) = ready {
                stop.send_replace(true);
                subscriber.abort();
                return Err(e);
            }
        }
        Ok(Probe {
            share,
            http: state.client_rpc()?,
            expected: Mutex::default(),
            arrivals,
            stop,
            watchers,
            subscriber,
        })
    }

    /// Records that the abnormal reading `tx` was submitted `at`.
    pub fn expect(&self, tx: B256, at: Instant) {
        if let Ok(mut e) = self.expected.lock() {
            e.insert(tx, at);
        }
    }

    /// Waits (up to [`GRACE`]) for the alarms of every committed abnormal
    /// reading, stops `watch` and the subscriber, and gives the figures.
    pub async fn finish(self) -> anyhow::Result<AlarmFigures> {
        let expected =
            std::mem::take(&mut *self.expected.lock().unwrap_or_else(|p| p.into_inner()));
        let rpc = Rpc::new(&self.http)?;
        let mut committed = Vec::new();
        for (tx, at) in &expected {
            let r: serde_json::Value = rpc.call("eth_getTransactionReceipt", json!([tx])).await?;
            if r.get("status").and_then(|s| s.as_str()) == Some("0x1") {
                committed.push((format!("{tx:#x}:0"), *at));
            }
        }
        let end = Instant::now() + GRACE;
        let all_in = || {
            let a = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
            committed.iter().all(|(k, _)| a.contains_key(k))
        };
        while Instant::now() < end && !all_in() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.stop.send_replace(true);
        let ended = tokio::time::timeout(
            Duration::from_secs(10),
            futures::future::join_all(self.watchers),
        )
        .await;
        self.subscriber.abort();
        let arrivals = self
            .arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let f = figures(self.share, expected.len() as u64, &committed, &arrivals);
        let Ok(ended) = ended else {
            return Err(anyhow!("the round's watch did not stop within 10 s"));
        };
        for e in ended {
            match e {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e.context("the round's watch failed")),
                Err(e) => return Err(anyhow!("the round's watch panicked: {e}")),
            }
        }
        Ok(f)
    }
}

/// Runs `watch` in this process with its state in `dir` (cleared first),
/// reading as `hospital` on a private network, publishing its alarms to
/// the broker, until `stopped` turns true.
fn start_watch(
    state: &State,
    dir: &std::path::Path,
    hospital: Option<String>,
    stopped: watch::Receiver<bool>,
) -> JoinHandle<anyhow::Result<()>> {
    let _ = std::fs::remove_dir_all(dir);
    let opts = Options {
        thresholds: Thresholds::default(),
        confirmations: None,
        from_block: None,
        reader: None,
        reads_as: hospital.map(ReadsAs::Hospital),
        node: None,
        terminal: None,
        mqtt: true,
        webhook: None,
        dir: Some(dir.to_path_buf()),
    };
    let st = state.clone();
    tokio::spawn(async move {
        let mut s = stopped;
        watch_run::run(&st, opts, async move {
            let _ = s.wait_for(|v| *v).await;
        })
        .await
    })
}

/// The figures from what was committed and what arrived.
fn figures(
    share: f64,
    sent: u64,
    committed: &[(String, Instant)],
    arrivals: &HashMap<String, Vec<Instant>>,
) -> AlarmFigures {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds");
    let mut f = AlarmFigures {
        abnormal_share: share,
        abnormal_sent: sent,
        abnormal_committed: committed.len() as u64,
        ..Default::default()
    };
    for (key, at) in committed {
        match arrivals.get(key).and_then(|a| a.first()) {
            Some(first) => {
                f.delivered += 1;
                let us = first.saturating_duration_since(*at).as_micros() as u64;
                let _ = h.record(us.max(1));
            }
            None => f.lost += 1,
        }
    }
    f.duplicated = arrivals
        .values()
        .map(|a| a.len().saturating_sub(1) as u64)
        .sum();
    f.unexpected = arrivals
        .keys()
        .filter(|k| !committed.iter().any(|(c, _)| c == *k))
        .count() as u64;
    if f.delivered > 0 {
        let q = |p: f64| h.value_at_quantile(p) as f64 / 1e6;
        (f.latency_p50_s, f.latency_p95_s, f.latency_p99_s) = (q(0.5), q(0.95), q(0.99));
        f.latency_max_s = h.max() as f64 / 1e6;
    }
    f
}

/// Waits until the round's watch has written its checkpoint (it follows
/// the chain from the next block), or fails with why it ended.
async fn wait_following(
    dir: &std::path::Path,
    w: &JoinHandle<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        if dir.join("checkpoint.json").is_file() {
            return Ok(());
        }
        if w.is_finished() {
            return Err(anyhow!(
                "the round's watch ended before following the chain"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(anyhow!("the round's watch did not start within 20 s"))
}

/// Subscribes as the account in `creds` to every alarm of the network,
/// recording each arrival by key; returns once the broker confirmed.
async fn subscribe(
    creds: &PathBuf,
    arrivals: Arc<Mutex<HashMap<String, Vec<Instant>>>>,
) -> anyhow::Result<JoinHandle<()>> {
    let text =
        std::fs::read_to_string(creds).with_context(|| format!("reading {}", creds.display()))?;
    let c: Credentials = serde_json::from_str(&text)?;
    let id = format!("medchain-bench-{}", std::process::id());
    let o = crate::broker::client::options(&c, id, Duration::from_secs(15))?;
    let (client, mut ev) = AsyncClient::new(o, 16);
    let topic = c
        .subscribe
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("{} has no topic", creds.display()))?;
    client.subscribe(&topic, QoS::AtLeastOnce).await?;
    let (ready_tx, ready) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let task = tokio::spawn(async move {
        let _client = client;
        let mut ready_tx = Some(ready_tx);
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(t) = ready_tx.take() {
                        let _ = t.send(Ok(()));
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => record(&arrivals, &p.payload),
                Ok(_) => {}
                Err(e) => {
                    if let Some(t) = ready_tx.take() {
                        let _ = t.send(Err(e.to_string()));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    });
    match tokio::time::timeout(Duration::from_secs(10), ready).await {
        Ok(Ok(Ok(()))) => Ok(task),
        Ok(Ok(Err(e))) => Err(anyhow!("subscribing to the alarms as {}: {e}", c.username)),
        _ => Err(anyhow!(
            "subscribing to the alarms as {}: no answer within 10 s",
            c.username
        )),
    }
}

/// Records an alarm's arrival (retractions are not arrivals).
fn record(arrivals: &Mutex<HashMap<String, Vec<Instant>>>, payload: &[u8]) {
    let now = Instant::now();
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return;
    };
    if v["kind"] != "alarm" {
        return;
    }
    if let (Some(k), Ok(mut a)) = (v["key"].as_str(), arrivals.lock()) {
        a.entry(k.to_string()).or_default().push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_lost_duplicated_and_unexpected_alarms() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let committed = vec![
            ("a:0".to_string(), t0),
            ("b:0".to_string(), t0),
            ("c:0".to_string(), t0),
        ];
        let arrivals = HashMap::from([
            ("a:0".to_string(), vec![ms(800)]),
            ("b:0".to_string(), vec![ms(1200), ms(1500)]),
            ("z:0".to_string(), vec![ms(10)]),
        ]);
        let f = figures(0.1, 4, &committed, &arrivals);
        assert_eq!(
            (f.abnormal_sent, f.abnormal_committed, f.delivered),
            (4, 3, 2)
        );
        assert_eq!((f.lost, f.duplicated, f.unexpected), (1, 1, 1));
        assert!((f.latency_max_s - 1.2).abs() < 0.01, "{f:?}");
        assert!((f.latency_p50_s - 0.8).abs() < 0.01, "{f:?}");
    }
}
