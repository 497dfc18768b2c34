//! [`TorrentManager::scrape`](octotracker_core::TorrentManager::scrape): the swarm hash's field
//! "m" (Lua engine: every family's counts and the downloads in one `HGET`) or one `OCTO.SCRAPE`
//! (module engine) per hash, fetched in pipelines.
//!
//! On a standalone server every hash goes in one pipeline: one round trip. On a cluster a
//! pipeline must stay within one slot, so each hash gets its own (one command), all sent at
//! once: the cluster connection writes the ones bound for one node together on that node's
//! multiplexed connection, so a scrape costs about one round trip per node.

use futures_util::future::try_join_all;
use octotracker_core::{InfoHash, StorageError, SwarmStats};
use redis::Value;

use crate::RedisTorrentManager;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, native_key};

impl RedisTorrentManager {
    pub(crate) async fn scrape_many(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        if self.conn.is_cluster() {
            let each = hashes.iter().map(|h| self.scrape_pipeline(std::slice::from_ref(h)));
            Ok(try_join_all(each).await?.into_iter().flatten().collect())
        } else {
            self.scrape_pipeline(hashes).await
        }
    }

    /// One pipeline for `hashes` (all in one slot on a cluster).
    async fn scrape_pipeline(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        if self.engine == Engine::Module {
            return self.scrape_native(hashes).await;
        }
        let mut pipe = redis::pipe();
        for hash in hashes {
            pipe.cmd("HGET").arg(SwarmKeys::new(&self.config.prefix, hash).ids()).arg("m");
        }
        let mut conn = self.conn.clone();
        let values: Vec<Value> = self.bounded("scrape", pipe.query_async(&mut conn)).await?;
        if values.len() != hashes.len() {
            return Err(bad_reply("a scrape"));
        }
        values.iter().map(|v| stats_of_m(v).ok_or_else(|| bad_reply("a scrape"))).collect()
    }
}

impl RedisTorrentManager {
    /// One pipeline of `OCTO.SCRAPE key` per hash: `[seeders, leechers, downloads]` each.
    async fn scrape_native(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        let mut pipe = redis::pipe();
        for hash in hashes {
            pipe.cmd("OCTO.SCRAPE").arg(native_key(&self.config.prefix, hash));
        }
        let mut conn = self.conn.clone();
        let values: Vec<Vec<u64>> = self.bounded("scrape", pipe.query_async(&mut conn)).await?;
        if values.len() != hashes.len() {
            return Err(bad_reply("a scrape"));
        }
        values
            .iter()
            .map(|v| match v[..] {
                [s, l, d] => Ok(SwarmStats {
                    complete: u32::try_from(s).map_err(|_| bad_reply("a scrape"))?,
                    incomplete: u32::try_from(l).map_err(|_| bad_reply("a scrape"))?,
                    downloaded: d,
                }),
                _ => Err(bad_reply("a scrape")),
            })
            .collect()
    }
}

/// The stats in the swarm hash's field "m" (8 bytes of prune time, 8 of downloads, then the
/// counts of the six sets, seeders and leechers of each family, big-endian: see
/// `lua/records.lua`); zeros when there is none.
fn stats_of_m(v: &Value) -> Option<SwarmStats> {
    let m = match v {
        Value::BulkString(m) if m.len() == 40 => m,
        Value::Nil => return Some(SwarmStats::default()),
        _ => return None,
    };
    let count = |i: usize| u32::from_be_bytes(m[16 + 4 * i..20 + 4 * i].try_into().expect("4 bytes"));
    let (seeders, leechers) = ([0, 2, 4].map(count), [1, 3, 5].map(count));
    let sum = |c: [u32; 3]| c.iter().try_fold(0_u32, |a, &x| a.checked_add(x));
    let (complete, incomplete) = (sum(seeders)?, sum(leechers)?);
    if complete == 0 && incomplete == 0 {
        return Some(SwarmStats::default());
    }
    Some(SwarmStats { complete, incomplete, downloaded: u64::from_be_bytes(m[8..16].try_into().ok()?) })
}
