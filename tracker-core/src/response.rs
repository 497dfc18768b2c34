//! Replies as the engine builds them; `http_reply` turns them into bencode.

use std::net::IpAddr;
use std::sync::Arc;

use crate::{InfoHash, Peer, SwarmStats};

/// A successful announce reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceResponse {
    /// Seconds until the client should announce again.
    pub interval: u32,
    /// Seconds the client must wait at least before announcing again.
    pub min_interval: u32,
    /// The swarm's counts after this announce.
    pub stats: SwarmStats,
    /// Other IPv4 peers (`peers`).
    pub peers: Vec<Peer>,
    /// Other IPv6 peers (`peers6`, BEP 7).
    pub peers6: Vec<Peer>,
    /// The tracker id, when one is configured (`tracker id`).
    pub tracker_id: Option<Arc<str>>,
    /// A non-fatal notice for the user (`warning message`).
    pub warning: Option<Arc<str>>,
    /// The address the tracker saw the client at (`external ip`, BEP 24).
    pub external_ip: Option<IpAddr>,
    /// Whether the peer list is in compact form.
    pub compact: bool,
    /// With the non-compact form, whether `peer id` is left out.
    pub no_peer_id: bool,
}

/// A successful scrape reply: one entry per distinct requested hash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScrapeResponse {
    /// Each hash with its counts.
    pub files: Vec<(InfoHash, SwarmStats)>,
}
