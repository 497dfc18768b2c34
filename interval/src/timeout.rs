//! The peer timeout that follows from the longest interval an algorithm hands out.

use std::time::Duration;

/// The smallest grace a peer gets on top of its `interval` before it is expired: 5 minutes.
pub const MIN_GRACE: Duration = Duration::from_secs(5 * 60);

/// The peer timeout for an algorithm whose longest `interval` is `longest_interval` seconds:
/// `longest_interval + max(5 minutes, 10 % of longest_interval)`, the 10 % rounded up.
///
/// `Static::default()`'s 45 minutes give 50 minutes, MonoTorrent's timeout.
///
/// ```
/// use std::time::Duration;
/// use octotracker_interval::peer_timeout_for;
/// assert_eq!(peer_timeout_for(2700), Duration::from_secs(3000));
/// assert_eq!(peer_timeout_for(7200), Duration::from_secs(7920));
/// ```
pub fn peer_timeout_for(longest_interval: u32) -> Duration {
    let longest = u64::from(longest_interval);
    let grace = longest.div_ceil(10).max(MIN_GRACE.as_secs());
    Duration::from_secs(longest + grace)
}

/// `min interval` as a fraction of `interval`, rounded down (so it never exceeds `interval`).
pub(crate) fn min_interval_from_ratio(interval: u32, ratio: f64) -> u32 {
    // `ratio` is validated to lie in [0, 1]; the cast saturates.
    ((f64::from(interval) * ratio).floor() as u32).min(interval)
}

/// Whether `ratio` is a usable `min interval` ratio: finite and within [0, 1].
pub(crate) fn valid_ratio(ratio: f64) -> bool {
    (0.0..=1.0).contains(&ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_five_minutes_or_ten_percent_whichever_is_longer() {
        assert_eq!(peer_timeout_for(1), Duration::from_secs(301));
        assert_eq!(peer_timeout_for(3000), Duration::from_secs(3300));
        assert_eq!(peer_timeout_for(3001), Duration::from_secs(3302));
        assert_eq!(peer_timeout_for(u32::MAX), Duration::from_secs(u64::from(u32::MAX) + 429_496_730));
    }

    #[test]
    fn min_interval_from_ratio_rounds_down_and_stays_below_interval() {
        assert_eq!(min_interval_from_ratio(1800, 0.25), 450);
        assert_eq!(min_interval_from_ratio(7, 0.5), 3);
        assert_eq!(min_interval_from_ratio(7, 1.0), 7);
        assert_eq!(min_interval_from_ratio(7, 0.0), 0);
        assert!(!valid_ratio(f64::NAN));
        assert!(!valid_ratio(1.5));
    }
}
