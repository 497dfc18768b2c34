//! The status page: [`STATUS_PAGE`] (one self-contained HTML file) and [`StatusSource`], which
//! answers the JSON the page polls ([`StatusReport`]).
//!
//! The page asks for `status.json` **relative to its own URL**, so an embedder mounts both under
//! any prefix: serve [`STATUS_PAGE`] at `PREFIX/` and [`StatusSource::report`] as JSON at
//! `PREFIX/status.json`. The binary serves them on its metrics listener (`/` and `/status.json`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use octotracker_core::{RequestKind, StorageError, StoreTotals, SwarmRank, Tracker};
use serde::Serialize;

use crate::TrackerMetrics;

/// The status page: HTML, CSS and JavaScript in one file, no external resources. It polls
/// `status.json` (relative to its own URL) every two seconds and keeps the history for its
/// charts itself.
pub const STATUS_PAGE: &str = include_str!("status_page.html");

/// How many top torrents the page lists.
pub const TOP_TORRENTS: usize = 10;

/// How long a ranking of the top torrents is reused: ranking may walk the whole store, and every
/// open page polls every two seconds.
pub const TOP_TORRENTS_TTL: Duration = Duration::from_secs(5);

/// How long the storage's totals are reused: each open page polls every two seconds, and
/// counting may walk the whole store (a `SCAN` of the prefix on Redis), so every viewer together
/// cost at most one totals call a second.
pub const TOTALS_TTL: Duration = Duration::from_secs(1);

/// What the status page shows, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// The version of the program serving the page.
    pub version: String,
    /// The storage backend's name (`memory`, `redis`, `postgres`, or an embedder's).
    pub backend: String,
    /// Whether the backend answered the totals call of this report.
    pub backend_ok: bool,
    /// Why it did not, when it did not.
    pub backend_error: Option<String>,
    /// Seconds since the source was created (the tracker's start).
    pub uptime_seconds: u64,
    /// When the report was made: Unix time in milliseconds (the page's chart time axis).
    pub time_ms: u64,
    /// The engine's clock (Unix seconds) when the report was made: the last second of
    /// `announces_each_second`.
    pub clock_seconds: u64,
    /// Swarms with at least one peer (`null` when the backend cannot count or failed).
    pub torrents: Option<u64>,
    /// Seeders plus leechers.
    pub peers: Option<u64>,
    /// Seeders.
    pub seeders: Option<u64>,
    /// Leechers.
    pub leechers: Option<u64>,
    /// Announces per second over the last minute (the `/stats` figure).
    pub announces_per_second: f64,
    /// Announces received since start, whatever their outcome.
    pub announces_total: u64,
    /// Announces received in each second of the last minute, oldest first, the second still
    /// running last: a page opened now charts the last minute at once.
    pub announces_each_second: Vec<u64>,
    /// Announce request durations since start, every frontend together.
    pub announce_latency: LatencySnapshot,
    /// The busiest swarms by peers (at most [`TOP_TORRENTS`]), refreshed every
    /// [`TOP_TORRENTS_TTL`].
    pub top_torrents: Vec<TopTorrent>,
    /// Why the top torrents could not be listed (a backend without a full scrape, an error).
    pub top_torrents_error: Option<String>,
}

/// A histogram's state: the page takes the difference of two snapshots to chart the latency of
/// each interval between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySnapshot {
    /// Requests measured.
    pub count: u64,
    /// Their total duration in seconds.
    pub sum_seconds: f64,
    /// `[upper bound in seconds, requests at most that long]`, cumulative, without `+Inf` (that
    /// is `count`).
    pub buckets: Vec<(f64, u64)>,
}

/// One of the busiest swarms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopTorrent {
    /// The info hash, 40 lower-case hex digits.
    pub info_hash: String,
    /// Seeders.
    pub seeders: u32,
    /// Leechers.
    pub leechers: u32,
    /// Completed downloads.
    pub downloaded: u64,
}

