//! Rate limits: a token bucket per key — per authenticated client name
//! (`--rate` requests per second refill, `--burst` capacity; a JSON-RPC
//! batch costs one per entry), and per peer address for requests without a
//! valid token. Client names come from the token store; peer addresses do
//! not, so past [`MAX_KEYS`] keys the buckets that have refilled (idle
//! keys, which a new bucket would equal) are dropped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before idle ones are dropped.
pub const MAX_KEYS: usize = 4096;

/// One client's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The limiter shared by every connection.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate` requests per second on average, at most `burst` at once.
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            rate,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The most one request may cost (the bucket's capacity).
    pub fn burst(&self) -> u32 {
        self.burst as u32
    }

    /// Takes `cost` from `client`'s bucket at `now`; when it holds too
    /// little, takes nothing and returns how long until it would hold enough.
    pub fn check(&self, client: &str, cost: u32, now: Instant) -> Result<(), Duration> {
        let cost = f64::from(cost);
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(client) {
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
        }
        let b = map.entry(client.to_string()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= cost {
            b.tokens -= cost;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((cost - b.tokens) / self.rate))
        }
    }
}

/// The `Retry-After` value (whole seconds, at least 1) for a wait.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_refills() {
        let l = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", 1, t0).is_ok());
        }
        let wait = l.check("a", 1, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        // Another client has its own bucket.
        assert!(l.check("b", 3, t0).is_ok());
        // Half a second later one more fits, not two.
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.check("a", 1, t1).is_ok());
        assert!(l.check("a", 1, t1).is_err());
        // Never more than the burst, however long idle.
        let t2 = t1 + Duration::from_secs(3600);
        assert!(l.check("a", 3, t2).is_ok());
        assert!(l.check("a", 1, t2).is_err());
    }

    #[test]
    fn idle_keys_are_dropped_past_the_bound_busy_ones_kept() {
        let l = RateLimiter::new(1.0, 2);
        let t0 = Instant::now();
        assert!(l.check("busy", 2, t0).is_ok());
        for i in 0..MAX_KEYS - 1 {
            let _ = l.check(&format!("10.0.{}.{}", i / 256, i % 256), 0, t0);
        }
        let len = || l.buckets.lock().unwrap().len();
        assert_eq!(len(), MAX_KEYS);
        assert!(l.check("new", 1, t0).is_ok());
        assert_eq!(len(), 2, "only the drained bucket and the new one remain");
        assert!(l.check("busy", 1, t0).is_err(), "its state survived");
    }

    #[test]
    fn a_batch_costs_its_entries_and_a_refusal_takes_nothing() {
        let l = RateLimiter::new(1.0, 5);
        let t0 = Instant::now();
        assert!(l.check("a", 4, t0).is_ok());
        let wait = l.check("a", 3, t0).unwrap_err();
        assert_eq!(retry_after_secs(wait), 2);
        assert!(
            l.check("a", 1, t0).is_ok(),
            "the refused batch took nothing"
        );
        assert_eq!(l.burst(), 5);
    }
}
