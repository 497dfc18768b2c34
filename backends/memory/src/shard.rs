//! One shard: the swarms whose info hash falls in it, behind one lock.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use octotracker_core::{Event, ExpiryReport, InfoHash, PeerAnnounce, StoreTotals, SwarmReply, SwarmStats, UnixTime};
use parking_lot::RwLock;

use crate::entry::PeerIdSlot;
use crate::swarm::Swarm;

/// A map of swarms behind a read-write lock (announces write, scrapes read). Aligned to 128
/// bytes so two shards' locks never share a cache line, nor an adjacent-line prefetch pair.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Shard<P: PeerIdSlot> {
    /// Hashed with its own random seed: info hashes are chosen by strangers.
    swarms: RwLock<HashMap<InfoHash, Swarm<P>, RandomState>>,
}

impl<P: PeerIdSlot> Shard<P> {
    /// Applies one announce to its swarm, creating the swarm unless the peer is leaving.
    pub(crate) fn announce(&self, a: &PeerAnnounce, want: usize) -> SwarmReply {
        let mut swarms = self.swarms.write();
        if a.event == Event::Stopped {
            // A stop creates nothing; a swarm it empties stays (with its downloads) until expiry.
            return swarms.get_mut(&a.info_hash).map(|s| s.announce(a, want)).unwrap_or_default();
        }
        swarms.entry(a.info_hash).or_default().announce(a, want)
    }

    /// The counts of one swarm, zeros when unknown.
    pub(crate) fn stats(&self, hash: &InfoHash) -> SwarmStats {
        self.swarms.read().get(hash).map(Swarm::stats).unwrap_or_default()
    }

    /// The peers of one swarm per address family, zeros when unknown.
    pub(crate) fn families(&self, hash: &InfoHash) -> octotracker_core::FamilyCounts {
        self.swarms.read().get(hash).map(Swarm::families).unwrap_or_default()
    }

    /// Appends up to `limit` swarms with peers, and their counts, to `out`.
    pub(crate) fn list(&self, limit: usize, out: &mut Vec<(InfoHash, SwarmStats)>) {
        let swarms = self.swarms.read();
        let listed = swarms.iter().filter(|(_, s)| !s.is_empty()).map(|(h, s)| (*h, s.stats()));
        out.extend(listed.take(limit));
    }

    /// Adds this shard's swarms with peers, seeders and leechers to `totals` (under the read
    /// lock: announces to this shard wait for one pass over its swarms).
    pub(crate) fn add_totals(&self, totals: &mut StoreTotals) {
        for swarm in self.swarms.read().values().filter(|s| !s.is_empty()) {
            let stats = swarm.stats();
            totals.torrents += 1;
            totals.seeders += u64::from(stats.complete);
            totals.leechers += u64::from(stats.incomplete);
        }
    }

    /// Removes the peers last seen before `cutoff` and the swarms left without peers, holding
    /// this shard's lock only.
    pub(crate) fn expire(&self, cutoff: UnixTime) -> ExpiryReport {
        let mut report = ExpiryReport::default();
        let mut swarms = self.swarms.write();
        swarms.retain(|_, swarm| {
            report.peers_removed += swarm.expire(cutoff) as u64;
            let empty = swarm.is_empty();
            report.swarms_removed += u64::from(empty);
            !empty
        });
        let len = swarms.len();
        if swarms.capacity() > 4 * len + 64 {
            swarms.shrink_to(len + len / 4);
        }
        report
    }
}
