//! Per-credential sliding-window rate limit with a block period, as Cloudflare applies it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::scenario::RateLimitSpec;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: usize,
    window: Duration,
    block: Duration,
    credentials: HashMap<String, CredentialWindow>,
}

#[derive(Debug, Default)]
struct CredentialWindow {
    recent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(spec: &RateLimitSpec) -> RateLimiter {
        RateLimiter {
            limit: spec.requests as usize,
            window: Duration::from_secs(spec.window_seconds),
            block: Duration::from_secs(spec.block_seconds),
            credentials: HashMap::new(),
        }
    }

    /// Counts one request of `credential` at `now`.
    ///
    /// Returns `Err(remaining)` with the rest of the block period when the credential
    /// is blocked, including the request that exceeds the limit and starts the block.
    /// Rejected requests are not counted.
    pub(crate) fn check(&mut self, credential: &str, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let entry = self.credentials.entry(credential.to_string()).or_default();
        if let Some(until) = entry.blocked_until {
            if now < until {
                return Err(until - now);
            }
            entry.blocked_until = None;
        }
        while entry.recent.front().is_some_and(|first| now.duration_since(*first) >= self.window) {
            entry.recent.pop_front();
        }
        if entry.recent.len() >= self.limit {
            entry.recent.clear();
            entry.blocked_until = Some(now + self.block);
            return Err(self.block);
        }
        entry.recent.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(requests: u32, window_seconds: u64, block_seconds: u64) -> RateLimiter {
        RateLimiter::new(&RateLimitSpec { requests, window_seconds, block_seconds })
    }

    #[test]
    fn blocks_after_limit_until_block_ends() {
        let mut limiter = limiter(2, 60, 30);
        let start = Instant::now();
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("a", start).is_ok());
        assert_eq!(limiter.check("a", start), Err(Duration::from_secs(30)));
        assert_eq!(limiter.check("a", start + Duration::from_secs(10)), Err(Duration::from_secs(20)));
        assert!(limiter.check("a", start + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn credentials_are_counted_separately() {
        let mut limiter = limiter(1, 60, 30);
        let start = Instant::now();
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("b", start).is_ok());
        assert!(limiter.check("a", start).is_err());
    }

    #[test]
    fn window_slides() {
        let mut limiter = limiter(1, 10, 30);
        let start = Instant::now();
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("a", start + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn zero_requests_disables_the_limit() {
        let mut limiter = limiter(0, 10, 30);
        let start = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check("a", start).is_ok());
        }
    }
}
