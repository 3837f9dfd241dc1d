//! Server-side sessions: a random id in an HttpOnly, SameSite=Strict
//! cookie names what the server holds — the address that signed in and
//! the roles the chain gave it then — until the session expires or the
//! user signs out. Nothing in the cookie can be edited into another
//! address or role: the page never holds more than the id.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use rand::RngCore;

use super::roles::Roles;

/// The cookie's name.
pub const COOKIE: &str = "medchain_session";
/// Most sessions kept at once; beyond it the oldest are ended first.
pub const MAX_SESSIONS: usize = 10_000;

/// One signed-in user.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Session {
    /// The address that signed the sign-in message.
    pub address: Address,
    /// Its roles on chain when it signed in.
    pub roles: Roles,
    /// Seconds left until it expires.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    address: Address,
    roles: Roles,
    expires: Instant,
}

/// The sessions, by id.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    by_id: HashMap<String, Entry>,
}

impl Sessions {
    /// A table whose sessions last `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            by_id: HashMap::new(),
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Starts a session at `now`; returns its id (32 random bytes, hex).
    pub fn start(&mut self, address: Address, roles: Roles, now: Instant) -> String {
        self.by_id.retain(|_, e| e.expires > now);
        while self.by_id.len() >= MAX_SESSIONS {
            let oldest = self
                .by_id
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.by_id.remove(&k),
                None => break,
            };
        }
        let mut id = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let id = hex::encode(id);
        let expires = now + self.ttl;
        self.by_id.insert(
            id.clone(),
            Entry {
                address,
                roles,
                expires,
            },
        );
        id
    }

    /// The live session `id` names at `now` (an expired one is dropped).
    pub fn get(&mut self, id: &str, now: Instant) -> Option<Session> {
        let e = self.by_id.get(id)?;
        if e.expires <= now {
            self.by_id.remove(id);
            return None;
        }
        Some(Session {
            address: e.address,
            roles: e.roles.clone(),
            expires_in: e.expires.saturating_duration_since(now).as_secs(),
        })
    }

    /// Ends session `id`; true when there was one.
    pub fn end(&mut self, id: &str) -> bool {
        self.by_id.remove(id).is_some()
    }
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The `Set-Cookie` value that starts session `id` for `ttl`: HttpOnly (no
/// script reads it), SameSite=Strict (no other site's page sends it),
/// the whole console's path; `Secure` (sent over HTTPS only) when the
/// console serves TLS. Plain HTTP is loopback only (docs/serve.md says
/// what that leaves open).
pub fn set_cookie(id: &str, ttl: Duration, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        ttl.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_its_lifetime_and_ends_on_sign_out() {
        let t0 = Instant::now();
        let mut s = Sessions::new(Duration::from_secs(3600));
        let who = Address::repeat_byte(7);
        let id = s.start(who, Roles::default(), t0);
        assert_eq!(id.len(), 64);
        assert_ne!(s.start(who, Roles::default(), t0), id, "random ids");
        let got = s.get(&id, t0 + Duration::from_secs(100)).unwrap();
        assert_eq!((got.address, got.expires_in), (who, 3500));
        assert_eq!(s.get(&id, t0 + Duration::from_secs(3600)), None, "expired");
        assert_eq!(s.get(&id, t0), None, "an expired session is gone for good");

        let id = s.start(who, Roles::default(), t0);
        assert!(s.end(&id));
        assert_eq!(s.get(&id, t0), None);
        assert!(!s.end(&id));
        assert_eq!(s.get("forged", t0), None);
    }

    #[test]
    fn cookies_are_read_and_set_strictly() {
        assert_eq!(
            cookie("a=1; medchain_session=abc; b=2", COOKIE),
            Some("abc")
        );
        assert_eq!(cookie("xmedchain_session=abc", COOKIE), None);
        let set = set_cookie("abc", Duration::from_secs(60), false);
        for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
            assert!(set.contains(part), "{set}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
