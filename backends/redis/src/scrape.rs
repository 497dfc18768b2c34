//! [`TorrentManager::scrape`](octotracker_core::TorrentManager::scrape): counts are `ZCARD`s of
//! the peer sets plus the downloads from the swarm hash's field "m" (Lua engine), or one
//! `OCTO.SCRAPE` per hash (module engine), fetched in pipelines, for the swarm's IP peers and
//! its WebRTC peers (the sibling group, `keys::family_prefix`) added up.
//!
//! On a standalone server every hash goes in one pipeline: one round trip. On a cluster a
//! pipeline must stay within one slot, so each hash gets its own pipeline (eight commands, or two `OCTO.SCRAPE`s), all sent
//! at once: the cluster connection writes the ones bound for one node together on that node's
//! multiplexed connection, so a scrape costs about one round trip per node.

use futures_util::future::try_join_all;
use octotracker_core::{InfoHash, StorageError, SwarmStats};
use redis::Value;

use crate::RedisTorrentManager;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, family_prefix, native_key};

/// Commands per hash: the IP group's four `ZCARD`s and `HGET` (of "m"), then the WebRTC group's
/// two (its peers have synthetic IPv6 addresses: its IPv4 sets are always empty) and `HGET`.
const PER_HASH: usize = 8;

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
            let keys = SwarmKeys::new(&family_prefix(&self.config.prefix, false), hash, false).all();
            let [s4, l4, s6, l6, ids, ..] = &keys[..] else { unreachable!("nine keys") };
            for set in [s4, s6, l4, l6] {
                pipe.cmd("ZCARD").arg(set);
            }
            pipe.cmd("HGET").arg(ids).arg("m");
            let keys = SwarmKeys::new(&family_prefix(&self.config.prefix, true), hash, false).all();
            let [_, _, s6, l6, ids, ..] = &keys[..] else { unreachable!("nine keys") };
            pipe.cmd("ZCARD").arg(s6).cmd("ZCARD").arg(l6).cmd("HGET").arg(ids).arg("m");
        }
        let mut conn = self.conn.clone();
        let values: Vec<Value> = self.bounded("scrape", pipe.query_async(&mut conn)).await?;
        if values.len() != hashes.len() * PER_HASH {
            return Err(bad_reply("a scrape"));
        }
        values
            .chunks_exact(PER_HASH)
            .map(|v| {
                let n = |i: usize| number(&v[i]).ok_or_else(|| bad_reply("a scrape"));
                let seeders = n(0)? + n(1)? + n(5)?;
                let leechers = n(2)? + n(3)? + n(6)?;
                if seeders + leechers == 0 {
                    return Ok(SwarmStats::default());
                }
                let count = |x: u64| u32::try_from(x).map_err(|_| bad_reply("a scrape"));
                let dl = |i: usize| downloads(&v[i]).ok_or_else(|| bad_reply("a scrape"));
                let downloaded = dl(4)? + dl(7)?;
                Ok(SwarmStats { complete: count(seeders)?, incomplete: count(leechers)?, downloaded })
            })
            .collect()
    }
}

impl RedisTorrentManager {
    /// One pipeline of `OCTO.SCRAPE key` per hash and family group: `[seeders, leechers,
    /// downloads]` each, the two groups' added up.
    async fn scrape_native(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        let mut pipe = redis::pipe();
        for hash in hashes {
            for webrtc in [false, true] {
                pipe.cmd("OCTO.SCRAPE").arg(native_key(&family_prefix(&self.config.prefix, webrtc), hash));
            }
        }
        let mut conn = self.conn.clone();
        let values: Vec<Vec<u64>> = self.bounded("scrape", pipe.query_async(&mut conn)).await?;
        if values.len() != 2 * hashes.len() {
            return Err(bad_reply("a scrape"));
        }
        values
            .chunks_exact(2)
            .map(|v| match (&v[0][..], &v[1][..]) {
                (&[s, l, d], &[rs, rl, rd]) => Ok(SwarmStats {
                    complete: u32::try_from(s.saturating_add(rs)).map_err(|_| bad_reply("a scrape"))?,
                    incomplete: u32::try_from(l.saturating_add(rl)).map_err(|_| bad_reply("a scrape"))?,
                    downloaded: d.saturating_add(rd),
                }),
                _ => Err(bad_reply("a scrape")),
            })
            .collect()
    }
}

/// The downloads in the swarm hash's field "m" (8 bytes of prune time, 8 of downloads, then the
/// counts, big-endian: see `lua/records.lua`), zero when there is none.
fn downloads(v: &Value) -> Option<u64> {
    match v {
        Value::BulkString(m) if m.len() == 32 => Some(u64::from_be_bytes(m[8..16].try_into().ok()?)),
        Value::Nil => Some(0),
        _ => None,
    }
}

/// An integer reply, a number as a bulk string, or nil (zero).
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        Value::Nil => Some(0),
        _ => None,
    }
}
