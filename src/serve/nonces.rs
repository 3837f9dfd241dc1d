//! The sign-in nonces the console hands out: random, single-use, and
//! valid for a limited time, so a signed sign-in message cannot be
//! replayed — not after it was used once, not after its nonce expired,
//! and not against a console that never issued it.
//!
//! Used and expired nonces are remembered until twice their lifetime has
//! passed so a replay gets "already used" or "expired" rather than "never
//! issued"; the table is bounded ([`MAX_OUTSTANDING`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::distributions::Alphanumeric;
use rand::Rng;

/// Most nonces kept at once; beyond it the oldest are forgotten first.
pub const MAX_OUTSTANDING: usize = 10_000;
/// Characters in a nonce (EIP-4361 asks for at least 8 alphanumerics).
pub const LEN: usize = 24;

/// Why a nonce is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This console never issued it (or forgot it long ago).
    Unknown,
    /// A sign-in already used it.
    Used,
    /// Its lifetime passed before it was used.
    Expired,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unknown => "the nonce was not issued by this console; ask for a new one (GET /api/siwe/nonce) and sign again",
            Self::Used => "the nonce was already used by a sign-in (a replayed message); ask for a new one and sign again",
            Self::Expired => "the nonce expired before the sign-in; ask for a new one and sign again",
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Issued {
    at: Instant,
    used: bool,
}

/// The nonces issued, with their lifetime.
#[derive(Debug)]
pub struct Nonces {
    ttl: Duration,
    issued: HashMap<String, Issued>,
}

impl Nonces {
    /// A table whose nonces live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            issued: HashMap::new(),
        }
    }

    /// How long a nonce lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh random nonce, issued at `now`.
    pub fn issue(&mut self, now: Instant) -> String {
        self.forget_old(now);
        let nonce: String = rand::rngs::OsRng
            .sample_iter(&Alphanumeric)
            .take(LEN)
            .map(char::from)
            .collect();
        self.issued.insert(
            nonce.clone(),
            Issued {
                at: now,
                used: false,
            },
        );
        nonce
    }

    /// Uses `nonce` at `now`: fine once, within its lifetime.
    pub fn take(&mut self, nonce: &str, now: Instant) -> Result<(), Refused> {
        let n = self.issued.get_mut(nonce).ok_or(Refused::Unknown)?;
        if n.used {
            return Err(Refused::Used);
        }
        if now.saturating_duration_since(n.at) > self.ttl {
            return Err(Refused::Expired);
        }
        n.used = true;
        Ok(())
    }

    /// Drops what is older than twice the lifetime, then the oldest while
    /// the table is full.
    fn forget_old(&mut self, now: Instant) {
        let keep = self.ttl * 2;
        self.issued
            .retain(|_, n| now.saturating_duration_since(n.at) <= keep);
        while self.issued.len() >= MAX_OUTSTANDING {
            let oldest = self
                .issued
                .iter()
                .min_by_key(|(_, n)| n.at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.issued.remove(&k),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_works_once_and_only_within_its_lifetime() {
        let t0 = Instant::now();
        let mut n = Nonces::new(Duration::from_secs(300));
        let a = n.issue(t0);
        assert_eq!(a.len(), LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(n.issue(t0), a, "random");
        assert_eq!(n.take(&a, t0 + Duration::from_secs(10)), Ok(()));
        assert_eq!(n.take(&a, t0 + Duration::from_secs(11)), Err(Refused::Used));

        let b = n.issue(t0);
        assert_eq!(
            n.take(&b, t0 + Duration::from_secs(301)),
            Err(Refused::Expired)
        );
        assert_eq!(n.take("neverIssued123", t0), Err(Refused::Unknown));
        // Long after, both are forgotten.
        n.issue(t0 + Duration::from_secs(601));
        assert_eq!(
            n.take(&b, t0 + Duration::from_secs(601)),
            Err(Refused::Unknown)
        );
        assert!(Refused::Used.to_string().contains("already used"));
        assert!(Refused::Expired.to_string().contains("expired"));
    }

    #[test]
    fn the_table_stays_bounded() {
        let t0 = Instant::now();
        let mut n = Nonces::new(Duration::from_secs(300));
        let first = n.issue(t0);
        for i in 0..MAX_OUTSTANDING {
            n.issue(t0 + Duration::from_millis(i as u64 + 1));
        }
        assert!(n.issued.len() <= MAX_OUTSTANDING);
        assert_eq!(
            n.take(&first, t0),
            Err(Refused::Unknown),
            "the oldest went first"
        );
    }
}
