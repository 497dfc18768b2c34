//! [`HashListStore`] on Redis: one set per list, `<prefix>:allow` and `<prefix>:deny`, of
//! info hashes in hex (readable with `redis-cli SMEMBERS`), without a TTL. On a cluster each lives
//! in the one slot its name hashes to.

use async_trait::async_trait;
use octotracker_core::{HashList, HashListStore, InfoHash, StorageError};

use crate::RedisTorrentManager;

impl RedisTorrentManager {
    fn list_key(&self, list: HashList) -> String {
        format!("{}:{}", self.config.prefix, list.as_str())
    }
}

#[async_trait]
impl HashListStore for RedisTorrentManager {
    async fn list_hashes(&self, list: HashList) -> Result<Vec<InfoHash>, StorageError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SMEMBERS").arg(self.list_key(list)).clone();
        let members: Vec<String> = self.bounded("reading a list", cmd.query_async(&mut conn)).await?;
        // Anything else in the set (written by hand) is skipped, as a bad line of a list file is.
        Ok(members.iter().filter_map(|m| m.parse().ok()).collect())
    }

    async fn set_listed(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let cmd =
            redis::cmd(if listed { "SADD" } else { "SREM" }).arg(self.list_key(list)).arg(hash.to_string()).clone();
        let changed: u64 = self.bounded("changing a list", cmd.query_async(&mut conn)).await?;
        Ok(changed == 1)
    }
}
