//! MedicalRecords and Simple on a real geth network brought up by medchain:
//! access control with revert reasons, events, pagination, EMR custody,
//! Caliper's simple semantics, and the gas each operation costs.

mod common;

use alloy::primitives::{Address, B256, I256, U256};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use common::TestNet;
use medchain::contract::{
    patient_id, revert_reason, signing_provider, wait_receipt, MedicalRecords, Simple,
};
use medchain::state::State;

const TOPO: &str = "\
network: contracts-e2e
privacy: clear
block_period: 1
hospitals:
  - {name: north, sealers: 1, members: 0}
  - {name: south, sealers: 0, members: 1}
";

struct Ctx {
    rt: tokio::runtime::Runtime,
    url: String,
    mr: Address,
    simple: Address,
    gas: Vec<(String, u64)>,
}

impl Ctx {
    fn mr(&self, who: &PrivateKeySigner) -> MedicalRecords::MedicalRecordsInstance<DynProvider> {
        MedicalRecords::new(self.mr, signing_provider(&self.url, who).unwrap())
    }

    /// Sends a call and returns its receipt, or the revert reason.
    fn send<D: alloy::contract::CallDecoder + Send + Sync + Unpin>(
        &mut self,
        label: &str,
        call: alloy::contract::CallBuilder<&DynProvider, D>,
        provider: &DynProvider,
    ) -> Result<TransactionReceipt, String> {
        let r = self.rt.block_on(async {
            // eth_call first: a revert is reported with its reason and never mined.
            call.call_raw()
                .await
                .map_err(|e| revert_reason(&e).unwrap_or(e.to_string()))?;
            let p = call
                .send()
                .await
                .map_err(|e| revert_reason(&e).unwrap_or(e.to_string()))?;
            wait_receipt(provider, *p.tx_hash(), std::time::Duration::from_secs(60))
                .await
                .map_err(|e| e.to_string())
        })?;
        assert!(r.status(), "{label} reverted on chain");
        if !self.gas.iter().any(|(l, _)| l == label) {
            self.gas.push((label.to_string(), r.gas_used));
        }
        Ok(r)
    }
}

macro_rules! tx {
    ($ctx:expr, $label:expr, $who:expr, |$c:ident| $call:expr) => {{
        let inst = $ctx.mr($who);
        let provider = inst.provider().clone();
        let $c = &inst;
        let call = $call;
        $ctx.send($label, call, &provider)
    }};
}

fn key(state: &State, i: usize) -> PrivateKeySigner {
    state.plan.accounts[i].signer()
}

