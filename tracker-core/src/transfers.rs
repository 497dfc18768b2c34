//! [`Transfer`]: what a peer of a private tracker reported having uploaded and downloaded, per
//! passkey — what [`PasskeyStore::record_transfers`](crate::PasskeyStore::record_transfers)
//! adds up. A subscriber of the engine's [events](crate::events) makes them from announces.

use std::net::SocketAddr;

use crate::events::AnnounceEvent;
use crate::{Event, InfoHash, UnixTime};

/// One announce's transfer counters, as the peer reported them (totals since it started the
/// torrent, BEP 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The passkey the announce carried (already checked).
    pub passkey: String,
    /// The swarm.
    pub info_hash: InfoHash,
    /// The peer's identity in the swarm.
    pub addr: SocketAddr,
    /// `uploaded`, bytes.
    pub uploaded: u64,
    /// `downloaded`, bytes.
    pub downloaded: u64,
    /// The announce's event.
    pub event: Event,
    /// When it arrived.
    pub now: UnixTime,
}

impl Transfer {
    /// The transfer of an announce that carried a passkey; `None` without one.
    pub fn of(announce: &AnnounceEvent) -> Option<Self> {
        Some(Transfer {
            passkey: announce.passkey.as_deref()?.to_owned(),
            info_hash: announce.info_hash,
            addr: announce.peer,
            uploaded: announce.uploaded,
            downloaded: announce.downloaded,
            event: announce.event,
            now: announce.now,
        })
    }
}
