//! [`TrackerMetrics`]: the tracker's Prometheus metrics, registered into the caller's registry.

use std::time::Duration;

use octotracker_core::{
    Event, ExpiryReport, Observer, Outcome, RequestKind, StorageError, StorageOp, StoreTotals, Tracker, UnixTime,
    storage_error_label,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::histogram::LatencyHistogram;
use crate::rate::RecentRate;

type Labels1 = [(&'static str, &'static str); 1];
type Labels2 = [(&'static str, &'static str); 2];

/// Announce events as labelled, plus `unknown` for requests that did not parse.
const EVENTS: [&str; 5] = ["none", "started", "stopped", "completed", "unknown"];

fn event_index(event: Option<Event>) -> usize {
    match event {
        Some(Event::None) => 0,
        Some(Event::Started) => 1,
        Some(Event::Stopped) => 2,
        Some(Event::Completed) => 3,
        None => 4,
    }
}

fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Refused => 1,
        Outcome::Unavailable => 2,
        Outcome::Error => 3,
    }
}

fn kind_slot(kind: RequestKind) -> usize {
    match kind {
        RequestKind::Announce => 0,
        RequestKind::Scrape => 1,
    }
}

fn op_index(op: StorageOp) -> usize {
    match op {
        StorageOp::Announce => 0,
        StorageOp::Scrape => 1,
        StorageOp::ScrapeAll => 2,
        StorageOp::Expire => 3,
        StorageOp::Totals => 4,
    }
}

/// Every metric of one tracker. Attach it to the engine with [`Tracker::with_observer`] (it is
/// the engine's [`Observer`]) and call [`refresh`](Self::refresh) before encoding the registry so
/// the gauges are current.
///
/// Metric names (all prefixed `octotracker_`, labels of bounded cardinality):
///
/// | metric | type | labels |
/// |---|---|---|
/// | `announces_total` | counter | `event` (none, started, stopped, completed, unknown), `outcome` (ok, refused, unavailable, error) |
/// | `scrapes_total` | counter | `outcome` |
/// | `scraped_hashes_total` | counter | |
/// | `failures_total` | counter | `reason` (a refusal's label, `storage_unavailable`, `client_address`, …) |
/// | `backend_errors_total` | counter | `operation`, `kind` (unavailable, conflict, unsupported, internal) |
/// | `expired_peers_total`, `expired_swarms_total` | counter | |
/// | `torrents`, `seeders`, `leechers`, `peers` | gauge | |
/// | `backend_up` | gauge | (1 when the last totals call reached the store, 0 when it failed) |
/// | `events_lost_total` | counter | (events subscribers lost because their ring was full; read at refresh) |
/// | `request_duration_seconds` | histogram | `frontend` (http, udp), `request` (announce, scrape) |
/// | `backend_duration_seconds` | histogram | `operation` (announce, scrape, scrape_all, expire, totals) |
#[derive(Debug)]
pub struct TrackerMetrics {
    announces: [[Counter; 4]; 5],
    scrapes: [Counter; 4],
    scraped_hashes: Counter,
    failures: Family<Labels1, Counter>,
    backend_errors: Family<Labels2, Counter>,
    expired_peers: Counter,
    expired_swarms: Counter,
    torrents: Gauge,
    seeders: Gauge,
    leechers: Gauge,
    peers: Gauge,
    backend_up: Gauge,
    events_lost: Counter,
    request_latency: Family<Labels2, LatencyHistogram>,
    http_latency: [LatencyHistogram; 2],
    backend_latency: [LatencyHistogram; 5],
    announce_rate: RecentRate,
}

/// A small summary for people who do not run Prometheus (`GET /stats`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StatsSummary {
    /// Swarms with at least one peer (`null` when the backend cannot count).
    pub torrents: Option<u64>,
    /// Seeders plus leechers.
    pub peers: Option<u64>,
    /// Seeders.
    pub seeders: Option<u64>,
    /// Leechers.
    pub leechers: Option<u64>,
    /// Announces received per second, averaged over the last minute of the engine's clock.
    pub announces_per_second: f64,
}

