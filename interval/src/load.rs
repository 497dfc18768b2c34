//! [`LoadAdaptive`]: intervals that hold this process's announce rate near a target.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};

use crate::timeout::{min_interval_from_ratio, peer_timeout_for, valid_ratio};

/// The settings of a [`LoadAdaptive`]. [`LoadAdaptiveConfig::new`] fills in the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadAdaptiveConfig {
    /// Announces per second this process should receive, `T`. Positive and finite.
    pub target: f64,
    /// Shortest `interval` handed out, seconds (at least 1).
    pub min: u32,
    /// Longest `interval` handed out, seconds; the peer timeout follows from it.
    pub max: u32,
    /// `interval` before the first measurement; `None`: 45 minutes, clamped into `[min, max]`.
    pub initial: Option<u32>,
    /// `min interval` as a fraction of `interval` (rounded down), within [0, 1].
    pub min_ratio: f64,
    /// Measurement window `W`, seconds: the rate is counted per window and the interval adjusted once
    /// per window.
    pub window: u32,
    /// `K`: how many intervals the controller takes to correct an error by a factor of e. At least 1;
    /// below about 3 the loop overshoots, since peers only react one interval later.
    pub damping: f64,
    /// `s`: the largest relative change of `interval` per window, within (0, 1].
    pub max_step: f64,
}

impl LoadAdaptiveConfig {
    /// Default shortest interval: 5 minutes.
    pub const DEFAULT_MIN: u32 = 5 * 60;
    /// Default longest interval: 2 hours.
    pub const DEFAULT_MAX: u32 = 2 * 60 * 60;
    /// `interval` before the first measurement, unless set: 45 minutes (clamped into the bounds).
    pub const DEFAULT_INITIAL: u32 = 45 * 60;
    /// Default `min interval` ratio: a quarter of `interval`.
    pub const DEFAULT_MIN_RATIO: f64 = 0.25;
    /// Default measurement window: 1 minute.
    pub const DEFAULT_WINDOW: u32 = 60;
    /// Default damping: an error shrinks by e every 4 intervals.
    pub const DEFAULT_DAMPING: f64 = 4.0;
    /// Default step limit: 10 % per window.
    pub const DEFAULT_MAX_STEP: f64 = 0.1;

    /// A target of `target` announces per second, every other setting at its default.
    pub fn new(target: f64) -> Self {
        LoadAdaptiveConfig {
            target,
            min: Self::DEFAULT_MIN,
            max: Self::DEFAULT_MAX,
            initial: None,
            min_ratio: Self::DEFAULT_MIN_RATIO,
            window: Self::DEFAULT_WINDOW,
            damping: Self::DEFAULT_DAMPING,
            max_step: Self::DEFAULT_MAX_STEP,
        }
    }

    /// The same settings with `interval` bounded by `[min, max]`.
    pub fn bounds(self, min: u32, max: u32) -> Self {
        LoadAdaptiveConfig { min, max, ..self }
    }

    fn validate(&self) -> Result<(), LoadAdaptiveError> {
        if !(self.target.is_finite() && self.target > 0.0) {
            return Err(LoadAdaptiveError::Target(self.target));
        }
        if self.min == 0 {
            return Err(LoadAdaptiveError::ZeroMin);
        }
        if self.min > self.max {
            return Err(LoadAdaptiveError::MinAboveMax { min: self.min, max: self.max });
        }
        if let Some(initial) = self.initial.filter(|i| !(self.min..=self.max).contains(i)) {
            return Err(LoadAdaptiveError::Initial { initial, min: self.min, max: self.max });
        }
        if !valid_ratio(self.min_ratio) {
            return Err(LoadAdaptiveError::MinRatio(self.min_ratio));
        }
        if self.window == 0 {
            return Err(LoadAdaptiveError::ZeroWindow);
        }
        if !(self.damping.is_finite() && self.damping >= 1.0) {
            return Err(LoadAdaptiveError::Damping(self.damping));
        }
        if !(self.max_step > 0.0 && self.max_step <= 1.0) {
            return Err(LoadAdaptiveError::MaxStep(self.max_step));
        }
        Ok(())
    }
}

