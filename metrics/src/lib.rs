//! # octotracker-metrics
//!
//! Prometheus metrics (the `prometheus-client` crate, no global registry) and a small JSON
//! summary for an octotracker [`Tracker`](octotracker_core::Tracker).
//!
//! - [`TrackerMetrics`] registers every metric into a registry the caller owns, and is the
//!   engine's [`Observer`](octotracker_core::Observer): attach it with
//!   [`Tracker::with_observer`](octotracker_core::Tracker::with_observer).
//! - [`TrackerMetrics::refresh`] sets the gauges from the storage's totals; call it before
//!   encoding. [`TrackerMetrics::summary`] gives the `/stats` numbers.
//! - [`LatencyHistogram`]: histograms kept in atomics (prometheus-client's own histogram locks
//!   a mutex per observation), and [`RecentRate`]: the announce rate over the last minute.
//! - [`STATUS_PAGE`] and [`StatusSource`]: a self-contained HTML status page and the JSON it
//!   polls (live counts, announce rate and latency charts, top torrents, backend health).
//!
//! ```
//! use std::sync::Arc;
//! use octotracker_core::{SystemClock, Tracker, TrackerConfig};
//! use octotracker_metrics::TrackerMetrics;
//! use prometheus_client::registry::Registry;
//!
//! # async fn demo() {
//! let mut registry = Registry::default(); // the application's own registry
//! let metrics = Arc::new(TrackerMetrics::register(&mut registry));
//! let tracker = Tracker::new(
//!     TrackerConfig::default(),
//!     Arc::new(octotracker_memory::MemoryTorrentManager::default()),
//!     Arc::new(octotracker_interval::Static::default()),
//!     Arc::new(SystemClock),
//! )
//! .with_observer(metrics.clone());
//!
//! // In the application's `GET /metrics` handler:
//! metrics.refresh(&tracker).await.ok();
//! let mut body = String::new();
//! prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
//! assert!(body.contains("# HELP octotracker_announces Announces by event and outcome"));
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo());
//! ```

mod histogram;
mod rate;
mod status;
mod tracker_metrics;

pub use histogram::{BUCKETS_SECONDS, LatencyHistogram};
pub use prometheus_client;
pub use rate::{RecentRate, WINDOW_SECONDS};
pub use status::{
    LatencySnapshot, STATUS_PAGE, StatusReport, StatusSource, TOP_TORRENTS, TOP_TORRENTS_TTL, TOTALS_TTL, TopTorrent,
};
pub use tracker_metrics::{StatsSummary, TrackerMetrics};