impl TrackerMetrics {
    /// Creates the metrics and registers them in `registry` under the prefix `octotracker`
    /// (an application passes its own registry, so one `/metrics` shows app and tracker).
    pub fn register(registry: &mut Registry) -> Self {
        let registry = registry.sub_registry_with_prefix("octotracker");

        let announce_family = Family::<Labels2, Counter>::default();
        let announces = std::array::from_fn(|e| {
            std::array::from_fn(|o| {
                announce_family.get_or_create_owned(&[("event", EVENTS[e]), ("outcome", Outcome::ALL[o].as_str())])
            })
        });
        registry.register("announces", "Announces by event and outcome", announce_family);

        let scrape_family = Family::<Labels1, Counter>::default();
        let scrapes =
            std::array::from_fn(|o| scrape_family.get_or_create_owned(&[("outcome", Outcome::ALL[o].as_str())]));
        registry.register("scrapes", "Scrape requests by outcome", scrape_family);

        let scraped_hashes = Counter::default();
        registry.register("scraped_hashes", "Info hashes asked for in scrapes", scraped_hashes.clone());
        let failures = Family::<Labels1, Counter>::default();
        registry.register("failures", "Requests answered with a failure reason, by reason", failures.clone());
        let backend_errors = Family::<Labels2, Counter>::default();
        // Every (operation, kind) series exists from the start at 0, so `increase()` and
        // `rate()` see the first error (a series born at 1 hides it) and dashboards find it.
        for op in StorageOp::ALL {
            let kinds = [
                StorageError::Unavailable(String::new()),
                StorageError::Conflict(String::new()),
                StorageError::Unsupported(""),
                StorageError::Internal(String::new()),
            ];
            for kind in kinds.iter().map(storage_error_label) {
                backend_errors.get_or_create_owned(&[("operation", op.as_str()), ("kind", kind)]);
            }
        }
        registry.register("backend_errors", "Storage backend errors by operation and kind", backend_errors.clone());
        let expired_peers = Counter::default();
        registry.register("expired_peers", "Peers removed by expiry", expired_peers.clone());
        let expired_swarms = Counter::default();
        registry.register("expired_swarms", "Swarms removed by expiry", expired_swarms.clone());

        let torrents = Gauge::default();
        registry.register("torrents", "Swarms with at least one peer", torrents.clone());
        let seeders = Gauge::default();
        registry.register("seeders", "Seeders over all swarms", seeders.clone());
        let leechers = Gauge::default();
        registry.register("leechers", "Leechers over all swarms", leechers.clone());
        let peers = Gauge::default();
        registry.register("peers", "Seeders plus leechers over all swarms", peers.clone());

        let backend_up = Gauge::default();
        registry.register(
            "backend_up",
            "1 when the storage answered the last totals call, 0 when it failed",
            backend_up.clone(),
        );

        let events_lost = Counter::default();
        registry.register(
            "events_lost",
            "Engine events a subscriber lost because it fell behind (its ring was full)",
            events_lost.clone(),
        );

        let request_latency = Family::<Labels2, LatencyHistogram>::default();
        let http_latency = [RequestKind::Announce, RequestKind::Scrape]
            .map(|kind| request_latency.get_or_create_owned(&[("frontend", "http"), ("request", kind.as_str())]));
        registry.register(
            "request_duration_seconds",
            "Time from parsing a request to its reply, per frontend and request",
            request_latency.clone(),
        );
        let backend_family = Family::<Labels1, LatencyHistogram>::default();
        let backend_latency =
            StorageOp::ALL.map(|op| backend_family.get_or_create_owned(&[("operation", op.as_str())]));
        registry.register("backend_duration_seconds", "Time spent in storage calls, per operation", backend_family);

        TrackerMetrics {
            announces,
            scrapes,
            scraped_hashes,
            failures,
            backend_errors,
            expired_peers,
            expired_swarms,
            torrents,
            seeders,
            leechers,
            peers,
            backend_up,
            events_lost,
            request_latency,
            http_latency,
            backend_latency,
            announce_rate: RecentRate::default(),
        }
    }

