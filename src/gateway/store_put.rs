//! `PUT /store/<cid>`: where a private network's devices leave their
//! sealed readings (docs/privacy.md). The gateway stores the body in the
//! network's embedded store only when it is what the path names — its raw
//! sha2-256 CIDv1 — and has the shape of a sealed envelope, so a device (or
//! anyone holding a token) cannot put plaintext, or one CID's bytes under
//! another, into the store readers trust. It cannot tell ciphertext from
//! random bytes: what it checks is the envelope's header and length.
//!
//! Answers: 201 with `{"cid": …}` (also when the bytes were already there:
//! a device resending after a lost answer gets the same), 400 for a body
//! that is not what the path names or not an envelope, 404 on a
//! `privacy: clear` network (it has no store).

use cid::Cid;
use hyper::StatusCode;

use crate::privacy::{content_id, envelope};

/// The path prefix served.
pub const PREFIX: &str = "/store/";

/// Why a `PUT` is refused: the status and one line for the client.
pub type Refusal = (StatusCode, String);

/// Checks a `PUT /store/<cid>` body against its path; returns the CID.
pub fn check(path: &str, body: &[u8]) -> Result<Cid, Refusal> {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m);
    let text = path.strip_prefix(PREFIX).unwrap_or(path);
    let named = content_id::parse(text).map_err(|e| bad(format!("{PREFIX}{text}: {e:#}")))?;
    if content_id::digest(&named).is_none() {
        return Err(bad(format!(
            "{PREFIX}{text}: not a raw sha2-256 CIDv1, the only kind the store keeps"
        )));
    }
    let found = content_id::of(body);
    if found != named {
        return Err(bad(format!(
            "the body is {found}, not {named}: put the sealed bytes under their own CID"
        )));
    }
    if envelope::key_version(body).is_none() {
        return Err(bad(format!(
            "the body is not a sealed reading (an envelope of format {} with a wrapped key): the store keeps nothing in clear",
            envelope::VERSION
        )));
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::seal::Binding;
    use alloy::primitives::{Address, B256};

    fn sealed() -> Vec<u8> {
        let (_, public) = envelope::new_data_key();
        let key = k256::PublicKey::from_sec1_bytes(&public).unwrap();
        let binding = Binding {
            patient: B256::repeat_byte(1),
            device: Address::repeat_byte(2),
            sequence: 1,
        };
        envelope::seal_to(&key, 1, &binding, b"{\"resourceType\":\"Bundle\"}")
    }

    #[test]
    fn an_envelope_under_its_own_cid_is_taken() {
        let body = sealed();
        let cid = content_id::of(&body);
        assert_eq!(check(&format!("/store/{cid}"), &body), Ok(cid));
    }

    #[test]
    fn plaintext_another_cid_or_a_bad_path_is_refused() {
        let body = sealed();
        let cid = content_id::of(&body);
        let plain = b"heart rate 72".to_vec();
        let (status, msg) =
            check(&format!("/store/{}", content_id::of(&plain)), &plain).unwrap_err();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(msg.contains("not a sealed reading"), "{msg}");
        let mut flipped = body.clone();
        flipped[50] ^= 1;
        let (_, msg) = check(&format!("/store/{cid}"), &flipped).unwrap_err();
        assert!(
            msg.contains("not ") && msg.contains(&cid.to_string()),
            "{msg}"
        );
        let (_, msg) = check("/store/not-a-cid", &body).unwrap_err();
        assert!(msg.starts_with("/store/not-a-cid: "), "{msg}");
    }
}
