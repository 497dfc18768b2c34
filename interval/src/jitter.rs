//! [`Jitter`]: spreads another algorithm's `interval`, so peers that announced together drift apart.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};

/// A jitter percentage above [`Jitter::MAX_PERCENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("jitter ({0} %) must be at most 50 %")]
pub struct JitterError(pub u8);

/// Wraps an algorithm and moves each `interval` it hands out by a uniformly drawn offset of at most
/// `percent` % either way (rounded down to whole seconds, never below 1 second).
///
/// Peers told to come back at the same moment (after a restart, a flash crowd, a torrent
/// published at a known hour) would otherwise keep announcing in lockstep.
///
/// - `min interval` is the inner one, lowered to the jittered `interval` if that is shorter.
/// - The peer timeout is the inner one plus `percent` % of it, rounded up: the inner timeout
///   exceeds every inner `interval`, so the extended one exceeds every jittered `interval`.
///
/// The offsets come from a SplitMix64 sequence on one atomic counter: [`Jitter::with_seed`] makes
/// it reproducible (for tests), [`Jitter::new`] seeds it from the standard library's per-process
/// random hash keys.
///
/// ```
/// use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
/// use octotracker_interval::{Jitter, Static};
/// let jittered = Jitter::with_seed(Static::default(), 10, 7).unwrap();
/// let i = jittered.intervals(&SwarmStats::default(), UnixTime(0));
/// assert!((2430..=2970).contains(&i.interval) && i.min_interval == 600);
/// assert_eq!(jittered.peer_timeout().as_secs(), 3300);
/// ```
#[derive(Debug)]
pub struct Jitter<A> {
    inner: A,
    percent: u8,
    state: AtomicU64,
}

impl<A: IntervalAlgorithm> Jitter<A> {
    /// The largest jitter: ±50 %.
    pub const MAX_PERCENT: u8 = 50;

    /// `inner`'s intervals spread by ±`percent` %, randomly seeded.
    pub fn new(inner: A, percent: u8) -> Result<Self, JitterError> {
        let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Self::with_seed(inner, percent, seed)
    }

    /// `inner`'s intervals spread by ±`percent` %, the offsets drawn from `seed`.
    pub fn with_seed(inner: A, percent: u8, seed: u64) -> Result<Self, JitterError> {
        if percent > Self::MAX_PERCENT {
            return Err(JitterError(percent));
        }
        Ok(Jitter { inner, percent, state: AtomicU64::new(seed) })
    }

    /// The wrapped algorithm.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The jitter, percent either way.
    pub fn percent(&self) -> u8 {
        self.percent
    }

    /// The next SplitMix64 output.
    fn next(&self) -> u64 {
        let mut z = self.state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl<A: IntervalAlgorithm> IntervalAlgorithm for Jitter<A> {
    fn intervals(&self, swarm: &SwarmStats, now: UnixTime) -> Intervals {
        let inner = self.inner.intervals(swarm, now);
        let interval = u64::from(inner.interval);
        let spread = interval * u64::from(self.percent) / 100;
        if spread == 0 {
            return inner;
        }
        // Uniform in [interval - spread, interval + spread] (the modulo bias is below 2^-30).
        let jittered = (interval - spread + self.next() % (2 * spread + 1)).max(1);
        let interval = u32::try_from(jittered).unwrap_or(u32::MAX);
        Intervals { interval, min_interval: inner.min_interval.min(interval) }
    }

    fn peer_timeout(&self) -> Duration {
        let inner = self.inner.peer_timeout().as_secs();
        Duration::from_secs(inner.saturating_add((inner * u64::from(self.percent)).div_ceil(100)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Static;

    fn draws(j: &Jitter<Static>, n: usize) -> Vec<Intervals> {
        (0..n).map(|_| j.intervals(&SwarmStats::default(), UnixTime(0))).collect()
    }

    #[test]
    fn spreads_within_the_percentage_and_covers_it() {
        let j = Jitter::with_seed(Static::new(1000, 900, Duration::from_secs(1300)).unwrap(), 20, 1).unwrap();
        let d = draws(&j, 10_000);
        let lo = d.iter().map(|i| i.interval).min().unwrap();
        let hi = d.iter().map(|i| i.interval).max().unwrap();
        assert!(lo >= 800 && hi <= 1200, "{lo}..{hi}");
        assert!(lo < 810 && hi > 1190, "{lo}..{hi}");
        let mean = d.iter().map(|i| f64::from(i.interval)).sum::<f64>() / d.len() as f64;
        assert!((mean - 1000.0).abs() < 5.0, "{mean}");
        assert!(d.iter().all(|i| i.min_interval == i.interval.min(900)));
        assert!(d.iter().any(|i| i.min_interval < 900));
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let a = Jitter::with_seed(Static::default(), 10, 42).unwrap();
        let b = Jitter::with_seed(Static::default(), 10, 42).unwrap();
        let c = Jitter::with_seed(Static::default(), 10, 43).unwrap();
        assert_eq!(draws(&a, 100), draws(&b, 100));
        assert_ne!(draws(&b, 100), draws(&c, 100));
    }

    #[test]
    fn zero_percent_and_tiny_intervals_are_left_alone() {
        let j = Jitter::with_seed(Static::default(), 0, 1).unwrap();
        assert!(draws(&j, 100).iter().all(|i| i.interval == 2700));
        assert_eq!(j.peer_timeout(), Duration::from_secs(3000));
        let tiny = Jitter::with_seed(Static::new(1, 1, Duration::from_secs(2)).unwrap(), 50, 1).unwrap();
        assert!(draws(&tiny, 100).iter().all(|i| i.interval == 1));
    }

    #[test]
    fn the_timeout_grows_by_the_percentage_rounded_up() {
        let j = Jitter::with_seed(Static::new(600, 60, Duration::from_secs(901)).unwrap(), 10, 1).unwrap();
        assert_eq!(j.peer_timeout(), Duration::from_secs(992));
    }

    #[test]
    fn rejects_more_than_50_percent() {
        assert_eq!(Jitter::new(Static::default(), 51).unwrap_err(), JitterError(51));
        assert_eq!(JitterError(51).to_string(), "jitter (51 %) must be at most 50 %");
        assert!(Jitter::new(Static::default(), 50).is_ok());
    }
}
