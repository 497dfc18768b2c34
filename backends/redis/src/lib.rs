//! # octotracker-redis
//!
//! The Redis [`TorrentManager`]: swarms live in Redis (one server, or a Redis Cluster), so any
//! number of stateless octotracker processes behind a load balancer share them.
//!
//! ```no_run
//! use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, TorrentManager, UnixTime};
//! use octotracker_redis::{RedisConfig, RedisTarget, RedisTorrentManager};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), octotracker_core::StorageError> {
//! let target = RedisTarget::parse("redis://127.0.0.1:6379/0").expect("a redis URL");
//! let config = RedisConfig { prefix: "tracker-a".into(), ..RedisConfig::default() };
//! let store = RedisTorrentManager::connect(&target, config).await?;
//!
//! let announce = PeerAnnounce {
//!     info_hash: InfoHash([0xab; 20]),
//!     addr: "192.0.2.1:6881".parse().unwrap(),
//!     peer_id: PeerId(*b"-XX0001-000000000001"),
//!     event: Event::Started,
//!     seeder: true,
//!     now: UnixTime(1_700_000_000),
//! };
//! let reply = store.announce(&announce, 50).await?;
//! assert_eq!(reply.stats.complete, 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## Engines
//!
//! Inside Redis, swarms are run either by the **module** (`backends/redis-module`, loaded with
//! `loadmodule` on every node: one native key per swarm, `OCTO.ANNOUNCE` / `OCTO.SCRAPE` /
//! `OCTO.EXPIRE`) or by the **Lua** scripts below (any Redis). [`RedisConfig::engine`] chooses
//! (`Auto`: the module when every node lists it in `MODULE LIST`); the choice is made at connect
//! (`engine` module), which also refuses a key prefix holding the other engine's swarms. Both
//! engines take the same arguments and give the same reply bytes (`tests/replay.rs`); the rest of
//! this tour describes the Lua engine's layout.
//!
//! ## How it works
//!
//! ```text
//!  RedisTorrentManager ── Conn: ConnectionManager (one server) | ClusterConnection (cluster)
//!   │   multiplexed: concurrent announces share one socket per node, written together
//!   ├─ announce ──► EVALSHA lua/records.lua + lua/announce.lua   one round trip, atomic (see below)
//!   ├─ scrape   ──► pipelined HGET <hash> m per hash: one round trip (per node on a cluster)
//!   └─ expire / scrape_all / totals ──► SCAN each node for `<prefix>:{*}:v3:i`, then EVALSHA
//!                                       lua/records.lua + lua/prune.lua per swarm
//! ```
//!
//! The keys of one swarm share its info hash as `{hash tag}`, so a swarm lives in one cluster
//! slot (layout 3, in the `keys` module and in `docs/clustering.md`): a hash (address → peer id,
//! set and record position; the counts of all six sets, the downloads and the last prune time in
//! one field "m"), one expiry sorted set for every peer (address → last seen), and a string of
//! fixed-size records (address + peer id) per family and role. WebRTC peers (WebSocket trackers,
//! `AddressFamily::WebRtc`) are a family of the same swarm, under either engine: counts cover
//! every family, peer lists never mix. The announce script, all in one atomic step:
//!
//! 1. reads the announcer's entry and "m" (every family's counts) with one `HMGET`;
//! 2. at most once a minute per swarm: drops the swarm's oldest peers last seen more than the
//!    peer timeout before the announce (one bounded `ZRANGEBYSCORE` batch over the whole swarm;
//!    [`TorrentManager::expire`] removes the rest) and gives the hash, the sorted set and every
//!    live record string one expiry time, the peer timeout plus that minute from now, so nothing
//!    outlives the swarm's silence and the swarm goes as a whole;
//! 3. removes the announcer (`stopped`) or moves it into the seeder or leecher set of its family
//!    with its last-seen time as score (a new peer's record goes at the end of the set's string;
//!    a removed one's place is taken by the last record); `completed` from a stored leecher
//!    raises the swarm's download count;
//! 4. keeps the counts in step with the sets, inside this step only, so they cannot drift,
//!    whatever the number of tracker processes; a swarm left without peers is deleted; every
//!    change to the hash is one `HSET`;
//! 5. picks up to `want` others as a window of records from a random start (never the
//!    announcer; leechers only for a seeder, both in proportion for a leecher), read with one
//!    `GETRANGE` per stretch and returned as they are: binary compact addresses and peer ids.
//!
//! ## Failures
//!
//! Connections reconnect by themselves. Every operation is bounded by
//! [`RedisConfig::response_timeout`]; while Redis is down, or a cluster slot has no master,
//! operations fail quickly with [`StorageError::Unavailable`] (peers read "storage unavailable,
//! retry later") and succeed again once Redis is back, without a restart. Script or protocol
//! surprises are [`StorageError::Internal`].
//!
//! ## Events
//!
//! [`RedisEventStream`] appends the engine's [events](octotracker_core::events) to a Redis stream
//! (`XADD … MAXLEN ~`), so a consumer reads every process of a cluster in one place.
//!
//! The backend passes the core's conformance suite on a server and on a 3-master cluster, with
//! each engine (`tests/conformance_standalone.rs`, `tests/conformance_cluster.rs`,
//! `tests/conformance_module_standalone.rs`, `tests/conformance_module_cluster.rs`, run by
//! `scripts/test.sh`).

