//! The storage contract: [`TorrentManager`], the trait every backend implements.
//!
//! # Contract
//!
//! A backend stores swarms, one per [`InfoHash`]. A swarm holds peers; a peer is identified by
//! its **address and port** within the swarm (so nobody can evict or impersonate another peer by
//! reusing its peer id; the peer id is stored and handed out, but it is not the key). A peer is a
//! *seeder* when it announced `left = 0`, a *leecher* otherwise.
//!
//! [`TorrentManager::announce`] is **one atomic step**, so a remote store answers it in one round
//! trip and concurrent announces, from any number of tracker processes, never lose an update:
//!
//! 1. `Stopped`: the peer is removed (if it was there). Otherwise the peer is inserted or
//!    updated: its peer id, seeder flag and last-seen time (`announce.now`) are replaced.
//! 2. `Completed` from a peer that was stored as a **leecher** before this announce raises the
//!    swarm's `downloaded` by one. `Completed` from an unknown peer or a seeder counts nothing,
//!    so a swarm's `downloaded` rises at most once per leecher that completes.
//! 3. Up to `want` *other* peers of the **same address family** as the announcer are chosen
//!    (never the announcer itself): a seeder is given leechers only (seeders have nothing to get
//!    from each other); a leecher is given seeders and leechers. When the swarm has more
//!    candidates than `want`, the choice varies between announces (random), so every peer gets
//!    introduced. Choosing costs O(`want`), not O(swarm).
//! 4. The swarm's [`SwarmStats`] **after** this announce are returned: `complete` = stored
//!    seeders, `incomplete` = stored leechers (both address families), `downloaded` as above.
//!    Counts are derived from the stored peers or changed only inside this step: they never drift.
//!
//! An unknown swarm is created by the first announce that stores a peer; a `Stopped` announce to
//! an unknown swarm stores nothing and returns zeros.
//!
//! [`TorrentManager::scrape`] returns the stats of each requested hash, in order (a hash asked
//! twice is answered twice), zeros for unknown hashes. [`TorrentManager::expire`] removes every
//! peer last seen strictly before `cutoff` (a peer last seen at `cutoff` stays) and every swarm
//! left without peers (its `downloaded` count goes with it). Backends may also drop expired
//! peers lazily during an announce; they may not return a peer last seen before the newest
//! `cutoff` they were given, once `expire` has returned.
//!
//! A swarm whose last peer stopped holds no peers: [`TorrentManager::scrape_all`] omits it. A
//! backend may drop it at once or keep it (and its `downloaded` count) until the next `expire`,
//! which then removes it and counts it in [`ExpiryReport::swarms_removed`].
//!
//! The conformance suite (feature `testing`, module `testing`) checks every rule above.

use std::net::SocketAddr;

use async_trait::async_trait;

use crate::{Event, InfoHash, Peer, PeerId, UnixTime};

/// One announce as the storage sees it: already validated and normalized by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAnnounce {
    /// The swarm.
    pub info_hash: InfoHash,
    /// The peer's identity in the swarm and where others reach it (IPv4-mapped IPv6 already
    /// normalized to IPv4).
    pub addr: SocketAddr,
    /// The id the peer announced with.
    pub peer_id: PeerId,
    /// What happened.
    pub event: Event,
    /// `left == 0`.
    pub seeder: bool,
    /// When the announce arrived.
    pub now: UnixTime,
}

/// The counts of one swarm (BEP 48 names: `complete` seeders, `incomplete` leechers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SwarmStats {
    /// Seeders.
    pub complete: u32,
    /// Leechers.
    pub incomplete: u32,
    /// How many leechers have completed the download.
    pub downloaded: u64,
}

impl SwarmStats {
    /// Seeders plus leechers.
    pub fn peers(&self) -> u64 {
        u64::from(self.complete) + u64::from(self.incomplete)
    }
}

/// What an announce returns: the chosen peers and the swarm's counts after the announce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwarmReply {
    /// Up to `want` other peers, all of the announcer's address family.
    pub peers: Vec<Peer>,
    /// The swarm's counts after this announce was applied.
    pub stats: SwarmStats,
}

/// What one expiry pass removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpiryReport {
    /// Peers removed because they were last seen before the cutoff.
    pub peers_removed: u64,
    /// Swarms removed because no peer was left.
    pub swarms_removed: u64,
}

/// Seeders and leechers of one address family in one swarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeerCounts {
    /// Seeders.
    pub seeders: u64,
    /// Leechers.
    pub leechers: u64,
}

