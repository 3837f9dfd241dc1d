//! Each sink's cursor: how many journal notices it has delivered, in
//! `<network dir>/watch/sinks/<sink>` (0600, replaced atomically after
//! every delivery). A sink seen for the first time starts at the end of
//! the journal: it gets the alarms decided from now on, not the history.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::private_fs;

/// One sink's cursor file.
pub struct Cursor {
    path: PathBuf,
    /// Notices delivered.
    pub at: usize,
}

impl Cursor {
    /// The cursor of sink `name` under `dir`; a new one starts at
    /// `journal_len`.
    pub fn open(dir: &Path, name: &str, journal_len: usize) -> anyhow::Result<Cursor> {
        private_fs::create_dir(dir)?;
        let path = dir.join(name);
        let at = match std::fs::read_to_string(&path) {
            Ok(t) => t.trim().parse().with_context(|| {
                format!(
                    "{} is corrupt: expected a number of notices",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let c = Cursor {
                    path: path.clone(),
                    at: journal_len,
                };
                c.save()?;
                journal_len
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Cursor { path, at })
    }

    /// Records one more delivered notice.
    pub fn advance(&mut self) -> anyhow::Result<()> {
        self.at += 1;
        self.save()
    }

    fn save(&self) -> anyhow::Result<()> {
        private_fs::write(&self.path, format!("{}\n", self.at).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_cursor_starts_at_the_end_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cursor::open(dir.path(), "mqtt", 7).unwrap();
        assert_eq!(c.at, 7);
        c.advance().unwrap();
        assert_eq!(Cursor::open(dir.path(), "mqtt", 0).unwrap().at, 8);
    }
}
