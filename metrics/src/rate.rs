//! [`RecentRate`]: how many events happened per second over the last minute, lock-free.

use std::sync::atomic::{AtomicU64, Ordering};

use octotracker_core::UnixTime;

/// The window [`RecentRate::per_second`] averages over, in seconds.
pub const WINDOW_SECONDS: u64 = 60;

/// More slots than seconds in the window, so the oldest second is never overwritten while it
/// still counts.
const SLOTS: usize = 64;

/// Counts events per second of the engine's clock, in a ring of one-second slots. Each slot packs
/// the second it counts (low 32 bits of the Unix time) above the count, so recording is one
/// compare-and-swap and a slot left from an older lap is recognised and restarted.
#[derive(Debug)]
pub struct RecentRate {
    slots: [AtomicU64; SLOTS],
}

impl Default for RecentRate {
    fn default() -> Self {
        RecentRate { slots: std::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

fn stamp(now: UnixTime) -> u64 {
    now.0 & 0xFFFF_FFFF
}

impl RecentRate {
    /// Records one event at `now`.
    pub fn record(&self, now: UnixTime) {
        let slot = &self.slots[(now.0 % SLOTS as u64) as usize];
        let second = stamp(now);
        let mut current = slot.load(Ordering::Relaxed);
        loop {
            let next = if current >> 32 == second { current + 1 } else { (second << 32) | 1 };
            match slot.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// Events in the last [`WINDOW_SECONDS`] seconds up to and including `now`.
    pub fn in_window(&self, now: UnixTime) -> u64 {
        let newest = stamp(now);
        self.slots
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .filter(|packed| newest.wrapping_sub(packed >> 32) & 0xFFFF_FFFF < WINDOW_SECONDS)
            .map(|packed| packed & 0xFFFF_FFFF)
            .sum()
    }

    /// The count of each second of the window, oldest first, `now` last.
    pub fn per_second_counts(&self, now: UnixTime) -> Vec<u64> {
        (0..WINDOW_SECONDS)
            .rev()
            .map(|ago| {
                let second = UnixTime(now.0.saturating_sub(ago));
                let packed = self.slots[(second.0 % SLOTS as u64) as usize].load(Ordering::Relaxed);
                if packed >> 32 == stamp(second) && second.0 + ago == now.0 { packed & 0xFFFF_FFFF } else { 0 }
            })
            .collect()
    }

    /// Events per second, averaged over the last [`WINDOW_SECONDS`] seconds.
    pub fn per_second(&self, now: UnixTime) -> f64 {
        self.in_window(now) as f64 / WINDOW_SECONDS as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_last_minute_only() {
        let rate = RecentRate::default();
        for _ in 0..30 {
            rate.record(UnixTime(1_000));
        }
        for t in 1_001..1_060 {
            rate.record(UnixTime(t));
        }
        assert_eq!(rate.in_window(UnixTime(1_059)), 30 + 59);
        assert_eq!(rate.in_window(UnixTime(1_060)), 59, "second 1,000 left the window");
        assert_eq!(rate.in_window(UnixTime(1_200)), 0);
        assert!((rate.per_second(UnixTime(1_059)) - 89.0 / 60.0).abs() < 1e-9);
    }

    #[test]
    fn per_second_counts_list_the_window_oldest_first() {
        let rate = RecentRate::default();
        rate.record(UnixTime(1_000));
        rate.record(UnixTime(1_000));
        rate.record(UnixTime(1_058));
        rate.record(UnixTime(1_059));
        let counts = rate.per_second_counts(UnixTime(1_059));
        assert_eq!(counts.len(), 60);
        assert_eq!((counts[0], counts[58], counts[59]), (2, 1, 1));
        assert_eq!(counts.iter().sum::<u64>(), rate.in_window(UnixTime(1_059)));
        assert_eq!(rate.per_second_counts(UnixTime(1_060))[0], 0, "second 1,000 left the window");
        assert_eq!(rate.per_second_counts(UnixTime(30)).len(), 60, "near the epoch too");
    }

    #[test]
    fn a_slot_from_an_older_lap_restarts() {
        let rate = RecentRate::default();
        rate.record(UnixTime(5));
        rate.record(UnixTime(5));
        rate.record(UnixTime(5 + SLOTS as u64));
        assert_eq!(rate.in_window(UnixTime(5 + SLOTS as u64)), 1);
    }

    #[test]
    fn concurrent_records_are_all_counted() {
        let rate = std::sync::Arc::new(RecentRate::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let rate = rate.clone();
                std::thread::spawn(move || (0..10_000).for_each(|_| rate.record(UnixTime(77))))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(rate.in_window(UnixTime(77)), 40_000);
    }
}
