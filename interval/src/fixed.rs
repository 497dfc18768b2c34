//! [`Static`]: the same intervals for every reply.

use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};

/// Fixed `interval` and `min interval`, and a fixed peer timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Static {
    intervals: Intervals,
    peer_timeout: Duration,
}

/// Why a set of static intervals is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaticError {
    /// `interval` of 0.
    #[error("interval must be at least 1 second")]
    ZeroInterval,
    /// `min interval` above `interval`.
    #[error("min interval ({min}s) must not exceed interval ({interval}s)")]
    MinAboveInterval {
        /// The min interval.
        min: u32,
        /// The interval.
        interval: u32,
    },
    /// A peer timeout that would expire peers before they were told to come back.
    #[error("peer timeout ({timeout}s) must exceed interval ({interval}s)")]
    TimeoutTooShort {
        /// The peer timeout.
        timeout: u64,
        /// The interval.
        interval: u32,
    },
}

impl Static {
    /// MonoTorrent's defaults.
    pub const DEFAULT_INTERVAL: u32 = 45 * 60;
    /// MonoTorrent's defaults.
    pub const DEFAULT_MIN_INTERVAL: u32 = 10 * 60;
    /// MonoTorrent's defaults.
    pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(50 * 60);

    /// Fixed intervals (seconds) and peer timeout; rejects inconsistent values.
    pub fn new(interval: u32, min_interval: u32, peer_timeout: Duration) -> Result<Self, StaticError> {
        if interval == 0 {
            return Err(StaticError::ZeroInterval);
        }
        if min_interval > interval {
            return Err(StaticError::MinAboveInterval { min: min_interval, interval });
        }
        if peer_timeout.as_secs() <= u64::from(interval) {
            return Err(StaticError::TimeoutTooShort { timeout: peer_timeout.as_secs(), interval });
        }
        Ok(Static { intervals: Intervals { interval, min_interval }, peer_timeout })
    }
}

impl Default for Static {
    fn default() -> Self {
        Static {
            intervals: Intervals { interval: Self::DEFAULT_INTERVAL, min_interval: Self::DEFAULT_MIN_INTERVAL },
            peer_timeout: Self::DEFAULT_PEER_TIMEOUT,
        }
    }
}

impl IntervalAlgorithm for Static {
    fn intervals(&self, _swarm: &SwarmStats, _now: UnixTime) -> Intervals {
        self.intervals
    }

    fn peer_timeout(&self) -> Duration {
        self.peer_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_monotorrents() {
        let s = Static::default();
        let i = s.intervals(&SwarmStats { complete: 5, incomplete: 9, downloaded: 3 }, UnixTime(42));
        assert_eq!(i, Intervals { interval: 2700, min_interval: 600 });
        assert_eq!(s.peer_timeout(), Duration::from_secs(3000));
    }

    #[test]
    fn rejects_inconsistent_values() {
        assert_eq!(Static::new(0, 0, Duration::from_secs(10)), Err(StaticError::ZeroInterval));
        assert!(matches!(Static::new(60, 120, Duration::from_secs(600)), Err(StaticError::MinAboveInterval { .. })));
        assert!(matches!(Static::new(600, 60, Duration::from_secs(600)), Err(StaticError::TimeoutTooShort { .. })));
        assert!(Static::new(600, 60, Duration::from_secs(601)).is_ok());
    }
}
