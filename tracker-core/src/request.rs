//! Requests as the engine sees them: typed and validated, whatever transport brought them.

use std::net::IpAddr;

use crate::{Event, InfoHash, PeerId};

/// An announce (BEP 3, BEP 23, BEP 7), validated: ids are 20 bytes, the port is 1–65535.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceRequest {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The id the client chose.
    pub peer_id: PeerId,
    /// The port the client listens on (never 0).
    pub port: u16,
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Bytes downloaded so far.
    pub downloaded: u64,
    /// Bytes left to download: 0 makes the peer a seeder.
    pub left: u64,
    /// What happened.
    pub event: Event,
    /// How many peers the client wants; `None` means the tracker's default.
    pub numwant: Option<u32>,
    /// Whether the client wants the compact peer list (BEP 23); the default.
    pub compact: bool,
    /// With a non-compact reply, leave `peer id` out of each peer.
    pub no_peer_id: bool,
    /// The client's `key` (an opaque value some clients send; not used for identity).
    pub key: Option<u32>,
    /// The address the client claims with `ip` (honoured only when the tracker is configured to).
    pub ip: Option<IpAddr>,
}

impl AnnounceRequest {
    /// A regular announce with the usual defaults: for tests, examples and the client.
    pub fn new(info_hash: InfoHash, peer_id: PeerId, port: u16) -> Self {
        AnnounceRequest {
            info_hash,
            peer_id,
            port,
            uploaded: 0,
            downloaded: 0,
            left: 0,
            event: Event::None,
            numwant: None,
            compact: true,
            no_peer_id: false,
            key: None,
            ip: None,
        }
    }
}

/// A scrape (BEP 48): the hashes asked about. Empty means a full scrape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScrapeRequest {
    /// The hashes, in the order given.
    pub info_hashes: Vec<InfoHash>,
}