/// Why a [`LoadAdaptiveConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadAdaptiveError {
    /// A target that is not a positive number.
    #[error("target ({0}) must be a positive number of announces per second")]
    Target(f64),
    /// A lower bound of 0.
    #[error("min must be at least 1 second")]
    ZeroMin,
    /// Bounds in the wrong order.
    #[error("min ({min}s) must not exceed max ({max}s)")]
    MinAboveMax {
        /// The lower bound.
        min: u32,
        /// The upper bound.
        max: u32,
    },
    /// A starting interval outside the bounds.
    #[error("initial interval ({initial}s) must lie within min ({min}s) and max ({max}s)")]
    Initial {
        /// The starting interval.
        initial: u32,
        /// The lower bound.
        min: u32,
        /// The upper bound.
        max: u32,
    },
    /// A `min interval` ratio outside [0, 1].
    #[error("min ratio {0} must be between 0 and 1")]
    MinRatio(f64),
    /// A window of 0 seconds.
    #[error("window must be at least 1 second")]
    ZeroWindow,
    /// A damping below 1.
    #[error("damping ({0}) must be at least 1")]
    Damping(f64),
    /// A step limit outside (0, 1].
    #[error("max step ({0}) must be above 0 and at most 1")]
    MaxStep(f64),
}

/// Intervals that hold the announce rate of this process near a target, within bounds.
///
/// A peer comes back after the `interval` it was given, so `N` peers announce `N / interval` times
/// a second: the rate is inversely proportional to the interval, and a multiplicative correction
/// converges. `LoadAdaptive` counts the calls to [`intervals`](IntervalAlgorithm::intervals) (one
/// per announce) in windows of `W` seconds of the `now` it is given, and at the end of each window,
/// with the measured rate `r = announces / W`:
///
/// ```text
/// H = max(I, H - W)                             horizon: how long peers already told an interval may stay away
/// g = min(1, W / (K * H))                       gain: the error is corrected over K horizons
/// f = clamp((r / T)^g, 1 / (1 + s), 1 + s)      at most s (10 %) per window
/// I = clamp(I * f, min, max)
/// ```
///
/// `I` is the `interval` (kept as a real number, handed out rounded), `T` the target rate, `K` the
/// damping (4), `s` the step limit. Peers react to a new interval only when they come back, up to one
/// interval later; a correction of `1/K` of the (logarithmic) error per interval is slow enough for
/// that delay not to cause overshoot (below `K` of about e it would), so the rate settles without
/// oscillating, within about `K` intervals for each factor e of error. The horizon `H` equals `I`
/// while `I` is steady or grows; after `I` shrank, it decays by one second per second from the longest
/// interval handed out, so the controller waits for the peers still on the old, long interval instead
/// of shortening further and undershooting.
///
/// A window without announces counts as a rate of `T / 1024`; the first, partial window is not
/// measured. `min interval` is `floor(I * min_ratio)`. The peer timeout is
/// [`peer_timeout_for`]`(max)`.
///
/// The swarm is not looked at. Time comes only from `now`. The state is three atomics, updated
/// without locks (the window and its count in one, `I` and `H` as two `f32`s in another, and a flag):
/// an announce costs one atomic add, and the first announce of a new window (whichever thread wins a
/// compare-and-swap) closes the previous one.
///
/// ```
/// use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
/// use octotracker_interval::{LoadAdaptive, LoadAdaptiveConfig};
/// let load = LoadAdaptive::new(LoadAdaptiveConfig::new(1.0).bounds(60, 3600)).unwrap();
/// // 10 announces a second, ten times the target, for two minutes: the interval grows.
/// for second in 0..120 {
///     for _ in 0..10 {
///         load.intervals(&SwarmStats::default(), UnixTime(second));
///     }
/// }
/// let after = load.intervals(&SwarmStats::default(), UnixTime(120));
/// assert!(after.interval > 2700 && after.interval <= 3600);
/// ```
#[derive(Debug)]
pub struct LoadAdaptive {
    config: LoadAdaptiveConfig,
    peer_timeout: Duration,
    /// `(window number + 1) << 32 | announces counted in it`; 0 before the first announce.
    slot: AtomicU64,
    /// The current interval `I` and the horizon `H`, seconds, as two `f32`s (`I` in the low half).
    state: AtomicU64,
    /// Whether a window was closed yet (the first one is partial and not measured).
    primed: AtomicBool,
}