mod announce;
mod config;
mod conn;
mod engine;
mod error;
mod event_stream;
mod families;
mod hash_lists;
mod keys;
mod passkeys;
mod scan;
mod scrape;

use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use octotracker_core::{
    ExpiryReport, InfoHash, PeerAnnounce, StorageError, StoreTotals, SwarmReply, SwarmStats, TorrentManager, UnixTime,
};
use redis::{RedisResult, Script};

pub use config::{RedisConfig, RedisEngine, RedisTarget};
use conn::Conn;
use engine::Engine;
use error::{storage_error, timed_out};
pub use event_stream::{RedisEventStream, StreamEvent, StreamReader, entry_fields};

/// The scripts, compiled once (their SHA1 computed once; Redis caches them by it).
struct Scripts {
    announce: Script,
    prune: Script,
}

/// A [`TorrentManager`] on Redis or Redis Cluster. Cheap to share: wrap it in an `Arc`.
pub struct RedisTorrentManager {
    conn: Conn,
    config: RedisConfig,
    scripts: Scripts,
    engine: Engine,
}

impl fmt::Debug for RedisTorrentManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTorrentManager")
            .field("conn", &self.conn)
            .field("config", &self.config)
            .field("engine", &self.engine)
            .finish()
    }
}

impl RedisTorrentManager {
    /// Connects to `target`, checks that it answers and chooses the engine
    /// ([`RedisConfig::engine`]; see [`RedisTorrentManager::engine`]).
    ///
    /// # Errors
    ///
    /// [`StorageError::Unavailable`] when Redis cannot be reached within the configured timeouts;
    /// [`StorageError::Internal`] for an invalid URL or key prefix, for a node without the module
    /// when the engine is [`RedisEngine::Module`] (or when only some nodes have it), and for a
    /// prefix holding swarms written by the other engine.
    pub async fn connect(target: &RedisTarget, config: RedisConfig) -> Result<Self, StorageError> {
        keys::check_prefix(&config.prefix).map_err(StorageError::Internal)?;
        let bound = config.connect_timeout * 3 + config.response_timeout;
        let conn = match tokio::time::timeout(bound, Conn::open(target, &config)).await {
            Ok(conn) => conn.map_err(storage_error)?,
            Err(_) => return Err(timed_out("connecting")),
        };
        let scripts = Scripts {
            announce: Script::new(concat!(include_str!("lua/records.lua"), include_str!("lua/announce.lua"))),
            prune: Script::new(concat!(include_str!("lua/records.lua"), include_str!("lua/prune.lua"))),
        };
        let requested = config.engine;
        let mut store = RedisTorrentManager { conn, config, scripts, engine: Engine::Lua };
        let mut conn = store.conn.clone();
        store.bounded("PING", redis::cmd("PING").query_async::<String>(&mut conn)).await?;
        store.engine = store.choose_engine(requested).await?;
        Ok(store)
    }

    /// The configuration in use.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// The engine chosen at connect: [`RedisEngine::Module`] or [`RedisEngine::Lua`].
    pub fn engine(&self) -> RedisEngine {
        self.engine.public()
    }

    /// Awaits `op` for at most the response timeout (plus a reconnect attempt), mapping errors.
    async fn bounded<T>(&self, what: &str, op: impl Future<Output = RedisResult<T>>) -> Result<T, StorageError> {
        let bound = self.config.response_timeout + self.config.connect_timeout;
        match tokio::time::timeout(bound, op).await {
            Ok(result) => result.map_err(storage_error),
            Err(_) => Err(timed_out(what)),
        }
    }
}

#[async_trait]
impl TorrentManager for RedisTorrentManager {
    async fn announce(&self, announce: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        self.announce_once(announce, want).await
    }

    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        self.scrape_many(hashes).await
    }

    async fn family_counts(&self, hash: &InfoHash) -> Result<octotracker_core::FamilyCounts, StorageError> {
        self.families_of(hash).await
    }

    async fn scrape_all(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        self.scrape_everything(limit).await
    }

    async fn totals(&self) -> Result<StoreTotals, StorageError> {
        self.totals_of_everything().await
    }

    fn passkeys(&self) -> Option<&dyn octotracker_core::PasskeyStore> {
        Some(self)
    }

    fn hash_lists(&self) -> Option<&dyn octotracker_core::HashListStore> {
        Some(self)
    }

    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        self.expire_all(cutoff).await
    }
}
