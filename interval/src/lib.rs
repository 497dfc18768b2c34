//! # octotracker-interval
//!
//! Interval algorithms: how often peers are told to come back, and how long the tracker keeps
//! a peer that stopped announcing. Each implements `octotracker_core::IntervalAlgorithm`, which the
//! engine asks once per successful announce, with the swarm's counts after it and the clock's `now`.
//!
//! - [`Static`]: fixed intervals; `Static::default()` is MonoTorrent's: `interval` 45 minutes,
//!   `min interval` 10 minutes, peers expired after 50 minutes of silence.
//! - [`SwarmScaled`]: intervals by swarm size, from a table of [`Step`]s; by default 30 minutes
//!   under 100 peers, 60 under 1,000, 120 above.
//! - [`LoadAdaptive`]: measures this process's announce rate and lengthens or shortens `interval`
//!   within bounds to hold it near a target ([`LoadAdaptiveConfig`]).
//! - [`Jitter`]: wraps any of them and spreads `interval` by ±a percentage.
//! - [`peer_timeout_for`]: each algorithm's peer timeout is its longest `interval` plus
//!   max(5 minutes, 10 %), so no peer is expired before it was told to come back.
//! - [`parse`] / [`IntervalSpec`]: the text form the binary's flag takes, such as
//!   `swarm,steps=100:30m/1000:1h/2h,jitter=10`.
//!
//! Operators' guide, formulas and the flag grammar: [`guide`] (`docs/intervals.md`).
//!
//! ```
//! use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
//! use octotracker_interval::{Static, parse};
//! let intervals = Static::default().intervals(&SwarmStats::default(), UnixTime(0));
//! assert_eq!((intervals.interval, intervals.min_interval), (2700, 600));
//!
//! let swarm = parse("swarm,jitter=10").unwrap();
//! let big = SwarmStats { complete: 900, incomplete: 300, downloaded: 0 };
//! let interval = swarm.intervals(&big, UnixTime(0)).interval;
//! assert!((6480..=7920).contains(&interval));
//! assert!(swarm.peer_timeout().as_secs() > 7920);
//! ```

mod fixed;
mod jitter;
mod load;
mod spec;
mod swarm;
mod timeout;

pub use fixed::{Static, StaticError};
pub use jitter::{Jitter, JitterError};
pub use load::{LoadAdaptive, LoadAdaptiveConfig, LoadAdaptiveError};
pub use spec::{AlgorithmSpec, IntervalSpec, SpecError, parse};
pub use swarm::{Step, SwarmScaled, SwarmScaledError};
pub use timeout::{MIN_GRACE, peer_timeout_for};

#[doc = include_str!("../../docs/intervals.md")]
pub mod guide {}
