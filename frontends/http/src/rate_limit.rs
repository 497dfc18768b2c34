//! Per-address rate limiting over HTTP: the core's token buckets
//! ([`RateLimiter`](octotracker_core::RateLimiter), shared with the UDP frontend) as a tower
//! [`Layer`] ([`RateLimitLayer`]) for embedders and built into the standalone server
//! ([`HttpConfig::rate_limit`](crate::HttpConfig::rate_limit)). Off by default.
//!
//! A client over its budget gets `200 OK` with the bencoded failure reason
//! `rate limit exceeded: at most N requests per second from one address` (BitTorrent clients
//! read failure reasons, not status codes) and the request never reaches the tracker. Memory is
//! bounded by the core's shards (64 of at most 8,192 addresses each; a flood from more
//! addresses than that is the connection limit's business).

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::Full;
use octotracker_core::RateLimiter;
use octotracker_core::http_wire::write_failure;
use tower::{Layer, Service};

pub use octotracker_core::RateLimit;

use crate::{IpNet, RemoteAddr, client_ip};

/// The buckets of every address (the core's [`RateLimiter`]), with the HTTP refusal.
#[derive(Debug)]
pub struct Limiter {
    buckets: RateLimiter,
}

impl Limiter {
    /// Buckets for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Limiter { buckets: RateLimiter::new(limit) }
    }

    /// Whether `ip` may send a request at `now` (and takes a token if so).
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        self.buckets.allow(ip, now)
    }

    /// The reply to a request over the limit.
    pub fn refusal(&self) -> Response<Full<Bytes>> {
        let mut resp = Response::new(Full::new(Bytes::from(self.refusal_body())));
        resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
        resp
    }

    /// The bencoded body of [`refusal`](Self::refusal).
    pub(crate) fn refusal_body(&self) -> Vec<u8> {
        let mut body = Vec::new();
        write_failure(&mut body, &self.buckets.limit().refusal_reason(), None);
        body
    }
}

/// The client address of a request: the connection's ([`RemoteAddr`]), or the one a trusted
/// proxy vouches for.
pub(crate) fn request_ip(
    extensions: &http::Extensions,
    headers: &http::HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    Some(limited_ip(extensions.get::<RemoteAddr>()?.0.ip(), headers, trusted))
}

/// The address a request from `remote` is rate-limited as: the client a trusted proxy vouches
/// for, else the connection's.
pub(crate) fn limited_ip(remote: IpAddr, headers: &http::HeaderMap, trusted: &[IpNet]) -> IpAddr {
    client_ip(remote, headers, trusted).unwrap_or(remote)
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
    use http_body_util::BodyExt;

    use super::*;

    // The buckets themselves are tested in the core (`octotracker_core::RateLimiter`).
    #[tokio::test]
    async fn the_refusal_is_a_bencoded_failure_reason() {
        let limiter = Limiter::new(RateLimit { per_second: 5.0, burst: 10.0 });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!((0..11).filter(|_| limiter.allow(ip, t0)).count(), 10, "the burst, then nothing at once");
        let resp = limiter.refusal();
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/plain");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let reason = "rate limit exceeded: at most 5 requests per second from one address";
        assert_eq!(body, format!("d14:failure reason{}:{reason}e", reason.len()).as_bytes());
    }
}
