//! The follower: new heads over WebSocket from a member node, every block
//! up to the head less the confirmation depth read in order, each
//! `RecordAdded` of the MedicalRecords contract read back as the reader
//! and checked against the thresholds; an alarm goes to the journal. A
//! block whose parent is not the block processed before it means a
//! reorganisation: the follower goes back to the last block both chains
//! share and retracts each alarm whose transaction is in none of the new
//! chain's blocks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, WsConnect};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use anyhow::{anyhow, Context};
use futures::StreamExt;
use tokio::sync::watch;

use super::alarm::{crossings, now_rfc3339, Kind, Notice, Origin, Reading};
use super::checkpoint::{Checkpoint, KEPT_BLOCKS};
use super::directory::Directory;
use super::journal::Journal;
use super::metrics::WatchMetrics;
use super::private::PrivateReader;
use super::unreadable::Unreadable;
use crate::contract::{MedicalRecords, PrivateRecords};

/// How long without a new head before the follower asks the node itself
/// (a dead node's subscription may stay silent).
const QUIET: Duration = Duration::from_secs(2);

/// Where and what the follower follows.
pub struct Source {
    /// The member's HTTP JSON-RPC endpoint (reads).
    pub http: String,
    /// Its WebSocket endpoint (new heads).
    pub ws: String,
    pub contract: Address,
    /// The address records are read as.
    pub reader: Address,
    /// Blocks on top of a record's block before it is alarmed.
    pub depth: u64,
}

/// The follower and everything it writes.
pub struct Follower {
    pub source: Source,
    pub http: DynProvider,
    pub dir: Directory,
    pub journal: Journal,
    pub checkpoint: Checkpoint,
    pub checkpoint_path: PathBuf,
    /// On a private network, the reader that opens sealed readings
    /// (`None`: the clear layout, read as `source.reader`).
    pub private: Option<PrivateReader>,
    /// Records the reader could not read, per patient (reported once).
    pub unreadable: Unreadable,
    pub metrics: Arc<WatchMetrics>,
}

/// A read-only provider for `url` whose calls time out (see
/// [`crate::rpc_timeout`]).
pub fn provider(url: &str) -> anyhow::Result<DynProvider> {
    Ok(ProviderBuilder::new()
        .connect_client(crate::rpc_timeout::client(url)?)
        .erased())
}

