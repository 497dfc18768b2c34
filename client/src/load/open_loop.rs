//! The open loop: requests at fixed intended times, latency measured from those times, so a
//! slow reply cannot hide the requests it delayed (no coordinated omission).
//!
//! With rate `R` and `C` connections, connection `w` owns the intended times
//! `start + (w + k·C) / R` for `k = 0, 1, …`: together an even stream of `R` requests a second.
//! A connection sends its next request at its next intended time, or at once when it is already
//! late. Lateness is bounded: when more than `max_backlog` of its intended times are already due,
//! the oldest overdue ones are dropped and counted as `backlog` errors, so a tracker that cannot
//! keep up shows up as errors instead of an ever-growing queue.
//!
//! Latency runs from the intended time when the connection was behind schedule; when it was idle
//! and waiting for its slot, from the moment it woke, so that the timer's ~1 ms granularity is
//! not charged to the tracker.

use std::time::Duration;

use tokio::time::Instant;

use super::stats::{ErrorKind, Stats};
use super::worker::Worker;

/// One connection's intended send times.
#[derive(Debug, Clone)]
pub(super) struct Schedule {
    start: Instant,
    end: Instant,
    /// Seconds between the start and this connection's first slot.
    offset: f64,
    /// Seconds between two of this connection's slots (`C / R`).
    period: f64,
    /// The next slot.
    k: u64,
    max_backlog: u64,
}

/// What the schedule says to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// Overdue intended sends dropped (count them as backlog errors).
    pub dropped: u64,
    /// The intended time of the next send, or `None` when the schedule has ended.
    pub at: Option<Instant>,
}

impl Schedule {
    /// Connection `index` of `connections` at `rate` requests a second over all connections,
    /// from `start` until `end`.
    pub(super) fn new(start: Instant, end: Instant, rate: f64, connections: u32, index: u32, max_backlog: u32) -> Self {
        Schedule {
            start,
            end,
            offset: f64::from(index) / rate,
            period: f64::from(connections) / rate,
            k: 0,
            max_backlog: u64::from(max_backlog.max(1)),
        }
    }

    fn intended(&self, k: u64) -> Instant {
        self.start + Duration::from_secs_f64(self.offset + k as f64 * self.period)
    }

    /// The next slot, seen at `now`: drops the overdue slots beyond the backlog bound.
    pub(super) fn next(&mut self, now: Instant) -> Slot {
        let mut at = self.intended(self.k);
        let mut dropped = 0;
        if now > at {
            // Slots due by now, this one included. Truncation: whole periods elapsed.
            let due = ((now - at).as_secs_f64() / self.period) as u64 + 1;
            if due > self.max_backlog {
                dropped = due - self.max_backlog;
                self.k += dropped;
                at = self.intended(self.k);
            }
        }
        if at >= self.end {
            return Slot { dropped, at: None };
        }
        self.k += 1;
        Slot { dropped, at: Some(at) }
    }
}

/// Runs `worker` on `schedule` until the schedule ends, the stop flag or the request budget.
pub(super) async fn run(mut worker: Worker, mut schedule: Schedule) -> (Stats, Instant) {
    loop {
        if worker.live().stopped() {
            break;
        }
        let now = Instant::now();
        let slot = schedule.next(now);
        if slot.dropped > 0 {
            worker.count_errors(ErrorKind::Backlog, slot.dropped);
        }
        let Some(at) = slot.at else { break };
        if !worker.live().claim() {
            break;
        }
        let since = if at > now {
            tokio::time::sleep_until(at).await;
            Instant::now()
        } else {
            at
        };
        let kind = worker.prepare();
        worker.send(kind, since).await;
    }
    worker.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn connections_interleave_into_an_even_stream() {
        let start = Instant::now();
        let end = start + ms(1000);
        // 100 requests/s over 4 connections: connection 1 sends at 10, 50, 90 ms…
        let mut s = Schedule::new(start, end, 100.0, 4, 1, 8);
        let times: Vec<_> = (0..3).map(|_| s.next(start).at.unwrap() - start).collect();
        let close = |a: Duration, b: Duration| a.abs_diff(b) < Duration::from_micros(1);
        assert!(close(times[0], ms(10)) && close(times[1], ms(50)) && close(times[2], ms(90)), "{times:?}");
    }

    #[test]
    fn a_late_connection_sends_overdue_requests_at_their_intended_times() {
        let start = Instant::now();
        let mut s = Schedule::new(start, start + ms(1000), 100.0, 1, 0, 8);
        // At 35 ms, the slots at 0, 10, 20, 30 are due: four within the bound, none dropped.
        let now = start + ms(35);
        for want in [0, 10, 20, 30] {
            let slot = s.next(now);
            assert_eq!(slot.dropped, 0);
            assert!((slot.at.unwrap() - start).abs_diff(ms(want)) < Duration::from_micros(1));
        }
        assert!(s.next(now).at.unwrap() > now, "the next slot is in the future");
    }

    #[test]
    fn overdue_slots_beyond_the_backlog_are_dropped() {
        let start = Instant::now();
        let mut s = Schedule::new(start, start + ms(10_000), 100.0, 1, 0, 5);
        // At 1005 ms, slots 0..=100 (101 of them) are due; 5 may wait, 96 are dropped.
        let slot = s.next(start + ms(1005));
        assert_eq!(slot.dropped, 96);
        assert!((slot.at.unwrap() - start).abs_diff(ms(960)) < Duration::from_micros(1));
    }

    #[test]
    fn the_schedule_ends_at_the_deadline() {
        let start = Instant::now();
        let mut s = Schedule::new(start, start + ms(100), 50.0, 1, 0, 8);
        let sent = std::iter::from_fn(|| s.next(start).at).count();
        assert_eq!(sent, 5, "0, 20, 40, 60, 80 ms");
        assert_eq!(s.next(start + ms(500)).at, None);
    }
}