/// The peers of one swarm per [`AddressFamily`](crate::AddressFamily), for admin pages
/// ([`TorrentManager::family_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FamilyCounts {
    /// IPv4 peers.
    pub v4: PeerCounts,
    /// IPv6 peers (WebRTC peers excluded).
    pub v6: PeerCounts,
    /// WebRTC peers (WebSocket trackers).
    pub webrtc: PeerCounts,
}

/// Totals over every swarm a store holds, for gauges and summaries (`/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreTotals {
    /// Swarms with at least one peer.
    pub torrents: u64,
    /// Seeders over all swarms.
    pub seeders: u64,
    /// Leechers over all swarms.
    pub leechers: u64,
}

impl StoreTotals {
    /// Seeders plus leechers.
    pub fn peers(&self) -> u64 {
        self.seeders + self.leechers
    }
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The store cannot be reached or is overloaded; the request may succeed later. Peers see
    /// "storage unavailable, retry later".
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The operation lost a race with a concurrent one (PostgreSQL's deadlock or serialization
    /// failure, SQLSTATE 40P01 / 40001) and was rolled back whole: the same operation tried again
    /// at once may succeed, whatever the language of the server's messages. A backend retries it
    /// itself a few times; if it still fails, peers see "storage unavailable, retry later".
    #[error("storage conflict: {0}")]
    Conflict(String),
    /// The backend does not offer this operation (for example a full scrape).
    #[error("not supported by this backend: {0}")]
    Unsupported(&'static str),
    /// A bug or an unexpected answer from the store: logged; peers see a generic failure.
    #[error("storage error: {0}")]
    Internal(String),
}

impl StorageError {
    /// Whether the same operation, tried again at once, may succeed: a [`Conflict`](Self::Conflict).
    /// (An [`Unavailable`](Self::Unavailable) store may answer later, not at once: peers are told
    /// to retry later.)
    pub fn retry_at_once(&self) -> bool {
        matches!(self, StorageError::Conflict(_))
    }
}

/// A storage backend: where swarms live. See the [module documentation](self) for the contract.
#[async_trait]
pub trait TorrentManager: Send + Sync + 'static {
    /// Applies one announce atomically and returns up to `want` other peers of the announcer's
    /// address family and the swarm's counts after the announce.
    async fn announce(&self, announce: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError>;

    /// The counts of each hash, in the order given; unknown hashes are zeros.
    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError>;

    /// Every swarm with at least one peer and its counts, at most `limit` of them (in no
    /// particular order). Backends that cannot list swarms cheaply return
    /// [`StorageError::Unsupported`].
    async fn scrape_all(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        let _ = limit;
        Err(StorageError::Unsupported("full scrape"))
    }

    /// The `limit` busiest swarms with at least one peer, by `rank`, highest first (ties by
    /// info hash). For status pages and admin APIs, never the announce path. The default ranks
    /// what [`scrape_all`](Self::scrape_all) lists, at most [`TOP_SWARMS_SCAN`](crate::TOP_SWARMS_SCAN)
    /// swarms (exact below that); a backend that can sort where the swarms live overrides it.
    async fn top_swarms(
        &self,
        rank: crate::SwarmRank,
        limit: usize,
    ) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let listed = self.scrape_all(crate::TOP_SWARMS_SCAN).await?;
        Ok(crate::rank_swarms(listed, rank, limit))
    }

    /// How many swarms, seeders and leechers the store holds now. Called on a timer (every few
    /// seconds) for gauges, never on the announce path, so it may walk the whole store; it must
    /// not hold a lock that announces wait on for long. Backends that cannot count return
    /// [`StorageError::Unsupported`].
    async fn totals(&self) -> Result<StoreTotals, StorageError> {
        Err(StorageError::Unsupported("totals"))
    }

    /// The peers of one swarm per address family (zeros for an unknown swarm). For admin pages,
    /// never the announce path. Backends that cannot split their counts return
    /// [`StorageError::Unsupported`].
    async fn family_counts(&self, hash: &InfoHash) -> Result<FamilyCounts, StorageError> {
        let _ = hash;
        Err(StorageError::Unsupported("peers per address family"))
    }

    /// The store's allow and deny lists, when it keeps them (shared by several processes);
    /// `None` by default.
    fn hash_lists(&self) -> Option<&dyn crate::HashListStore> {
        None
    }

    /// The store's passkeys, when it keeps them (for private trackers shared by several
    /// processes); `None` by default.
    fn passkeys(&self) -> Option<&dyn crate::PasskeyStore> {
        None
    }

    /// Removes peers last seen before `cutoff`, and swarms left without peers.
    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError>;
}
