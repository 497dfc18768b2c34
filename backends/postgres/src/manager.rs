//! [`PostgresTorrentManager`]: the [`TorrentManager`] contract as SQL.

use std::sync::Arc;

use async_trait::async_trait;
use octotracker_core::{
    ExpiryReport, InfoHash, PeerAnnounce, StorageError, StoreTotals, SwarmRank, SwarmReply, SwarmStats, TorrentManager,
    UnixTime,
};
use sqlx::postgres::PgPool;
use tokio::sync::oneshot;

use crate::batch::{Job, Lanes};
use crate::config::PostgresConfig;
use crate::connect::open_pool;
use crate::error::{PostgresError, storage_error};

/// Rows one expiry statement deletes at most: short statements, short locks.
const EXPIRY_BATCH: i64 = 10_000;

/// Swarms stored in PostgreSQL. Cheap to clone (the pool and the announce lanes are shared).
#[derive(Debug, Clone)]
pub struct PostgresTorrentManager {
    pool: PgPool,
    lanes: Arc<Lanes>,
}

impl PostgresTorrentManager {
    /// Connects, creates the schema if `config.schema` names one, and applies the migrations.
    ///
    /// # Errors
    ///
    /// A malformed URL, an unreachable server, refused credentials or a failed migration.
    pub async fn connect(config: &PostgresConfig) -> Result<PostgresTorrentManager, PostgresError> {
        let pool = open_pool(config).await?;
        let lanes = Arc::new(Lanes::start(&pool, config.pool_size as usize));
        Ok(PostgresTorrentManager { pool, lanes })
    }

    /// The connection pool, for an embedder's own queries (download counts, reports).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

pub(crate) fn stats(complete: i64, incomplete: i64, downloaded: i64) -> SwarmStats {
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    SwarmStats { complete: count(complete), incomplete: count(incomplete), downloaded: downloaded.max(0) as u64 }
}

/// Rows of (info hash, seeders, leechers, downloaded) as swarms.
fn swarm_rows(rows: Vec<(Vec<u8>, i64, i64, i64)>) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
    rows.into_iter()
        .map(|(hash, c, i, d)| {
            let hash = <[u8; 20]>::try_from(hash.as_slice())
                .map_err(|_| StorageError::Internal(format!("stored info hash of {} bytes", hash.len())))?;
            Ok((InfoHash(hash), stats(c, i, d)))
        })
        .collect()
}

pub(crate) fn unix(t: UnixTime) -> i64 {
    i64::try_from(t.0).unwrap_or(i64::MAX)
}

#[async_trait]
impl TorrentManager for PostgresTorrentManager {
    async fn announce(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        let (reply, receive) = oneshot::channel();
        self.lanes.submit(Job { announce: *a, want, reply }).await?;
        receive.await.map_err(|_| StorageError::Internal("announce lane dropped the reply".into()))?
    }

