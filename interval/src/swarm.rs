//! [`SwarmScaled`]: longer intervals for bigger swarms.

use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};

use crate::timeout::{min_interval_from_ratio, peer_timeout_for, valid_ratio};

/// One step of a [`SwarmScaled`] table: the intervals for swarms of fewer than `below` peers
/// (seeders plus leechers), or, with `below: None`, for every larger swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Exclusive upper bound on the swarm size; `None` for the last, open-ended step.
    pub below: Option<u64>,
    /// `interval`, seconds.
    pub interval: u32,
    /// `min interval`, seconds.
    pub min_interval: u32,
}

impl Step {
    /// The intervals for swarms of fewer than `peers` peers (and at least the previous step's bound).
    pub const fn below(peers: u64, interval: u32, min_interval: u32) -> Self {
        Step { below: Some(peers), interval, min_interval }
    }

    /// The last step: the intervals for every swarm the earlier steps do not cover.
    pub const fn otherwise(interval: u32, min_interval: u32) -> Self {
        Step { below: None, interval, min_interval }
    }
}

/// Why a [`SwarmScaled`] table is unusable. Steps are numbered from 0.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SwarmScaledError {
    /// An empty table.
    #[error("at least one step is needed")]
    NoSteps,
    /// A step with `interval` 0.
    #[error("step {index}: interval must be at least 1 second")]
    ZeroInterval {
        /// The step.
        index: usize,
    },
    /// A step whose `min interval` exceeds its `interval`.
    #[error("step {index}: min interval ({min}s) must not exceed interval ({interval}s)")]
    MinAboveInterval {
        /// The step.
        index: usize,
        /// Its min interval.
        min: u32,
        /// Its interval.
        interval: u32,
    },
    /// A step bound of 0 peers, which no swarm matches.
    #[error("step {index}: a bound of 0 peers matches no swarm")]
    ZeroBound {
        /// The step.
        index: usize,
    },
    /// Bounds not strictly increasing.
    #[error("step {index}: peer bounds must increase (below {below} follows below {previous})")]
    Unsorted {
        /// The step.
        index: usize,
        /// Its bound.
        below: u64,
        /// The previous step's bound.
        previous: u64,
    },
    /// An open-ended step before the last one.
    #[error("step {index}: only the last step may be open-ended")]
    OpenEndedNotLast {
        /// The step.
        index: usize,
    },
    /// A last step with a bound: bigger swarms would have no intervals.
    #[error("the last step must be open-ended (it covers every bigger swarm)")]
    LastBounded,
    /// A `min interval` ratio outside [0, 1].
    #[error("min ratio {0} must be between 0 and 1")]
    MinRatio(f64),
}

/// Intervals that grow with the swarm: a table of [`Step`]s by swarm size (seeders plus leechers,
/// after the announce).
///
/// Big swarms need few announces per peer to stay well connected, and they make most of a
/// tracker's load; small swarms profit from peers coming back often. The default table:
///
/// | swarm size      | `interval` | `min interval` |
/// |-----------------|-----------:|---------------:|
/// | under 100       | 30 min     | 7.5 min        |
/// | 100 to 999      | 60 min     | 15 min         |
/// | 1,000 and above | 120 min    | 30 min         |
///
/// Each step carries its own `min interval`; [`SwarmScaled::with_min_ratio`] derives them all
/// as one fraction of the step's `interval` (rounded down). The default uses
/// [`SwarmScaled::DEFAULT_MIN_RATIO`], a quarter.
///
/// The peer timeout is [`peer_timeout_for`] the longest `interval` of the table (the default:
/// 120 min + 12 min). Steps need not grow: the table is the operator's, checked for consistency
/// only.
///
/// ```
/// use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
/// use octotracker_interval::{Step, SwarmScaled};
/// let swarm = SwarmScaled::new(vec![Step::below(50, 600, 60), Step::otherwise(3600, 900)]).unwrap();
/// let small = SwarmStats { complete: 10, incomplete: 39, downloaded: 0 };
/// assert_eq!(swarm.intervals(&small, UnixTime(0)).interval, 600);
/// let big = SwarmStats { complete: 10, incomplete: 40, downloaded: 0 };
/// assert_eq!(swarm.intervals(&big, UnixTime(0)).interval, 3600);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwarmScaled {
    steps: Vec<Step>,
    peer_timeout: Duration,
}

impl SwarmScaled {
    /// `min interval` as a fraction of `interval` in the default table.
    pub const DEFAULT_MIN_RATIO: f64 = 0.25;
    /// The default table's bounds and intervals: under 100 peers 30 min, under 1,000 60 min, else 120 min.
    pub const DEFAULT_STEPS: [(Option<u64>, u32); 3] = [(Some(100), 30 * 60), (Some(1000), 60 * 60), (None, 120 * 60)];

    /// A table of steps, sorted by bound, the last one open-ended.
    pub fn new(steps: Vec<Step>) -> Result<Self, SwarmScaledError> {
        let last = steps.len().checked_sub(1).ok_or(SwarmScaledError::NoSteps)?;
        let mut previous: Option<u64> = None;
        for (index, step) in steps.iter().enumerate() {
            if step.interval == 0 {
                return Err(SwarmScaledError::ZeroInterval { index });
            }
            if step.min_interval > step.interval {
                return Err(SwarmScaledError::MinAboveInterval {
                    index,
                    min: step.min_interval,
                    interval: step.interval,
                });
            }
            match (step.below, index == last) {
                (None, false) => return Err(SwarmScaledError::OpenEndedNotLast { index }),
                (Some(_), true) => return Err(SwarmScaledError::LastBounded),
                (Some(0), false) => return Err(SwarmScaledError::ZeroBound { index }),
                (Some(below), false) => {
                    if let Some(previous) = previous.filter(|&p| below <= p) {
                        return Err(SwarmScaledError::Unsorted { index, below, previous });
                    }
                    previous = Some(below);
                }
                (None, true) => {}
            }
        }
        let longest = steps.iter().map(|s| s.interval).max().unwrap_or(1);
        Ok(SwarmScaled { steps, peer_timeout: peer_timeout_for(longest) })
    }