/// Builds [`StatusReport`]s for one tracker. Create it when the tracker starts (uptime counts
/// from then); share it between requests.
#[derive(Debug)]
pub struct StatusSource {
    tracker: Arc<Tracker>,
    metrics: Arc<TrackerMetrics>,
    backend: String,
    version: String,
    started: Instant,
    totals: Cached<Result<StoreTotals, StorageError>>,
    top: Cached<Result<Vec<TopTorrent>, String>>,
}

/// A value and when it was made, reused while it is younger than a time to live.
#[derive(Debug)]
struct Cached<T>(Mutex<Option<(Instant, T)>>);

impl<T: Clone> Cached<T> {
    fn new() -> Self {
        Cached(Mutex::new(None))
    }

    fn younger_than(&self, ttl: Duration) -> Option<T> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref().filter(|(at, _)| at.elapsed() < ttl).map(|(_, value)| value.clone())
    }

    fn put(&self, value: T) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), value));
    }
}

impl StatusSource {
    /// A source for `tracker`, whose observer is `metrics`; `backend` and `version` are shown as
    /// given.
    pub fn new(
        tracker: Arc<Tracker>,
        metrics: Arc<TrackerMetrics>,
        backend: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        StatusSource {
            tracker,
            metrics,
            backend: backend.into(),
            version: version.into(),
            started: Instant::now(),
            totals: Cached::new(),
            top: Cached::new(),
        }
    }

    /// The report now: counters and latency as they are, the storage's totals at most
    /// [`TOTALS_TTL`] old and the top torrents at most [`TOP_TORRENTS_TTL`] old. A failing backend
    /// is reported in the answer, not as an error, so the page shows it.
    pub async fn report(&self) -> StatusReport {
        let totals = match self.totals.younger_than(TOTALS_TTL) {
            Some(totals) => totals,
            None => {
                let totals = self.metrics.refresh(&self.tracker).await;
                self.totals.put(totals.clone());
                totals
            }
        };
        let (buckets, sum) = self.metrics.request_latency(RequestKind::Announce);
        let count = buckets.iter().sum();
        let mut cumulative = 0;
        let buckets = crate::BUCKETS_SECONDS
            .iter()
            .zip(buckets)
            .map(|(&bound, n)| {
                cumulative += n;
                (bound, cumulative)
            })
            .collect();
        let (top_torrents, top_torrents_error) = match self.top_torrents().await {
            Ok(top) => (top, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let counted = totals.as_ref().ok();
        let now = self.tracker.now();
        StatusReport {
            version: self.version.clone(),
            backend: self.backend.clone(),
            backend_ok: matches!(totals, Ok(_) | Err(StorageError::Unsupported(_))),
            backend_error: match &totals {
                Ok(_) | Err(StorageError::Unsupported(_)) => None,
                Err(e) => Some(e.to_string()),
            },
            uptime_seconds: self.started.elapsed().as_secs(),
            time_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            clock_seconds: now.0,
            torrents: counted.map(|t| t.torrents),
            peers: counted.map(|t| t.peers()),
            seeders: counted.map(|t| t.seeders),
            leechers: counted.map(|t| t.leechers),
            announces_per_second: self.metrics.announces_per_second(now),
            announces_total: self.metrics.announces_total(),
            announces_each_second: self.metrics.announces_each_second(now),
            announce_latency: LatencySnapshot { count, sum_seconds: sum.as_secs_f64(), buckets },
            top_torrents,
            top_torrents_error,
        }
    }

    async fn top_torrents(&self) -> Result<Vec<TopTorrent>, String> {
        if let Some(top) = self.top.younger_than(TOP_TORRENTS_TTL) {
            return top;
        }
        let top = self
            .tracker
            .storage()
            .top_swarms(SwarmRank::Peers, TOP_TORRENTS)
            .await
            .map(|swarms| {
                swarms
                    .into_iter()
                    .map(|(hash, s)| TopTorrent {
                        info_hash: hash.to_string(),
                        seeders: s.complete,
                        leechers: s.incomplete,
                        downloaded: s.downloaded,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string());
        self.top.put(top.clone());
        top
    }
}
