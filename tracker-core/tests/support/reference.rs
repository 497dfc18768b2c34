//! A deliberately naive `TorrentManager` (one mutex, O(swarm) everything) that follows the
//! contract, plus flaws to switch on: the suite must pass it and catch each flaw.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use octotracker_core::{
    AddressFamily, Event, ExpiryReport, InfoHash, Peer, PeerAnnounce, PeerId, StorageError, SwarmReply, SwarmStats,
    TorrentManager, UnixTime,
};

/// A rule the reference store breaks on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// Follows the contract.
    None,
    /// Lists the announcer among its peers.
    HandsOutItself,
    /// Returns the counts from before the announce.
    CountsBeforeTheAnnounce,
    /// Counts `completed` from seeders too.
    CountsCompletedFromSeeders,
    /// `expire` does nothing.
    NeverExpires,
    /// Always hands out the first `want` peers.
    NotRandom,
    /// Reads the swarm, yields, then writes it back: concurrent announces lose updates.
    NotAtomic,
    /// Hands IPv6 peers to IPv4 announcers and vice versa.
    MixesFamilies,
}

#[derive(Debug, Clone, Default)]
struct Swarm {
    peers: HashMap<SocketAddr, (PeerId, bool, UnixTime)>,
    downloaded: u64,
}

impl Swarm {
    fn stats(&self) -> SwarmStats {
        let complete = self.peers.values().filter(|p| p.1).count() as u32;
        SwarmStats { complete, incomplete: self.peers.len() as u32 - complete, downloaded: self.downloaded }
    }
}

/// The reference store.
#[derive(Debug)]
pub(crate) struct Reference {
    flaw: Flaw,
    swarms: Mutex<HashMap<InfoHash, Swarm>>,
    rng: AtomicU64,
}

impl Reference {
    pub(crate) fn new(flaw: Flaw) -> Self {
        let seed = RandomState::new().hash_one(0u8) | 1;
        Reference { flaw, swarms: Mutex::default(), rng: AtomicU64::new(seed) }
    }

    fn random(&self, below: usize) -> usize {
        // xorshift; races only make it more random.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        (x % below.max(1) as u64) as usize
    }

    fn apply(&self, swarm: &mut Swarm, a: &PeerAnnounce, want: usize) -> SwarmReply {
        let before = swarm.stats();
        let was = swarm.peers.get(&a.addr).copied();
        if a.event == Event::Stopped {
            swarm.peers.remove(&a.addr);
        } else {
            let counts = match was {
                Some((_, seeder, _)) => !seeder || self.flaw == Flaw::CountsCompletedFromSeeders,
                None => false,
            };
            if a.event == Event::Completed && counts {
                swarm.downloaded += 1;
            }
            swarm.peers.insert(a.addr, (a.peer_id, a.seeder, a.now));
        }
        let family = AddressFamily::of(a.addr.ip());
        let mut candidates: Vec<Peer> = swarm
            .peers
            .iter()
            .filter(|(addr, _)| self.flaw == Flaw::HandsOutItself || **addr != a.addr)
            .filter(|(addr, _)| self.flaw == Flaw::MixesFamilies || AddressFamily::of(addr.ip()) == family)
            .filter(|(_, p)| !(a.seeder && p.1))
            .map(|(addr, p)| Peer { addr: *addr, id: p.0 })
            .collect();
        if self.flaw == Flaw::NotRandom {
            candidates.sort_by_key(|p| p.addr);
        } else {
            for i in (1..candidates.len()).rev() {
                candidates.swap(i, self.random(i + 1));
            }
        }
        candidates.truncate(want);
        let stats = if self.flaw == Flaw::CountsBeforeTheAnnounce { before } else { swarm.stats() };
        SwarmReply { peers: candidates, stats }
    }
}

#[async_trait]
impl TorrentManager for Reference {
    async fn announce(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        if self.flaw == Flaw::NotAtomic {
            let mut swarm = self.swarms.lock().unwrap().get(&a.info_hash).cloned().unwrap_or_default();
            let reply = self.apply(&mut swarm, a, want);
            tokio::task::yield_now().await;
            self.swarms.lock().unwrap().insert(a.info_hash, swarm);
            return Ok(reply);
        }
        let mut swarms = self.swarms.lock().unwrap();
        if a.event == Event::Stopped && !swarms.contains_key(&a.info_hash) {
            return Ok(SwarmReply::default());
        }
        let swarm = swarms.entry(a.info_hash).or_default();
        Ok(self.apply(swarm, a, want))
    }

    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        let swarms = self.swarms.lock().unwrap();
        Ok(hashes.iter().map(|h| swarms.get(h).map(Swarm::stats).unwrap_or_default()).collect())
    }

    async fn family_counts(&self, hash: &InfoHash) -> Result<octotracker_core::FamilyCounts, StorageError> {
        let mut families = octotracker_core::FamilyCounts::default();
        if let Some(swarm) = self.swarms.lock().unwrap().get(hash) {
            for (addr, (_, seeder, _)) in &swarm.peers {
                let counts = match AddressFamily::of(addr.ip()) {
                    AddressFamily::V4 => &mut families.v4,
                    AddressFamily::V6 => &mut families.v6,
                    AddressFamily::WebRtc => &mut families.webrtc,
                };
                if *seeder { counts.seeders += 1 } else { counts.leechers += 1 }
            }
        }
        Ok(families)
    }

    async fn scrape_all(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        let swarms = self.swarms.lock().unwrap();
        Ok(swarms.iter().filter(|(_, s)| !s.peers.is_empty()).map(|(h, s)| (*h, s.stats())).take(limit).collect())
    }

    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        if self.flaw == Flaw::NeverExpires {
            return Ok(ExpiryReport::default());
        }
        let mut swarms = self.swarms.lock().unwrap();
        let mut report = ExpiryReport::default();
        swarms.retain(|_, swarm| {
            let before = swarm.peers.len();
            swarm.peers.retain(|_, p| p.2 >= cutoff);
            report.peers_removed += (before - swarm.peers.len()) as u64;
            let keep = !swarm.peers.is_empty();
            report.swarms_removed += u64::from(!keep);
            keep
        });
        Ok(report)
    }
}

/// A store that implements only the required methods: `scrape_all` is the trait's default.
#[derive(Debug)]
pub(crate) struct NoFullScrape(pub Reference);

#[async_trait]
impl TorrentManager for NoFullScrape {
    async fn announce(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        self.0.announce(a, want).await
    }
    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        self.0.scrape(hashes).await
    }
    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        self.0.expire(cutoff).await
    }
}
