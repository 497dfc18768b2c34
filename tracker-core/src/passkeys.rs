//! [`PasskeyStore`]: where a private tracker's passkeys live when they are shared by several
//! tracker processes (a Redis set, a PostgreSQL table). The engine never calls it per request:
//! the binary reads every key on a timer into an [`AccessList`](crate::AccessList).

use async_trait::async_trait;

use crate::{StorageError, Transfer};

/// A backend's passkeys. Keys are validated by the caller ([`is_passkey`](crate::is_passkey)).
#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// Every valid (issued, not revoked) passkey.
    async fn list_passkeys(&self) -> Result<Vec<String>, StorageError>;

    /// Issues `key`; `false` when it was already valid.
    async fn add_passkey(&self, key: &str) -> Result<bool, StorageError>;

    /// Revokes `key`; `false` when it was not valid.
    async fn revoke_passkey(&self, key: &str) -> Result<bool, StorageError>;

    /// Adds what `transfers` add to their keys' uploaded/downloaded totals: for each peer, the
    /// growth of its counters since its previous announce (all of them when it is new, or when
    /// its counters went down: the client started again). Transfers of keys the store does not
    /// know are ignored. Backends without ratio tracking return [`StorageError::Unsupported`].
    async fn record_transfers(&self, transfers: &[Transfer]) -> Result<(), StorageError> {
        let _ = transfers;
        Err(StorageError::Unsupported("per-passkey transfer totals"))
    }
}
