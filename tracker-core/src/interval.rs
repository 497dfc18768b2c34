//! How often peers come back: the [`IntervalAlgorithm`] trait. Implementations live in the
//! `octotracker-interval` crate.

use std::time::Duration;

use crate::{SwarmStats, UnixTime};

/// The two intervals of an announce reply, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Intervals {
    /// `interval`: when the client should announce again.
    pub interval: u32,
    /// `min interval`: the client must not announce more often than this.
    pub min_interval: u32,
}

/// Chooses the intervals of each announce reply.
pub trait IntervalAlgorithm: Send + Sync + 'static {
    /// The intervals for a reply, given the swarm's counts after the announce.
    fn intervals(&self, swarm: &SwarmStats, now: UnixTime) -> Intervals;

    /// How long a peer stays without announcing before it is expired. Must exceed the longest
    /// `interval` this algorithm can hand out, so no peer is expired before it was told to return.
    fn peer_timeout(&self) -> Duration;
}