/// How many empty windows are applied at most when announces resume after a silence.
const MAX_IDLE_STEPS: u32 = 100_000;

/// The smallest `r / T` the controller acts on (a window of no announces).
const RATIO_FLOOR: f64 = 1.0 / 1024.0;

impl LoadAdaptive {
    /// A controller with the given settings; rejects inconsistent ones.
    pub fn new(config: LoadAdaptiveConfig) -> Result<Self, LoadAdaptiveError> {
        config.validate()?;
        let initial = config.initial.unwrap_or(LoadAdaptiveConfig::DEFAULT_INITIAL).clamp(config.min, config.max);
        Ok(LoadAdaptive {
            peer_timeout: peer_timeout_for(config.max),
            config,
            slot: AtomicU64::new(0),
            state: AtomicU64::new(pack(initial as f32, initial as f32)),
            primed: AtomicBool::new(false),
        })
    }

    /// The settings.
    pub fn config(&self) -> &LoadAdaptiveConfig {
        &self.config
    }

    /// The `interval` handed out now, seconds.
    pub fn current_interval(&self) -> u32 {
        let (interval, _) = unpack(self.state.load(Ordering::Relaxed));
        let interval = interval.round();
        // Kept within [min, max] by `next_interval`; the cast saturates.
        (interval as u32).clamp(self.config.min, self.config.max)
    }

    /// One window's correction of `(interval, horizon)`, given the rate measured in it.
    fn next(&self, (interval, horizon): (f32, f32), rate: f64) -> (f32, f32) {
        let c = &self.config;
        let (interval, horizon) = (f64::from(interval), f64::from(horizon));
        // The peers that were told `interval` during the window are away until up to `interval` from now.
        let horizon = interval.max(horizon - f64::from(c.window));
        let ratio = (rate / c.target).max(RATIO_FLOOR);
        let gain = (f64::from(c.window) / (c.damping * horizon)).min(1.0);
        let limit = c.max_step.ln_1p();
        let step = (gain * ratio.ln()).clamp(-limit, limit);
        let interval = (interval * step.exp()).clamp(f64::from(c.min), f64::from(c.max));
        (interval as f32, horizon as f32)
    }

    /// Counts one announce in window `tag`, closing the previous window if this one is new.
    fn count(&self, tag: u32) {
        let mut seen = self.slot.load(Ordering::Relaxed);
        loop {
            let (current, announces) = ((seen >> 32) as u32, seen as u32);
            // Window numbers wrap (after 2^32 windows); compare them as a signed distance.
            let ahead = tag.wrapping_sub(current) as i32;
            if current != 0 && ahead <= 0 {
                // The current window, or a `now` lagging a racing thread's: count it here. If the window
                // rolled over since the load, the announce lands in the newer one, where it belongs too.
                // (2^32 announces in one window would carry into the window number.)
                self.slot.fetch_add(1, Ordering::Relaxed);
                return;
            }
            match self.slot.compare_exchange_weak(
                seen,
                (u64::from(tag) << 32) | 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    if current != 0 {
                        self.close(announces, ahead.unsigned_abs());
                    }
                    return;
                }
                Err(actual) => seen = actual,
            }
        }
    }

    /// Closes a window of `announces`, followed by `windows - 1` windows without any.
    fn close(&self, announces: u32, windows: u32) {
        let measured = self.primed.swap(true, Ordering::Relaxed);
        let rate = f64::from(announces) / f64::from(self.config.window);
        let update = |bits: u64| {
            let mut state = unpack(bits);
            if measured {
                state = self.next(state, rate);
            }
            for _ in 1..windows.min(MAX_IDLE_STEPS) {
                let next = self.next(state, 0.0);
                if next == state {
                    break;
                }
                state = next;
            }
            Some(pack(state.0, state.1))
        };
        // The closure always returns `Some`: this cannot fail.
        let _ = self.state.fetch_update(Ordering::Relaxed, Ordering::Relaxed, update);
    }
}

