//! Patient privacy: a reading leaves the device as a FHIR R4 document,
//! encrypted with the patient's data key, stored off-chain and addressed by
//! the content identifier (CID) of the stored bytes; the chain is meant to
//! hold only that CID's digest with the device, the sequence and the
//! timestamps (issue 14).
//!
//! The format layer, with no network and no chain:
//! - [`fhir`]: the Observations a reading becomes (LOINC-coded vital signs)
//!   and the Bundles that carry them;
//! - [`seal`]: authenticated encryption of a document (XChaCha20-Poly1305),
//!   bound to the record it belongs to;
//! - [`content_id`]: the IPFS-compatible CIDv1 (raw codec, sha2-256) of
//!   stored bytes, and the 32-byte digest the chain keeps;
//! - [`store`]: where the encrypted bytes live, behind a small trait, with
//!   the embedded default (files under the network's directory);
//! - [`wrap`]: a patient's data key wrapped to a reader's secp256k1 key
//!   (ECIES), what consent hands out;
//! - [`envelope`]: a reading sealed under a fresh content key wrapped to
//!   the patient's data public key, so devices write without reading.
//!
//! On a running network (the PrivateRecords contract): [`chain`] (the
//! network and key helpers), [`custody`] (a hospital's patient register),
//! [`patients`] (registration, doctors, devices), [`enrol`] (many of
//! them at once), [`devices`] (`device provision` for private networks), [`consent`] (grant,
//! revoke with rotation, share), [`readings`] (write and read) and
//! [`view`] (the terminal table).
//!
//! What it protects, and from whom, is stated in docs/privacy.md.

pub mod chain;
pub mod consent;
pub mod content_id;
pub mod custody;
pub mod devices;
pub mod enrol;
pub mod envelope;
pub mod fhir;
pub mod patients;
pub mod readings;
pub mod seal;
pub mod store;
pub mod view;
pub mod wrap;

use crate::topology::Privacy;

/// One line saying who can read a network's records, for every output
/// that reports on records.
pub fn notice(privacy: Privacy) -> &'static str {
    match privacy {
        Privacy::Private => "records: private (PrivateRecords): readings are sealed off-chain; the chain holds their content digest, device, sequence and times",
        Privacy::Clear => "records: PUBLIC (privacy: clear, the published MedicalRecords layout): every vital sign is in clear on chain, readable by anyone with node access; for reproducing the seed papers only",
    }
}
