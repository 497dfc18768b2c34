//! Time, injected: the engine and the backends read a [`Clock`], so tests stop and advance it
//! instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whole seconds since the Unix epoch: the tracker's only notion of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// This time plus a duration (whole seconds, saturating).
    pub fn plus(self, d: Duration) -> Self {
        UnixTime(self.0.saturating_add(d.as_secs()))
    }

    /// This time minus a duration (whole seconds, saturating at the epoch).
    pub fn minus(self, d: Duration) -> Self {
        UnixTime(self.0.saturating_sub(d.as_secs()))
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        UnixTime(secs)
    }
}

/// A clock that stands still until told to move: for tests.
///
/// ```
/// use std::time::Duration;
/// use octotracker_core::{Clock, StoppedClock, UnixTime};
/// let clock = StoppedClock::new(UnixTime(1_000));
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UnixTime(1_060));
/// ```
#[derive(Debug, Default)]
pub struct StoppedClock(AtomicU64);

impl StoppedClock {
    /// A clock stopped at `at`.
    pub fn new(at: UnixTime) -> Self {
        StoppedClock(AtomicU64::new(at.0))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: UnixTime) {
        self.0.store(at.0, Ordering::SeqCst);
    }
}

impl Clock for StoppedClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}
