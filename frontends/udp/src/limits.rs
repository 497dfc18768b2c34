//! Per-address rate limiting of the UDP frontend ([`UdpConfig::rate_limit`]), with the core's
//! token buckets ([`RateLimiter`]) — the same limiter, and the same refusal text, as HTTP.
//!
//! - Announces and scrapes: checked *after* the connection id, so only an address that received
//!   a connect reply (not a spoofed one) ever gets a bucket. Over the limit: an error packet
//!   `rate limit exceeded: at most N requests per second from one address`.
//! - Connects: a bucket of their own per address, with the same rate and burst (a client's
//!   connect does not eat its announce budget; it needs one connect per one to two minutes).
//!   Over the limit: dropped without a reply. A connect is 16 bytes and its reply 16 bytes, so
//!   answering spoofed connects reflects traffic at a victim without amplifying it; the limit
//!   bounds that reflection to the rate per victim address, and an error packet (longer than
//!   the request) would amplify it, hence the silence. BEP 15 clients retry a lost connect.
//!
//! Both sets of buckets are bounded (64 shards of at most 8,192 addresses each), so a flood from
//! any number of (spoofed) addresses cannot grow memory past that.
//!
//! [`UdpConfig::rate_limit`]: crate::UdpConfig::rate_limit

use std::net::IpAddr;
use std::time::Instant;

use octotracker_core::{RateLimit, RateLimiter};

/// The buckets of one UDP socket.
#[derive(Debug)]
pub(crate) struct UdpLimits {
    requests: RateLimiter,
    connects: RateLimiter,
    reason: String,
}

impl UdpLimits {
    pub(crate) fn new(limit: RateLimit) -> Self {
        UdpLimits {
            requests: RateLimiter::new(limit),
            connects: RateLimiter::new(limit),
            reason: limit.refusal_reason(),
        }
    }

    /// Whether `ip` may connect now.
    pub(crate) fn allow_connect(&self, ip: IpAddr, now: Instant) -> bool {
        self.connects.allow(ip, now)
    }

    /// Whether `ip` may announce or scrape now.
    pub(crate) fn allow_request(&self, ip: IpAddr, now: Instant) -> bool {
        self.requests.allow(ip, now)
    }

    /// The error message of a refused announce or scrape.
    pub(crate) fn reason(&self) -> &str {
        &self.reason
    }

    /// Addresses with a bucket, connects and requests together.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.requests.tracked() + self.connects.tracked()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn connects_have_buckets_of_their_own() {
        let limits = UdpLimits::new(RateLimit { per_second: 1.0, burst: 2.0 });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let t0 = Instant::now();
        assert!((0..2).all(|_| limits.allow_connect(ip, t0)));
        assert!(!limits.allow_connect(ip, t0), "connects over the burst");
        assert!((0..2).all(|_| limits.allow_request(ip, t0)), "the announce budget is untouched by connects");
        assert!(!limits.allow_request(ip, t0));
        assert!(limits.allow_request(ip, t0 + Duration::from_secs(1)), "one more a second later");
        assert_eq!(limits.reason(), "rate limit exceeded: at most 1 requests per second from one address");
    }

    #[test]
    fn a_connect_flood_from_every_address_stays_bounded() {
        let limits = UdpLimits::new(RateLimit { per_second: 10.0, burst: 10.0 });
        let t0 = Instant::now();
        // More sources than the buckets hold, over three (injected) seconds.
        let sources = 2 * octotracker_core::RATE_LIMIT_SHARDS * octotracker_core::RATE_LIMIT_PER_SHARD;
        for n in 0..sources as u32 {
            let now = t0 + Duration::from_millis(u64::from(n) * 3_000 / sources as u64);
            assert!(limits.allow_connect(IpAddr::from(n.to_be_bytes()), now), "a first connect is answered");
        }
        let bound = octotracker_core::RATE_LIMIT_SHARDS * octotracker_core::RATE_LIMIT_PER_SHARD;
        assert!(limits.tracked() <= bound, "{}", limits.tracked());
    }
}
