//! [`TrackerMiddleware`]: the service [`TrackerLayer`](super::TrackerLayer) builds.

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{Either, Full};

use super::MiddlewareFuture;
use crate::TrackerService;

/// Answers the tracker's paths with a [`TrackerService`] and passes every other request to `S`
/// untouched (same request, same extensions, same body).
///
/// - Response body: `Either<Full<Bytes>, ResBody>`: `Left` from the tracker, `Right` the inner
///   service's body as it was (no boxing, no copy).
/// - Error: the inner service's; the tracker never fails (its errors are `failure reason`s).
/// - Readiness: `poll_ready` is the inner service's. A request the tracker answers leaves the
///   inner service's reserved readiness unused, for the next call.
#[derive(Debug, Clone)]
pub struct TrackerMiddleware<S> {
    tracker: TrackerService,
    inner: S,
}

impl<S> TrackerMiddleware<S> {
    /// `inner` behind `tracker`'s paths.
    pub fn new(tracker: TrackerService, inner: S) -> Self {
        TrackerMiddleware { tracker, inner }
    }

    /// The tracker service.
    pub fn tracker(&self) -> &TrackerService {
        &self.tracker
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, consuming the middleware.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for TrackerMiddleware<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<Either<Full<Bytes>, ResBody>>;
    type Error = S::Error;
    type Future = MiddlewareFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        if self.tracker.serves(req.uri().path()) {
            MiddlewareFuture::tracker(Box::pin(self.tracker.handle(req.into_parts().0)))
        } else {
            MiddlewareFuture::inner(self.inner.call(req))
        }
    }
}
