//! One stored peer, compact: its address, port and last-seen time, and its peer id only when
//! the store keeps peer ids ([`MemoryConfig::peer_ids`](crate::MemoryConfig::peer_ids)).
//!
//! Every field is a byte array, so an entry has no padding and an alignment of one: an IPv4
//! peer takes 10 bytes (30 with its peer id), an IPv6 peer 22 (42).

use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use octotracker_core::{Peer, PeerId, UnixTime};

/// The raw bytes of an IP address of one family: `[u8; 4]` or `[u8; 16]`.
pub(crate) trait Ip: Copy + Eq + Hash + Default + std::fmt::Debug + Send + Sync + 'static {
    /// The socket address of this address and `port`.
    fn socket(self, port: u16) -> SocketAddr;
}

impl Ip for [u8; 4] {
    fn socket(self, port: u16) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(self), port))
    }
}

impl Ip for [u8; 16] {
    fn socket(self, port: u16) -> SocketAddr {
        SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(self), port, 0, 0))
    }
}

/// Where an entry keeps its peer id: `[u8; 20]` (kept) or `()` (not kept: handed out as zeros,
/// for stores that only serve compact replies).
pub(crate) trait PeerIdSlot: Copy + Eq + Default + std::fmt::Debug + Send + Sync + 'static {
    /// What is stored for `id`.
    fn keep(id: &PeerId) -> Self;
    /// The peer id handed out.
    fn peer_id(&self) -> [u8; 20];
}

impl PeerIdSlot for [u8; 20] {
    fn keep(id: &PeerId) -> Self {
        id.0
    }

    fn peer_id(&self) -> [u8; 20] {
        *self
    }
}

impl PeerIdSlot for () {
    fn keep(_: &PeerId) -> Self {}

    fn peer_id(&self) -> [u8; 20] {
        [0; 20]
    }
}

/// What identifies a peer in a swarm: its address and port.
pub(crate) type Key<A> = (A, u16);

/// A stored peer (see the module docs for its size).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Entry<A, P> {
    /// The address.
    pub ip: A,
    /// The port, native byte order.
    port: [u8; 2],
    /// When the peer last announced, whole seconds since the epoch (see [`stamp`]), native byte
    /// order.
    last_seen: [u8; 4],
    /// The peer id it last announced with, when kept.
    pub peer_id: P,
}

impl<A: Ip, P: PeerIdSlot> Entry<A, P> {
    /// An entry for the peer at `ip` and `port`, seen at `last_seen` (see [`stamp`]).
    pub(crate) fn new(ip: A, port: u16, last_seen: u32, peer_id: P) -> Self {
        Entry { ip, port: port.to_ne_bytes(), last_seen: last_seen.to_ne_bytes(), peer_id }
    }

    /// The port.
    pub(crate) fn port(&self) -> u16 {
        u16::from_ne_bytes(self.port)
    }

    /// The peer's identity.
    pub(crate) fn key(&self) -> Key<A> {
        (self.ip, self.port())
    }

    /// Overwrites `peer` with this entry as handed out to others, field by field (see
    /// `selection::append` for why).
    pub(crate) fn write_peer(&self, peer: &mut Peer) {
        peer.addr = self.ip.socket(self.port());
        peer.id.0 = self.peer_id.peer_id();
    }

    /// Whether the peer was last seen before `cutoff`.
    pub(crate) fn seen_before(&self, cutoff: UnixTime) -> bool {
        u64::from(u32::from_ne_bytes(self.last_seen)) < cutoff.0
    }
}

/// A time as stored in an entry: seconds since the epoch in 32 bits, which lasts until 2106;
/// later times are stored as the last second that fits.
pub(crate) fn stamp(t: UnixTime) -> u32 {
    u32::try_from(t.0).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_packed_without_padding() {
        assert_eq!(std::mem::size_of::<Entry<[u8; 4], ()>>(), 10);
        assert_eq!(std::mem::size_of::<Entry<[u8; 16], ()>>(), 22);
        assert_eq!(std::mem::size_of::<Entry<[u8; 4], [u8; 20]>>(), 30);
        assert_eq!(std::mem::size_of::<Entry<[u8; 16], [u8; 20]>>(), 42);
        assert_eq!(std::mem::align_of::<Entry<[u8; 4], [u8; 20]>>(), 1);
    }

    #[test]
    fn times_past_2106_saturate_instead_of_wrapping() {
        assert_eq!(stamp(UnixTime(1_700_000_000)), 1_700_000_000);
        assert_eq!(stamp(UnixTime(u64::MAX)), u32::MAX);
    }

    #[test]
    fn an_entry_hands_out_its_address_and_peer_id() {
        let e = Entry::new([10, 0, 0, 1], 6881, 5, [7; 20]);
        let mut peer = Peer { addr: "[::1]:1".parse().unwrap(), id: PeerId([0; 20]) };
        e.write_peer(&mut peer);
        assert_eq!(peer, Peer { addr: "10.0.0.1:6881".parse().unwrap(), id: PeerId([7; 20]) });
        let e6 = Entry::new([0xfe; 16], 1, 0, [1; 20]);
        e6.write_peer(&mut peer);
        assert_eq!(peer.addr, "[fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe]:1".parse().unwrap());
        assert!(e.seen_before(UnixTime(6)));
        assert!(!e.seen_before(UnixTime(5)), "seen at the cutoff is not before it");
    }

    #[test]
    fn an_entry_without_a_peer_id_hands_out_zeros() {
        let e: Entry<[u8; 4], ()> = Entry::new([10, 0, 0, 2], 51413, 5, ());
        let mut peer = Peer { addr: "[::1]:1".parse().unwrap(), id: PeerId([1; 20]) };
        e.write_peer(&mut peer);
        assert_eq!(peer, Peer { addr: "10.0.0.2:51413".parse().unwrap(), id: PeerId([0; 20]) });
    }
}
