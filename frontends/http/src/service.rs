//! [`TrackerService`]: the tracker as a tower `Service` over `http` requests. The standalone
//! server runs it; embedding apps can too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use octotracker_core::http_wire::{parse_announce, parse_scrape, write_announce, write_failure, write_scrape};
use octotracker_core::{Tracker, TrackerError};

use crate::{HttpConfig, RemoteAddr, client_ip};

/// The tracker's HTTP endpoints: `GET /announce` and `GET /scrape`; anything else is 404.
/// Every tracker-level error is a `200 OK` with a bencoded `failure reason`.
#[derive(Debug, Clone)]
pub struct TrackerService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tracker: Arc<Tracker>,
    config: HttpConfig,
}

/// The future of [`TrackerService::call`].
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl TrackerService {
    /// A service answering for `tracker`.
    pub fn new(tracker: Arc<Tracker>, config: HttpConfig) -> Self {
        TrackerService { inner: Arc::new(Inner { tracker, config }) }
    }

    /// Answers one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>> {
        // The body is never read: announce and scrape are GET requests.
        let (req, _) = req.into_parts();
        let endpoint = match req.uri.path() {
            "/announce" => Endpoint::Announce,
            "/scrape" => Endpoint::Scrape,
            _ => return plain(StatusCode::NOT_FOUND, "not found"),
        };
        if req.method != Method::GET && req.method != Method::HEAD {
            let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
            resp.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
            return resp;
        }
        let query = req.uri.query().unwrap_or("").as_bytes();
        let mut body = Vec::with_capacity(256);
        let outcome = match endpoint {
            Endpoint::Announce => self.announce(&req, query, &mut body).await,
            Endpoint::Scrape => self.scrape(query, &mut body).await,
        };
        if let Err(err) = outcome {
            log_error(endpoint, &err);
            body.clear();
            let retry = matches!(err, Failure::Tracker(TrackerError::Storage(_))).then_some(1);
            write_failure(&mut body, &err.reason(), retry);
        }
        bencoded(body)
    }

    async fn announce(&self, req: &http::request::Parts, query: &[u8], body: &mut Vec<u8>) -> Result<(), Failure> {
        let announce = parse_announce(query).map_err(TrackerError::from)?;
        let remote = req.extensions.get::<RemoteAddr>().ok_or(crate::ClientIpError::NoRemoteAddr)?;
        let ip = client_ip(remote.0.ip(), &req.headers, &self.inner.config.trusted_proxies)?;
        let response = self.inner.tracker.announce(&announce, ip).await?;
        write_announce(body, &response);
        Ok(())
    }

    async fn scrape(&self, query: &[u8], body: &mut Vec<u8>) -> Result<(), Failure> {
        let tracker = &self.inner.tracker;
        let request = parse_scrape(query, tracker.config().scrape_max_hashes).map_err(TrackerError::from)?;
        let response = tracker.scrape(&request).await?;
        write_scrape(body, &response);
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Announce,
    Scrape,
}

/// Everything that turns into a `failure reason`.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Tracker(#[from] TrackerError),
    #[error(transparent)]
    ClientIp(#[from] crate::ClientIpError),
}

impl Failure {
    fn reason(&self) -> std::borrow::Cow<'static, str> {
        match self {
            Failure::Tracker(e) => e.failure_reason(),
            Failure::ClientIp(e) => e.to_string().into(),
        }
    }
}

fn log_error(endpoint: Endpoint, err: &Failure) {
    match err {
        Failure::Tracker(TrackerError::Storage(e)) => tracing::warn!(?endpoint, error = %e, "storage failure"),
        Failure::ClientIp(e) => tracing::warn!(?endpoint, error = %e, "client address unknown"),
        Failure::Tracker(TrackerError::Refused(r)) => tracing::debug!(?endpoint, reason = %r, "request refused"),
    }
}

fn bencoded(body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    resp
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
    resp
}

impl<B: Send + 'static> tower::Service<Request<B>> for TrackerService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(req).await) })
    }
}