impl Follower {
    /// Follows the chain until `stop` turns true; a node that stops
    /// answering is retried with backoff, never the end of `watch`.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut backoff = Duration::from_millis(500);
        loop {
            match self.follow(&mut stop).await {
                Ok(()) => break,
                Err(e) => {
                    eprintln!("watch: {e:#}; trying again in {backoff:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|s| *s) => break,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
        for line in self.unreadable.summary() {
            eprintln!("{line}");
        }
        Ok(())
    }

    /// One WebSocket session: catch up, then handle every new head.
    async fn follow(&mut self, stop: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let ws = self.source.ws.clone();
        let connect = ProviderBuilder::new().connect_ws(WsConnect::new(ws.clone()));
        let sub = tokio::time::timeout(Duration::from_secs(5), connect)
            .await
            .map_err(|_| anyhow!("subscribing to new heads on {ws}: no answer within 5 s"))?
            .map_err(|e| anyhow!("subscribing to new heads on {ws}: {e}"))?;
        let mut heads = sub.subscribe_blocks().await?.into_stream();
        self.catch_up().await?;
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return Ok(()),
                _ = tokio::time::sleep(QUIET) => {}
                h = heads.next() => if h.is_none() {
                    anyhow::bail!("the new-heads subscription on {ws} ended");
                },
            }
            self.catch_up().await?;
        }
    }

    /// Processes every block up to the head less the depth.
    async fn catch_up(&mut self) -> anyhow::Result<()> {
        let head = self.http.get_block_number().await?;
        let safe = head.saturating_sub(self.source.depth);
        while self.checkpoint.block < safe {
            let n = self.checkpoint.block + 1;
            let block = self
                .http
                .get_block_by_number(n.into())
                .await?
                .ok_or_else(|| anyhow!("block {n} is missing on {}", self.source.http))?;
            if Some(block.header.parent_hash) != self.checkpoint.hash() {
                self.rewind().await?;
                continue;
            }
            self.process(n, block.header.hash).await?;
            self.checkpoint.advance(n, block.header.hash);
            self.checkpoint.save(&self.checkpoint_path)?;
            self.metrics.processed(n);
        }
        Ok(())
    }

    /// Alarms every record of block `n` (hash `hash`) that crosses its
    /// patient's thresholds and has no active alarm yet.
    async fn process(&mut self, n: u64, hash: B256) -> anyhow::Result<()> {
        let event = match self.private {
            Some(_) => PrivateRecords::RecordAdded::SIGNATURE_HASH,
            None => MedicalRecords::RecordAdded::SIGNATURE_HASH,
        };
        let filter = Filter::new()
            .at_block_hash(hash)
            .address(self.source.contract)
            .event_signature(event);
        let logs = self.http.get_logs(&filter).await?;
        let mut per_tx: HashMap<B256, u64> = HashMap::new();
        for log in logs {
            let tx = log.transaction_hash.unwrap_or_default();
            let ordinal = per_tx.entry(tx).or_insert(0);
            let key = format!("{tx:#x}:{ordinal}");
            *ordinal += 1;
            if self.journal.is_active(&key) {
                continue;
            }
            if let Some(notice) = self.judge(&log, key, n, hash).await? {
                self.journal.append(notice)?;
                self.metrics.decided(false);
            }
        }
        Ok(())
    }

    /// The alarm for one `RecordAdded` log, if its reading crosses a bound.
    async fn judge(
        &mut self,
        log: &Log,
        key: String,
        n: u64,
        hash: B256,
    ) -> anyhow::Result<Option<Notice>> {
        let ev = Added::decode(log, self.private.is_some())?;
        let got = match self.private.as_mut() {
            Some(p) => match p.read(ev.patient, ev.record_id, hash).await? {
                Ok(o) => Some((o.reading, Some(o.cid), Some(o.key_version))),
                Err(why) => {
                    let (who, p) = (p.address(), ev.patient);
                    self.unreadable.count(p, why, |why| {
                        format!("watch: warning: {who:#x} cannot open patient {p}'s records ({why}); they are counted, not alarmed (one line per patient; the count when watch stops)")
                    });
                    None
                }
            },
            None => self
                .read(ev.patient, ev.record_id, hash)
                .await?
                .map(|r| (r, None, None)),
        };
        let Some((reading, cid, key_version)) = got else {
            return Ok(None);
        };
        let crossed = crossings(self.dir.limits(ev.patient), &reading);
        if crossed.is_empty() {
            return Ok(None);
        }
        Ok(Some(Notice {
            kind: Kind::Alarm,
            key,
            network: self.dir.network().to_string(),
            hospital: self.dir.hospital(ev.device),
            patient: ev.patient,
            pseudonym: self.dir.pseudonym(ev.patient),
            device: ev.device,
            record_id: ev.record_id.saturating_to(),
            sequence: ev.sequence,
            reading,
            crossed,
            cid,
            key_version,
            origin: Origin {
                tx: log.transaction_hash.unwrap_or_default(),
                block: n,
                block_hash: hash,
                log_index: log.log_index.unwrap_or_default(),
            },
            reason: None,
            decided_at: now_rfc3339(),
        }))
    }

    /// Record `id` of `patient` as of block `hash`, read in clear as the
    /// reader; `None` (warned once per patient, counted) when the contract
    /// refuses it.
    async fn read(
        &mut self,
        patient: B256,
        id: U256,
        hash: B256,
    ) -> anyhow::Result<Option<Reading>> {
        let c = MedicalRecords::new(self.source.contract, &self.http);
        let call = c
            .getMedicalRecords(patient, id, U256::from(1))
            .from(self.source.reader)
            .block(BlockId::hash(hash));
        let page = match call.call().await {
            Ok(p) => p,
            Err(e)
                if e.as_revert_data().is_some() || crate::contract::revert_reason(&e).is_some() =>
            {
                let reader = self.source.reader;
                let why = crate::contract::revert_reason(&e).unwrap_or_default();
                self.unreadable.count(patient, why, |why| {
                    format!(
                        "watch: warning: {reader} may not read patient {patient}'s records ({why}); grant it with `medchain authorize` or pass --reader"
                    )
                });
                return Ok(None);
            }
            Err(e) => return Err(e).context("reading a record (getMedicalRecords)"),
        };
        let Some(r) = page.first() else {
            return Ok(None);
        };
        Ok(Some(Reading {
            heart_rate: r.heartRate,
            spo2: r.spo2,
            systolic: r.systolic,
            diastolic: r.diastolic,
            temperature: f64::from(r.temperatureCentiC) / 100.0,
            device_timestamp: r.deviceTimestamp,
            block_timestamp: r.blockTimestamp,
        }))
    }

    /// After a reorganisation: back to the last processed block the node's
    /// chain still has, retracting each alarm after it whose transaction
    /// the new chain does not include.
    async fn rewind(&mut self) -> anyhow::Result<()> {
        let mut ancestor = None;
        let kept: Vec<(u64, B256)> = self
            .checkpoint
            .recent
            .iter()
            .rev()
            .map(|(k, h)| (*k, *h))
            .collect();
        for (k, h) in kept {
            let b = self.http.get_block_by_number(k.into()).await?;
            if b.is_some_and(|b| b.header.hash == h) {
                ancestor = Some(k);
                break;
            }
        }
        let a = ancestor.ok_or_else(|| {
            anyhow!("a reorganisation replaced more than the {KEPT_BLOCKS} blocks watch keeps; alarms of the replaced blocks cannot be checked")
        })?;
        eprintln!(
            "watch: reorganisation: the blocks after {a} were replaced; checking the alarms sent for them"
        );
        self.metrics.reorg();
        for n in self.journal.active_after(a) {
            let still = self.http.get_transaction_receipt(n.origin.tx).await?;
            if still.is_none() {
                let why = format!(
                    "block {} ({}) left the chain in a reorganisation, and no block of the new chain includes transaction {}",
                    n.origin.block, n.origin.block_hash, n.origin.tx
                );
                self.journal.append(n.retraction(why, now_rfc3339()))?;
                self.metrics.decided(true);
            }
        }
        self.checkpoint.rewind(a);
        self.checkpoint.save(&self.checkpoint_path)
    }
}

/// What a `RecordAdded` log says, of either contract.
struct Added {
    patient: B256,
    device: Address,
    record_id: U256,
    sequence: u64,
}

impl Added {
    /// Decodes `log` as PrivateRecords' event (`private`) or
    /// MedicalRecords'.
    fn decode(log: &Log, private: bool) -> anyhow::Result<Added> {
        if private {
            let e = log
                .log_decode::<PrivateRecords::RecordAdded>()
                .context("decoding a RecordAdded log")?
                .inner
                .data;
            return Ok(Added {
                patient: e.patient,
                device: e.device,
                record_id: e.recordId,
                sequence: e.sequence,
            });
        }
        let e = log
            .log_decode::<MedicalRecords::RecordAdded>()
            .context("decoding a RecordAdded log")?
            .inner
            .data;
        Ok(Added {
            patient: e.patient,
            device: e.device,
            record_id: e.recordId,
            sequence: e.sequence,
        })
    }
}
