//! What workers count: [`ErrorKind`], [`ErrorCounts`], [`Stats`] (one per worker, merged at the
//! end), and the [`Live`] counters the progress line reads while the run goes on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use octotracker_core::Event;

use super::histogram::Histogram;

/// Why a request did not count as a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The TCP connection or the HTTP handshake failed.
    Connect,
    /// No complete reply within the request timeout.
    Timeout,
    /// An HTTP status other than 200.
    HttpStatus,
    /// A well-formed reply carrying a `failure reason`.
    FailureReason,
    /// A 200 reply that is not the bencoded shape the protocol prescribes.
    MalformedReply,
    /// Open loop only: a request not sent because the connection was too far behind schedule.
    Backlog,
    /// The exchange broke after the request was sent (reset, closed before the reply).
    Io,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::HttpStatus,
        ErrorKind::FailureReason,
        ErrorKind::MalformedReply,
        ErrorKind::Backlog,
        ErrorKind::Io,
    ];

    /// The name in reports: `connect`, `timeout`, `http_status`, `failure_reason`,
    /// `malformed_reply`, `backlog`, `io`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::FailureReason => "failure_reason",
            ErrorKind::MalformedReply => "malformed_reply",
            ErrorKind::Backlog => "backlog",
            ErrorKind::Io => "io",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A count per [`ErrorKind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; 7]);

impl ErrorCounts {
    /// The count of one kind.
    pub fn get(&self, kind: ErrorKind) -> u64 {
        self.0[kind.index()]
    }

    /// Adds `n` errors of `kind`.
    pub fn add(&mut self, kind: ErrorKind, n: u64) {
        self.0[kind.index()] += n;
    }

    /// All errors.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Each kind with its count, in report order.
    pub fn iter(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL.iter().map(|&k| (k, self.get(k)))
    }

    fn merge(&mut self, other: &ErrorCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// Announces sent, by event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    /// `event=started`.
    pub started: u64,
    /// No event: a regular announce.
    pub regular: u64,
    /// `event=completed`.
    pub completed: u64,
    /// `event=stopped`.
    pub stopped: u64,
}

impl EventCounts {
    /// Counts one announce.
    pub fn add(&mut self, event: Event) {
        match event {
            Event::Started => self.started += 1,
            Event::None => self.regular += 1,
            Event::Completed => self.completed += 1,
            Event::Stopped => self.stopped += 1,
        }
    }

    /// All announces.
    pub fn total(&self) -> u64 {
        self.started + self.regular + self.completed + self.stopped
    }
}

/// How many distinct failure reasons are kept verbatim (the rest are only counted).
const MAX_REASONS: usize = 16;

/// One worker's counts; merged into the report at the end.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests sent whose exchange ended (a reply or an error other than backlog).
    pub requests: u64,
    /// Valid replies without a failure reason.
    pub ok: u64,
    /// Announces sent, by event.
    pub announces: EventCounts,
    /// Scrapes sent.
    pub scrapes: u64,
    /// Errors by kind.
    pub errors: ErrorCounts,
    /// The first distinct failure reasons, with their counts.
    pub failure_reasons: Vec<(String, u64)>,
    /// TCP connections opened (HTTP), or UDP sockets opened.
    pub connections_opened: u64,
    /// UDP only: connect requests sent (connection ids asked for).
    pub udp_connects: u64,
    /// Latency of every request that got an HTTP reply, nanoseconds.
    pub latency: Histogram,
}

impl Stats {
    /// Counts a failure reason, keeping the text of the first few distinct ones.
    pub fn failure_reason(&mut self, reason: &str) {
        if let Some(entry) = self.failure_reasons.iter_mut().find(|(r, _)| r == reason) {
            entry.1 += 1;
        } else if self.failure_reasons.len() < MAX_REASONS {
            self.failure_reasons.push((reason.to_owned(), 1));
        }
    }

    /// Adds another worker's counts.
    pub fn merge(&mut self, other: &Stats) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.announces.started += other.announces.started;
        self.announces.regular += other.announces.regular;
        self.announces.completed += other.announces.completed;
        self.announces.stopped += other.announces.stopped;
        self.scrapes += other.scrapes;
        self.errors.merge(&other.errors);
        for (reason, n) in &other.failure_reasons {
            if let Some(entry) = self.failure_reasons.iter_mut().find(|(r, _)| r == reason) {
                entry.1 += n;
            } else if self.failure_reasons.len() < MAX_REASONS {
                self.failure_reasons.push((reason.clone(), *n));
            }
        }
        self.connections_opened += other.connections_opened;
        self.udp_connects += other.udp_connects;
        self.latency.merge(&other.latency);
    }
}

/// Counters shared by all workers while the run goes on: the progress line reads them, and the
/// stop flag and request budget end the run.
#[derive(Debug, Default)]
pub(super) struct Live {
    /// Set at the deadline: workers finish their current request and return.
    pub stop: AtomicBool,
    /// Requests finished (any outcome but backlog).
    pub requests: AtomicU64,
    /// Errors of any kind.
    pub errors: AtomicU64,
    /// Requests claimed from the `--max-requests` budget.
    claimed: AtomicU64,
    /// The budget; `u64::MAX` for none.
    budget: u64,
}

impl Live {
    /// Counters for a run of at most `max_requests` requests.
    pub(super) fn new(max_requests: Option<u64>) -> Self {
        Live { budget: max_requests.unwrap_or(u64::MAX), ..Live::default() }
    }

    /// Whether a worker may send one more request: not stopped, and the budget not spent.
    pub(super) fn claim(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        self.budget == u64::MAX || self.claimed.fetch_add(1, Ordering::Relaxed) < self.budget
    }

    /// Whether the stop flag is set.
    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
