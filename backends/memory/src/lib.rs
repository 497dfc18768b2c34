//! # octotracker-memory
//!
//! The in-memory [`TorrentManager`]: swarms live in this process, nothing survives a restart.
//! It is the embedded default, and the fastest backend: an announce is a hash, a lock and a
//! few dozen bytes copied.
//!
//! ```
//! use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, TorrentManager, UnixTime};
//! use octotracker_memory::{MemoryConfig, MemoryTorrentManager};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), octotracker_core::StorageError> {
//! let store = MemoryTorrentManager::new(MemoryConfig::default());
//! let hash = InfoHash([0xab; 20]);
//! let seeder = PeerAnnounce {
//!     info_hash: hash,
//!     addr: "192.0.2.1:6881".parse().unwrap(),
//!     peer_id: PeerId(*b"-XX0001-000000000001"),
//!     event: Event::Started,
//!     seeder: true,
//!     now: UnixTime(1_700_000_000),
//! };
//! store.announce(&seeder, 50).await?;
//!
//! let leecher = PeerAnnounce { addr: "192.0.2.2:51413".parse().unwrap(), seeder: false, ..seeder };
//! let reply = store.announce(&leecher, 50).await?;
//! assert_eq!(reply.peers.len(), 1, "the leecher is given the seeder");
//! assert_eq!((reply.stats.complete, reply.stats.incomplete), (1, 1));
//!
//! let stats = store.scrape(&[hash, InfoHash([0; 20])]).await?;
//! assert_eq!(stats[0].peers(), 2);
//! assert_eq!(stats[1].peers(), 0, "an unknown swarm scrapes as zeros");
//! # Ok(())
//! # }
//! ```
//!
//! ## How it is laid out
//!
//! ```text
//!  MemoryTorrentManager
//!   └─ shards: [Shard; 256+]        chosen by a randomly seeded hash of the info hash
//!       └─ RwLock<HashMap<InfoHash, Swarm>>      one lock per shard, no global lock
//!           └─ Swarm { v4: PeerList, downloaded: u64, rare: Option<Box<Rare>> }   40 bytes
//!               ├─ PeerList { slots: Box<[seeders… | leechers… | spare]>, len, seeders }
//!               │   └─ Entry { ip, port, last_seen: u32, [peer_id] }   10 bytes for IPv4 (30 with id)
//!               └─ Rare { v4 index above 32 peers, v6 and WebRTC PeerLists, their indexes }   only when needed
//! ```
//!
//! - **Counts are O(1)** and cannot drift: a list keeps its seeders in front of its leechers,
//!   so the counts are the boundary and the length.
//! - **Finding the announcer** is a scan of a small list, or a hash-index lookup in a large one
//!   (the index exists only above 32 peers, so small swarms pay no memory for it). The index
//!   holds 8-byte slots (a position and hash bits, the keys stay in the list), so a lookup
//!   costs one cache miss for the slot and one for the entry the announce updates anyway.
//! - **Choosing peers is O(`want`)**: a window of consecutive entries from a random start,
//!   wrapping around, from the leechers (for a seeder) or from both ranges in proportion (for
//!   a leecher). See the `selection` module.
//! - **Memory**: 10 bytes per IPv4 peer in its list (30 when peer ids are kept, see
//!   [`MemoryConfig::peer_ids`]), lists grown by a quarter rather than doubled, a 40-byte swarm
//!   header whose IPv6 list and hash indexes are boxed together (most swarms need neither).
//!   Measure it with `cargo run --release -p octotracker-benches --bin bytes_per_peer`.
//! - **Expiry** ([`TorrentManager::expire`]) walks the shards one at a time, holding one
//!   shard's lock at a time and yielding to other tasks between shards.
//!
//! Last-seen times are stored as 32-bit seconds, which last until the year 2106. A swarm
//! emptied by `stopped` announces keeps its `downloaded` count until the next expiry pass.
//!
//! The backend passes the core's conformance suite (`tests/conformance.rs`).

mod config;
mod entry;
mod index;
mod peer_list;
mod selection;
mod shard;
mod swarm;
mod yield_now;

use std::fmt;
use std::hash::BuildHasher;

