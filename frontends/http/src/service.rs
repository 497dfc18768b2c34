//! [`TrackerService`]: the tracker as a tower `Service` over `http` requests. The standalone
//! server runs it; embedding apps mount it (or wrap their own service in
//! [`TrackerLayer`](crate::TrackerLayer)).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use octotracker_core::http_wire::{parse_announce, parse_scrape, write_announce, write_failure, write_scrape};
use octotracker_core::{Refusal, RequestKind, Tracker, TrackerError, is_passkey};

use crate::client_ip::Client;
use crate::{HttpConfig, reply};

/// The tracker's HTTP endpoints: `GET` (or `HEAD`) on [`HttpConfig::announce_path`] and
/// [`HttpConfig::scrape_path`] (`/announce` and `/scrape` by default); any other path is 404.
/// Every tracker-level error is a `200 OK` with a bencoded `failure reason`.
///
/// A `tower::Service` for requests with any body type (the body is never read), cheap to clone
/// (one `Arc`), with `Send + 'static` futures and `Infallible` errors: it mounts as it is in
/// axum (`Router::nest_service`), in a hyper accept loop (`TowerToHyperService`), or behind
/// tower-http layers.
///
/// The client's address comes from the request's extensions: [`RemoteAddr`](crate::RemoteAddr), which an
/// embedding app's accept loop inserts, or (with the `axum` feature) axum's
/// `ConnectInfo<SocketAddr>`. Either is then subject to [`HttpConfig::trusted_proxies`]. An
/// announce without either gets the failure reason of
/// [`ClientIpError::NoRemoteAddr`](crate::ClientIpError::NoRemoteAddr). (The standalone server
/// hands the connection's address over directly.)
///
/// ```
/// use std::sync::Arc;
/// use http::Request;
/// use octotracker_core::{SystemClock, Tracker, TrackerConfig};
/// use octotracker_http::{HttpConfig, RemoteAddr, TrackerService};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
/// let intervals = Arc::new(octotracker_interval::Static::default());
/// let tracker = Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)));
/// let service = TrackerService::new(tracker, HttpConfig::default());
///
/// let mut request = Request::get("/scrape").body(()).unwrap();
/// request.extensions_mut().insert(RemoteAddr("127.0.0.1:6881".parse().unwrap()));
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), 200);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TrackerService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tracker: Arc<Tracker>,
    config: HttpConfig,
    /// The frontend label of this service's request durations and engine events: `http`, or `https` for the
    /// standalone server over TLS.
    frontend: &'static str,
}

