//! Checking a Sign-In with Ethereum attempt: the signed message must be
//! for this console (its domain the `Host` the page was served from, its
//! URI under it, its chain id the network's), current (issued-at not in
//! the future nor older than a nonce lives, before its expiration and
//! after its not-before), signed by the address it names (EIP-191
//! personal_sign, recovered with alloy), and carry a nonce this console
//! issued, unused and unexpired. The nonce is spent only by a sign-in
//! that passed every other check.

use std::time::Instant;

use alloy::primitives::{Address, Signature};
use chrono::{DateTime, Utc};

use super::nonces::{Nonces, Refused};
use super::siwe::Message;

/// Clock difference tolerated between the page and the console.
pub const SKEW_SECS: i64 = 60;

/// What this console expects of a sign-in message.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The `Host` the request came to (`127.0.0.1:8700`).
    pub host: &'a str,
    /// The network's chain id.
    pub chain_id: u64,
    /// `http` or `https`: what the message's URI must start with.
    pub scheme: &'a str,
}

/// Why a sign-in failed: a request that is not a sign-in at all (400), or
/// one that does not prove the address now, here (401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The message or signature cannot be read.
    Malformed(String),
    /// Read, but refused.
    Refused(String),
}

fn refused(m: impl Into<String>) -> Failure {
    Failure::Refused(m.into())
}

/// The address `message` (the exact text signed) proves with `signature`
/// (0x and 65 bytes, r ‖ s ‖ v), checked against `expect` and `nonces`.
pub fn check(
    text: &str,
    signature: &str,
    expect: Expect<'_>,
    nonces: &mut Nonces,
    (now, wall): (Instant, DateTime<Utc>),
) -> Result<Address, Failure> {
    let m = Message::parse(text).map_err(|e| Failure::Malformed(e.to_string()))?;
    check_fields(&m, expect, nonces, wall)?;
    let raw = signature
        .strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() == 65)
        .ok_or_else(|| {
            Failure::Malformed("signature: expected 0x and 65 bytes in hex (r, s, v)".into())
        })?;
    let sig =
        Signature::from_raw(&raw).map_err(|e| Failure::Malformed(format!("signature: {e}")))?;
    let signer = sig.recover_address_from_msg(text.as_bytes()).map_err(|_| {
        refused("wrong signature: it does not recover to any address for this message")
    })?;
    if signer != m.address {
        return Err(refused(format!(
            "wrong signature: the message is signed by {signer}, not by {} whom it names",
            m.address
        )));
    }
    nonces
        .take(&m.nonce, now)
        .map_err(|r: Refused| refused(r.to_string()))?;
    Ok(m.address)
}

/// The domain, URI, chain id and times.
fn check_fields(
    m: &Message,
    expect: Expect<'_>,
    nonces: &Nonces,
    wall: DateTime<Utc>,
) -> Result<(), Failure> {
    if m.domain != expect.host {
        return Err(refused(format!(
            "the message is for domain {:?}, but this console is {:?}: it was made for another site",
            m.domain, expect.host
        )));
    }
    let base = format!("{}://{}", expect.scheme, expect.host);
    if m.uri != base && !m.uri.starts_with(&format!("{base}/")) {
        return Err(refused(format!(
            "the message's URI {:?} is not under {base}/",
            m.uri
        )));
    }
    if m.chain_id != expect.chain_id {
        return Err(refused(format!(
            "the message is for chain {}, this network is chain {}",
            m.chain_id, expect.chain_id
        )));
    }
    let skew = chrono::Duration::seconds(SKEW_SECS);
    let issued = m.issued_at.with_timezone(&Utc);
    if issued > wall + skew {
        return Err(refused("the message's Issued At is in the future"));
    }
    let life = chrono::Duration::from_std(nonces.ttl()).unwrap_or(chrono::Duration::MAX);
    let stale = issued
        .checked_add_signed(life)
        .and_then(|t| t.checked_add_signed(skew))
        .is_some_and(|t| t < wall);
    if stale {
        return Err(refused(
            "the message was issued longer ago than a nonce lives: the nonce expired; ask for a new one and sign again",
        ));
    }
    if m.expiration_time
        .is_some_and(|t| t.with_timezone(&Utc) <= wall)
    {
        return Err(refused("the message's Expiration Time has passed"));
    }
    if m.not_before
        .is_some_and(|t| t.with_timezone(&Utc) > wall + skew)
    {
        return Err(refused("the message's Not Before is still to come"));
    }
    Ok(())
}

