//! Acknowledged alarms, per signed-in address, kept by the server: one
//! file per address, `<network dir>/serve/acks/<address>.jsonl` (0600 in a
//! 0700 directory), one line `{"key", "at"}` per acknowledgement, appended.
//! It survives a restart of the console; it records that this address saw
//! the alarm, nothing else (no values).

use std::collections::HashSet;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde_json::{json, Value};

/// The acknowledgements file of `who`.
pub fn file(net_dir: &Path, who: Address) -> PathBuf {
    net_dir
        .join("serve")
        .join("acks")
        .join(format!("{who:#x}.jsonl"))
}

/// The alarm keys `who` acknowledged.
pub fn read(net_dir: &Path, who: Address) -> HashSet<String> {
    std::fs::read_to_string(file(net_dir, who))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["key"].as_str().map(str::to_string))
        .collect()
}

/// Records that `who` acknowledged alarm `key` at Unix second `at`.
pub fn add(net_dir: &Path, who: Address, key: &str, at: u64) -> anyhow::Result<()> {
    let f = file(net_dir, who);
    let d = f.parent().expect("the file has a directory");
    crate::private_fs::create_dir(d)?;
    let mut out = crate::private_fs::open(&f)?;
    out.seek(SeekFrom::End(0))?;
    writeln!(out, "{}", json!({ "key": key, "at": at }))?;
    out.sync_data()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_are_per_address_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        add(d.path(), a, "0xabc:0", 1).unwrap();
        add(d.path(), a, "0xdef:1", 2).unwrap();
        assert_eq!(read(d.path(), a).len(), 2);
        assert!(read(d.path(), a).contains("0xabc:0"));
        assert!(read(d.path(), b).is_empty());
    }
}
