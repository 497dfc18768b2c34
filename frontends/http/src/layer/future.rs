//! [`MiddlewareFuture`]: the response future of [`TrackerMiddleware`](super::TrackerMiddleware).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http_body_util::{Either, Full};
use pin_project_lite::pin_project;

/// The tracker's answer (boxed: one allocation, as [`TrackerService`](crate::TrackerService)'s),
/// or the inner service's future, polled in place.
type TrackerFuture = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

pin_project! {
    /// The response future of [`TrackerMiddleware`](super::TrackerMiddleware): the tracker's
    /// answer or the inner service's, its body wrapped in [`Either`].
    pub struct MiddlewareFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Tracker { future: TrackerFuture },
        Inner { #[pin] future: F },
    }
}

impl<F> MiddlewareFuture<F> {
    pub(super) fn tracker(future: TrackerFuture) -> Self {
        MiddlewareFuture { kind: Kind::Tracker { future } }
    }

    pub(super) fn inner(future: F) -> Self {
        MiddlewareFuture { kind: Kind::Inner { future } }
    }
}

impl<F> std::fmt::Debug for MiddlewareFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Tracker { .. } => "tracker",
            Kind::Inner { .. } => "inner",
        };
        f.debug_struct("MiddlewareFuture").field("answered_by", &kind).finish()
    }
}

impl<F, B, E> Future for MiddlewareFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<Either<Full<Bytes>, B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Tracker { future } => {
                let response = ready!(future.as_mut().poll(cx));
                Poll::Ready(Ok(response.map(Either::Left)))
            }
            KindProj::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(Either::Right)))
            }
        }
    }
}
