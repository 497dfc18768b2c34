//! Per-address rate limiting over HTTP: the core's token buckets
//! ([`RateLimiter`](octotracker_core::RateLimiter), shared with the UDP frontend), built into the
//! standalone server ([`HttpConfig::rate_limit`](crate::HttpConfig::rate_limit)) and, for
//! embedders, a tower [`Layer`] ([`RateLimitLayer`]). Off by default.
//!
//! Both decide in one place, [`Limiter::refuses`]: the request is counted against its
//! [`Client`](crate::client_ip)'s address (decided once per request), and a request over the
//! budget never reaches the tracker. It gets `200 OK` with the bencoded failure reason
//! `rate limit exceeded: at most N requests per second from one address` (BitTorrent clients read
//! failure reasons, not status codes), and is counted as UDP counts it
//! ([`Tracker::record_rate_limited`]: `failures_total{reason="rate_limited"}`, and a refused
//! announce or scrape when the path is the tracker's). Memory is bounded by the core's shards
//! (64 of at most 8,192 addresses each; a flood from more addresses than that is the connection
//! limit's business).

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};
use octotracker_core::http_wire::write_failure;
use octotracker_core::{RateLimiter, Tracker};
use tower::{Layer, Service};

pub use octotracker_core::RateLimit;

use crate::client_ip::Client;
use crate::layer::MiddlewareFuture;
use crate::service::Endpoint;
use crate::{TrackerService, reply};

/// The buckets of every address (the core's [`RateLimiter`]) and the refusal's body.
#[derive(Debug)]
pub(crate) struct Limiter {
    buckets: RateLimiter,
    refusal: Bytes,
    /// Whether a request without any address was logged (once: it is a setup mistake).
    warned_no_address: AtomicBool,
}

impl Limiter {
    /// Buckets for `limit`.
    pub(crate) fn new(limit: RateLimit) -> Self {
        let mut refusal = Vec::new();
        write_failure(&mut refusal, &limit.refusal_reason(), None);
        Limiter { buckets: RateLimiter::new(limit), refusal: refusal.into(), warned_no_address: AtomicBool::new(false) }
    }

    /// The bencoded refusal when `client`'s request is over its limit (counted with `tracker`,
    /// as a request for `endpoint()` when that names one of the tracker's); `None` when it may
    /// go on. A request with no address at all is not limited (the tracker refuses an announce
    /// without one); the first one is logged as the setup mistake it is.
    pub(crate) fn refuses(
        &self,
        client: &Client,
        tracker: &Tracker,
        endpoint: impl FnOnce() -> Option<Endpoint>,
    ) -> Option<Bytes> {
        let Some(ip) = client.rate_limited_as() else {
            if !self.warned_no_address.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "rate limit: a request without the connection's address is not limited (insert RemoteAddr, \
                     or serve axum with into_make_service_with_connect_info::<SocketAddr>())"
                );
            }
            return None;
        };
        if self.buckets.allow(ip, Instant::now()) {
            return None;
        }
        tracker.record_rate_limited(endpoint().map(Endpoint::kind));
        Some(self.refusal.clone())
    }
}

/// A tower layer that refuses requests over a per-address [`RateLimit`], for the tracker of a
/// [`TrackerService`]: the client address is decided with the service's trusted proxies (and
/// handed on to it in the request's extensions, so it is decided once), refusals are counted in
/// the service's tracker, exactly as the standalone server counts them.
///
/// It reads the connection's address as the service does: [`RemoteAddr`](crate::RemoteAddr), or
/// (with the `axum` feature) axum's `ConnectInfo<SocketAddr>`. It wraps any service (the tracker
/// alone, a [`TrackerMiddleware`](crate::TrackerMiddleware), a whole app); the response body is
/// `Either::Left` for a refusal, `Either::Right` the inner service's.
///
/// ```
/// use std::sync::Arc;
/// use http::Request;
/// use http_body_util::Either;
/// use octotracker_core::{SystemClock, Tracker, TrackerConfig};
/// use octotracker_http::{HttpConfig, RateLimit, RateLimitLayer, RemoteAddr, TrackerService};
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
/// let intervals = Arc::new(octotracker_interval::Static::default());
/// let tracker = Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)));
/// let service = TrackerService::new(tracker, HttpConfig::default());
/// let limited = RateLimitLayer::new(&service, RateLimit { per_second: 1.0, burst: 1.0 }).layer(service);
///
/// let request = || {
///     let mut request = Request::get("/scrape").body(()).unwrap();
///     request.extensions_mut().insert(RemoteAddr("192.0.2.7:6881".parse().unwrap()));
///     request
/// };
/// let first = limited.clone().oneshot(request()).await.unwrap();
/// assert!(matches!(first.into_body(), Either::Right(_)), "the tracker's answer");
/// let second = limited.oneshot(request()).await.unwrap();
/// assert!(matches!(second.into_body(), Either::Left(_)), "the refusal");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimitLayer {
    limiter: std::sync::Arc<Limiter>,
    tracker: TrackerService,
}

impl RateLimitLayer {
    /// Limits each address to `limit` in front of `tracker` (whose trusted proxies name the
    /// client, and whose tracker counts the refusals).
    pub fn new(tracker: &TrackerService, limit: RateLimit) -> Self {
        RateLimitLayer { limiter: std::sync::Arc::new(Limiter::new(limit)), tracker: tracker.clone() }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> RateLimited<S> {
        RateLimited { inner, limiter: self.limiter.clone(), tracker: self.tracker.clone() }
    }
}

/// The service [`RateLimitLayer`] makes.
#[derive(Debug, Clone)]
pub struct RateLimited<S> {
    inner: S,
    limiter: std::sync::Arc<Limiter>,
    tracker: TrackerService,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RateLimited<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = MiddlewareFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let service = &self.tracker;
        let client = Client::of_request(req.extensions(), req.headers(), &service.config().trusted_proxies);
        let endpoint = || service.endpoint(req.uri().path()).map(|(endpoint, _)| endpoint);
        if let Some(refusal) = self.limiter.refuses(&client, service.tracker(), endpoint) {
            return MiddlewareFuture::ready(reply::bencoded(refusal));
        }
        req.extensions_mut().insert(client);
        MiddlewareFuture::inner(self.inner.call(req))
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    // The buckets themselves are tested in the core (`octotracker_core::RateLimiter`).
    #[test]
    fn the_refusal_is_a_bencoded_failure_reason() {
        let storage = std::sync::Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
        let intervals = std::sync::Arc::new(octotracker_interval::Static::default());
        let clock = std::sync::Arc::new(octotracker_core::SystemClock);
        let tracker = Tracker::new(Default::default(), storage, intervals, clock);
        let limiter = Limiter::new(RateLimit { per_second: 5.0, burst: 10.0 });
        let remote: SocketAddr = "10.0.0.1:6881".parse().unwrap();
        let client = Client::without_headers(remote, &[]).unwrap();
        let refused = (0..11).filter_map(|_| limiter.refuses(&client, &tracker, || None)).collect::<Vec<_>>();
        assert_eq!(refused.len(), 1, "the burst, then nothing at once");
        let reason = "rate limit exceeded: at most 5 requests per second from one address";
        assert_eq!(refused[0], format!("d14:failure reason{}:{reason}e", reason.len()).as_bytes());
    }
}