    /// A table of `(below, interval)` pairs (the last `below` `None`), each step's `min interval`
    /// `floor(interval * min_ratio)`.
    pub fn with_min_ratio(steps: &[(Option<u64>, u32)], min_ratio: f64) -> Result<Self, SwarmScaledError> {
        if !valid_ratio(min_ratio) {
            return Err(SwarmScaledError::MinRatio(min_ratio));
        }
        let steps = steps
            .iter()
            .map(|&(below, interval)| Step {
                below,
                interval,
                min_interval: min_interval_from_ratio(interval, min_ratio),
            })
            .collect();
        Self::new(steps)
    }

    /// The table.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    fn step_for(&self, peers: u64) -> &Step {
        self.steps
            .iter()
            .find(|s| s.below.is_none_or(|below| peers < below))
            .unwrap_or_else(|| &self.steps[self.steps.len() - 1])
    }
}

impl Default for SwarmScaled {
    fn default() -> Self {
        Self::with_min_ratio(&Self::DEFAULT_STEPS, Self::DEFAULT_MIN_RATIO).expect("the default table is valid")
    }
}

impl IntervalAlgorithm for SwarmScaled {
    fn intervals(&self, swarm: &SwarmStats, _now: UnixTime) -> Intervals {
        let step = self.step_for(swarm.peers());
        Intervals { interval: step.interval, min_interval: step.min_interval }
    }

    fn peer_timeout(&self) -> Duration {
        self.peer_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swarm(peers: u32) -> SwarmStats {
        SwarmStats { complete: peers / 2, incomplete: peers - peers / 2, downloaded: 0 }
    }

    fn at(algorithm: &SwarmScaled, peers: u32) -> (u32, u32) {
        let i = algorithm.intervals(&swarm(peers), UnixTime(0));
        (i.interval, i.min_interval)
    }

    #[test]
    fn the_default_table_grows_from_30_to_120_minutes() {
        let s = SwarmScaled::default();
        assert_eq!(at(&s, 0), (1800, 450));
        assert_eq!(at(&s, 99), (1800, 450));
        assert_eq!(at(&s, 100), (3600, 900));
        assert_eq!(at(&s, 999), (3600, 900));
        assert_eq!(at(&s, 1000), (7200, 1800));
        assert_eq!(at(&s, u32::MAX), (7200, 1800));
        assert_eq!(s.peer_timeout(), Duration::from_secs(7200 + 720));
    }

    #[test]
    fn seeders_and_leechers_both_count() {
        let s = SwarmScaled::default();
        let i = s.intervals(&SwarmStats { complete: u32::MAX, incomplete: u32::MAX, downloaded: 0 }, UnixTime(0));
        assert_eq!(i.interval, 7200);
        let i = s.intervals(&SwarmStats { complete: 60, incomplete: 40, downloaded: 1_000_000 }, UnixTime(0));
        assert_eq!(i.interval, 3600);
    }

    #[test]
    fn a_single_open_ended_step_is_static() {
        let s = SwarmScaled::new(vec![Step::otherwise(900, 300)]).unwrap();
        assert_eq!(at(&s, 0), (900, 300));
        assert_eq!(at(&s, 1_000_000), (900, 300));
        assert_eq!(s.peer_timeout(), Duration::from_secs(1200));
    }

    #[test]
    fn the_timeout_follows_the_longest_step_even_if_steps_shrink() {
        let s = SwarmScaled::new(vec![Step::below(10, 6000, 0), Step::otherwise(60, 60)]).unwrap();
        assert_eq!(s.peer_timeout(), Duration::from_secs(6600));
    }

    #[test]
    fn rejects_inconsistent_tables() {
        use SwarmScaledError::*;
        assert_eq!(SwarmScaled::new(vec![]), Err(NoSteps));
        assert_eq!(SwarmScaled::new(vec![Step::otherwise(0, 0)]), Err(ZeroInterval { index: 0 }));
        assert_eq!(
            SwarmScaled::new(vec![Step::below(5, 60, 61), Step::otherwise(60, 0)]),
            Err(MinAboveInterval { index: 0, min: 61, interval: 60 })
        );
        assert_eq!(SwarmScaled::new(vec![Step::below(0, 60, 0), Step::otherwise(60, 0)]), Err(ZeroBound { index: 0 }));
        assert_eq!(
            SwarmScaled::new(vec![Step::below(10, 60, 0), Step::below(10, 90, 0), Step::otherwise(60, 0)]),
            Err(Unsorted { index: 1, below: 10, previous: 10 })
        );
        assert_eq!(
            SwarmScaled::new(vec![Step::otherwise(60, 0), Step::otherwise(60, 0)]),
            Err(OpenEndedNotLast { index: 0 })
        );
        assert_eq!(SwarmScaled::new(vec![Step::below(10, 60, 0)]), Err(LastBounded));
        assert_eq!(SwarmScaled::with_min_ratio(&[(None, 60)], 1.01), Err(MinRatio(1.01)));
        assert!(SwarmScaled::with_min_ratio(&[(None, 60)], f64::NAN).is_err());
    }

    #[test]
    fn error_messages_are_lowercase_without_a_period() {
        let e = SwarmScaled::new(vec![Step::below(10, 60, 0)]).unwrap_err().to_string();
        assert_eq!(e, "the last step must be open-ended (it covers every bigger swarm)");
    }
}
