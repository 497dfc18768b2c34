//! An axum application with routes of its own and the tracker nested at `/tracker`, on the
//! application's tokio runtime.
//!
//! ```sh
//! cargo run --release -p octotracker-http --example axum_embed -- 127.0.0.1:3000
//! curl http://127.0.0.1:3000/hello
//! # announce at http://127.0.0.1:3000/tracker/announce, scrape at http://127.0.0.1:3000/tracker/scrape
//! ```
//!
//! The tracker is a [`TrackerService`] configured for `/tracker/announce` and `/tracker/scrape`
//! (`HttpConfig::with_prefix`) and routed with `route_service`: exact routes for the two
//! endpoints, a catch-all for the rest of `/tracker/…` (passkey paths; 404 for anything else).
//! `nest_service("/tracker", …)` would work too, but axum rebuilds every request's URI to strip
//! the prefix, ~18 % of an announce's instructions (docs/embedding.md). The client address comes from axum's `ConnectInfo<SocketAddr>` (hence
//! `into_make_service_with_connect_info` and this crate's `axum` feature).
//!
//! One Prometheus registry serves app and tracker: the app registers its own metric
//! (`app_hello_requests_total`), the tracker registers its `octotracker_*` metrics into the same
//! registry, and the app's `GET /metrics` encodes both (refreshing the tracker's gauges first).
//!
//! tower-http layers compose around it: tracing and a concurrency limit around the tracker, a
//! timeout around the app's own routes (see the comment in `main` for why not the tracker). No compression:
//! bencode replies are small and peers do not ask for it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::{StatusCode, header};
use octotracker_core::{SystemClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, TrackerService};
use octotracker_metrics::TrackerMetrics;
use octotracker_metrics::prometheus_client::encoding::text::encode;
use octotracker_metrics::prometheus_client::metrics::counter::Counter;
use octotracker_metrics::prometheus_client::registry::Registry;
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());

    // The application's registry, with a metric of its own.
    let mut registry = Registry::default();
    let hellos = Counter::<u64>::default();
    registry.register("app_hello_requests", "Requests to the app's /hello", hellos.clone());

    // The tracker: memory storage, static intervals, the system clock, its metrics in the same
    // registry.
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    let metrics = Arc::new(TrackerMetrics::register(&mut registry));
    let tracker = Arc::new(
        Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock))
            .with_observer(metrics.clone()),
    );
    let registry = Arc::new(registry);

    // The tracker as a service, with tower-http tracing and a concurrency limit around it. No
    // per-request timeout here: the tracker never waits on anything but its storage, whose calls
    // are bounded by the backends themselves (Redis command timeout, PostgreSQL statement
    // timeout), and tower-http's TimeoutLayer arms a timer per request (~1 µs, 10% of an
    // announce). The app's own routes, which may be slow, get the timeout below.
    let tracker_service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(ConcurrencyLimitLayer::new(1024))
        .service(TrackerService::new(tracker.clone(), HttpConfig::default().with_prefix("/tracker")));

    let metrics_route = get(move || async move {
        metrics.refresh(&tracker).await.ok();
        let mut body = String::new();
        match encode(&mut body, &registry) {
            Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], String::new()),
        }
    });
    let app = Router::new()
        .route(
            "/hello",
            get(move || async move {
                hellos.inc();
                "hello from the app\n"
            }),
        )
        .route("/metrics", metrics_route)
        .route_layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10)))
        .route_service("/tracker/announce", tracker_service.clone())
        .route_service("/tracker/scrape", tracker_service.clone())
        .route_service("/tracker/{*path}", tracker_service);

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
