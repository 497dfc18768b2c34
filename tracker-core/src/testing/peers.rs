//! Helpers to build announces and to call a store with them, for the checks and for a backend's
//! own tests.
//!
//! ```
//! use octotracker_core::testing::peers::{T0, info_hash, leecher, v4, AnnounceExt};
//! use octotracker_core::Event;
//!
//! let a = leecher(info_hash(1), v4(7)).completed().seeding().at(T0);
//! assert_eq!(a.event, Event::Completed);
//! assert!(a.seeder);
//! ```

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::{
    Event, InfoHash, Peer, PeerAnnounce, PeerId, StorageError, SwarmReply, SwarmStats, TorrentManager, UnixTime,
};

/// The time the checks announce at unless they say otherwise.
pub const T0: UnixTime = UnixTime(1_700_000_000);

/// The port every helper address listens on, unless a check picks another.
pub const PORT: u16 = 6881;

/// A distinct info hash for each `n`.
pub fn info_hash(n: u32) -> InfoHash {
    let mut bytes = [0xa5; 20];
    bytes[16..].copy_from_slice(&n.to_be_bytes());
    InfoHash(bytes)
}

/// A distinct IPv4 address for each `n < 2^24` (in 10.0.0.0/8), port [`PORT`].
pub fn v4(n: u32) -> SocketAddr {
    let [_, b, c, d] = n.to_be_bytes();
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, b, c, d), PORT))
}

/// A distinct IPv6 address for each `n` (in 2001:db8::/32), port [`PORT`].
pub fn v6(n: u32) -> SocketAddr {
    let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (n >> 16) as u16, n as u16);
    SocketAddr::V6(SocketAddrV6::new(ip, PORT, 0, 0))
}

/// A distinct WebRTC peer's synthetic address for each `n` (in 100::/64, see
/// [`webrtc_addr`](crate::webrtc_addr)).
pub fn rtc(n: u32) -> SocketAddr {
    crate::webrtc_addr((u128::from(n) << 16) | 0x1a2b)
}

/// `addr` with another port.
pub fn with_port(addr: SocketAddr, port: u16) -> SocketAddr {
    SocketAddr::new(addr.ip(), port)
}

/// The peer id the helpers give the peer at `addr`: distinct per address and port, so a reply's
/// peer ids can be checked against the stored ones.
pub fn peer_id_for(addr: SocketAddr) -> PeerId {
    let mut id = [b'-'; 20];
    match addr {
        SocketAddr::V4(a) => {
            id[0] = 4;
            id[1..5].copy_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            id[0] = 6;
            id[1..17].copy_from_slice(&a.ip().octets());
        }
    }
    id[18..].copy_from_slice(&addr.port().to_be_bytes());
    PeerId(id)
}

/// A regular announce (no event) of a leecher at `addr` in swarm `hash`, at [`T0`], with
/// [`peer_id_for`]`(addr)`.
pub fn leecher(hash: InfoHash, addr: SocketAddr) -> PeerAnnounce {
    PeerAnnounce { info_hash: hash, addr, peer_id: peer_id_for(addr), event: Event::None, seeder: false, now: T0 }
}

/// [`leecher`], but a seeder (`left = 0`).
pub fn seeder(hash: InfoHash, addr: SocketAddr) -> PeerAnnounce {
    leecher(hash, addr).seeding()
}

/// Builder-style changes to a [`PeerAnnounce`].
pub trait AnnounceExt: Sized {
    /// With `event = started`.
    fn started(self) -> Self;
    /// With `event = stopped`.
    fn stopped(self) -> Self;
    /// With `event = completed`.
    fn completed(self) -> Self;
    /// As a seeder (`left = 0`).
    fn seeding(self) -> Self;
    /// As a leecher (`left > 0`).
    fn leeching(self) -> Self;
    /// Announced at `now`.
    fn at(self, now: UnixTime) -> Self;
    /// With another peer id.
    fn with_id(self, id: PeerId) -> Self;
}

impl AnnounceExt for PeerAnnounce {
    fn started(self) -> Self {
        PeerAnnounce { event: Event::Started, ..self }
    }
    fn stopped(self) -> Self {
        PeerAnnounce { event: Event::Stopped, ..self }
    }
    fn completed(self) -> Self {
        PeerAnnounce { event: Event::Completed, ..self }
    }
    fn seeding(self) -> Self {
        PeerAnnounce { seeder: true, ..self }
    }
    fn leeching(self) -> Self {
        PeerAnnounce { seeder: false, ..self }
    }
    fn at(self, now: UnixTime) -> Self {
        PeerAnnounce { now, ..self }
    }
    fn with_id(self, peer_id: PeerId) -> Self {
        PeerAnnounce { peer_id, ..self }
    }
}

/// Stats with `complete` seeders, `incomplete` leechers and `downloaded` downloads.
pub fn stats(complete: u32, incomplete: u32, downloaded: u64) -> SwarmStats {
    SwarmStats { complete, incomplete, downloaded }
}

/// The peer a reply lists for an announce made with the helpers.
pub fn peer(addr: SocketAddr) -> Peer {
    Peer { addr, id: peer_id_for(addr) }
}

/// Announces, failing the check on a storage error.
pub async fn announce(store: &dyn TorrentManager, a: PeerAnnounce, want: usize) -> SwarmReply {
    ok(store.announce(&a, want).await, "announce")
}

/// Announces each of `announces` with `want = 0`.
pub async fn announce_all(store: &dyn TorrentManager, announces: impl IntoIterator<Item = PeerAnnounce>) {
    for a in announces {
        announce(store, a, 0).await;
    }
}

/// The stats of one swarm, by scrape.
pub async fn scrape_one(store: &dyn TorrentManager, hash: InfoHash) -> SwarmStats {
    let stats = ok(store.scrape(&[hash]).await, "scrape");
    assert_eq!(stats.len(), 1, "a scrape of one hash returns one entry");
    stats[0]
}

/// Expires, failing the check on a storage error.
pub async fn expire(store: &dyn TorrentManager, cutoff: UnixTime) -> crate::ExpiryReport {
    ok(store.expire(cutoff).await, "expire")
}

/// The addresses of a reply's peers, checking that none is listed twice.
pub fn addrs(reply: &SwarmReply) -> HashSet<SocketAddr> {
    let set: HashSet<SocketAddr> = reply.peers.iter().map(|p| p.addr).collect();
    assert_eq!(set.len(), reply.peers.len(), "a reply lists each peer once: {:?}", reply.peers);
    set
}

/// Unwraps a store result, naming the operation when it failed.
pub fn ok<T>(result: Result<T, StorageError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what} failed: {e}"),
    }
}
