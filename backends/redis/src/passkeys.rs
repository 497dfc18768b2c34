//! [`PasskeyStore`] on Redis: one set, `<prefix>:passkeys`, without a TTL (keys live until
//! revoked). On a cluster it lives in the one slot its name hashes to.

use async_trait::async_trait;
use octotracker_core::{PasskeyStore, StorageError};

use crate::RedisTorrentManager;

impl RedisTorrentManager {
    fn passkeys_key(&self) -> String {
        format!("{}:passkeys", self.config.prefix)
    }
}

#[async_trait]
impl PasskeyStore for RedisTorrentManager {
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SMEMBERS").arg(self.passkeys_key()).clone();
        self.bounded("listing passkeys", cmd.query_async(&mut conn)).await
    }

    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SADD").arg(self.passkeys_key()).arg(key).clone();
        let added: i64 = self.bounded("adding a passkey", cmd.query_async(&mut conn)).await?;
        Ok(added == 1)
    }

    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SREM").arg(self.passkeys_key()).arg(key).clone();
        let removed: i64 = self.bounded("revoking a passkey", cmd.query_async(&mut conn)).await?;
        Ok(removed == 1)
    }
}
