//! [`ListStore`]: where the allow and deny lists live, as the admin API changes them. The
//! `octotracker` binary keeps them in files (rewritten atomically) or in the backend
//! ([`HashListStore`](octotracker_core::HashListStore): Redis, PostgreSQL), read again by every
//! process within the reload interval; an embedder plugs in its own.

use async_trait::async_trait;
use octotracker_core::{HashList, InfoHash};

/// The allow and deny lists as the admin API sees them.
#[async_trait]
pub trait ListStore: Send + Sync + 'static {
    /// Whether this store keeps `list` at all (a tracker started without a deny list has none).
    fn has(&self, list: HashList) -> bool;

    /// Puts `hash` on `list` (`listed`) or takes it off; returns whether the list changed.
    /// The change reaches the running trackers within their reload interval.
    async fn set(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, String>;
}
