//! [`PasskeyStore`] on PostgreSQL: the `passkeys` table (migration 0005). Revoking keeps the
//! row, stamped with the time; issuing a revoked key again makes it valid again.

use async_trait::async_trait;
use octotracker_core::{PasskeyStore, StorageError};

use crate::PostgresTorrentManager;
use crate::error::storage_error;

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[async_trait]
impl PasskeyStore for PostgresTorrentManager {
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError> {
        sqlx::query_scalar("SELECT passkey FROM passkeys WHERE revoked IS NULL ORDER BY passkey")
            .fetch_all(self.pool())
            .await
            .map_err(storage_error)
    }

    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError> {
        // A new key, or a revoked one issued again: one row changes. Already valid: none.
        let done = sqlx::query(
            "INSERT INTO passkeys (passkey, created) VALUES ($1, $2)
             ON CONFLICT (passkey) DO UPDATE SET revoked = NULL WHERE passkeys.revoked IS NOT NULL",
        )
        .bind(key)
        .bind(unix_now())
        .execute(self.pool())
        .await
        .map_err(storage_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("UPDATE passkeys SET revoked = $2 WHERE passkey = $1 AND revoked IS NULL")
            .bind(key)
            .bind(unix_now())
            .execute(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(done.rows_affected() == 1)
    }
}
