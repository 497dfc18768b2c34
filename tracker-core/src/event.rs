//! The `event` of an announce (BEP 3, BEP 21).

use std::fmt;

/// What an announce reports about the peer's download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Event {
    /// A regular update (no `event`, an empty one, or BEP 21 `paused`).
    #[default]
    None,
    /// The peer joins the swarm.
    Started,
    /// The peer leaves the swarm: it is removed at once.
    Stopped,
    /// The peer finished downloading: a known leecher that sends it becomes a seeder and raises
    /// the swarm's `downloaded` count by one.
    Completed,
}

/// An `event` value that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event")]
pub struct UnknownEvent;

impl Event {
    /// Parses the value of an HTTP `event` parameter (already percent-decoded).
    ///
    /// ```
    /// use octotracker_core::Event;
    /// assert_eq!(Event::from_query_value(b"completed"), Ok(Event::Completed));
    /// assert_eq!(Event::from_query_value(b"paused"), Ok(Event::None));
    /// assert!(Event::from_query_value(b"finished").is_err());
    /// ```
    pub fn from_query_value(value: &[u8]) -> Result<Self, UnknownEvent> {
        match value {
            b"" | b"empty" | b"paused" => Ok(Event::None),
            b"started" => Ok(Event::Started),
            b"stopped" => Ok(Event::Stopped),
            b"completed" => Ok(Event::Completed),
            _ => Err(UnknownEvent),
        }
    }

    /// The name used on the wire and in logs (`none` for a regular update).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::None => "none",
            Event::Started => "started",
            Event::Stopped => "stopped",
            Event::Completed => "completed",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
