//! The interval algorithm of the engine's tests: the same intervals for every swarm.

use std::time::Duration;

use octotracker_core::{IntervalAlgorithm, Intervals, SwarmStats, UnixTime};

/// Interval 120 s, minimum 60 s, peers time out after 300 s.
#[derive(Debug)]
pub(crate) struct Fixed;

impl IntervalAlgorithm for Fixed {
    fn intervals(&self, _: &SwarmStats, _: UnixTime) -> Intervals {
        Intervals { interval: 120, min_interval: 60 }
    }
    fn peer_timeout(&self) -> Duration {
        Duration::from_secs(300)
    }
}
