//! [`HashListStore`] on PostgreSQL: the `hash_lists` table (migration 0007), one row per hash
//! and list.

use async_trait::async_trait;
use octotracker_core::{HashList, HashListStore, InfoHash, StorageError};

use crate::PostgresTorrentManager;
use crate::error::storage_error;

#[async_trait]
impl HashListStore for PostgresTorrentManager {
    async fn list_hashes(&self, list: HashList) -> Result<Vec<InfoHash>, StorageError> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT info_hash FROM hash_lists WHERE list = $1")
            .bind(list.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(rows.into_iter().filter_map(|h| <[u8; 20]>::try_from(h).ok().map(InfoHash)).collect())
    }

    async fn set_listed(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, StorageError> {
        let sql = if listed {
            "INSERT INTO hash_lists (list, info_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM hash_lists WHERE list = $1 AND info_hash = $2"
        };
        let done =
            sqlx::query(sql).bind(list.as_str()).bind(&hash.0[..]).execute(self.pool()).await.map_err(storage_error)?;
        Ok(done.rows_affected() == 1)
    }
}
