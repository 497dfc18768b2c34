//! [`TransferDeltas`]: reported counters turned into what was transferred since the last
//! announce, per peer — the basis of ratio tracking.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use super::AnnounceEvent;
use crate::{InfoHash, UnixTime};

/// The growth of a reported counter from `before` to `now`: all of `now` when it went down (the
/// client started again, its counters from zero). The one rule for every per-peer total (the
/// PostgreSQL per-key totals apply it too).
///
/// ```
/// use octotracker_core::events::transfer_growth;
/// assert_eq!(transfer_growth(100, 250), 150);
/// assert_eq!(transfer_growth(250, 40), 40, "restarted");
/// ```
pub fn transfer_growth(before: u64, now: u64) -> u64 {
    if now >= before { now - before } else { now }
}

/// (passkey, swarm, peer): one peer's counters are per torrent and per key.
type PeerKey = (Option<Arc<str>>, InfoHash, SocketAddr);

/// The last counters each peer reported, so each announce yields its deltas. Feed it every
/// announce in order (one subscriber, or one consumer of a cluster's stream) and
/// [`forget_before`](Self::forget_before) on each expiry, so it holds no more peers than the
/// store.
///
/// ```
/// use octotracker_core::events::{AnnounceEvent, TransferDeltas};
/// use octotracker_core::{Event, InfoHash, PeerId, SwarmStats, UnixTime};
/// let announce = |uploaded, now| AnnounceEvent {
///     info_hash: InfoHash([1; 20]),
///     peer: "10.0.0.1:6881".parse().unwrap(),
///     peer_id: PeerId([2; 20]),
///     event: Event::None,
///     uploaded,
///     downloaded: 0,
///     left: 0,
///     passkey: Some("alice".into()),
///     frontend: "http",
///     stats: SwarmStats::default(),
///     now: UnixTime(now),
/// };
/// let mut deltas = TransferDeltas::default();
/// assert_eq!(deltas.apply(&announce(100, 10)), (100, 0), "a new peer: everything it reports");
/// assert_eq!(deltas.apply(&announce(160, 20)), (60, 0));
/// deltas.forget_before(UnixTime(30));
/// assert_eq!(deltas.peers(), 0);
/// ```
#[derive(Debug, Default)]
pub struct TransferDeltas {
    last: HashMap<PeerKey, (u64, u64, UnixTime)>,
}

impl TransferDeltas {
    /// The (uploaded, downloaded) bytes this announce adds to its peer's totals.
    pub fn apply(&mut self, announce: &AnnounceEvent) -> (u64, u64) {
        let key = (announce.passkey.clone(), announce.info_hash, announce.peer);
        let last = self.last.entry(key).or_insert((0, 0, announce.now));
        let delta = (transfer_growth(last.0, announce.uploaded), transfer_growth(last.1, announce.downloaded));
        *last = (announce.uploaded, announce.downloaded, last.2.max(announce.now));
        delta
    }

    /// Forgets peers last seen before `cutoff` (an [`ExpiryEvent`](super::ExpiryEvent)'s): the
    /// store dropped them, and one that comes back counts as new.
    pub fn forget_before(&mut self, cutoff: UnixTime) {
        self.last.retain(|_, (_, _, seen)| *seen >= cutoff);
    }

    /// How many peers it remembers.
    pub fn peers(&self) -> usize {
        self.last.len()
    }
}
