//! Access control: which torrents the tracker serves and which clients it answers.
//!
//! [`AccessControl`] is the hook the engine asks before it touches the storage: once per
//! announce for the torrent and the client, once per scraped hash. [`AccessList`] is the
//! implementation the binary uses: an immutable [`AccessPolicy`] snapshot (mode, registered
//! torrents, allow and deny lists, client filter) that a reloader replaces as a whole while
//! requests keep reading the previous one — readers take no lock.

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::{InfoHash, PeerId, Refusal};

/// Decides whether a torrent is served and a client answered. Called on the request path:
/// implementations must be cheap and must not block.
pub trait AccessControl: Send + Sync + 'static {
    /// Whether announces and scrapes of `hash` are served; the refusal is the peer's reason.
    fn torrent(&self, hash: &InfoHash) -> Result<(), Refusal>;

    /// Whether a client announcing with `peer_id` is answered.
    fn client(&self, peer_id: &PeerId) -> Result<(), Refusal> {
        let _ = peer_id;
        Ok(())
    }

    /// Whether the tracker is private: requests must carry a passkey (`/<passkey>/announce`).
    fn private(&self) -> bool {
        false
    }

    /// Whether `passkey` (from the request's path; `None` when it has none) may use the tracker.
    /// A tracker that is not private accepts anything.
    fn passkey(&self, passkey: Option<&str>) -> Result<(), Refusal> {
        let _ = passkey;
        Ok(())
    }
}

/// Whether `key` is shaped like a passkey: 1 to 64 ASCII letters, digits, `-` or `_`.
pub fn is_passkey(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Which torrents are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessMode {
    /// Every info hash (the default).
    #[default]
    Open,
    /// Only registered torrents and those on the allow list; others get "unregistered torrent".
    Allow,
    /// Every info hash except those on the deny list, which get "denied torrent".
    Deny,
}

impl AccessMode {
    /// `open`, `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::Open => "open",
            AccessMode::Allow => "allow",
            AccessMode::Deny => "deny",
        }
    }
}

impl std::str::FromStr for AccessMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "open" => Ok(AccessMode::Open),
            "allow" => Ok(AccessMode::Allow),
            "deny" => Ok(AccessMode::Deny),
            other => Err(format!("unknown access mode {other:?}: expected open, allow or deny")),
        }
    }
}

/// Peer id prefixes (Azureus style `-qB`, `-TR`, …) a tracker answers or refuses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFilter {
    /// When not empty, only peer ids starting with one of these are answered.
    pub allow: Vec<Vec<u8>>,
    /// Peer ids starting with one of these are refused.
    pub deny: Vec<Vec<u8>>,
}

impl ClientFilter {
    /// Whether this filter lets `peer_id` through.
    pub fn check(&self, peer_id: &PeerId) -> Result<(), Refusal> {
        let id = &peer_id.0[..];
        let allowed = self.allow.is_empty() || self.allow.iter().any(|p| id.starts_with(p));
        if allowed && !self.deny.iter().any(|p| id.starts_with(p)) {
            return Ok(());
        }
        Err(Refusal::ClientNotAllowed(client_label(id)))
    }
}

/// The printable start of a peer id (its client prefix, at most 8 bytes), for the peer's reason.
fn client_label(id: &[u8]) -> String {
    id.iter().take(8).map(|&b| if b.is_ascii_graphic() { char::from(b) } else { '?' }).collect()
}

/// One complete access policy: replaced as a whole on reload.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// Which torrents are served.
    pub mode: AccessMode,
    /// Torrents registered from .torrent files (served in `allow` mode).
    pub registered: HashSet<InfoHash>,
    /// Hashes of the allow list (served in `allow` mode).
    pub allowed: HashSet<InfoHash>,
    /// Hashes of the deny list (refused in `deny` mode).
    pub denied: HashSet<InfoHash>,
    /// Client filter (any mode).
    pub clients: ClientFilter,
    /// The passkeys of a private tracker; `None`: not private.
    pub passkeys: Option<HashSet<String>>,
}

impl AccessPolicy {
    /// Whether `hash` is served under this policy.
    pub fn torrent(&self, hash: &InfoHash) -> Result<(), Refusal> {
        match self.mode {
            AccessMode::Open => Ok(()),
            AccessMode::Allow if self.registered.contains(hash) || self.allowed.contains(hash) => Ok(()),
            AccessMode::Allow => Err(Refusal::UnregisteredTorrent),
            AccessMode::Deny if self.denied.contains(hash) => Err(Refusal::DeniedTorrent),
            AccessMode::Deny => Ok(()),
        }
    }
}

/// An [`AccessPolicy`] that can be replaced while requests read it.
#[derive(Debug, Default)]
pub struct AccessList {
    current: ArcSwap<AccessPolicy>,
}

