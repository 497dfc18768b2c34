//! Peers: who announced, and where other peers can reach them.

use std::net::{IpAddr, SocketAddr};

use crate::PeerId;

/// A peer as handed out to other peers: its address (IPv4 or IPv6, never IPv4-mapped IPv6)
/// and its peer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Where the peer listens.
    pub addr: SocketAddr,
    /// The id the peer announced with (sent only in non-compact replies).
    pub id: PeerId,
}

/// The address family a peer belongs to; peers are only ever handed to peers of the same family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4, `peers` in replies (6 bytes each in compact form).
    V4,
    /// IPv6, `peers6` in replies (18 bytes each in compact form, BEP 7).
    V6,
}

impl AddressFamily {
    /// The family of an address (call [`normalize_ip`] first).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => AddressFamily::V4,
            IpAddr::V6(_) => AddressFamily::V6,
        }
    }
}

/// Turns an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) into the IPv4 address it carries, so a
/// dual-stack socket and an IPv4 socket see one peer the same way.
///
/// ```
/// use octotracker_core::normalize_ip;
/// let mapped: std::net::IpAddr = "::ffff:10.0.0.1".parse().unwrap();
/// assert_eq!(normalize_ip(mapped).to_string(), "10.0.0.1");
/// ```
pub fn normalize_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// [`normalize_ip`] for a socket address.
pub fn normalize_addr(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(normalize_ip(addr.ip()), addr.port())
}