/// Now, as a UTC time (chrono is built without its clock).
pub fn wall_now() -> DateTime<Utc> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::signers::local::PrivateKeySigner;
    use alloy::signers::SignerSync;
    use std::time::Duration;

    const HOST: &str = "127.0.0.1:8700";

    fn message(who: Address, nonce: &str, issued: DateTime<Utc>) -> String {
        Message {
            scheme: None,
            domain: HOST.into(),
            address: who,
            statement: Some("Sign in to the medchain console.".into()),
            uri: format!("http://{HOST}/"),
            version: "1".into(),
            chain_id: 1337,
            nonce: nonce.into(),
            issued_at: issued.fixed_offset(),
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: vec![],
        }
        .to_string()
    }

    fn sign(key: &PrivateKeySigner, text: &str) -> String {
        let sig = key.sign_message_sync(text.as_bytes()).unwrap();
        format!("0x{}", hex::encode(sig.as_bytes()))
    }

    #[test]
    fn a_signed_message_proves_its_address_once() {
        let key = PrivateKeySigner::random();
        let mut nonces = Nonces::new(Duration::from_secs(300));
        let t = Instant::now();
        let wall = wall_now();
        let nonce = nonces.issue(t);
        let text = message(key.address(), &nonce, wall);
        let expect = Expect {
            host: HOST,
            chain_id: 1337,
            scheme: "http",
        };
        let got = check(&text, &sign(&key, &text), expect, &mut nonces, (t, wall));
        assert_eq!(got, Ok(key.address()));
        let again = check(&text, &sign(&key, &text), expect, &mut nonces, (t, wall));
        assert!(matches!(again, Err(Failure::Refused(m)) if m.contains("already used")));
    }

    #[test]
    fn wrong_signatures_foreign_messages_and_old_nonces_are_refused() {
        let key = PrivateKeySigner::random();
        let other = PrivateKeySigner::random();
        let mut nonces = Nonces::new(Duration::from_secs(300));
        let t = Instant::now();
        let wall = wall_now();
        let expect = Expect {
            host: HOST,
            chain_id: 1337,
            scheme: "http",
        };
        let nonce = nonces.issue(t);
        let text = message(key.address(), &nonce, wall);
        let mut run = |text: &str, sig: &str, at: (Instant, DateTime<Utc>)| match check(
            text,
            sig,
            expect,
            &mut nonces,
            at,
        ) {
            Err(Failure::Refused(m)) | Err(Failure::Malformed(m)) => m,
            Ok(a) => panic!("signed in as {a}"),
        };
        let m = run(&text, &sign(&other, &text), (t, wall));
        assert!(m.contains("wrong signature"), "{m}");
        let m = run(&text, "0x1234", (t, wall));
        assert!(m.contains("65 bytes"), "{m}");
        let foreign = text.replace(HOST, "evil.example");
        let m = run(&foreign, &sign(&key, &foreign), (t, wall));
        assert!(m.contains("another site"), "{m}");
        let chain = text.replace("Chain ID: 1337", "Chain ID: 1");
        let m = run(&chain, &sign(&key, &chain), (t, wall));
        assert!(m.contains("chain 1,"), "{m}");
        // The wrong attempts did not spend the nonce; time does.
        let late = (t + Duration::from_secs(301), wall);
        let m = run(&text, &sign(&key, &text), late);
        assert!(m.contains("expired"), "{m}");
        let m = run(
            &text,
            &sign(&key, &text),
            (t, wall + chrono::Duration::seconds(600)),
        );
        assert!(m.contains("expired"), "{m}");
        let unknown = message(key.address(), "neverIssued123", wall);
        let m = run(&unknown, &sign(&key, &unknown), (t, wall));
        assert!(m.contains("not issued"), "{m}");
    }
}
