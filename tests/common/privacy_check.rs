//! The independent checkers of tools/privacy-check (FHIR.js 4.12 and
//! multiformats), run with node; they fail, never skip, when missing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn tool_dir() -> PathBuf {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("tools/privacy-check");
    assert!(
        dir.join("node_modules/fhir").is_dir() && dir.join("node_modules/multiformats").is_dir(),
        "run `npm ci` in {} first (test.sh does)",
        dir.display()
    );
    dir
}

/// Runs `node check.mjs <mode> <file>` and returns its stdout.
pub fn check(mode: &str, file: &Path) -> String {
    let dir = tool_dir();
    let out = Command::new("node")
        .current_dir(&dir)
        .arg("check.mjs")
        .arg(mode)
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// FHIR.js's verdict on `resource`: (valid, error-level messages).
pub fn validate(resource: &Value) -> (bool, Vec<Value>) {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), serde_json::to_vec(resource).unwrap()).unwrap();
    let v: Value = serde_json::from_str(&check("fhir", f.path())).unwrap();
    let errors = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["severity"] == "error")
        .cloned()
        .collect();
    (v["valid"] == true, errors)
}
