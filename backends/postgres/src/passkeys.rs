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

    async fn record_transfers(&self, transfers: &[octotracker_core::Transfer]) -> Result<(), StorageError> {
        self.record(transfers).await
    }
}

/// One peer's counters within a batch, folded in the order the announces came.
struct Step {
    passkey: String,
    info_hash: Vec<u8>,
    ip: std::net::IpAddr,
    port: i32,
    uploaded: i64,
    downloaded: i64,
    last_seen: i64,
}

/// [`transfer_growth`](octotracker_core::events::transfer_growth) on stored (non-negative) counters.
fn growth(before: i64, now: i64) -> i64 {
    let unsigned = |v: i64| u64::try_from(v).unwrap_or(0);
    i64::try_from(octotracker_core::events::transfer_growth(unsigned(before), unsigned(now))).unwrap_or(i64::MAX)
}

impl PostgresTorrentManager {
    /// [`PasskeyStore::record_transfers`]: in one transaction, creates the missing
    /// `passkey_peers` rows (known keys only), locks every row of the batch (so two processes
    /// recording the same peer take turns and each counts only its own growth), takes the
    /// deltas against the stored counters, stores the new counters and adds the deltas to the
    /// keys' totals.
    async fn record(&self, transfers: &[octotracker_core::Transfer]) -> Result<(), StorageError> {
        use std::collections::HashMap;
        if transfers.is_empty() {
            return Ok(());
        }
        let steps: Vec<Step> = transfers
            .iter()
            .map(|t| Step {
                passkey: t.passkey.clone(),
                info_hash: t.info_hash.0.to_vec(),
                ip: t.addr.ip(),
                port: i32::from(t.addr.port()),
                uploaded: i64::try_from(t.uploaded).unwrap_or(i64::MAX),
                downloaded: i64::try_from(t.downloaded).unwrap_or(i64::MAX),
                last_seen: i64::try_from(t.now.0).unwrap_or(i64::MAX),
            })
            .collect();
        let keys: Vec<String> = steps.iter().map(|s| s.passkey.clone()).collect();
        let hashes: Vec<Vec<u8>> = steps.iter().map(|s| s.info_hash.clone()).collect();
        let ips: Vec<_> = steps.iter().map(|s| s.ip).collect();
        let ports: Vec<i32> = steps.iter().map(|s| s.port).collect();

        let mut tx = self.pool().begin().await.map_err(storage_error)?;
        sqlx::query(
            "INSERT INTO passkey_peers (passkey, info_hash, ip, port, uploaded, downloaded, last_seen)
             SELECT t.passkey, t.info_hash, t.ip, t.port, 0, 0, 0
             FROM unnest($1::text[], $2::bytea[], $3::inet[], $4::int[]) AS t(passkey, info_hash, ip, port)
             WHERE t.passkey IN (SELECT passkey FROM passkeys)
             ON CONFLICT DO NOTHING",
        )
        .bind(&keys)
        .bind(&hashes)
        .bind(&ips)
        .bind(&ports)
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        type Row = (String, Vec<u8>, std::net::IpAddr, i32, i64, i64);
        let stored: Vec<Row> = sqlx::query_as(
            "SELECT p.passkey, p.info_hash, p.ip, p.port, p.uploaded, p.downloaded
             FROM passkey_peers p
             JOIN unnest($1::text[], $2::bytea[], $3::inet[], $4::int[]) AS t(passkey, info_hash, ip, port)
               ON (p.passkey, p.info_hash, p.ip, p.port) = (t.passkey, t.info_hash, t.ip, t.port)
             ORDER BY p.passkey, p.info_hash, p.ip, p.port
             FOR UPDATE OF p",
        )
        .bind(&keys)
        .bind(&hashes)
        .bind(&ips)
        .bind(&ports)
        .fetch_all(&mut *tx)
        .await
        .map_err(storage_error)?;
        // (key, swarm, address, port) → (uploaded, downloaded, last seen)
        type PeerKey = (String, Vec<u8>, std::net::IpAddr, i32);
        let mut last: HashMap<PeerKey, (i64, i64, i64)> =
            stored.into_iter().map(|(k, h, ip, port, up, down)| ((k, h, ip, port), (up, down, 0))).collect();
        let mut totals: HashMap<String, (i64, i64)> = HashMap::new();
        for s in &steps {
            let Some(counters) = last.get_mut(&(s.passkey.clone(), s.info_hash.clone(), s.ip, s.port)) else {
                continue; // an unknown key
            };
            let total = totals.entry(s.passkey.clone()).or_default();
            total.0 = total.0.saturating_add(growth(counters.0, s.uploaded));
            total.1 = total.1.saturating_add(growth(counters.1, s.downloaded));
            *counters = (s.uploaded, s.downloaded, counters.2.max(s.last_seen));
        }
        let mut rows = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((k, h, ip, port), (up, down, seen)) in last {
            rows.0.push(k);
            rows.1.push(h);
            rows.2.push(ip);
            rows.3.push(port);
            rows.4.push(up);
            rows.5.push(down);
            rows.6.push(seen);
        }
        sqlx::query(
            "UPDATE passkey_peers p SET uploaded = t.up, downloaded = t.down, last_seen = greatest(p.last_seen, t.seen)
             FROM unnest($1::text[], $2::bytea[], $3::inet[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[])
                  AS t(passkey, info_hash, ip, port, up, down, seen)
             WHERE (p.passkey, p.info_hash, p.ip, p.port) = (t.passkey, t.info_hash, t.ip, t.port)",
        )
        .bind(&rows.0)
        .bind(&rows.1)
        .bind(&rows.2)
        .bind(&rows.3)
        .bind(&rows.4)
        .bind(&rows.5)
        .bind(&rows.6)
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        let (names, sums): (Vec<String>, Vec<(i64, i64)>) = totals.into_iter().unzip();
        let (ups, downs): (Vec<i64>, Vec<i64>) = sums.into_iter().unzip();
        sqlx::query(
            "UPDATE passkeys k SET uploaded = k.uploaded + t.up, downloaded = k.downloaded + t.down
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(passkey, up, down)
             WHERE k.passkey = t.passkey",
        )
        .bind(&names)
        .bind(&ups)
        .bind(&downs)
        .execute(&mut *tx)
        .await
        .map_err(storage_error)?;
        tx.commit().await.map_err(storage_error)
    }

    /// Removes the `passkey_peers` rows of peers silent since before `cutoff` (with expiry).
    pub(crate) async fn expire_transfers(&self, cutoff: i64) -> Result<u64, StorageError> {
        let done = sqlx::query("DELETE FROM passkey_peers WHERE last_seen < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await
            .map_err(storage_error)?;
        Ok(done.rows_affected())
    }
}
