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
//! the prefix, ~18 % of an announce's instructions (docs/embedding.md). The client address comes
//! from axum's `ConnectInfo<SocketAddr>` (hence `into_make_service_with_connect_info` and this
//! crate's `axum` feature).
//!
//! One Prometheus registry serves app and tracker: the app registers its own metric
//! (`app_hello_requests_total`), the tracker registers its `octotracker_*` metrics into the same
//! registry, and the app's `GET /metrics` encodes both (refreshing the tracker's gauges first).
//!
//! tower-http and tower layers (tracing, timeout, concurrency limit) wrap the app's own routes;
//! the tracker's routes go without per-request layers, like the standalone server (see the
//! comment in `main`; docs/embedding.md wraps a `TrackerService` in the same layers). No
//! compression: bencode replies are small and peers do not ask for it.

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
use octotracker_metrics::{STATUS_PAGE, StatusSource};
use tokio::signal::unix::{SignalKind, signal};
use tower::ServiceBuilder;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

// The allocator the `octotracker` binary uses (see its src/main.rs), so that this example and the
// standalone server compare like with like in benches/embed_compare.sh. An embedding app picks
// its own; the tracker works with any.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

    // The tracker as a service, mounted on its full paths (no prefix stripping).
    let tracker_service = TrackerService::new(tracker.clone(), HttpConfig::default().with_prefix("/tracker"));

    // The status page under /status/: the page asks for `status.json` next to itself.
    let status = Arc::new(StatusSource::new(tracker.clone(), metrics.clone(), "memory", env!("CARGO_PKG_VERSION")));
    let status_page = get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], STATUS_PAGE) });
    let status_json = get(move || async move {
        let json = serde_json::to_string(&status.report().await).unwrap_or_default();
        ([(header::CONTENT_TYPE, "application/json")], json)
    });

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
        .route("/status/", status_page)
        .route("/status/status.json", status_json)
        // tower-http and tower layers around the app's own routes (added above this line): a
        // trace span, a timeout and a concurrency limit per request. The tracker's routes, added
        // below, go without them, as in the standalone server: an announce never waits on
        // anything but its storage, whose calls the backends bound themselves (Redis command
        // timeout, PostgreSQL statement timeout), and a span, a timer and a permit per announce
        // are ~1,100 instructions, 5 % of it (docs/embedding.md). The same layers wrap a
        // `TrackerService` unchanged where you want them (docs/embedding.md shows it).
        .route_layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10)))
                .layer(ConcurrencyLimitLayer::new(1024)),
        )
        .route_service("/tracker/announce", tracker_service.clone())
        .route_service("/tracker/scrape", tracker_service.clone())
        .route_service("/tracker/{*path}", tracker_service);

    // Ctrl-c (SIGINT) is watched from here on, before the "listening on" line: a supervisor may
    // send it the moment it reads that line. (`tokio::signal::ctrl_c()` would start watching only
    // when first polled, inside `serve`, and a SIGINT before that kills the process.)
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            interrupt.recv().await;
        })
        .await
}
