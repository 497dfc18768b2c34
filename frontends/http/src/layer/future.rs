//! [`MiddlewareFuture`]: the response future of [`TrackerMiddleware`](super::TrackerMiddleware)
//! and [`RateLimited`](crate::RateLimited).

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
    /// The response future of [`TrackerMiddleware`](super::TrackerMiddleware) and
    /// [`RateLimited`](crate::RateLimited): the tracker's answer (or a rate-limit refusal) or
    /// the inner service's, its body wrapped in [`Either`].
    pub struct MiddlewareFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Tracker { future: TrackerFuture },
        Ready { response: Option<Response<Full<Bytes>>> },
        Inner { #[pin] future: F },
    }
}

impl<F> MiddlewareFuture<F> {
    pub(super) fn tracker(future: TrackerFuture) -> Self {
        MiddlewareFuture { kind: Kind::Tracker { future } }
    }

    /// A response already made (a refusal).
    pub(crate) fn ready(response: Response<Full<Bytes>>) -> Self {
        MiddlewareFuture { kind: Kind::Ready { response: Some(response) } }
    }

    pub(crate) fn inner(future: F) -> Self {
        MiddlewareFuture { kind: Kind::Inner { future } }
    }
}

impl<F> std::fmt::Debug for MiddlewareFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Tracker { .. } | Kind::Ready { .. } => "tracker",
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
            KindProj::Ready { response } => {
                // Polled again after `Ready`: a caller's bug; answer with an empty reply rather
                // than panic.
                let response = response.take().unwrap_or_default();
                Poll::Ready(Ok(response.map(Either::Left)))
            }
            KindProj::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(Either::Right)))
            }
        }
    }
}
