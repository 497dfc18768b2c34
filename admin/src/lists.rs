//! [`ListStore`]: where the allow and deny lists live, as the admin API changes them. The
//! `octotracker` binary keeps them in files (rewritten atomically, read again by every process
//! within the reload interval); an embedder plugs in its own.

use async_trait::async_trait;
use octotracker_core::InfoHash;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashList {
    /// The allow list (`--allow-list`).
    Allow,
    /// The deny list (`--deny-list`).
    Deny,
}

impl HashList {
    /// `allow` or `deny`, as in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            HashList::Allow => "allow",
            HashList::Deny => "deny",
        }
    }
}

/// The allow and deny lists as the admin API sees them.
#[async_trait]
pub trait ListStore: Send + Sync + 'static {
    /// Whether this store keeps `list` at all (a tracker started without a deny list has none).
    fn has(&self, list: HashList) -> bool;

    /// Puts `hash` on `list` (`listed`) or takes it off; returns whether the list changed.
    /// The change reaches the running trackers within their reload interval.
    async fn set(&self, list: HashList, hash: InfoHash, listed: bool) -> Result<bool, String>;
}
