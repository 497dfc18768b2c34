//! The WebTorrent tracker messages: JSON text frames, parsed into typed requests ([`parse`]) and
//! written back ([`announce_reply`], [`offer_message`], …).
//!
//! Ids (`info_hash`, `peer_id`, `to_peer_id`) are 20-character strings whose code points are the
//! bytes (latin-1), as `bittorrent-tracker`'s client sends them. Offers, answers and offer ids
//! are relayed as the client sent them (any JSON value, its text copied verbatim), never
//! interpreted. Parsing borrows from the frame: no string of the message is copied, and a reply
//! is written straight into one exactly sized buffer.

mod offers;
mod parse;
mod write;

use octotracker_core::{Event, InfoHash, PeerId};
use serde_json::value::RawValue;

pub use parse::{id, parse};
pub use write::{announce_reply, answer_message, binary_string, failure_reply, offer_message, scrape_reply};

/// A request a peer sent.
#[derive(Debug, Clone)]
pub enum ClientMessage<'a> {
    /// `action: "announce"` without an answer: an announce, possibly with offers.
    Announce(Announce<'a>),
    /// `action: "announce"` with `answer` and `to_peer_id`: an answer to relay.
    Answer(Answer<'a>),
    /// `action: "scrape"`: the hashes asked about (none: a full scrape).
    Scrape(Vec<InfoHash>),
}

/// An announce of a WebRTC peer.
#[derive(Debug, Clone)]
pub struct Announce<'a> {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The peer.
    pub peer_id: PeerId,
    /// What happened.
    pub event: Event,
    /// `left`; `None` (absent or `null`) when the peer does not know yet (a magnet leecher).
    pub left: Option<u64>,
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Bytes downloaded so far.
    pub downloaded: u64,
    /// How many peers the client wants.
    pub numwant: Option<u32>,
    /// The offers, each for a different peer.
    pub offers: Vec<Offer<'a>>,
}

/// One WebRTC offer of an announce.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    /// The session description, relayed as sent.
    pub offer: &'a RawValue,
    /// The id that the answer will carry back, relayed as sent.
    pub offer_id: &'a RawValue,
}

/// An answer to an offer, for one peer.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The answering peer.
    pub peer_id: PeerId,
    /// The peer that made the offer.
    pub to_peer_id: PeerId,
    /// The session description, relayed as sent.
    pub answer: &'a RawValue,
    /// The offer's id, relayed as sent.
    pub offer_id: &'a RawValue,
}

/// Why a message was refused: the `failure reason` the peer is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadMessage {
    /// Not a JSON object.
    #[error("invalid message: expected a JSON object")]
    NotJson,
    /// `action` missing or unknown.
    #[error("invalid action: expected announce or scrape")]
    Action,
    /// A required field is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An id that is not a 20-character string of code points below 256.
    #[error("invalid {0}: expected a 20-character string of code points 0-255")]
    Id(&'static str),
    /// A field of the wrong type or range.
    #[error("invalid {0}")]
    Field(&'static str),
    /// An `event` that is not started, stopped, completed, paused or empty.
    #[error("invalid event: expected started, stopped, completed, paused or empty")]
    Event,
}

impl BadMessage {
    /// A fixed label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            BadMessage::NotJson => "bad_json",
            BadMessage::Action => "unknown_action",
            BadMessage::Missing(_) => "missing_parameter",
            BadMessage::Id(_) => "wrong_length",
            BadMessage::Field(_) => "bad_field",
            BadMessage::Event => "unknown_event",
        }
    }
}

/// What is known of a message that failed, for the reply: its action and info hash when they
/// parsed (the client ignores a reply without its info hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context {
    /// Whether the message was a scrape.
    pub scrape: bool,
    /// The info hash, when it parsed.
    pub info_hash: Option<InfoHash>,
}
