//! Per-address rate limiting as pure logic: a token bucket per client address, with the time
//! passed in by the caller. Frontends apply it (the HTTP server and `RateLimitLayer`, the UDP
//! frontend); this module does no I/O and reads no clock.
//!
//! Buckets live in 64 shards, each behind its own lock (no global lock), each holding at most
//! 8,192 addresses: when a shard is full, buckets that have refilled completely are forgotten (at
//! most once a second per shard), and if none has, the new address is let through untracked.
//! Memory therefore stays bounded whatever the number of addresses (a flood of new addresses is
//! the connection limit's business over TCP; over UDP, spoofed sources cannot get past the
//! connection id check to reach the announce limiter at all).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Shards of a [`RateLimiter`].
pub const RATE_LIMIT_SHARDS: usize = 64;
/// Addresses one shard tracks at most.
pub const RATE_LIMIT_PER_SHARD: usize = 8_192;

/// The failure label of a request refused by a rate limit, on every frontend
/// (`octotracker_failures_total{reason="rate_limited"}`; see
/// [`Tracker::record_rate_limited`](crate::Tracker::record_rate_limited)).
pub const RATE_LIMITED: &str = "rate_limited";

/// How many requests one address may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: f64,
}

impl RateLimit {
    /// The reason told to a client over the limit, the same on every frontend:
    /// `rate limit exceeded: at most N requests per second from one address`.
    pub fn refusal_reason(&self) -> String {
        format!("rate limit exceeded: at most {} requests per second from one address", self.per_second)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// One shard's buckets, and when it was last pruned.
#[derive(Debug, Default)]
struct Shard {
    buckets: HashMap<IpAddr, Bucket>,
    pruned: Option<Instant>,
}

/// The buckets of every address, for one [`RateLimit`].
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl RateLimiter {
    /// Empty buckets for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        RateLimiter {
            limit,
            hasher: RandomState::new(),
            shards: (0..RATE_LIMIT_SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The limit enforced.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Whether `ip` may send a request at `now` (and takes a token if so). `now` comes from the
    /// caller (`Instant::now()` in servers, a fixed instant plus offsets in tests).
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let RateLimit { per_second, burst } = self.limit;
        let shard = &self.shards[self.hasher.hash_one(ip) as usize % RATE_LIMIT_SHARDS];
        let Ok(mut shard) = shard.lock() else { return true };
        if !shard.buckets.contains_key(&ip) && shard.buckets.len() >= RATE_LIMIT_PER_SHARD {
            // Full: forget the buckets that have refilled, at most once a second (a flood of new
            // addresses must not turn every request into a scan).
            if shard.pruned.is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1) {
                shard.pruned = Some(now);
                shard
                    .buckets
                    .retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_second < burst);
            }
            if shard.buckets.len() >= RATE_LIMIT_PER_SHARD {
                return true;
            }
        }
        let bucket = shard.buckets.entry(ip).or_insert(Bucket { tokens: burst, last: now });
        let refilled = bucket.tokens + now.saturating_duration_since(bucket.last).as_secs_f64() * per_second;
        bucket.tokens = refilled.min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How many addresses have a bucket now (at most `RATE_LIMIT_SHARDS * RATE_LIMIT_PER_SHARD`).
    pub fn tracked(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map_or(0, |s| s.buckets.len())).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = RateLimiter::new(RateLimit { per_second: 2.0, burst: 3.0 });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(ip, t0)), "the burst");
        assert!(!limiter.allow(ip, t0), "then nothing at once");
        assert!(limiter.allow(other, t0), "another address has its own bucket");
        assert!(!limiter.allow(ip, t0 + Duration::from_millis(400)));
        assert!(limiter.allow(ip, t0 + Duration::from_millis(500)), "one token per 500 ms");
        assert!(!limiter.allow(ip, t0 + Duration::from_millis(600)));
        assert!((0..3).all(|_| limiter.allow(ip, t0 + Duration::from_secs(10))), "refilled to the burst, no more");
        assert!(!limiter.allow(ip, t0 + Duration::from_secs(10)));
    }

    #[test]
    fn ipv6_addresses_have_buckets_of_their_own() {
        let limiter = RateLimiter::new(RateLimit { per_second: 1.0, burst: 1.0 });
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(limiter.allow(a, t0));
        assert!(!limiter.allow(a, t0));
        assert!(limiter.allow(b, t0));
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn the_reason_names_the_rate() {
        let limit = RateLimit { per_second: 5.0, burst: 10.0 };
        assert_eq!(limit.refusal_reason(), "rate limit exceeded: at most 5 requests per second from one address");
        let limit = RateLimit { per_second: 0.5, burst: 1.0 };
        assert_eq!(limit.refusal_reason(), "rate limit exceeded: at most 0.5 requests per second from one address");
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let limiter = RateLimiter::new(RateLimit { per_second: 1.0, burst: 1.0 });
        let bound = RATE_LIMIT_SHARDS * RATE_LIMIT_PER_SHARD;
        let t0 = Instant::now();
        for n in 0..(bound + 50_000) as u32 {
            assert!(limiter.allow(IpAddr::from(n.to_be_bytes()), t0), "a first request is always allowed");
        }
        let tracked = limiter.tracked();
        assert!(tracked <= bound, "{tracked}");
        assert!(tracked > bound - 50_000, "the shards fill up before anything is let through untracked: {tracked}");
        // A second later every bucket has refilled: the next new addresses prune their shard.
        let later = t0 + Duration::from_secs(2);
        for n in 0..1_000u32 {
            limiter.allow(IpAddr::from((u32::MAX - n).to_be_bytes()), later);
        }
        let tracked = limiter.tracked();
        assert!(tracked < bound / 2, "refilled buckets forgotten: {tracked}");
    }

    #[test]
    fn a_full_shard_keeps_limiting_the_addresses_it_tracks() {
        let limiter = RateLimiter::new(RateLimit { per_second: 1.0, burst: 1.0 });
        let t0 = Instant::now();
        let abuser: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.allow(abuser, t0));
        for n in 0..(RATE_LIMIT_SHARDS * RATE_LIMIT_PER_SHARD) as u32 {
            limiter.allow(IpAddr::from(n.to_be_bytes()), t0);
        }
        // Within the same second nothing has refilled: the abuser's bucket is still there.
        assert!(!limiter.allow(abuser, t0 + Duration::from_millis(500)));
    }
}
