//! [`HashListStore`]: where the allow and deny lists live when several tracker processes share
//! them (a Redis set, a PostgreSQL table). The engine never calls it per request: the binary reads
//! both lists on a timer into an [`AccessList`](crate::AccessList), as it does passkeys.

use async_trait::async_trait;

use crate::{InfoHash, StorageError};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashList {
    /// The allow list (`--access allow`).
    Allow,
    /// The deny list (`--access deny`).
    Deny,
}

impl HashList {
    /// `allow` or `deny`, as in URLs and stores.
    pub fn as_str(self) -> &'static str {
        match self {
            HashList::Allow => "allow",
            HashList::Deny => "deny",
        }
    }
}

/// A backend's allow and deny lists.
#[async_trait]
pub trait HashListStore: Send + Sync + 'static {
    /// Every hash on `list`.
    async fn list_hashes(&self, list: HashList) -> Result<Vec<InfoHash>, StorageError>;

    /// Puts `hash` on `list` (`listed`) or takes it off; whether the list changed.
    async fn set_listed(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, StorageError>;
}
