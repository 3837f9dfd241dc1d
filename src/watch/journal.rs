//! The journal: every notice `watch` decided to send, in order, one JSON
//! object per line in `<network dir>/watch/journal.jsonl` (0600), synced
//! before the follower moves on. It is what makes delivery survive a
//! restart: the follower appends, each sink delivers from its own cursor
//! (see [`super::cursor`]), so a sink that is down (a webhook receiver, the
//! broker) delays only itself, and a record already in the journal is
//! never alarmed twice: its key is active until a retraction follows.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::sync::watch;

use super::alarm::{Kind, Notice};
use crate::private_fs::FILE_MODE;

/// The journal, held by the follower (the only writer).
pub struct Journal {
    path: PathBuf,
    file: File,
    entries: Arc<Mutex<Vec<Notice>>>,
    /// Index of the latest entry of each key whose last word is an alarm.
    active: HashMap<String, usize>,
    len: watch::Sender<usize>,
}

/// A sink's view of the journal: waits for entries past its cursor.
#[derive(Clone)]
pub struct Reader {
    entries: Arc<Mutex<Vec<Notice>>>,
    len: watch::Receiver<usize>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, reading what it holds. A
    /// torn last line (the process died while writing it) is cut off: its
    /// notice was never synced, so the follower decides it again.
    pub fn open(path: &Path) -> anyhow::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let (entries, good) = read_entries(&mut file, path)?;
        if good < file.metadata()?.len() {
            file.set_len(good)
                .with_context(|| format!("truncating a torn line of {}", path.display()))?;
        }
        let mut active = HashMap::new();
        for (i, n) in entries.iter().enumerate() {
            mark(&mut active, n, i);
        }
        let (len, _) = watch::channel(entries.len());
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            entries: Arc::new(Mutex::new(entries)),
            active,
            len,
        })
    }

    /// Appends `n` durably and wakes the sinks.
    pub fn append(&mut self, n: Notice) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(&n)?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("writing {}", self.path.display()))?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        mark(&mut self.active, &n, entries.len());
        entries.push(n);
        self.len.send_replace(entries.len());
        Ok(())
    }

    /// Whether `key` has an alarm that no retraction followed.
    pub fn is_active(&self, key: &str) -> bool {
        self.active.contains_key(key)
    }

    /// The active alarms of records written after block `block`.
    pub fn active_after(&self, block: u64) -> Vec<Notice> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut idx: Vec<usize> = self.active.values().copied().collect();
        idx.sort_unstable();
        idx.into_iter()
            .map(|i| entries[i].clone())
            .filter(|n| n.origin.block > block)
            .collect()
    }

    /// Number of notices.
    pub fn len(&self) -> usize {
        *self.len.borrow()
    }

    /// Whether the journal is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reader for a sink.
    pub fn reader(&self) -> Reader {
        Reader {
            entries: self.entries.clone(),
            len: self.len.subscribe(),
        }
    }
}

impl Reader {
    /// The notice at `i`, once the journal holds it.
    pub async fn get(&mut self, i: usize) -> Notice {
        loop {
            if let Some(n) = self
                .entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(i)
            {
                return n.clone();
            }
            if self.len.changed().await.is_err() {
                // The follower is gone; nothing more will come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Number of notices in the journal now.
    pub fn available(&self) -> usize {
        *self.len.borrow()
    }
}

/// Records that `n` (at index `i`) is the latest word on its key.
fn mark(active: &mut HashMap<String, usize>, n: &Notice, i: usize) {
    match n.kind {
        Kind::Alarm => {
            active.insert(n.key.clone(), i);
        }
        Kind::Retraction => {
            active.remove(&n.key);
        }
    }
}

/// Every whole line's notice, and the length of the file up to the last
/// whole line. A whole line that is not a notice is corruption: an error.
fn read_entries(file: &mut File, path: &Path) -> anyhow::Result<(Vec<Notice>, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::new(&*file);
    let (mut out, mut good, mut buf) = (Vec::new(), 0u64, Vec::new());
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            break;
        }
        let notice: Notice = serde_json::from_slice(&buf).with_context(|| {
            format!(
                "{} line {}: not a notice; the journal is corrupt (move it away to start afresh)",
                path.display(),
                out.len() + 1
            )
        })?;
        out.push(notice);
        good += n as u64;
    }
    Ok((out, good))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::alarm::{Origin, Reading};
    use alloy::primitives::{Address, B256};

    fn notice(key: &str, kind: Kind, block: u64) -> Notice {
        Notice {
            kind,
            key: key.into(),
            network: "n".into(),
            hospital: "h".into(),
            patient: B256::ZERO,
            pseudonym: "p".into(),
            device: Address::ZERO,
            record_id: 0,
            sequence: 1,
            reading: Reading {
                heart_rate: 150,
                spo2: 97,
                systolic: 120,
                diastolic: 80,
                temperature: 36.8,
                device_timestamp: 0,
                block_timestamp: 0,
            },
            crossed: vec![],
            cid: None,
            key_version: None,
            origin: Origin {
                tx: B256::ZERO,
                block,
                block_hash: B256::ZERO,
                log_index: 0,
            },
            reason: None,
            decided_at: String::new(),
        }
    }

    #[test]
    fn notices_survive_reopening_and_a_torn_line_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.append(notice("a", Kind::Alarm, 5)).unwrap();
        j.append(notice("b", Kind::Alarm, 6)).unwrap();
        j.append(notice("a", Kind::Retraction, 5)).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"kind\":\"alarm\",\"ke").unwrap();
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.len(), 3);
        assert!(!j.is_active("a") && j.is_active("b"));
        assert_eq!(j.active_after(5).len(), 1);
        assert!(j.active_after(6).is_empty());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"), "the torn line is gone");
    }

    #[tokio::test]
    async fn a_reader_waits_for_the_entry_it_asks_for() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j")).unwrap();
        let mut r = j.reader();
        let waiting = tokio::spawn(async move { r.get(0).await.key });
        tokio::task::yield_now().await;
        j.append(notice("x", Kind::Alarm, 1)).unwrap();
        assert_eq!(waiting.await.unwrap(), "x");
    }
}
