//! [`TrackerLayer`]: the tracker in front of an application's own service. Requests for the
//! tracker's announce and scrape paths are answered by a [`TrackerService`]; every other
//! request goes to the inner service untouched.
//!
//! ```
//! use std::convert::Infallible;
//! use std::sync::Arc;
//!
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::{Either, Full};
//! use octotracker_core::{SystemClock, Tracker, TrackerConfig};
//! use octotracker_http::{HttpConfig, TrackerLayer};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
//! let intervals = Arc::new(octotracker_interval::Static::default());
//! let tracker = Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)));
//!
//! let app = service_fn(|_req: Request<()>| async {
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello from the app"))))
//! });
//! let service = ServiceBuilder::new()
//!     .layer(TrackerLayer::new(tracker, HttpConfig::default().with_prefix("/tracker")))
//!     .service(app);
//!
//! let response = service.clone().oneshot(Request::get("/tracker/scrape").body(()).unwrap()).await.unwrap();
//! assert!(matches!(response.into_body(), Either::Left(_))); // answered by the tracker
//! let response = service.oneshot(Request::get("/hello").body(()).unwrap()).await.unwrap();
//! assert!(matches!(response.into_body(), Either::Right(_))); // answered by the app
//! # }
//! ```

mod future;
mod middleware;

use std::sync::Arc;

use octotracker_core::Tracker;

use crate::{HttpConfig, TrackerService};

pub use future::MiddlewareFuture;
pub use middleware::TrackerMiddleware;

/// Wraps a service in a [`TrackerMiddleware`]: the tracker answers at
/// [`HttpConfig::announce_path`] and [`HttpConfig::scrape_path`] (whole paths, as the layer sees
/// them: use [`HttpConfig::with_prefix`] to serve at `/tracker/announce`), the inner service
/// answers everything else.
#[derive(Debug, Clone)]
pub struct TrackerLayer {
    tracker: TrackerService,
}

impl TrackerLayer {
    /// A layer answering for `tracker` with `config` (its paths, trusted proxies).
    pub fn new(tracker: Arc<Tracker>, config: HttpConfig) -> Self {
        TrackerLayer { tracker: TrackerService::new(tracker, config) }
    }

    /// A layer answering with an existing service (and its paths).
    pub fn from_service(tracker: TrackerService) -> Self {
        TrackerLayer { tracker }
    }
}

impl<S> tower::Layer<S> for TrackerLayer {
    type Service = TrackerMiddleware<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrackerMiddleware::new(self.tracker.clone(), inner)
    }
}
