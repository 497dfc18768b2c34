//! One stored peer, compact: an IPv4 peer takes 32 bytes, an IPv6 peer 44.

use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use octotracker_core::{Peer, UnixTime};

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

/// What identifies a peer in a swarm: its address and port.
pub(crate) type Key<A> = (A, u16);

/// A stored peer. Field order is left to the compiler, which packs an IPv4 entry into 32 bytes
/// (20 + 4 + 4 + 2, aligned to 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry<A> {
    /// The address.
    pub ip: A,
    /// The port.
    pub port: u16,
    /// When the peer last announced, whole seconds since the epoch (see [`stamp`]).
    pub last_seen: u32,
    /// The peer id it last announced with.
    pub peer_id: [u8; 20],
}

impl<A: Ip> Entry<A> {
    /// The peer's identity.
    pub(crate) fn key(&self) -> Key<A> {
        (self.ip, self.port)
    }

    /// Overwrites `peer` with this entry as handed out to others, field by field (see
    /// `selection::append` for why).
    pub(crate) fn write_peer(&self, peer: &mut Peer) {
        peer.addr = self.ip.socket(self.port);
        peer.id.0 = self.peer_id;
    }

    /// Whether the peer was last seen before `cutoff`.
    pub(crate) fn seen_before(&self, cutoff: UnixTime) -> bool {
        u64::from(self.last_seen) < cutoff.0
    }
}

/// A time as stored in an entry: seconds since the epoch in 32 bits, which lasts until 2106;
/// later times are stored as the last second that fits.
pub(crate) fn stamp(t: UnixTime) -> u32 {
    u32::try_from(t.0).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use octotracker_core::PeerId;

    use super::*;

    #[test]
    fn an_ipv4_entry_takes_32_bytes_and_an_ipv6_entry_44() {
        assert_eq!(std::mem::size_of::<Entry<[u8; 4]>>(), 32);
        assert_eq!(std::mem::size_of::<Entry<[u8; 16]>>(), 44);
    }

    #[test]
    fn times_past_2106_saturate_instead_of_wrapping() {
        assert_eq!(stamp(UnixTime(1_700_000_000)), 1_700_000_000);
        assert_eq!(stamp(UnixTime(u64::MAX)), u32::MAX);
    }

    #[test]
    fn an_entry_hands_out_its_address_and_peer_id() {
        let e = Entry { ip: [10, 0, 0, 1], port: 6881, last_seen: 5, peer_id: [7; 20] };
        let mut peer = Peer { addr: "[::1]:1".parse().unwrap(), id: PeerId([0; 20]) };
        e.write_peer(&mut peer);
        assert_eq!(peer, Peer { addr: "10.0.0.1:6881".parse().unwrap(), id: PeerId([7; 20]) });
        let e6 = Entry { ip: [0xfe; 16], port: 1, last_seen: 0, peer_id: [1; 20] };
        e6.write_peer(&mut peer);
        assert_eq!(peer.addr, "[fefe:fefe:fefe:fefe:fefe:fefe:fefe:fefe]:1".parse().unwrap());
        assert!(e.seen_before(UnixTime(6)));
        assert!(!e.seen_before(UnixTime(5)), "seen at the cutoff is not before it");
    }
}
