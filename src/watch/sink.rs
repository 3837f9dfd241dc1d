//! The sinks alarms go to, and the loop that feeds each one from the
//! journal: in order, from its own cursor, retrying a failed delivery with
//! backoff until it succeeds, so a sink that is down delays only itself
//! and loses nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::alarm::Notice;
use super::cursor::Cursor;
use super::journal::Reader;
use super::metrics::WatchMetrics;
use super::mqtt::MqttSink;
use super::webhook::Webhook;

/// The first wait after a failed delivery; doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A place alarms go.
pub enum Sink {
    /// Standard output: one line per notice, or its JSON with `json`.
    Terminal {
        json: bool,
    },
    Mqtt(Box<MqttSink>),
    Webhook(Webhook),
}

impl Sink {
    /// The sink's name: its cursor file's name and how errors name it.
    pub fn name(&self) -> &'static str {
        match self {
            Sink::Terminal { .. } => "terminal",
            Sink::Mqtt(_) => "mqtt",
            Sink::Webhook(_) => "webhook",
        }
    }

    /// Delivers one notice; Ok once the sink has acknowledged it.
    async fn deliver(&mut self, n: &Notice) -> anyhow::Result<()> {
        match self {
            Sink::Terminal { json } => {
                use std::io::Write as _;
                let line = if *json {
                    serde_json::to_string(n)?
                } else {
                    n.line()
                };
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()?;
                Ok(())
            }
            Sink::Mqtt(m) => m.deliver(n).await,
            Sink::Webhook(w) => w.deliver(n).await,
        }
    }
}

/// Feeds `sink` from the journal until `stop` turns true (a delivery under
/// way is finished first).
pub async fn feed(
    mut sink: Sink,
    mut journal: Reader,
    cursors: PathBuf,
    metrics: Arc<WatchMetrics>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut cursor = Cursor::open(&cursors, sink.name(), journal.available())?;
    let pending = |j: &Reader, at: usize| j.available().saturating_sub(at);
    metrics.waiting(sink.name(), pending(&journal, cursor.at));
    loop {
        let n = tokio::select! {
            n = journal.get(cursor.at) => n,
            _ = stop.wait_for(|s| *s) => return Ok(()),
        };
        let mut backoff = FIRST_BACKOFF;
        while let Err(e) = sink.deliver(&n).await {
            metrics.failed(sink.name(), pending(&journal, cursor.at));
            eprintln!(
                "watch: {}: delivering {} {}: {e:#}; trying again in {backoff:?}",
                sink.name(),
                if n.kind == super::alarm::Kind::Alarm {
                    "alarm"
                } else {
                    "retraction"
                },
                n.key
            );
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        cursor.advance()?;
        metrics.delivered(sink.name(), pending(&journal, cursor.at));
    }
}