use async_trait::async_trait;
use foldhash::fast::RandomState;
use octotracker_core::{
    ExpiryReport, InfoHash, PeerAnnounce, StorageError, StoreTotals, SwarmReply, SwarmStats, TorrentManager, UnixTime,
};

pub use config::MemoryConfig;

use shard::Shard;
use yield_now::YieldNow;

/// The in-memory storage backend. See the [crate documentation](crate) for its layout.
pub struct MemoryTorrentManager {
    shards: Shards,
    /// The number of shards minus one; the number is a power of two.
    mask: usize,
    /// Picks a hash's shard; seeded at random, independently of the shards' own maps.
    hasher: RandomState,
}

/// The shards, with or without peer ids in their entries ([`MemoryConfig::peer_ids`]).
enum Shards {
    PeerIds(Box<[Shard<[u8; 20]>]>),
    NoPeerIds(Box<[Shard<()>]>),
}

/// Runs `$body` with `$shards` bound to the store's shards, whichever entry type they hold.
macro_rules! with_shards {
    ($store:expr, |$shards:ident| $body:expr) => {
        match &$store.shards {
            Shards::PeerIds($shards) => $body,
            Shards::NoPeerIds($shards) => $body,
        }
    };
}

impl MemoryTorrentManager {
    /// An empty store laid out as `config` says.
    pub fn new(config: MemoryConfig) -> Self {
        let count = config.shard_count();
        let shards = if config.peer_ids {
            Shards::PeerIds((0..count).map(|_| Shard::default()).collect())
        } else {
            Shards::NoPeerIds((0..count).map(|_| Shard::default()).collect())
        };
        MemoryTorrentManager { shards, mask: count - 1, hasher: RandomState::default() }
    }

    /// How many shards the swarms are spread over.
    pub fn shard_count(&self) -> usize {
        self.mask + 1
    }

    /// Whether peers' ids are stored (and handed out), as [`MemoryConfig::peer_ids`] asked.
    pub fn keeps_peer_ids(&self) -> bool {
        matches!(self.shards, Shards::PeerIds(_))
    }

    /// The index of `hash`'s shard.
    fn shard_of(&self, hash: &InfoHash) -> usize {
        self.hasher.hash_one(hash) as usize & self.mask
    }
}

impl Default for MemoryTorrentManager {
    fn default() -> Self {
        MemoryTorrentManager::new(MemoryConfig::default())
    }
}

impl fmt::Debug for MemoryTorrentManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTorrentManager")
            .field("shards", &self.shard_count())
            .field("peer_ids", &self.keeps_peer_ids())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TorrentManager for MemoryTorrentManager {
    async fn announce(&self, announce: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        // `shard_of` masks the index below the number of shards.
        let at = self.shard_of(&announce.info_hash);
        Ok(with_shards!(self, |shards| shards[at].announce(announce, want)))
    }

    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        Ok(with_shards!(self, |shards| hashes.iter().map(|h| shards[self.shard_of(h)].stats(h)).collect()))
    }

    async fn family_counts(&self, hash: &InfoHash) -> Result<octotracker_core::FamilyCounts, StorageError> {
        Ok(with_shards!(self, |shards| shards[self.shard_of(hash)].families(hash)))
    }

    async fn scrape_all(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        let mut out = Vec::new();
        with_shards!(self, |shards| {
            for shard in shards.iter() {
                if out.len() >= limit {
                    break;
                }
                shard.list(limit - out.len(), &mut out);
            }
        });
        Ok(out)
    }

    async fn totals(&self) -> Result<StoreTotals, StorageError> {
        let mut totals = StoreTotals::default();
        for at in 0..self.shard_count() {
            with_shards!(self, |shards| shards[at].add_totals(&mut totals));
            YieldNow::default().await;
        }
        Ok(totals)
    }

    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        let mut report = ExpiryReport::default();
        for at in 0..self.shard_count() {
            let shard_report = with_shards!(self, |shards| shards[at].expire(cutoff));
            report.peers_removed += shard_report.peers_removed;
            report.swarms_removed += shard_report.swarms_removed;
            YieldNow::default().await;
        }
        Ok(report)
    }
}
