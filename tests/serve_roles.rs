//! `medchain serve`'s Sign-In with Ethereum and role views (issue 17) on a
//! real private network, over HTTP and in a real headless Chromium
//! (Debian's, driven by playwright-core from tools/console-check/roles.mjs).
//!
//! Over HTTP: a correct sign-in gets a session with the roles the contract
//! records; a wrong signature, a replayed (used) nonce and an expired one
//! get 401 saying which; a view needing a role the address lacks gets 403
//! naming the role; no session gets 401; a cross-origin POST gets 403; a
//! report name that leaves the reports directory gets 404.
//!
//! In Chromium, keys imported into the page: the patient signs in, sees
//! the patient role, their consent holder and their readings decrypted in
//! the page equal to what `medchain records get --json` prints for them;
//! the doctor (consent) sees the same values with the abnormal ones
//! highlighted and gets the 403 message on the Patient view; the admin
//! opens the JSON and HTML reports a real `medchain bench` wrote into the
//! network's reports directory. A missing Chromium or playwright-core
//! fails the test, saying how to install them.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use common::{Spawned, TestNet};
use serde_json::{json, Value};

const TOPO: &str = "\
network: console-roles
chain_id: 48176
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 1}
  - {name: south, sealers: 0, members: 1}
";

const TINY: &str = "\
name: console-tiny
description: a few Simple opens, for the console's Benchmarks view
contract: simple
workers: 1
rounds:
  - label: open
    tx_number: 10
    rate: { type: fixed-rate, tps: 10 }
    workload: { op: open, accounts: 10, initial_amount: 100 }
";

const DOCTOR_KEY: &str = "0xd0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7d0c7";
const SSN: &str = "555-02-0001";

/// One HTTP exchange: status, body, and the cookie it set (name=value).
struct Answer {
    status: u16,
    body: Value,
    cookie: Option<String>,
}

fn http(method: &str, url: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Answer {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let mut req = c.request(method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("the console answers");
        let status = r.status().as_u16();
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            body,
            cookie,
        }
    })
}

/// The EIP-4361 message the console's nonce answer asks `who` to sign.
fn message(nonce: &Value, who: &PrivateKeySigner) -> String {
    let now = medchain::serve::signin::wall_now();
    format!(
        "{} wants you to sign in with your Ethereum account:\n{}\n\nSign in.\n\nURI: {}\nVersion: 1\nChain ID: {}\nNonce: {}\nIssued At: {}",
        nonce["domain"].as_str().unwrap(),
        who.address().to_checksum(None),
        nonce["uri"].as_str().unwrap(),
        nonce["chain_id"],
        nonce["nonce"].as_str().unwrap(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    )
}

fn sign(key: &PrivateKeySigner, text: &str) -> String {
    let sig = key.sign_message_sync(text.as_bytes()).unwrap();
    format!("0x{}", hex::encode(sig.as_bytes()))
}

/// A sign-in attempt: the message `who` is asked to sign, signed by `signer`.
fn attempt(url: &str, who: &PrivateKeySigner, signer: &PrivateKeySigner) -> (String, String) {
    let n = http("GET", &format!("{url}/api/siwe/nonce"), None, &[]);
    assert_eq!(n.status, 200, "{}", n.body);
    let text = message(&n.body, who);
    let sig = sign(signer, &text);
    (text, sig)
}

fn verify(url: &str, text: &str, sig: &str) -> Answer {
    http(
        "POST",
        &format!("{url}/api/siwe/verify"),
        Some(json!({"message": text, "signature": sig})),
        &[],
    )
}

fn console_check() -> PathBuf {
    common::console_script("roles.mjs")
}

/// `[hr, spo2, sys, dia, temp]` of every record `records get --json`
/// opened, by record id.
fn cli_values(net: &TestNet, key: &str) -> Vec<(u64, Vec<f64>)> {
    let out = net.ok(&["records", "get", "--ssn", SSN, "--key", key, "--json"]);
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let obs = r["observations"].as_array().expect("opened");
            let find = |code: &str| -> f64 {
                for o in obs {
                    let coded = |c: &Value| {
                        c["coding"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|k| k["code"] == code)
                    };
                    if coded(&o["code"]) && o.get("valueQuantity").is_some() {
                        return o["valueQuantity"]["value"].as_f64().unwrap();
                    }
                    for c in o["component"].as_array().into_iter().flatten() {
                        if coded(&c["code"]) {
                            return c["valueQuantity"]["value"].as_f64().unwrap();
                        }
                    }
                }
                panic!("no {code}")
            };
            let v = ["8867-4", "2708-6", "8480-6", "8462-4", "8310-5"]
                .map(find)
                .to_vec();
            (r["record_id"].as_u64().unwrap(), v)
        })
        .collect()
}