/// The future of [`TrackerService::call`](tower::Service::call).
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl TrackerService {
    /// A service answering for `tracker`.
    pub fn new(tracker: Arc<Tracker>, config: HttpConfig) -> Self {
        Self::labelled(tracker, config, "http")
    }

    /// A service whose request durations are labelled `frontend` (the standalone server over
    /// TLS says `https`).
    pub(crate) fn labelled(tracker: Arc<Tracker>, config: HttpConfig, frontend: &'static str) -> Self {
        TrackerService { inner: Arc::new(Inner { tracker, config, frontend }) }
    }

    /// The settings this service answers with.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The engine this service answers for.
    pub(crate) fn tracker(&self) -> &Tracker {
        &self.inner.tracker
    }

    /// Whether `path` is one of the tracker's (the announce or the scrape path).
    pub fn serves(&self, path: &str) -> bool {
        self.endpoint(path).is_some()
    }

    /// The endpoint `path` names, and the passkey in it: a private tracker also answers
    /// `PREFIX/<passkey>/announce` and `PREFIX/<passkey>/scrape` (the passkey inserted before the
    /// last segment of the configured paths).
    pub(crate) fn endpoint<'p>(&self, path: &'p str) -> Option<(Endpoint, Option<&'p str>)> {
        let config = &self.inner.config;
        if path == config.announce_path {
            return Some((Endpoint::Announce, None));
        }
        if path == config.scrape_path {
            return Some((Endpoint::Scrape, None));
        }
        if !self.inner.tracker.private() {
            return None;
        }
        let keyed = |configured: &str| {
            let (base, last) = configured.rsplit_once('/')?;
            let (key, rest) = path.strip_prefix(base)?.strip_prefix('/')?.split_once('/')?;
            (rest == last && is_passkey(key)).then_some(key)
        };
        if let Some(key) = keyed(&config.announce_path) {
            return Some((Endpoint::Announce, Some(key)));
        }
        keyed(&config.scrape_path).map(|key| (Endpoint::Scrape, Some(key)))
    }

    /// Answers a request given its head (`Request::into_parts().0`; the body is never read:
    /// announce and scrape are `GET` requests), the client address taken from its extensions
    /// (see [`RemoteAddr`](crate::RemoteAddr)). The future borrows nothing: it is `Send + 'static` whatever the
    /// body type was. [`Service::call`](tower::Service::call) and
    /// [`TrackerLayer`](crate::TrackerLayer) answer with it.
    pub fn handle(&self, head: http::request::Parts) -> impl Future<Output = Response<Full<Bytes>>> + Send + use<> {
        let client = Client::of_request(&head.extensions, &head.headers, &self.inner.config.trusted_proxies);
        self.handle_from(head, client)
    }

    /// [`handle`](Self::handle) for a request whose client the caller decided: the standalone
    /// server's hyper path (no extension to insert and look up).
    pub(crate) fn handle_from(
        &self,
        head: http::request::Parts,
        client: Client,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send + use<> {
        let this = self.clone();
        async move {
            let Some((endpoint, passkey)) = this.endpoint(head.uri.path()) else {
                return reply::plain(StatusCode::NOT_FOUND, "not found");
            };
            if head.method != Method::GET && head.method != Method::HEAD {
                let mut resp = reply::plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                resp.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
                return resp;
            }
            let query = head.uri.query().unwrap_or("").as_bytes();
            reply::bencoded(this.answer(endpoint, passkey, query, &client).await)
        }
    }

    /// The bencoded body answering a request of `client` for `endpoint`: the reply, or a
    /// `failure reason`. Every HTTP path of the crate ends here (the service, the layer, the
    /// standalone server's hyper and [`one_shot`](crate::one_shot) paths).
    pub(crate) async fn answer(
        &self,
        endpoint: Endpoint,
        passkey: Option<&str>,
        query: &[u8],
        client: &Client,
    ) -> Vec<u8> {
        let tracker = &self.inner.tracker;
        let started = tracker.observer().map(|_| Instant::now());
        // Room for a reply of 50 compact peers (the usual numwant) without growing.
        let mut body = Vec::with_capacity(512);
        let outcome = match endpoint {
            Endpoint::Announce => self.announce(query, client, passkey, &mut body).await,
            Endpoint::Scrape => self.scrape(query, passkey, &mut body).await,
        };
        if let Err(err) = outcome {
            log_error(endpoint, &err);
            match &err {
                Failure::Parse(r) => tracker.record_rejected(endpoint.kind(), r.label()),
                Failure::ClientIp(_) => tracker.record_rejected(endpoint.kind(), "client_address"),
                Failure::Tracker(_) => {} // the engine reported it
            }
            body.clear();
            let retry = matches!(err, Failure::Tracker(TrackerError::Storage(_))).then_some(1);
            write_failure(&mut body, &err.reason(), retry);
        }
        if let (Some(obs), Some(started)) = (tracker.observer(), started) {
            obs.request(self.inner.frontend, endpoint.kind(), started.elapsed());
        }
        body
    }

    async fn announce(
        &self,
        query: &[u8],
        client: &Client,
        passkey: Option<&str>,
        body: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let announce = parse_announce(query).map_err(Failure::Parse)?;
        let ip = client.ip()?;
        let response = self.inner.tracker.announce_via(self.inner.frontend, &announce, ip, passkey).await?;
        write_announce(body, &response);
        Ok(())
    }

    async fn scrape(&self, query: &[u8], passkey: Option<&str>, body: &mut Vec<u8>) -> Result<(), Failure> {
        let tracker = &self.inner.tracker;
        let request = parse_scrape(query, tracker.config().scrape_max_hashes).map_err(Failure::Parse)?;
        let response = tracker.scrape_via(self.inner.frontend, &request, passkey).await?;
        write_scrape(body, &response);
        Ok(())
    }
}

/// One of the tracker's two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Announce,
    Scrape,
}

impl Endpoint {
    /// The request kind the engine counts it as.
    pub(crate) fn kind(self) -> RequestKind {
        match self {
            Endpoint::Announce => RequestKind::Announce,
            Endpoint::Scrape => RequestKind::Scrape,
        }
    }
}

/// Everything that turns into a `failure reason`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The query did not parse: the engine never saw the request.
    #[error(transparent)]
    Parse(Refusal),
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    #[error(transparent)]
    ClientIp(#[from] crate::ClientIpError),
}

impl Failure {
    fn reason(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Failure::Tracker(e) => e.failure_reason(),
            Failure::Parse(r) => r.to_string().into(),
            Failure::ClientIp(e) => e.to_string().into(),
        }
    }
}

fn log_error(endpoint: Endpoint, err: &Failure) {
    match err {
        Failure::Tracker(TrackerError::Storage(e)) => tracing::warn!(?endpoint, error = %e, "storage failure"),
        Failure::ClientIp(e) => tracing::warn!(?endpoint, error = %e, "client address unknown"),
        Failure::Tracker(TrackerError::Refused(r)) | Failure::Parse(r) => {
            tracing::debug!(?endpoint, reason = %r, "request refused")
        }
    }
}

impl<B> tower::Service<Request<B>> for TrackerService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let response = self.handle(req.into_parts().0);
        Box::pin(async move { Ok(response.await) })
    }
}
