//! Per-credential sliding-window rate limit with a block period, as Cloudflare applies it.
//!
//! Cloudflare allows 1200 requests per five minutes per user or token and then
//! rejects every call for five minutes with 429
//! (developers.cloudflare.com/fundamentals/api/reference/limits). The limits are
//! configurable so tests can reach them quickly.

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
    /// Returns the quota left after this request, or `Err(remaining)` with the rest
    /// of the block period when the credential is blocked, including the request
    /// that exceeds the limit and starts the block. Rejected requests are not counted.
    /// With the limit disabled it returns `Ok(None)`.
    pub(crate) fn check(
        &mut self,
        credential: &str,
        now: Instant,
    ) -> Result<Option<Quota>, Duration> {
        if self.limit == 0 {
            return Ok(None);
        }
        let entry = self.credentials.entry(credential.to_string()).or_default();
        if let Some(until) = entry.blocked_until {
            if now < until {
                return Err(until - now);
            }
            entry.blocked_until = None;
        }
        while entry
            .recent
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.window)
        {
            entry.recent.pop_front();
        }
        if entry.recent.len() >= self.limit {
            entry.recent.clear();
            entry.blocked_until = Some(now + self.block);
            return Err(self.block);
        }
        entry.recent.push_back(now);

        let oldest = *entry
            .recent
            .front()
            .expect("the window contains the request just counted");
        let reset = self.window.saturating_sub(now.duration_since(oldest));
        Ok(Some(Quota {
            limit: self.limit,
            remaining: self.limit - entry.recent.len(),
            reset_seconds: reset.as_secs() + u64::from(reset.subsec_nanos() > 0),
            window_seconds: self.window.as_secs(),
        }))
    }
}

/// A credential's quota after one request, for the `Ratelimit` response headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    pub(crate) limit: usize,
    pub(crate) remaining: usize,
    /// Seconds until the oldest counted request leaves the window, rounded up.
    pub(crate) reset_seconds: u64,
    pub(crate) window_seconds: u64,
}

impl Quota {
    /// Returns the `Ratelimit` and `Ratelimit-Policy` headers in the format
    /// Cloudflare's limits page shows (`"default";r=50;t=30`, `"burst";q=100;w=60`).
    pub(crate) fn headers(&self) -> [(&'static str, String); 2] {
        [
            (
                "ratelimit",
                format!("\"default\";r={};t={}", self.remaining, self.reset_seconds),
            ),
            (
                "ratelimit-policy",
                format!("\"default\";q={};w={}", self.limit, self.window_seconds),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(requests: u32, window_seconds: u64, block_seconds: u64) -> RateLimiter {
        RateLimiter::new(&RateLimitSpec {
            requests,
            window_seconds,
            block_seconds,
        })
    }

    #[test]
    fn blocks_after_limit_until_block_ends() {
        let mut limiter = limiter(2, 60, 30);
        let start = Instant::now();
        assert!(limiter.check("a", start).is_ok());
        assert!(limiter.check("a", start).is_ok());
        assert_eq!(limiter.check("a", start), Err(Duration::from_secs(30)));
        assert_eq!(
            limiter.check("a", start + Duration::from_secs(10)),
            Err(Duration::from_secs(20))
        );
        assert!(limiter.check("a", start + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn quota_counts_down() {
        let mut limiter = limiter(3, 60, 30);
        let start = Instant::now();
        let first = limiter.check("a", start).unwrap().unwrap();
        assert_eq!(first.remaining, 2);
        assert_eq!(first.reset_seconds, 60);
        let second = limiter
            .check("a", start + Duration::from_millis(10_500))
            .unwrap()
            .unwrap();
        assert_eq!(second.remaining, 1);
        assert_eq!(second.reset_seconds, 50);
        assert_eq!(second.headers()[0].1, "\"default\";r=1;t=50");
        assert_eq!(second.headers()[1].1, "\"default\";q=3;w=60");
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
            assert_eq!(limiter.check("a", start), Ok(None));
        }
    }
}