/// The page's rows: record id and the five values it decrypted.
fn page_values(rows: &Value) -> Vec<(u64, Vec<f64>)> {
    let mut out: Vec<(u64, Vec<f64>)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let v = ["hr", "spo2", "sys", "dia", "temp"]
                .map(|k| r[k].as_str().unwrap().parse::<f64>().unwrap_or(f64::NAN))
                .to_vec();
            (r["record"].as_str().unwrap().parse().unwrap(), v)
        })
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// The network, its people and their data: a patient of north with two
/// readings (one abnormal), a doctor of south with the patient's consent,
/// and a bench report in the network's reports directory.
struct World {
    net: TestNet,
    patient_key: String,
    admin_key: String,
    /// A sealer's geth keystore file, its password and its address.
    keystore: (PathBuf, String, String),
}

fn world() -> World {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "46", "--quiet"]);
    let reg: Value = serde_json::from_str(
        &net.ok(&[
            "patient",
            "register",
            "--ssn",
            SSN,
            "--hospital",
            "north",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    let doctor: PrivateKeySigner = DOCTOR_KEY.parse().unwrap();
    net.ok(&["doctor", "add", "--hospital", "south", "--key", DOCTOR_KEY]);
    let doc = format!("{:#x}", doctor.address());
    net.ok(&["consent", "grant", "--ssn", SSN, "--reader", &doc]);
    for (hr, spo2, sys, dia, t) in [
        ("72", "97", "121", "79", "36.65"),
        ("173", "77", "211", "97", "38.42"),
    ] {
        net.ok(&[
            "records",
            "add",
            "--ssn",
            SSN,
            "--heart-rate",
            hr,
            "--spo2",
            spo2,
            "--systolic",
            sys,
            "--diastolic",
            dia,
            "--temperature",
            t,
        ]);
    }
    let state = medchain::state::State::load(&net.home(), "console-roles").unwrap();
    let id: alloy::primitives::B256 = reg["patient"].as_str().unwrap().parse().unwrap();
    let wallet = medchain::privacy::chain::PrivateNet::of(&state)
        .unwrap()
        .patient_wallet(id);
    assert_eq!(
        format!("{:#x}", wallet.address()),
        reg["wallet"].as_str().unwrap().to_lowercase()
    );
    let reports = state.plan.dir.join("reports");
    std::fs::write(net.dir.path().join("tiny.yaml"), TINY).unwrap();
    let (j, h) = (reports.join("tiny.json"), reports.join("tiny.html"));
    net.ok(&[
        "bench",
        "tiny.yaml",
        "--quiet",
        "--no-metrics",
        "--json",
        j.to_str().unwrap(),
        "--html",
        h.to_str().unwrap(),
    ]);
    let sealer = &state.plan.nodes[0];
    let ks_dir = sealer.datadir.join("keystore");
    let ks_file = std::fs::read_dir(&ks_dir)
        .unwrap()
        .flatten()
        .next()
        .expect("a keystore file")
        .path();
    let password = std::fs::read_to_string(sealer.password_file.as_ref().unwrap()).unwrap();
    World {
        keystore: (
            ks_file,
            password,
            sealer.account.signer().address().to_checksum(None),
        ),
        patient_key: format!("0x{}", hex::encode(wallet.to_bytes())),
        admin_key: format!(
            "0x{}",
            hex::encode(state.plan.accounts[0].signer().to_bytes())
        ),
        net,
    }
}

/// Sign-in refusals and role checks over HTTP.
/// A signed EIP-1559 transfer from `key`, as `eth_sendRawTransaction`
/// takes it.
fn raw_tx(key: &PrivateKeySigner) -> String {
    use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy::eips::eip2718::Encodable2718;
    use alloy::signers::SignerSync;
    let tx = TxEip1559 {
        chain_id: 1,
        gas_limit: 21_000,
        max_fee_per_gas: 1,
        to: alloy::primitives::TxKind::Call(alloy::primitives::Address::ZERO),
        ..Default::default()
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let env: TxEnvelope = tx.into_signed(sig).into();
    format!("0x{}", hex::encode(env.encoded_2718()))
}

fn http_checks(url: &str, admin: &PrivateKeySigner) {
    let doctor: PrivateKeySigner = DOCTOR_KEY.parse().unwrap();
    let stranger = PrivateKeySigner::random();

    let (text, sig) = attempt(url, &doctor, &stranger);
    let a = verify(url, &text, &sig);
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(
        a.body["error"]
            .as_str()
            .unwrap()
            .contains("wrong signature"),
        "{}",
        a.body
    );

    let (text, sig) = attempt(url, &doctor, &doctor);
    let a = verify(url, &text, &sig);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["role_names"], json!(["doctor"]), "{}", a.body);
    let cookie = a.cookie.expect("a session cookie");
    let replay = verify(url, &text, &sig);
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(
        replay.body["error"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{}",
        replay.body
    );

    let (text, sig) = attempt(url, &doctor, &doctor);
    std::thread::sleep(Duration::from_secs(4)); // the console runs with --nonce-ttl 3
    let late = verify(url, &text, &sig);
    assert_eq!(late.status, 401, "{}", late.body);
    assert!(
        late.body["error"].as_str().unwrap().contains("expired"),
        "{}",
        late.body
    );

    let mine = http(
        "GET",
        &format!("{url}/api/doctor"),
        None,
        &[("cookie", &cookie)],
    );
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["patients"][0]["via"], "consent", "{}", mine.body);
    let forbidden = http(
        "GET",
        &format!("{url}/api/patient"),
        None,
        &[("cookie", &cookie)],
    );
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    assert!(
        forbidden.body["error"]
            .as_str()
            .unwrap()
            .contains("needs the patient role"),
        "{}",
        forbidden.body
    );
    let bench = http(
        "GET",
        &format!("{url}/api/reports"),
        None,
        &[("cookie", &cookie)],
    );
    assert_eq!(bench.status, 403, "{}", bench.body);
    let anonymous = http("GET", &format!("{url}/api/doctor"), None, &[]);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let foreign = http(
        "POST",
        &format!("{url}/api/siwe/logout"),
        Some(json!({})),
        &[("cookie", &cookie), ("origin", "http://evil.example")],
    );
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let out = http(
        "POST",
        &format!("{url}/api/siwe/logout"),
        Some(json!({})),
        &[("cookie", &cookie)],
    );
    assert_eq!(out.body["signed_out"], true, "{}", out.body);
    let after = http(
        "GET",
        &format!("{url}/api/doctor"),
        None,
        &[("cookie", &cookie)],
    );
    assert_eq!(
        after.status, 401,
        "a signed-out session is gone: {}",
        after.body
    );

    let (text, sig) = attempt(url, admin, admin);
    let a = verify(url, &text, &sig);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body["role_names"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{}",
        a.body
    );
    let cookie = a.cookie.unwrap();
    // The relay passes on only the signed-in address's own transactions.
    let foreign_tx = http(
        "POST",
        &format!("{url}/api/rpc"),
        Some(json!({"method": "eth_sendRawTransaction", "params": [raw_tx(&stranger)]})),
        &[("cookie", &cookie)],
    );
    assert_eq!(foreign_tx.status, 403, "{}", foreign_tx.body);
    assert!(
        foreign_tx.body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("signed by {:#x}", stranger.address())),
        "{}",
        foreign_tx.body
    );
    for bad in [
        "..%2Fstate.json",
        "..%2F..%2Fstate.json",
        "state.json",
        ".hidden.json",
    ] {
        let r = http(
            "GET",
            &format!("{url}/reports/{bad}"),
            None,
            &[("cookie", &cookie)],
        );
        assert_eq!(r.status, 404, "{bad}: {}", r.body);
    }
}

#[test]
fn sign_in_roles_and_decrypted_readings_in_chromium() {
    let check = console_check();
    let w = world();
    let patient_values = cli_values(&w.net, &w.patient_key);
    let doctor_values = cli_values(&w.net, DOCTOR_KEY);
    assert_eq!(patient_values.len(), 2);

    let console = Spawned::medchain(
        &w.net,
        &["serve", "--listen", "127.0.0.1:0", "--nonce-ttl", "3"],
    );
    let first = console.wait_for(" listening on ", Duration::from_secs(30));
    let url = first.split(" listening on ").nth(1).unwrap().to_string();
    http_checks(&url, &w.admin_key.parse().unwrap());

    let shots = std::env::var("MEDCHAIN_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| w.net.home().join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(&check)
        .args([
            &url,
            &w.patient_key,
            DOCTOR_KEY,
            &w.admin_key,
            shots.to_str().unwrap(),
        ])
        .args([w.keystore.0.to_str().unwrap(), &w.keystore.1])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "roles check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The keystore's account signs in; a sealer's account has no role.
    assert_eq!(seen["keystore"]["error"], "", "{seen}");
    assert_eq!(
        seen["keystore"]["who"],
        format!("{} — no role", w.keystore.2),
        "{seen}"
    );

    assert!(
        seen["patient"]["who"].as_str().unwrap().contains("patient"),
        "{seen}"
    );
    assert_eq!(
        page_values(&seen["patient"]["rows"]),
        patient_values,
        "{seen}"
    );
    let doctor_addr = format!(
        "{:#x}",
        DOCTOR_KEY.parse::<PrivateKeySigner>().unwrap().address()
    );
    let holders: Vec<String> = seen["patient"]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(holders, [doctor_addr], "{seen}");

    assert!(
        seen["doctor"]["who"].as_str().unwrap().contains("doctor"),
        "{seen}"
    );
    assert_eq!(
        page_values(&seen["doctor"]["rows"]),
        doctor_values,
        "{seen}"
    );
    // 173 /min, SpO2 77 and 211 mmHg are over the thresholds; nothing else is.
    assert_eq!(
        seen["doctor"]["abnormal"],
        json!(["173", "77", "211"]),
        "{seen}"
    );
    assert!(
        seen["doctor"]["chart_points"].as_u64().unwrap() >= 2,
        "{seen}"
    );
    assert!(
        seen["doctor"]["patient_view_error"]
            .as_str()
            .unwrap()
            .contains("needs the patient role"),
        "{seen}"
    );

    let mut names: Vec<&str> = seen["admin"]["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["tiny.html", "tiny.json"], "{seen}");
    assert!(
        seen["admin"]["json_title"]
            .as_str()
            .unwrap()
            .contains("console-tiny"),
        "{seen}"
    );
    assert!(
        seen["admin"]["html_text"]
            .as_str()
            .unwrap()
            .contains("console-tiny"),
        "{seen}"
    );
    assert_eq!(seen["page_errors"], json!([]), "{seen}");
}
