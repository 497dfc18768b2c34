//! [`Observer`]: what the engine and the frontends report as they work, for metrics.
//!
//! The core measures nothing unless an observer is attached ([`Tracker::with_observer`]); with
//! one, it reads a monotonic clock around each storage call and reports outcomes with fixed,
//! bounded labels (never an info hash or an address). `octotracker-metrics` implements it
//! with Prometheus metrics; an embedder may implement it for any other system.
//!
//! [`Tracker::with_observer`]: crate::Tracker::with_observer

use std::time::Duration;

use crate::{Event, ExpiryReport, StorageError, TrackerError, UnixTime};

/// Which request a frontend served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// An announce.
    Announce,
    /// A scrape.
    Scrape,
}

impl RequestKind {
    /// `announce` or `scrape`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Announce => "announce",
            RequestKind::Scrape => "scrape",
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Answered.
    Ok,
    /// Refused: the peer's doing (bad parameters, disabled feature).
    Refused,
    /// The storage could not be reached; the peer was told to retry.
    Unavailable,
    /// Any other failure on the tracker's side.
    Error,
}

impl Outcome {
    /// Every outcome, in label order.
    pub const ALL: [Outcome; 4] = [Outcome::Ok, Outcome::Refused, Outcome::Unavailable, Outcome::Error];

    /// The outcome of an engine result.
    pub fn of<T>(result: &Result<T, TrackerError>) -> Self {
        match result {
            Ok(_) => Outcome::Ok,
            Err(TrackerError::Refused(_)) => Outcome::Refused,
            Err(TrackerError::Storage(StorageError::Unavailable(_) | StorageError::Conflict(_))) => {
                Outcome::Unavailable
            }
            Err(TrackerError::Storage(_)) => Outcome::Error,
        }
    }

    /// `ok`, `refused`, `unavailable` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Unavailable => "unavailable",
            Outcome::Error => "error",
        }
    }
}

/// A storage operation, as timed by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageOp {
    /// [`TorrentManager::announce`](crate::TorrentManager::announce).
    Announce,
    /// [`TorrentManager::scrape`](crate::TorrentManager::scrape).
    Scrape,
    /// [`TorrentManager::scrape_all`](crate::TorrentManager::scrape_all).
    ScrapeAll,
    /// [`TorrentManager::expire`](crate::TorrentManager::expire).
    Expire,
    /// [`TorrentManager::totals`](crate::TorrentManager::totals).
    Totals,
}

impl StorageOp {
    /// Every operation, in label order.
    pub const ALL: [StorageOp; 5] =
        [StorageOp::Announce, StorageOp::Scrape, StorageOp::ScrapeAll, StorageOp::Expire, StorageOp::Totals];

    /// The label: `announce`, `scrape`, `scrape_all`, `expire` or `totals`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageOp::Announce => "announce",
            StorageOp::Scrape => "scrape",
            StorageOp::ScrapeAll => "scrape_all",
            StorageOp::Expire => "expire",
            StorageOp::Totals => "totals",
        }
    }
}

/// The label of a storage failure: `unavailable`, `conflict`, `unsupported` or `internal`.
pub fn storage_error_label(err: &StorageError) -> &'static str {
    match err {
        StorageError::Unavailable(_) => "unavailable",
        StorageError::Conflict(_) => "conflict",
        StorageError::Unsupported(_) => "unsupported",
        StorageError::Internal(_) => "internal",
    }
}

/// The failure label of an engine error: the refusal's own label, or `storage_unavailable`,
/// `storage_conflict`, `storage_unsupported`, `storage_internal`.
pub fn failure_label(err: &TrackerError) -> &'static str {
    match err {
        TrackerError::Refused(r) => r.label(),
        TrackerError::Storage(StorageError::Unavailable(_)) => "storage_unavailable",
        TrackerError::Storage(StorageError::Conflict(_)) => "storage_conflict",
        TrackerError::Storage(StorageError::Unsupported(_)) => "storage_unsupported",
        TrackerError::Storage(StorageError::Internal(_)) => "storage_internal",
    }
}

/// Receives what the tracker does. Every method has an empty default; calls come from the
/// request path, so implementations must be cheap and must not block (atomics, not locks).
pub trait Observer: Send + Sync + 'static {
    /// An announce ended. `event` is `None` when the request did not parse far enough to know
    /// it; `now` is the engine's clock.
    fn announce(&self, event: Option<Event>, outcome: Outcome, now: UnixTime) {
        let _ = (event, outcome, now);
    }

    /// A scrape of `hashes` info hashes (0 for a full scrape) ended.
    fn scrape(&self, hashes: usize, outcome: Outcome) {
        let _ = (hashes, outcome);
    }

    /// A request failed; `reason` is a fixed label ([`failure_label`], or a frontend's own
    /// such as `client_address`).
    fn failure(&self, reason: &'static str) {
        let _ = reason;
    }

    /// A storage call took `elapsed` and ended with `result`.
    fn storage(&self, op: StorageOp, elapsed: Duration, result: Result<(), &StorageError>) {
        let _ = (op, elapsed, result);
    }

    /// An expiry pass removed what `report` says.
    fn expired(&self, report: &ExpiryReport) {
        let _ = report;
    }

    /// A frontend (`http`, `udp`) answered a request of `kind` in `elapsed`, from the first
    /// byte it parsed to the reply it wrote.
    fn request(&self, frontend: &'static str, kind: RequestKind, elapsed: Duration) {
        let _ = (frontend, kind, elapsed);
    }
}