#[test]
fn medical_records_access_events_pagination_custody_and_simple() {
    let net = TestNet::new(TOPO);
    net.ok(&["up", "--seed", "21", "--quiet"]);
    let state = State::load(&net.home(), "contracts-e2e").unwrap();
    let mut ctx = Ctx {
        rt: tokio::runtime::Runtime::new().unwrap(),
        url: state.plan.nodes[1]
            .rpc_url()
            .expect("south-member-0 serves clients"),
        mr: state.contracts["medical_records"],
        simple: state.contracts["simple"],
        gas: vec![],
    };
    let admin = key(&state, 0);
    let doctor = key(&state, 1);
    let device1 = key(&state, 2);
    let device2 = key(&state, 3);
    let stranger = key(&state, 4);
    let north = state.plan.hospital_keys[0].1.signer();
    let south = state.plan.hospital_keys[1].1.signer();
    let p1 = patient_id(state.plan.patient_salt, "111-11-1111");
    let p2 = patient_id(state.plan.patient_salt, "222-22-2222");

    // up registered both hospitals under their names.
    let names: Vec<String> = [north.address(), south.address()]
        .iter()
        .map(|a| {
            ctx.rt
                .block_on(async { ctx.mr(&admin).hospitalName(*a).call().await })
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["north", "south"]);

    tx!(ctx, "registerDoctor", &north, |c| c
        .registerDoctor(doctor.address()))
    .unwrap();
    tx!(ctx, "registerDevice", &north, |c| c
        .registerDevice(device1.address(), p1))
    .unwrap();
    tx!(ctx, "registerDevice", &north, |c| c
        .registerDevice(device2.address(), p2))
    .unwrap();

    // An authorized device writes; its events decode with what a tracker needs.
    let mut first = None;
    for seq in 1..=5u64 {
        let r = tx!(
            ctx,
            if seq == 1 {
                "addMedicalRecord (first)"
            } else {
                "addMedicalRecord"
            },
            &device1,
            |c| c.addMedicalRecord(
                p1,
                60 + seq as u16,
                97,
                120,
                80,
                3680,
                1_700_000_000 + seq,
                seq
            )
        )
        .unwrap();
        let log = r
            .inner
            .logs()
            .iter()
            .find_map(|l| MedicalRecords::RecordAdded::decode_log(&l.inner).ok())
            .unwrap();
        assert_eq!(log.patient, p1);
        assert_eq!(log.device, device1.address());
        assert_eq!(log.recordId, U256::from(seq - 1));
        assert_eq!(log.sequence, seq);
        assert_eq!(log.deviceTimestamp, 1_700_000_000 + seq);
        first.get_or_insert(r.transaction_hash);
    }
    let abnormal = tx!(ctx, "addMedicalRecord (abnormal)", &device2, |c| c
        .addMedicalRecord(p2, 150, 85, 120, 80, 3650, 1_700_000_100, 1))
    .unwrap();
    let alarm = abnormal
        .inner
        .logs()
        .iter()
        .find_map(|l| MedicalRecords::AbnormalReading::decode_log(&l.inner).ok())
        .expect("abnormal reading raises an alarm event");
    assert_eq!(alarm.reason, 2 | 4, "heart rate high and SpO2 low");

    // A device writing for another device's patient, and a replayed sequence, revert.
    let e = tx!(ctx, "x", &device1, |c| c
        .addMedicalRecord(p2, 70, 98, 120, 80, 3680, 1, 6))
    .unwrap_err();
    assert_eq!(e, "MedicalRecords: device not bound to this patient");
    let e = tx!(ctx, "x", &device1, |c| c
        .addMedicalRecord(p1, 70, 98, 120, 80, 3680, 1, 5))
    .unwrap_err();
    assert_eq!(e, "MedicalRecords: duplicate or stale sequence");
    let e = tx!(ctx, "x", &stranger, |c| c
        .addMedicalRecord(p1, 70, 98, 120, 80, 3680, 1, 9))
    .unwrap_err();
    assert_eq!(e, "MedicalRecords: caller is not a registered device");

    // Reads: unauthorized callers revert with the reason, authorized doctor reads.
    let read = |ctx: &Ctx, who: &PrivateKeySigner, off: u64, lim: u64| {
        ctx.rt
            .block_on(async {
                ctx.mr(who)
                    .getMedicalRecords(p1, U256::from(off), U256::from(lim))
                    .from(who.address())
                    .call()
                    .await
            })
            .map_err(|e| revert_reason(&e).unwrap_or(e.to_string()))
    };
    assert_eq!(
        read(&ctx, &stranger, 0, 10).unwrap_err(),
        "MedicalRecords: caller not authorized to read"
    );
    assert_eq!(
        read(&ctx, &doctor, 0, 10).unwrap_err(),
        "MedicalRecords: caller not authorized to read"
    );
    tx!(ctx, "authorizeUser", &admin, |c| c
        .authorizeUser(doctor.address()))
    .unwrap();
    // Authorized but neither consent nor custody: still refused.
    assert_eq!(
        read(&ctx, &doctor, 0, 10).unwrap_err(),
        "MedicalRecords: caller not authorized to read"
    );
    let content = B256::repeat_byte(0xab);
    tx!(ctx, "openEmr", &north, |c| c.openEmr(
        p1,
        content,
        north.address()
    ))
    .unwrap();
    let all = read(&ctx, &doctor, 0, 10).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(all[2].heartRate, 63);
    assert_eq!(all[0].device, device1.address());

    // Pagination.
    let page = read(&ctx, &doctor, 1, 2).unwrap();
    assert_eq!(page.iter().map(|r| r.sequence).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(read(&ctx, &doctor, 4, 10).unwrap().len(), 1);
    assert!(read(&ctx, &doctor, 5, 10).unwrap().is_empty());
    assert!(read(&ctx, &doctor, 0, 0).unwrap().is_empty());
    let count = ctx
        .rt
        .block_on(async {
            ctx.mr(&doctor)
                .medicalRecordCount(p1)
                .from(doctor.address())
                .call()
                .await
        })
        .unwrap();
    assert_eq!(count, U256::from(5));

    // EMR custody: only the custodian moves it; the move is an event; the old
    // hospital's doctor loses custody-based access.
    let e = tx!(ctx, "x", &south, |c| c.transferEmr(p1, south.address())).unwrap_err();
    assert_eq!(e, "MedicalRecords: caller is not the custodian");
    let r = tx!(ctx, "transferEmr", &north, |c| c
        .transferEmr(p1, south.address()))
    .unwrap();
    let moved = r
        .inner
        .logs()
        .iter()
        .find_map(|l| MedicalRecords::EmrTransferred::decode_log(&l.inner).ok())
        .unwrap();
    assert_eq!((moved.from, moved.to), (north.address(), south.address()));
    let q = ctx
        .rt
        .block_on(async { ctx.mr(&admin).queryEmr(p1).call().await })
        .unwrap();
    assert_eq!((q.contentHash, q.custodian), (content, south.address()));
    assert_eq!(
        read(&ctx, &doctor, 0, 10).unwrap_err(),
        "MedicalRecords: caller not authorized to read"
    );
    tx!(ctx, "updateEmr", &south, |c| c
        .updateEmr(p1, B256::repeat_byte(0xcd)))
    .unwrap();

    // `medchain tx` decodes the call and the events.
    let out = net.ok(&["tx", &format!("{:#x}", first.unwrap())]).stdout;
    assert!(
        out.contains("MedicalRecords.addMedicalRecord(patient="),
        "{out}"
    );
    assert!(
        out.contains("event   RecordAdded(") && out.contains("sequence=1"),
        "{out}"
    );

    // Simple behaves as Caliper's simple contract.
    let sp = signing_provider(&ctx.url, &admin).unwrap();
    let simple = Simple::new(ctx.simple, sp.clone());
    let send = |ctx: &mut Ctx, label: &str, call: alloy::contract::CallBuilder<&DynProvider, _>| {
        ctx.send(label, call, &sp).unwrap()
    };
    send(
        &mut ctx,
        "Simple.open",
        simple
            .open("alice".into(), I256::try_from(100).unwrap())
            .clear_decoder(),
    );
    send(
        &mut ctx,
        "Simple.open",
        simple
            .open("bob".into(), I256::try_from(50).unwrap())
            .clear_decoder(),
    );
    send(
        &mut ctx,
        "Simple.transfer",
        simple
            .transfer("alice".into(), "bob".into(), I256::try_from(30).unwrap())
            .clear_decoder(),
    );
    send(
        &mut ctx,
        "Simple.transfer",
        simple
            .transfer("carol".into(), "bob".into(), I256::try_from(5).unwrap())
            .clear_decoder(),
    );
    let q = |ctx: &Ctx, who: &str| {
        ctx.rt
            .block_on(async { simple.query(who.into()).call().await })
            .unwrap()
    };
    assert_eq!(q(&ctx, "alice"), I256::try_from(70).unwrap());
    assert_eq!(q(&ctx, "bob"), I256::try_from(85).unwrap());
    assert_eq!(
        q(&ctx, "carol"),
        I256::try_from(-5).unwrap(),
        "Caliper's simple does not check balances"
    );
    assert_eq!(q(&ctx, "nobody"), I256::ZERO);

    // Gas per operation, measured on this node (docs/contracts.md).
    println!("| operation | gas used |\n| --- | ---: |");
    for (label, gas) in &ctx.gas {
        println!("| {label} | {gas} |");
        assert!(*gas > 21_000 && *gas < 200_000, "{label}: {gas}");
    }
}

#[test]
fn records_cli_stores_and_reads_back() {
    let net = TestNet::new(
        "network: records-cli\nprivacy: clear\nblock_period: 1\nhospitals:\n  - {name: a, members: 1}\n",
    );
    net.ok(&["up", "--seed", "5", "--quiet"]);
    let add = net.ok(&[
        "records",
        "add",
        "--ssn",
        "999-00-1234",
        "--heart-rate",
        "71",
        "--spo2",
        "99",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&add.stdout).unwrap();
    assert_eq!(v["record_id"], 0);
    assert_eq!(v["sequence"], 1);
    net.ok(&[
        "records",
        "add",
        "--ssn",
        "999-00-1234",
        "--heart-rate",
        "72",
        "--spo2",
        "98",
        "--temperature",
        "37.5",
    ]);
    let got = net.ok(&["records", "get", "--ssn", "999-00-1234"]).stdout;
    // A clear network says its records are public, then the page.
    assert!(got.starts_with("records: PUBLIC"), "{got}");
    assert!(
        got.lines().nth(1).unwrap().starts_with("2 record(s)"),
        "{got}"
    );
    assert!(got.contains("37.50"), "{got}");
    // A reader without rights gets the contract's reason and exit 1.
    let r = net.run(&[
        "records",
        "get",
        "--ssn",
        "999-00-1234",
        "--key",
        &format!("{:#x}", B256::repeat_byte(7)),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("MedicalRecords: caller not authorized to read"),
        "{}",
        r.stderr
    );
    // Authorizing that reader lets it read.
    let reader = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).unwrap();
    net.ok(&["authorize", &format!("{:#x}", reader.address())]);
    net.ok(&[
        "records",
        "get",
        "--ssn",
        "999-00-1234",
        "--key",
        &format!("{:#x}", B256::repeat_byte(7)),
    ]);
    // status --json lists both contracts.
    let st = net.status();
    assert!(st["contracts"]["medical_records"]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    assert!(st["contracts"]["simple"]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    // Bad input exits 2.
    assert_eq!(net.run(&["authorize", "not-an-address"]).code, 2);
    assert_eq!(net.run(&["records", "get", "--patient", "0x12"]).code, 2);
}
