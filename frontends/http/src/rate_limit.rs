//! Per-address rate limiting: a token bucket per client address, as a tower [`Layer`]
//! ([`RateLimitLayer`]) for embedders and built into the standalone server
//! ([`HttpConfig::rate_limit`](crate::HttpConfig::rate_limit)). Off by default.
//!
//! A client over its budget gets `200 OK` with the bencoded failure reason
//! `rate limit exceeded: at most N requests per second from one address` (BitTorrent clients
//! read failure reasons, not status codes) and the request never reaches the tracker. Buckets
//! live in 64 shards, each behind its own lock (no global lock), each holding at most 8,192
//! addresses: when a shard is full, buckets that have refilled completely are forgotten, and if
//! none has, the new address is let through untracked (memory stays bounded; a flood from more
//! addresses than that is the connection limit's business).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::Full;
use octotracker_core::http_wire::write_failure;
use tower::{Layer, Service};

use crate::{IpNet, RemoteAddr, client_ip};

const SHARDS: usize = 64;
const PER_SHARD: usize = 8_192;

/// How many requests one address may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The buckets of every address.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

/// One shard's buckets, and when it was last pruned.
#[derive(Debug, Default)]
struct Shard {
    buckets: HashMap<IpAddr, Bucket>,
    pruned: Option<Instant>,
}

impl Limiter {
    /// Buckets for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Limiter { limit, hasher: RandomState::new(), shards: (0..SHARDS).map(|_| Mutex::default()).collect() }
    }

    /// Whether `ip` may send a request at `now` (and takes a token if so).
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let RateLimit { per_second, burst } = self.limit;
        let shard = &self.shards[self.hasher.hash_one(ip) as usize % SHARDS];
        let Ok(mut shard) = shard.lock() else { return true };
        if !shard.buckets.contains_key(&ip) && shard.buckets.len() >= PER_SHARD {
            // Full: forget the buckets that have refilled, at most once a second (a flood of new
            // addresses must not turn every request into a scan).
            if shard.pruned.is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1) {
                shard.pruned = Some(now);
                shard
                    .buckets
                    .retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * per_second < burst);
            }
            if shard.buckets.len() >= PER_SHARD {
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

    /// The reply to a request over the limit.
    pub fn refusal(&self) -> Response<Full<Bytes>> {
        let mut body = Vec::new();
        let reason =
            format!("rate limit exceeded: at most {} requests per second from one address", self.limit.per_second);
        write_failure(&mut body, &reason, None);
        let mut resp = Response::new(Full::new(Bytes::from(body)));
        resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
        resp
    }
}

/// The client address of a request: the connection's ([`RemoteAddr`]), or the one a trusted
/// proxy vouches for.
pub(crate) fn request_ip(
    extensions: &http::Extensions,
    headers: &http::HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let remote = extensions.get::<RemoteAddr>()?.0.ip();
    Some(client_ip(remote, headers, trusted).unwrap_or(remote))
}

/// A tower layer that refuses requests over a per-address [`RateLimit`].
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: Arc<Limiter>,
    trusted: Arc<[IpNet]>,
}

impl RateLimitLayer {
    /// Limits each address to `limit`; `trusted` proxies may name the client (as for the tracker).
    pub fn new(limit: RateLimit, trusted: Vec<IpNet>) -> Self {
        RateLimitLayer { limiter: Arc::new(Limiter::new(limit)), trusted: trusted.into() }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> RateLimited<S> {
        RateLimited { inner, limiter: self.limiter.clone(), trusted: self.trusted.clone() }
    }
}

/// The service [`RateLimitLayer`] makes.
#[derive(Debug, Clone)]
pub struct RateLimited<S> {
    inner: S,
    limiter: Arc<Limiter>,
    trusted: Arc<[IpNet]>,
}

impl<S, B> Service<Request<B>> for RateLimited<S>
where
    S: Service<Request<B>, Response = Response<Full<Bytes>>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if let Some(ip) = request_ip(req.extensions(), req.headers(), &self.trusted)
            && !self.limiter.allow(ip, Instant::now())
        {
            let refusal = self.limiter.refusal();
            return Box::pin(async move { Ok(refusal) });
        }
        Box::pin(self.inner.call(req))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limiter = Limiter::new(RateLimit { per_second: 2.0, burst: 3.0 });
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
    fn memory_stays_bounded_under_many_addresses() {
        let limiter = Limiter::new(RateLimit { per_second: 1.0, burst: 1.0 });
        let t0 = Instant::now();
        for n in 0..(SHARDS * PER_SHARD + 50_000) as u32 {
            assert!(limiter.allow(IpAddr::from(n.to_be_bytes()), t0), "a first request is always allowed");
        }
        let tracked: usize = limiter.shards.iter().map(|s| s.lock().unwrap().buckets.len()).sum();
        assert!(tracked <= SHARDS * PER_SHARD, "{tracked}");
        // A second later every bucket has refilled: the next new addresses prune their shard.
        let later = t0 + std::time::Duration::from_secs(2);
        for n in 0..1_000u32 {
            limiter.allow(IpAddr::from((u32::MAX - n).to_be_bytes()), later);
        }
        let tracked: usize = limiter.shards.iter().map(|s| s.lock().unwrap().buckets.len()).sum();
        assert!(tracked < SHARDS * PER_SHARD / 2, "refilled buckets forgotten: {tracked}");
    }
}
