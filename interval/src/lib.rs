//! # octotracker-interval
//!
//! Interval algorithms: how often peers are told to come back, and how long the tracker keeps
//! a peer that stopped announcing.
//!
//! - [`Static`]: fixed intervals; `Static::default()` is MonoTorrent's: `interval` 45 minutes,
//!   `min interval` 10 minutes, peers expired after 50 minutes of silence.
//!
//! ```
//! use octotracker_core::{IntervalAlgorithm, SwarmStats, UnixTime};
//! use octotracker_interval::Static;
//! let intervals = Static::default().intervals(&SwarmStats::default(), UnixTime(0));
//! assert_eq!((intervals.interval, intervals.min_interval), (2700, 600));
//! ```

mod fixed;

pub use fixed::{Static, StaticError};
