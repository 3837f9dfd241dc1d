//! The privacy formats checked by independent implementations (issue 14,
//! item 1): every FHIR R4 resource medchain builds for a reading passes
//! FHIR.js's validator with unexpected properties as errors, and the CID
//! medchain gives stored bytes equals the one multiformats (the reference
//! JavaScript implementation) computes for the same bytes read back from
//! the store. Both run from `tools/privacy-check` (`npm ci` there first,
//! as test.sh does); without it these tests fail, they never skip.

#[path = "common/privacy_check.rs"]
mod privacy_check;

use alloy::primitives::{Address, B256};
use medchain::privacy::store::{BlobStore, FileStore};
use medchain::privacy::{content_id, fhir, seal};
use medchain::records::Reading;
use privacy_check::{check, validate};

fn sample() -> (Reading, fhir::Context) {
    let reading = Reading {
        heart_rate: 131,
        spo2: 88,
        systolic: 182,
        diastolic: 95,
        temperature_centi_c: 3912,
    };
    let ctx = fhir::Context {
        patient: B256::repeat_byte(0x5a),
        device: Address::repeat_byte(0x3c),
        sequence: 42,
        taken_ms: 1_780_000_000_000,
    };
    (reading, ctx)
}

#[test]
fn every_resource_for_a_reading_is_valid_fhir_r4() {
    let (reading, ctx) = sample();
    let observations = fhir::observations(&reading, &ctx);
    for o in &observations {
        let (valid, errors) = validate(&serde_json::to_value(o).unwrap());
        assert!(valid && errors.is_empty(), "{}: {errors:?}", o.id);
    }
    for kind in ["collection", "searchset"] {
        let b = fhir::bundle(kind, observations.clone());
        let (valid, errors) = validate(&serde_json::to_value(&b).unwrap());
        assert!(valid && errors.is_empty(), "{kind} Bundle: {errors:?}");
    }
    // The validator is not a rubber stamp: a required element missing, or
    // one FHIR does not define, is an error.
    let mut broken = serde_json::to_value(&observations[0]).unwrap();
    broken.as_object_mut().unwrap().remove("status");
    assert!(!validate(&broken).0, "an Observation without status passed");
    let mut extra = serde_json::to_value(&observations[0]).unwrap();
    extra["heartRate"] = 131.into();
    assert!(!validate(&extra).0, "an unexpected property passed");
}

#[tokio::test]
async fn the_stored_bytes_cid_matches_an_independent_implementation() {
    let (reading, ctx) = sample();
    // A fixed key and nonce: the ciphertext (and the check below) is the
    // same on every run.
    let key = seal::DataKey::from_bytes([0x42; 32]);
    let binding = seal::Binding {
        patient: ctx.patient,
        device: ctx.device,
        sequence: ctx.sequence,
    };
    let doc = fhir::reading_document(&reading, &ctx);
    let sealed = seal::seal_with_nonce(&key, &[0x24; seal::NONCE_LEN], &binding, &doc);
    let net = tempfile::tempdir().unwrap();
    let store = FileStore::open(net.path()).unwrap();
    let cid = store.put(&sealed).await.unwrap();
    assert_eq!(check("cid", &store.path_of(&cid)), cid.to_string());
    assert_eq!(content_id::parse(&cid.to_string()).unwrap(), cid);
    // The stored bytes hold none of the values in clear, and open back to
    // the document with the key.
    let back = store.get(&cid).await.unwrap();
    assert!(!back.windows(3).any(|w| w == b"131" || w == b"182"));
    let doc = seal::open(&key, &binding, &back).unwrap();
    let obs = fhir::parse_reading_document(&doc).unwrap();
    assert_eq!(obs, fhir::observations(&reading, &ctx));
}