fn pack(interval: f32, horizon: f32) -> u64 {
    (u64::from(horizon.to_bits()) << 32) | u64::from(interval.to_bits())
}

fn unpack(state: u64) -> (f32, f32) {
    (f32::from_bits(state as u32), f32::from_bits((state >> 32) as u32))
}

impl IntervalAlgorithm for LoadAdaptive {
    fn intervals(&self, _swarm: &SwarmStats, now: UnixTime) -> Intervals {
        let window = now.0 / u64::from(self.config.window);
        // Truncated to 32 bits and shifted by one, so that 0 means "no window yet".
        self.count((window as u32).wrapping_add(1).max(1));
        let interval = self.current_interval();
        Intervals { interval, min_interval: min_interval_from_ratio(interval, self.config.min_ratio) }
    }

    fn peer_timeout(&self) -> Duration {
        self.peer_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce(load: &LoadAdaptive, now: u64, times: u32) -> Intervals {
        let mut last = None;
        for _ in 0..times {
            last = Some(load.intervals(&SwarmStats::default(), UnixTime(now)));
        }
        last.expect("at least one announce")
    }

    fn config() -> LoadAdaptiveConfig {
        LoadAdaptiveConfig { initial: Some(1000), ..LoadAdaptiveConfig::new(10.0).bounds(100, 10_000) }
    }

    #[test]
    fn starts_at_45_minutes_clamped_into_the_bounds() {
        let c = LoadAdaptiveConfig::new(1.0);
        assert_eq!(LoadAdaptive::new(c).unwrap().current_interval(), 2700);
        assert_eq!(LoadAdaptive::new(c.bounds(60, 600)).unwrap().current_interval(), 600);
        assert_eq!(LoadAdaptive::new(c.bounds(3600, 7200)).unwrap().current_interval(), 3600);
    }

    #[test]
    fn the_first_partial_window_is_not_measured() {
        let load = LoadAdaptive::new(config()).unwrap();
        announce(&load, 59, 1);
        assert_eq!(announce(&load, 60, 1).interval, 1000);
    }

    #[test]
    fn a_rate_on_target_keeps_the_interval() {
        let load = LoadAdaptive::new(config()).unwrap();
        for second in 0..600 {
            announce(&load, second, 10);
        }
        assert_eq!(load.current_interval(), 1000);
    }

    #[test]
    fn the_gain_corrects_a_kth_of_the_error_per_interval() {
        // r / T = e, W = 60, I = 1000, K = 4: factor e^(60 / 4000) per window.
        let load = LoadAdaptive::new(config()).unwrap();
        let per_window = (10.0 * std::f64::consts::E * 60.0).round() as u32;
        announce(&load, 0, 1);
        announce(&load, 60, per_window);
        announce(&load, 120, 1);
        let expected = 1000.0 * (60.0_f64 / 4000.0).exp();
        assert!((f64::from(load.current_interval()) - expected).abs() <= 1.0, "{}", load.current_interval());
    }

    #[test]
    fn a_window_changes_the_interval_by_at_most_the_step_limit() {
        let load = LoadAdaptive::new(config()).unwrap();
        announce(&load, 0, 1);
        announce(&load, 60, 1_000_000);
        assert_eq!(announce(&load, 120, 1).interval, 1100);
        let quiet = LoadAdaptive::new(config()).unwrap();
        announce(&quiet, 0, 1);
        announce(&quiet, 60, 1);
        assert_eq!(announce(&quiet, 120, 1).interval, 909);
    }

    #[test]
    fn silent_windows_shorten_the_interval_down_to_min() {
        let load = LoadAdaptive::new(config()).unwrap();
        announce(&load, 0, 1);
        announce(&load, 60, 600);
        assert_eq!(announce(&load, 180, 1).interval, 909, "one measured window on target, one silent");
        assert_eq!(announce(&load, 1_000_000, 1).interval, 100);
    }

    #[test]
    fn a_lagging_clock_counts_in_the_current_window() {
        let load = LoadAdaptive::new(config()).unwrap();
        announce(&load, 0, 1);
        announce(&load, 60, 300);
        announce(&load, 30, 300);
        assert_eq!(announce(&load, 120, 1).interval, 1000);
    }

    #[test]
    fn concurrent_announces_are_all_counted() {
        let load = LoadAdaptive::new(config()).unwrap();
        announce(&load, 0, 1);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| announce(&load, 61, 10_000));
            }
        });
        assert_eq!(unpack_slot(load.slot.load(Ordering::Relaxed)), (2, 40_000));
    }

    #[test]
    fn concurrent_windows_roll_over_once_each() {
        let config = LoadAdaptiveConfig { window: 1, ..config() };
        let (load, sequential) = (LoadAdaptive::new(config).unwrap(), LoadAdaptive::new(config).unwrap());
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for now in 0..200 {
                        announce(&load, now, 10);
                        barrier.wait();
                    }
                });
            }
        });
        for now in 0..200 {
            announce(&sequential, now, 40);
        }
        assert_eq!(unpack_slot(load.slot.load(Ordering::Relaxed)), (200, 40));
        assert_eq!(load.state.load(Ordering::Relaxed), sequential.state.load(Ordering::Relaxed));
        assert!(load.current_interval() > 1000);
    }

    fn unpack_slot(slot: u64) -> (u32, u32) {
        ((slot >> 32) as u32, slot as u32)
    }

    #[test]
    fn min_interval_is_a_fraction_of_interval() {
        let load = LoadAdaptive::new(LoadAdaptiveConfig { min_ratio: 0.5, ..config() }).unwrap();
        assert_eq!(announce(&load, 0, 1), Intervals { interval: 1000, min_interval: 500 });
        assert_eq!(load.peer_timeout(), Duration::from_secs(11_000));
    }

    #[test]
    fn rejects_inconsistent_settings() {
        use LoadAdaptiveError::*;
        let c = config();
        let err = |c: LoadAdaptiveConfig| LoadAdaptive::new(c).unwrap_err();
        assert_eq!(err(LoadAdaptiveConfig { target: 0.0, ..c }), Target(0.0));
        assert!(matches!(err(LoadAdaptiveConfig { target: f64::NAN, ..c }), Target(_)));
        assert_eq!(err(c.bounds(0, 10)), ZeroMin);
        assert_eq!(err(c.bounds(11, 10)), MinAboveMax { min: 11, max: 10 });
        assert_eq!(err(LoadAdaptiveConfig { initial: Some(50), ..c }), Initial { initial: 50, min: 100, max: 10_000 });
        assert_eq!(err(LoadAdaptiveConfig { min_ratio: -0.1, ..c }), MinRatio(-0.1));
        assert_eq!(err(LoadAdaptiveConfig { window: 0, ..c }), ZeroWindow);
        assert_eq!(err(LoadAdaptiveConfig { damping: 0.5, ..c }), Damping(0.5));
        assert_eq!(err(LoadAdaptiveConfig { max_step: 0.0, ..c }), MaxStep(0.0));
    }
}