impl AccessList {
    /// Starts with `policy`.
    pub fn new(policy: AccessPolicy) -> Self {
        AccessList { current: ArcSwap::from_pointee(policy) }
    }

    /// Replaces the policy; requests already running finish with the old one.
    pub fn replace(&self, policy: AccessPolicy) {
        self.current.store(Arc::new(policy));
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<AccessPolicy> {
        self.current.load_full()
    }
}

impl AccessControl for AccessList {
    fn torrent(&self, hash: &InfoHash) -> Result<(), Refusal> {
        self.current.load().torrent(hash)
    }

    fn client(&self, peer_id: &PeerId) -> Result<(), Refusal> {
        self.current.load().clients.check(peer_id)
    }

    fn private(&self) -> bool {
        self.current.load().passkeys.is_some()
    }

    fn passkey(&self, passkey: Option<&str>) -> Result<(), Refusal> {
        match (&self.current.load().passkeys, passkey) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(Refusal::MissingPasskey),
            (Some(keys), Some(key)) if keys.contains(key) => Ok(()),
            (Some(_), Some(_)) => Err(Refusal::UnknownPasskey),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> InfoHash {
        InfoHash([n; 20])
    }

    #[test]
    fn modes_decide_which_torrents_are_served() {
        let mut policy = AccessPolicy::default();
        assert_eq!(policy.torrent(&h(1)), Ok(()), "open serves anything");
        policy.mode = AccessMode::Allow;
        policy.registered.insert(h(1));
        policy.allowed.insert(h(2));
        policy.denied.insert(h(3));
        assert_eq!(policy.torrent(&h(1)), Ok(()), "registered");
        assert_eq!(policy.torrent(&h(2)), Ok(()), "allow-listed");
        assert_eq!(policy.torrent(&h(3)), Err(Refusal::UnregisteredTorrent));
        policy.mode = AccessMode::Deny;
        assert_eq!(policy.torrent(&h(3)), Err(Refusal::DeniedTorrent));
        assert_eq!(policy.torrent(&h(4)), Ok(()));
        assert!(Refusal::UnregisteredTorrent.to_string().contains("unregistered torrent"));
        assert!(Refusal::DeniedTorrent.to_string().contains("denied torrent"));
    }

    #[test]
    fn the_client_filter_matches_prefixes() {
        let qb = PeerId(*b"-qB4650-abcdefghijkl");
        let tr = PeerId(*b"-TR4050-abcdefghijkl");
        let odd = PeerId([0xff; 20]);
        let mut f = ClientFilter::default();
        assert!(f.check(&qb).is_ok() && f.check(&odd).is_ok(), "no lists: everyone");
        f.allow = vec![b"-qB".to_vec(), b"-TR".to_vec()];
        assert!(f.check(&qb).is_ok() && f.check(&tr).is_ok());
        let refused = f.check(&odd).unwrap_err();
        assert_eq!(refused.to_string(), "client not allowed: ???????? is not accepted by this tracker");
        f.deny = vec![b"-TR40".to_vec()];
        assert!(f.check(&tr).is_err(), "deny beats allow");
        assert!(f.check(&qb).is_ok());
        f.allow.clear();
        assert!(f.check(&odd).is_ok(), "a deny list alone lets others through");
    }

    #[test]
    fn a_private_policy_wants_a_known_passkey() {
        let list = AccessList::new(AccessPolicy::default());
        assert!(!list.private());
        assert_eq!(list.passkey(None), Ok(()));
        assert_eq!(list.passkey(Some("anything")), Ok(()));
        let keys = ["a1b2c3d4".to_owned()].into_iter().collect();
        list.replace(AccessPolicy { passkeys: Some(keys), ..AccessPolicy::default() });
        assert!(list.private());
        assert_eq!(list.passkey(Some("a1b2c3d4")), Ok(()));
        assert_eq!(list.passkey(Some("a1b2c3d5")), Err(Refusal::UnknownPasskey));
        assert_eq!(list.passkey(None), Err(Refusal::MissingPasskey));
        assert!(is_passkey("a1b2c3d4") && is_passkey("A-_9"));
        assert!(!is_passkey("") && !is_passkey("a/b") && !is_passkey("é") && !is_passkey(&"a".repeat(65)));
    }

    #[test]
    fn a_replaced_policy_applies_to_the_next_request() {
        let list = AccessList::new(AccessPolicy { mode: AccessMode::Allow, ..AccessPolicy::default() });
        assert!(list.torrent(&h(1)).is_err());
        let mut next = AccessPolicy { mode: AccessMode::Allow, ..AccessPolicy::default() };
        next.allowed.insert(h(1));
        list.replace(next);
        assert!(list.torrent(&h(1)).is_ok());
        assert!(list.policy().allowed.contains(&h(1)));
    }
}
