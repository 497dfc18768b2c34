//! # octotracker-core
//!
//! The domain of a BitTorrent tracker, with no I/O: types, the three plug-in traits, the
//! [`Tracker`] engine, and the HTTP wire format.
//!
//! ```text
//!  frontend (HTTP, tower, UDP)          parses bytes with `http_wire` into an AnnounceRequest
//!        │
//!        ▼
//!  Tracker::announce / scrape           policy: numwant default and cap, compact rules, scrape caps
//!        │      IntervalAlgorithm::intervals(&stats, now)
//!        ▼
//!  TorrentManager::announce             ONE atomic step: update the peer, pick peers, return counts
//!        │
//!        ▼
//!  AnnounceResponse ──► http_wire::write_announce ──► bytes
//! ```
//!
//! - Types: [`InfoHash`], [`PeerId`], [`Peer`], [`Event`], [`AnnounceRequest`],
//!   [`AnnounceResponse`], [`ScrapeRequest`], [`ScrapeResponse`], [`SwarmStats`].
//! - Traits: [`TorrentManager`] (storage; its contract is in the [`storage`] module),
//!   [`IntervalAlgorithm`], [`Frontend`].
//! - Access control: [`AccessControl`] (which torrents and clients are served), [`AccessList`].
//! - Metrics hooks: [`Observer`], attached with [`Tracker::with_observer`].
//! - Events for embedders: [`events`], a bounded stream per subscriber ([`Tracker::events`]).
//! - Time: [`Clock`], [`SystemClock`], [`StoppedClock`] for tests.
//! - Abuse: [`RateLimiter`], per-address token buckets in bounded shards (time passed in), applied
//!   by the HTTP and UDP frontends.
//! - Errors: a [`Refusal`] is told to the peer; a [`StorageError`] is logged.
//! - With the `testing` feature, `testing` holds the conformance suite every backend runs.

mod access;
mod clock;
mod config;
mod decimal;
mod error;
mod event;
mod frontend;
mod hash_lists;
mod info_hash;
mod interval;
mod observe;
mod passkeys;
mod peer;
mod rate_limit;
mod request;
mod response;
pub mod storage;
mod top;
mod tracker;
mod transfers;

pub mod events;

pub mod bencode;
pub mod http_wire;
pub mod udp_wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use access::{AccessControl, AccessList, AccessMode, AccessPolicy, ClientFilter, is_passkey};
pub use clock::{Clock, StoppedClock, SystemClock, UnixTime};
pub use config::TrackerConfig;
pub use decimal::Decimal;
pub use error::{Refusal, TrackerError};
pub use event::{Event, UnknownEvent};
pub use frontend::{Frontend, FrontendError, Shutdown};
pub use hash_lists::{HashList, HashListStore};
pub(crate) use info_hash::hex_value;
pub use info_hash::{HexIdError, InfoHash, PeerId};
pub use interval::{IntervalAlgorithm, Intervals};
pub use observe::{Observer, Outcome, RequestKind, StorageOp, failure_label, storage_error_label};
pub use passkeys::PasskeyStore;
pub use peer::{AddressFamily, Peer, WEBRTC_PREFIX, is_webrtc_ip, normalize_addr, normalize_ip, webrtc_addr};
pub use rate_limit::{RATE_LIMIT_PER_SHARD, RATE_LIMIT_SHARDS, RATE_LIMITED, RateLimit, RateLimiter};
pub use request::{AnnounceRequest, ScrapeRequest};
pub use response::{AnnounceResponse, ScrapeResponse};
pub use storage::{
    ExpiryReport, FamilyCounts, PeerAnnounce, PeerCounts, StorageError, StoreTotals, SwarmReply, SwarmStats,
    TorrentManager,
};
pub use top::{SwarmRank, TOP_SWARMS_SCAN, rank_swarms};
pub use tracker::Tracker;
pub use transfers::Transfer;
