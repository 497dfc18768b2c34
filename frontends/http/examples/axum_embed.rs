//! An axum application with routes of its own and the tracker nested at `/tracker`, on the
//! application's tokio runtime.
//!
//! ```sh
//! cargo run --release -p octotracker-http --example axum_embed -- 127.0.0.1:3000
//! curl http://127.0.0.1:3000/hello
//! # announce at http://127.0.0.1:3000/tracker/announce, scrape at http://127.0.0.1:3000/tracker/scrape
//! ```
//!
//! The tracker is a [`TrackerService`] mounted with `nest_service`, which strips `/tracker`: the
//! service sees `/announce` and `/scrape` (its default paths) and 404s any other `/tracker/…`
//! path. The client address comes from axum's `ConnectInfo<SocketAddr>` (hence
//! `into_make_service_with_connect_info` and this crate's `axum` feature).
//!
//! tower-http layers compose around it: tracing, a timeout, a concurrency limit. No compression:
//! bencode replies are small and peers do not ask for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use octotracker_core::{SystemClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, TrackerService};
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());

    // The tracker: memory storage, static intervals, the system clock.
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    let tracker = Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)));

    // The tracker as a service, with the usual tower-http layers around it.
    let tracker_service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10)))
        .layer(ConcurrencyLimitLayer::new(1024))
        .service(TrackerService::new(tracker, HttpConfig::default()));

    let app = Router::new()
        .route("/hello", get(|| async { "hello from the app\n" }))
        .nest_service("/tracker", tracker_service);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
