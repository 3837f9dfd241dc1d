//! The code's shape, checked on every test run so it stays as
//! docs/architecture.md describes it:
//!
//! - no function outside tests is longer than 80 lines;
//! - no module outside `src/runtime/` matches on the runtime kind or names
//!   Docker types (the runtime is chosen in `runtime::connect` only);
//! - no import cycle between files. A `mod.rs` declaring or re-exporting its
//!   own children is its interface, not a dependency, so those edges are
//!   not counted.
//!
//! The scan is textual (rustfmt-formatted code: a function's closing brace
//! sits at the indentation of its `fn` line; test modules come last in a
//! file, after `#[cfg(test)]` at column 0).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_FN_LINES: usize = 80;

fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).expect("src readable").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("src"), &mut out);
    out.sort();
    out
}

/// The package's directory, as cargo gives it when running the test (not
/// as compiled in: a target directory shared between checkouts, as CI's
/// cache under ~/.cache/medchain is, can hold a binary built in another).
fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    )
}

/// The file's text up to its test module.
fn non_test(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .collect()
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// `(name, first line, length)` of every function with a body.
fn functions(lines: &[&str]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = l.len() - t.len();
        let sig = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("const ")
            .trim_start_matches("async ")
            .trim_start_matches("unsafe ");
        let Some(rest) = sig.strip_prefix("fn ") else {
            continue;
        };
        if t.ends_with(';') || (t.contains('{') && t.ends_with('}')) {
            continue; // trait method without body, or a one-liner
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        if let Some(end) = (i + 1..lines.len()).find(|j| lines[*j] == close) {
            out.push((name, i + 1, end - i + 1));
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for p in sources() {
        let text = fs::read_to_string(&p).unwrap();
        for (name, line, len) in functions(&non_test(&text)) {
            if len > MAX_FN_LINES {
                long.push(format!("{}:{line} {name}: {len} lines", rel(&p)));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them):\n{}",
        long.join("\n")
    );
}

#[test]
fn only_the_runtime_folder_knows_the_runtime_kind() {
    let needles = [
        "Kind::Docker",
        "Kind::Process",
        "DockerRuntime",
        "ProcessRuntime",
        "bollard",
        "runtime::docker",
        "runtime::process",
        "container_plan::container_name",
    ];
    let mut hits = Vec::new();
    for p in sources() {
        let r = rel(&p);
        if r.starts_with("src/runtime/") {
            continue;
        }
        let text = fs::read_to_string(&p).unwrap();
        for (i, l) in non_test(&text).iter().enumerate() {
            if l.trim_start().starts_with("//") {
                continue;
            }
            for n in needles {
                if l.contains(n) {
                    hits.push(format!("{r}:{} names {n}", i + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "runtime knowledge outside src/runtime/ (go through runtime::connect / the Runtime trait):\n{}",
        hits.join("\n")
    );
}

/// Module path of a source file: `src/bench/run.rs` → `bench::run`,
/// `src/bench/mod.rs` → `bench`.
fn module_of(p: &Path) -> String {
    let r = rel(p);
    let r = r.trim_start_matches("src/").trim_end_matches(".rs");
    let r = r.trim_end_matches("/mod");
    if r == "lib" || r == "main" {
        return String::new();
    }
    r.replace('/', "::")
}

/// Modules a file's `use` lines and inline `crate::` paths name, resolved
/// to the longest known module.
fn imports(
    module: &str,
    is_mod_rs: bool,
    lines: &[&str],
    known: &BTreeSet<String>,
) -> BTreeSet<String> {
    let parent = if is_mod_rs {
        module.to_string()
    } else {
        module
            .rsplit_once("::")
            .map(|x| x.0)
            .unwrap_or("")
            .to_string()
    };
    let mut out = BTreeSet::new();
    for l in lines {
        let t = l.trim_start();
        if t.starts_with("//") {
            continue;
        }
        // `pub use child::…` / `mod child` in a mod.rs is its interface.
        let reexport = is_mod_rs && (t.starts_with("pub use ") || t.starts_with("pub mod "));
        if reexport {
            continue;
        }
        let mut paths = Vec::new();
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.clone())] {
            let mut rest = t;
            while let Some(i) = rest.find(prefix) {
                let tail = &rest[i + prefix.len()..];
                let path: String = tail
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let full = if base.is_empty() {
                    path.clone()
                } else {
                    format!("{base}::{path}")
                };
                paths.push(full);
                rest = &tail[path.len().min(tail.len())..];
            }
        }
        // `use super::{a, b}` / `use crate::x::{a, b}`: each named child.
        if let (Some(open), true) = (t.find('{'), t.starts_with("use ")) {
            let head = &t[4..open];
            let head = head.trim_end_matches("::");
            let base = if let Some(h) = head.strip_prefix("crate::") {
                h.to_string()
            } else if head == "crate" {
                String::new()
            } else if let Some(h) = head.strip_prefix("super") {
                format!("{parent}{h}").trim_end_matches("::").to_string()
            } else {
                continue;
            };
            for item in t[open + 1..].trim_end_matches("};").split(',') {
                let item = item.trim().split("::").next().unwrap_or("");
                let item = item.split(' ').next().unwrap_or("");
                if !item.is_empty() && item != "self" {
                    paths.push(if base.is_empty() {
                        item.to_string()
                    } else {
                        format!("{base}::{item}")
                    });
                }
            }
        }
        for p in paths {
            let p = p.trim_end_matches(':');
            let mut parts: Vec<&str> = p.split("::").collect();
            while !parts.is_empty() {
                let m = parts.join("::");
                if known.contains(&m) {
                    if m != module {
                        out.insert(m);
                    }
                    break;
                }
                parts.pop();
            }
        }
    }
    out
}

#[test]
fn no_import_cycle_between_files() {
    let files = sources();
    let known: BTreeSet<String> = files.iter().map(|p| module_of(p)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &files {
        let m = module_of(p);
        if m.is_empty() {
            continue;
        }
        let text = fs::read_to_string(p).unwrap();
        let is_mod = p.ends_with("mod.rs");
        let mut deps = imports(&m, is_mod, &non_test(&text), &known);
        deps.remove("");
        graph.insert(m, deps);
    }
    let mut cycles = Vec::new();
    for (a, deps) in &graph {
        for b in deps {
            // Is there a path b → … → a?
            let mut seen = BTreeSet::new();
            let mut stack = vec![b.clone()];
            while let Some(x) = stack.pop() {
                if x == *a {
                    cycles.push(format!("{a} → {b} → … → {a}"));
                    break;
                }
                if seen.insert(x.clone()) {
                    stack.extend(graph.get(&x).into_iter().flatten().cloned());
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between files:\n{}",
        cycles.join("\n")
    );
}
