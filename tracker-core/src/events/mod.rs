//! Events for embedders: what the engine did, published to subscribers as it happens.
//!
//! The [`Tracker`](crate::Tracker) owns an [`EventHub`]. Each [`Subscription`] is a bounded ring of
//! its own; the engine publishes with a non-blocking push into every ring:
//!
//! ```text
//!  Tracker::announce ──► storage answered ──► EventHub::publish ──► ring of subscriber 1 ──► recv().await
//!  Tracker::scrape   ──►                 (no subscriber: one      ring of subscriber 2 ──► try_recv()
//!  Tracker::expire   ──►                  relaxed load, nothing       full? the event is dropped, lost += 1
//!                                          else is built)
//! ```
//!
//! - Only answered requests are published: a refused or failed announce changed nothing.
//! - The announce path never waits: a full ring drops the event and counts it
//!   ([`Subscription::lost`], [`EventHub::lost`]; `octotracker_events_lost_total` in the
//!   metrics). A subscriber that must not miss anything keeps up, or reads its totals elsewhere.
//! - Announces carry the counters the peer **reported** (totals since it started the torrent,
//!   BEP 3), not deltas: no backend keeps a peer's previous counters (the memory backend's
//!   entries are 10 bytes), and in a cluster a peer's announces reach several processes, so no
//!   process alone knows the previous value. A consumer that sees every process's events (one
//!   subscriber, or the Redis stream of a cluster) turns them into deltas with
//!   [`TransferDeltas`], the rule the PostgreSQL per-key totals apply too ([`transfer_growth`]).
//! - Expiry is published once per pass with its counts and cutoff ([`ExpiryEvent`]): no backend
//!   reports the peers it removed one by one (Redis drops them inside announce scripts and by
//!   key TTLs), so a consumer keeping per-peer state forgets what was last seen before the
//!   cutoff ([`TransferDeltas::forget_before`]), as the store did.

mod deltas;
mod hub;

use std::net::SocketAddr;
use std::sync::Arc;

pub use deltas::{TransferDeltas, transfer_growth};
pub use hub::{EventHub, Subscription};

use crate::{Event, InfoHash, PeerId, SwarmStats, UnixTime};

/// One thing the engine did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerEvent {
    /// An announce was answered.
    Announce(AnnounceEvent),
    /// A scrape was answered.
    Scrape(ScrapeEvent),
    /// An expiry pass ran.
    Expiry(ExpiryEvent),
}

/// An answered announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceEvent {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The peer's identity in the swarm (for a WebRTC peer, its synthetic address).
    pub peer: SocketAddr,
    /// The id it announced with.
    pub peer_id: PeerId,
    /// What it reported.
    pub event: Event,
    /// `uploaded` as reported: bytes since it started the torrent.
    pub uploaded: u64,
    /// `downloaded` as reported.
    pub downloaded: u64,
    /// `left` as reported (0: a seeder).
    pub left: u64,
    /// The passkey of the request's URL, when it had one (already checked on a private tracker).
    pub passkey: Option<Arc<str>>,
    /// Which frontend served it (`http`, `https`, `udp`, `ws`, or an embedder's label).
    pub frontend: &'static str,
    /// The swarm's counts after the announce.
    pub stats: SwarmStats,
    /// The engine's clock when it arrived.
    pub now: UnixTime,
}

/// An answered scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeEvent {
    /// The hashes answered, in order (refused ones left out); empty for a full scrape.
    pub info_hashes: Arc<[InfoHash]>,
    /// A full scrape (every swarm).
    pub full: bool,
    /// The passkey of the request's URL, when it had one.
    pub passkey: Option<Arc<str>>,
    /// Which frontend served it.
    pub frontend: &'static str,
    /// The engine's clock when it arrived.
    pub now: UnixTime,
}

/// An expiry pass: peers last seen before `cutoff` and swarms left empty were removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryEvent {
    /// Peers last seen strictly before this time are gone.
    pub cutoff: UnixTime,
    /// Peers this pass removed (backends that also drop expired peers lazily, during announces,
    /// count only what the pass itself found).
    pub peers_removed: u64,
    /// Swarms this pass removed.
    pub swarms_removed: u64,
    /// The engine's clock when the pass ran.
    pub now: UnixTime,
}

/// The label of the frontend behind [`Tracker::announce`](crate::Tracker::announce) and the
/// other calls that do not name one.
pub const FRONTEND_UNNAMED: &str = "embedded";
