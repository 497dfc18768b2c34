//! [`TransferRecorder`]: what the peers of a private tracker report having uploaded and
//! downloaded, per passkey — the basis of ratio tracking.
//!
//! The engine hands every answered announce that carried a passkey to the recorder, after the
//! storage answered and before the reply is written. Recording must not block: an
//! implementation queues (bounded) and writes in batches elsewhere; the announce never waits
//! for it, and a full queue drops records rather than slowing the tracker.

use std::net::SocketAddr;

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

/// Receives the [`Transfer`] of each answered announce with a passkey.
pub trait TransferRecorder: Send + Sync + 'static {
    /// Takes one transfer; must return at once.
    fn record(&self, transfer: Transfer);
}
