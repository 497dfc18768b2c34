//! Walking every swarm of the prefix with `SCAN` on each node (each cluster master):
//! [`TorrentManager::expire`](octotracker_core::TorrentManager::expire),
//! [`TorrentManager::scrape_all`](octotracker_core::TorrentManager::scrape_all) and
//! [`RedisTorrentManager::purge`].
//!
//! `SCAN` may return a key twice; that is harmless here: pruning a swarm twice removes nothing
//! the second time, and the full scrape drops duplicates.

use std::collections::HashSet;

use futures_util::future::try_join_all;
use octotracker_core::{ExpiryReport, InfoHash, StorageError, StoreTotals, SwarmStats, UnixTime};
use redis::Value;

use crate::RedisTorrentManager;
use crate::conn::Node;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, hash_of_key, native_key, swarm_pattern};

/// Keys asked of each `SCAN` step; the swarms found in one step are pruned together.
const SCAN_COUNT: usize = 500;

/// Where a walk over the swarms is: which node, which cursor.
#[derive(Debug)]
struct SwarmScan {
    pattern: String,
    nodes: Vec<Node>,
    node: usize,
    cursor: u64,
}

impl RedisTorrentManager {
    /// One `SCAN` step on `node` for keys matching `pattern`: the next cursor and the keys.
    async fn scan_step(&self, node: &Node, cursor: u64, pattern: &str) -> Result<(u64, Vec<Vec<u8>>), StorageError> {
        let mut cmd = redis::cmd("SCAN");
        cmd.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(SCAN_COUNT);
        let value = self.bounded("scan", self.conn.on_node(node, cmd)).await?;
        redis::from_redis_value(value).map_err(|_| bad_reply("SCAN"))
    }

    /// Walks the swarms of the prefix, node by node.
    async fn swarm_scan(&self) -> Result<SwarmScan, StorageError> {
        let nodes = self.bounded("listing the cluster's nodes", self.conn.nodes()).await?;
        Ok(SwarmScan { pattern: swarm_pattern(&self.config.prefix, self.engine), nodes, node: 0, cursor: 0 })
    }

    /// The swarms found by the next `SCAN` step (maybe none), or `None` when the walk is over.
    async fn next_batch(&self, scan: &mut SwarmScan) -> Result<Option<Vec<InfoHash>>, StorageError> {
        let Some(node) = scan.nodes.get(scan.node) else { return Ok(None) };
        let (next, keys) = self.scan_step(node, scan.cursor, &scan.pattern).await?;
        if next == 0 {
            scan.node += 1;
        }
        scan.cursor = next;
        Ok(Some(keys.iter().filter_map(|k| hash_of_key(&self.config.prefix, self.engine, k)).collect()))
    }

    pub(crate) async fn expire_all(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
        let mut report = ExpiryReport::default();
        let mut scan = self.swarm_scan().await?;
        while let Some(hashes) = self.next_batch(&mut scan).await? {
            let pruned = try_join_all(hashes.iter().map(|h| self.prune(h, cutoff))).await?;
            for (peers, swarm) in pruned {
                report.peers_removed += peers;
                report.swarms_removed += swarm;
            }
        }
        Ok(report)
    }

    /// Expires one swarm: (peers removed, 1 when the swarm went): one `OCTO.EXPIRE` or one run of
    /// the prune script.
    async fn prune(&self, hash: &InfoHash, cutoff: UnixTime) -> Result<(u64, u64), StorageError> {
        if self.engine == Engine::Module {
            let mut cmd = redis::cmd("OCTO.EXPIRE");
            cmd.arg(native_key(&self.config.prefix, hash)).arg(cutoff.0);
            let mut conn = self.conn.clone();
            return self.bounded("expire", cmd.query_async(&mut conn)).await;
        }
        let mut invocation = self.scripts.prune.prepare_invoke();
        SwarmKeys::new(&self.config.prefix, hash).each(|key| {
            invocation.key(key);
        });
        invocation.arg(cutoff.0);
        let mut conn = self.conn.clone();
        self.bounded("expire", invocation.invoke_async(&mut conn)).await
    }

    pub(crate) async fn scrape_everything(&self, limit: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        let mut all = Vec::new();
        if limit == 0 {
            return Ok(all);
        }
        let mut seen = HashSet::new();
        let mut scan = self.swarm_scan().await?;
        while let Some(hashes) = self.next_batch(&mut scan).await? {
            let stats = self.scrape_many(&hashes).await?;
            for (hash, s) in hashes.into_iter().zip(stats) {
                if s.peers() > 0 && seen.insert(hash) {
                    all.push((hash, s));
                    if all.len() == limit {
                        return Ok(all);
                    }
                }
            }
        }
        Ok(all)
    }

    /// Totals over every swarm of the prefix: one `SCAN` walk plus one scrape per batch found.
    pub(crate) async fn totals_of_everything(&self) -> Result<StoreTotals, StorageError> {
        let mut totals = StoreTotals::default();
        let mut seen = HashSet::new();
        let mut scan = self.swarm_scan().await?;
        while let Some(hashes) = self.next_batch(&mut scan).await? {
            let hashes: Vec<InfoHash> = hashes.into_iter().filter(|h| seen.insert(*h)).collect();
            for s in self.scrape_many(&hashes).await? {
                if s.peers() > 0 {
                    totals.torrents += 1;
                    totals.seeders += u64::from(s.complete);
                    totals.leechers += u64::from(s.incomplete);
                }
            }
        }
        Ok(totals)
    }

    /// Deletes every key of this store's prefix (every swarm), returning how many keys went.
    /// For tests and for retiring a deployment; announces running meanwhile may recreate swarms.
    ///
    /// # Errors
    ///
    /// As for any operation: [`StorageError::Unavailable`] when Redis cannot be reached.
    pub async fn purge(&self) -> Result<u64, StorageError> {
        let nodes = self.bounded("listing the cluster's nodes", self.conn.nodes()).await?;
        let mut deleted = 0;
        // Every layout's keys: this one's and older ones' (layout 2's WebRTC sibling groups).
        let patterns = [format!("{}:{{*}}:*", self.config.prefix), format!("{}:rtc:{{*}}:*", self.config.prefix)];
        for (node, pattern) in nodes.iter().flat_map(|n| patterns.iter().map(move |p| (n, p))) {
            let mut cursor = 0;
            loop {
                let (next, keys) = self.scan_step(node, cursor, pattern).await?;
                let dels = keys.iter().map(|key| {
                    let mut conn = self.conn.clone();
                    let cmd = redis::cmd("DEL").arg(key).clone();
                    async move { self.bounded("purge", cmd.query_async::<Value>(&mut conn)).await }
                });
                for value in try_join_all(dels).await? {
                    if let Value::Int(n) = value {
                        deleted += u64::try_from(n).unwrap_or(0);
                    }
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(deleted)
    }
}
