//! Shared harness for end-to-end tests: runs the real `medchain` binary
//! against a temporary home, and always tears the network down again (even
//! when an assertion fails) so no geth process outlives a test.

#![allow(dead_code)]

pub mod device_tx;
pub mod esp32;
pub mod mqtt;
pub mod prom;
pub mod surface;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Output of one CLI run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `medchain` with `args` in `cwd`, home `home`.
pub fn medchain(cwd: &Path, home: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_medchain"))
        .current_dir(cwd)
        .env("MEDCHAIN_HOME", home)
        // Tests name their runtime: process unless a test passes --runtime
        // docker (the flag wins over the variable).
        .env("MEDCHAIN_RUNTIME", "process")
        .env_remove("RUST_LOG")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("medchain binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A network brought up for a test, purged on drop.
pub struct TestNet {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
}

impl TestNet {
    /// Writes `yaml` as the topology file in a fresh directory.
    pub fn new(yaml: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("medchain.yaml");
        std::fs::write(&file, yaml).expect("write topology");
        Self { dir, file }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Runs medchain in this network's directory.
    pub fn run(&self, args: &[&str]) -> Run {
        medchain(self.dir.path(), &self.home(), args)
    }

    /// Runs and requires exit 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "medchain {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        r
    }

    /// `status --json` parsed.
    pub fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["status", "--json"]).stdout).expect("status JSON")
    }

    /// The recorded state file, parsed.
    pub fn state(&self, network: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.home().join(network).join("state.json"))
            .expect("state.json");
        serde_json::from_str(&text).expect("state JSON")
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        let _ = self.run(&["down", "--purge"]);
    }
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            Some("Z") | Some("X")
        ),
        Err(_) => false,
    }
}

/// Minimal blocking JSON-RPC call for assertions.
pub fn rpc(url: &str, method: &str, params: serde_json::Value) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = medchain::rpc::Rpc::new(url).unwrap();
        let leaked: &'static str = Box::leak(method.to_string().into_boxed_str());
        r.call::<serde_json::Value>(leaked, params).await.unwrap()
    })
}

/// Blocking JSON-RPC call over a process-runtime node's IPC socket
/// (`<datadir>/geth.ipc`): what admin, miner and txpool calls, and any
/// call to a sealer, go through since no TCP endpoint serves them.
pub fn ipc(node: &serde_json::Value, method: &str, params: serde_json::Value) -> serde_json::Value {
    use std::io::{Read, Write};
    let path =
        std::path::Path::new(node["datadir"].as_str().expect("node datadir")).join("geth.ipc");
    let mut s = std::os::unix::net::UnixStream::connect(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let req = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    s.write_all(req.to_string().as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = s.read(&mut chunk).expect("IPC answer");
        assert!(n > 0, "IPC closed before answering {method}");
        buf.extend_from_slice(&chunk[..n]);
        match serde_json::from_slice::<serde_json::Value>(&buf) {
            Ok(mut v) => {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].take();
            }
            Err(e) if e.is_eof() => continue,
            Err(e) => panic!("{method}: {e}"),
        }
    }
}

/// Pids of live processes whose command line contains `needle` (what
/// `pgrep -f <needle>` lists), this test process excluded.
pub fn pgrep(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me || !alive(pid as u64) {
            continue;
        }
        let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&raw)
            .replace('\0', " ")
            .contains(needle)
        {
            out.push(pid);
        }
    }
    out
}

/// A `medchain` process left running by a test (a gateway), its stdout
/// lines arriving on `lines`; killed on drop.
pub struct Spawned {
    pub child: std::process::Child,
    pub lines: std::sync::mpsc::Receiver<String>,
}

impl Spawned {
    /// Runs `medchain args` in `net`'s directory, stderr discarded.
    pub fn medchain(net: &TestNet, args: &[&str]) -> Spawned {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_medchain"))
            .current_dir(net.dir.path())
            .env("MEDCHAIN_HOME", net.home())
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("medchain starts");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Spawned { child, lines }
    }

    /// Waits at most `limit` for a line containing `needle`.
    pub fn wait_for(&self, needle: &str, limit: std::time::Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(_) => panic!("no line with {needle:?} within {limit:?}"),
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tools/console-check/<script>` (a Chromium check of `medchain serve`),
/// or a failure saying how to install what it needs: playwright-core
/// (`npm ci` there) and Debian's Chromium (or `$CHROMIUM`).
pub fn console_script(script: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/console-check");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in tools/console-check (./test.sh does)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).is_file(),
        "no Chromium at {chromium}: install Debian's chromium (scripts/install-services.sh does)"
    );
    dir.join(script)
}