    async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&[u8]> = hashes.iter().map(|h| &h.0[..]).collect();
        let rows: Vec<(i64, i64, i64)> =
            sqlx::query_as("SELECT complete, incomplete, downloaded FROM octotracker_scrape($1)")
                .bind(keys)
                .fetch_all(&self.pool)
                .await
                .map_err(storage_error)?;
        Ok(rows.into_iter().map(|(c, i, d)| stats(c, i, d)).collect())
    }

    async fn scrape_all(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        let rows = sqlx::query_as(
            "SELECT c.info_hash, c.seeders, c.leechers, coalesce(t.downloaded, 0) \
             FROM (SELECT * FROM swarm_counts WHERE seeders + leechers > 0 LIMIT $1) c \
             LEFT JOIN torrents t ON t.info_hash = c.info_hash",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(storage_error)?;
        swarm_rows(rows)
    }

    async fn top_swarms(&self, rank: SwarmRank, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        // Sorted where the swarms are: exact over every swarm, only `limit` rows cross the wire.
        macro_rules! top_by {
            ($key:literal) => {
                concat!(
                    "SELECT c.info_hash, c.seeders, c.leechers, coalesce(t.downloaded, 0) ",
                    "FROM swarm_counts c LEFT JOIN torrents t ON t.info_hash = c.info_hash ",
                    "WHERE c.seeders + c.leechers > 0 ORDER BY ",
                    $key,
                    " DESC, c.info_hash LIMIT $1"
                )
            };
        }
        let sql = match rank {
            SwarmRank::Peers => top_by!("c.seeders + c.leechers"),
            SwarmRank::Seeders => top_by!("c.seeders"),
            SwarmRank::Leechers => top_by!("c.leechers"),
            SwarmRank::Downloaded => top_by!("coalesce(t.downloaded, 0)"),
        };
        let rows = sqlx::query_as(sql)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(storage_error)?;
        swarm_rows(rows)
    }

    fn passkeys(&self) -> Option<&dyn octotracker_core::PasskeyStore> {
        Some(self)
    }

    fn hash_lists(&self) -> Option<&dyn octotracker_core::HashListStore> {
        Some(self)
    }

    async fn family_counts(&self, hash: &InfoHash) -> Result<octotracker_core::FamilyCounts, StorageError> {
        // One swarm's rows through the (info_hash, seeder) index: 4, 6 or 0 (WebRTC) per row.
        let rows: Vec<(i32, bool, i64)> = sqlx::query_as(
            "SELECT octotracker_family(ip), seeder, count(*) FROM peers WHERE info_hash = $1 GROUP BY 1, 2",
        )
        .bind(&hash.0[..])
        .fetch_all(&self.pool)
        .await
        .map_err(storage_error)?;
        let mut families = octotracker_core::FamilyCounts::default();
        for (family, seeder, n) in rows {
            let counts = match family {
                4 => &mut families.v4,
                6 => &mut families.v6,
                _ => &mut families.webrtc,
            };
            let n = u64::try_from(n).unwrap_or(0);
            if seeder { counts.seeders += n } else { counts.leechers += n }
        }
        Ok(families)
    }

    async fn totals(&self) -> Result<StoreTotals, StorageError> {
        // swarm_counts holds the counts of every swarm's stored peers (kept by triggers), and
        // rows of swarms left empty until the next expiry: one pass over it, no lock taken.
        let (torrents, seeders, leechers): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE seeders + leechers > 0), \
                    coalesce(sum(seeders), 0)::bigint, coalesce(sum(leechers), 0)::bigint \
             FROM swarm_counts",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(storage_error)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(StoreTotals { torrents: count(torrents), seeders: count(seeders), leechers: count(leechers) })
    }

    async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        let mut report = ExpiryReport::default();
        loop {
            let done = sqlx::query(
                "DELETE FROM peers WHERE ctid = ANY(ARRAY(\
                     SELECT ctid FROM peers WHERE last_seen < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
            )
            .bind(unix(cutoff))
            .bind(EXPIRY_BATCH)
            .execute(&self.pool)
            .await
            .map_err(storage_error)?
            .rows_affected();
            report.peers_removed += done;
            if done < EXPIRY_BATCH as u64 {
                break;
            }
        }
        // Counts of swarms left empty (by expiry or stops): a swarm gaining a peer meanwhile is
        // re-checked (its row updated) or re-created by the trigger.
        sqlx::query("DELETE FROM swarm_counts WHERE seeders = 0 AND leechers = 0")
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        loop {
            let done = sqlx::query(
                "DELETE FROM torrents WHERE info_hash = ANY(ARRAY(\
                     SELECT t.info_hash FROM torrents t \
                     WHERE NOT EXISTS (SELECT 1 FROM peers p WHERE p.info_hash = t.info_hash) LIMIT $1))",
            )
            .bind(EXPIRY_BATCH)
            .execute(&self.pool)
            .await
            .map_err(storage_error)?
            .rows_affected();
            report.swarms_removed += done;
            if done < EXPIRY_BATCH as u64 {
                break;
            }
        }
        // The last counters of peers of private trackers go with the peers (the keys' totals stay).
        self.expire_transfers(unix(cutoff)).await?;
        Ok(report)
    }
}