    /// Asks the storage for its totals and sets the `torrents`, `seeders`, `leechers` and `peers`
    /// gauges (and `events_lost_total` from the engine's [`EventHub`](octotracker_core::events::EventHub)). Call it before encoding the registry (it may walk the whole store: not per
    /// request). A backend that cannot count leaves the gauges at their last value.
    pub async fn refresh(&self, tracker: &Tracker) -> Result<StoreTotals, StorageError> {
        let lost = tracker.events().lost();
        self.events_lost.inc_by(lost.saturating_sub(self.events_lost.get()));
        let totals = match tracker.totals().await {
            Ok(totals) => totals,
            Err(e) => {
                // A backend that cannot count is not down.
                self.backend_up.set(i64::from(matches!(e, StorageError::Unsupported(_))));
                return Err(e);
            }
        };
        self.backend_up.set(1);
        let set = |gauge: &Gauge, value: u64| gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        set(&self.torrents, totals.torrents);
        set(&self.seeders, totals.seeders);
        set(&self.leechers, totals.leechers);
        set(&self.peers, totals.peers());
        Ok(totals)
    }

    /// Refreshes the totals and summarises them with the announce rate of the last minute.
    /// Totals are `None` when the backend cannot count; other storage errors are returned.
    pub async fn summary(&self, tracker: &Tracker) -> Result<StatsSummary, StorageError> {
        let totals = match self.refresh(tracker).await {
            Ok(totals) => Some(totals),
            Err(StorageError::Unsupported(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(StatsSummary {
            torrents: totals.map(|t| t.torrents),
            peers: totals.map(|t| t.peers()),
            seeders: totals.map(|t| t.seeders),
            leechers: totals.map(|t| t.leechers),
            announces_per_second: self.announce_rate.per_second(tracker.now()),
        })
    }

    /// Announces received since start, whatever their outcome.
    pub fn announces_total(&self) -> u64 {
        self.announces.iter().flatten().map(Counter::get).sum()
    }

    /// The durations of every frontend's requests of `kind` (http, https, udp, ws), merged: the count in
    /// each bucket of [`BUCKETS_SECONDS`](crate::BUCKETS_SECONDS) plus `+Inf`, and their sum.
    pub fn request_latency(&self, kind: RequestKind) -> ([u64; 20], Duration) {
        let mut buckets = self.http_latency[kind_slot(kind)].bucket_counts();
        let mut sum = self.http_latency[kind_slot(kind)].sum();
        for frontend in ["https", "udp", "ws"] {
            if let Some(h) = self.request_latency.get(&[("frontend", frontend), ("request", kind.as_str())]) {
                buckets.iter_mut().zip(h.bucket_counts()).for_each(|(total, n)| *total += n);
                sum += h.sum();
            }
        }
        (buckets, sum)
    }

    /// Announces received in each second of the last minute up to `now`, oldest first (the last
    /// entry is the second still running).
    pub fn announces_each_second(&self, now: UnixTime) -> Vec<u64> {
        self.announce_rate.per_second_counts(now)
    }

    /// Announces received per second over the last minute up to `now`.
    pub fn announces_per_second(&self, now: UnixTime) -> f64 {
        self.announce_rate.per_second(now)
    }
}

impl Observer for TrackerMetrics {
    fn announce(&self, event: Option<Event>, outcome: Outcome, now: UnixTime) {
        self.announces[event_index(event)][outcome_index(outcome)].inc();
        self.announce_rate.record(now);
    }

    fn scrape(&self, hashes: usize, outcome: Outcome) {
        self.scrapes[outcome_index(outcome)].inc();
        self.scraped_hashes.inc_by(hashes as u64);
    }

    fn failure(&self, reason: &'static str) {
        self.failures.get_or_create(&[("reason", reason)]).inc();
    }

    fn storage(&self, op: StorageOp, elapsed: Duration, result: Result<(), &StorageError>) {
        self.backend_latency[op_index(op)].observe(elapsed);
        if let Err(e) = result {
            self.backend_errors.get_or_create(&[("operation", op.as_str()), ("kind", storage_error_label(e))]).inc();
        }
    }

    fn expired(&self, report: &ExpiryReport) {
        self.expired_peers.inc_by(report.peers_removed);
        self.expired_swarms.inc_by(report.swarms_removed);
    }

    fn request(&self, frontend: &'static str, kind: RequestKind, elapsed: Duration) {
        let slot = kind_slot(kind);
        if frontend == "http" {
            self.http_latency[slot].observe(elapsed);
        } else {
            self.request_latency.get_or_create(&[("frontend", frontend), ("request", kind.as_str())]).observe(elapsed);
        }
    }
}
