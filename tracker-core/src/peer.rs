//! Peers: who announced, and where other peers can reach them.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

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

/// The family a peer belongs to; peers are only ever handed to peers of the same family, while
/// a swarm's counts cover every family.
///
/// This is the one place that decides it: every backend keeps peers apart by this function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4, `peers` in replies (6 bytes each in compact form).
    V4,
    /// IPv6, `peers6` in replies (18 bytes each in compact form, BEP 7).
    V6,
    /// A WebRTC peer (WebTorrent) reached through a WebSocket tracker connection: it cannot
    /// connect to TCP/UDP peers nor they to it. Stored under a synthetic address in
    /// [`WEBRTC_PREFIX`] (see [`webrtc_addr`]).
    WebRtc,
}

impl AddressFamily {
    /// The family of an address (call [`normalize_ip`] first): an IPv6 address in
    /// [`WEBRTC_PREFIX`] is a WebRTC peer's synthetic address.
    ///
    /// ```
    /// use octotracker_core::AddressFamily;
    /// assert_eq!(AddressFamily::of("10.0.0.1".parse().unwrap()), AddressFamily::V4);
    /// assert_eq!(AddressFamily::of("2001:db8::1".parse().unwrap()), AddressFamily::V6);
    /// assert_eq!(AddressFamily::of("100::1:2:3:4".parse().unwrap()), AddressFamily::WebRtc);
    /// ```
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => AddressFamily::V4,
            IpAddr::V6(ip) if is_webrtc_ip(ip) => AddressFamily::WebRtc,
            IpAddr::V6(_) => AddressFamily::V6,
        }
    }
}

/// The reserved block WebRTC peers' synthetic addresses come from: `100::/64`, IPv6's discard
/// prefix (RFC 6666), which no real peer announces from (the engine refuses HTTP and UDP
/// announces from it, see [`Refusal::ReservedAddress`](crate::Refusal::ReservedAddress)).
pub const WEBRTC_PREFIX: (Ipv6Addr, u8) = (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64);

/// Whether `ip` lies in [`WEBRTC_PREFIX`].
pub fn is_webrtc_ip(ip: Ipv6Addr) -> bool {
    ip.segments()[..4] == [0x100, 0, 0, 0]
}

/// The synthetic address of a WebRTC peer: [`WEBRTC_PREFIX`] followed by 80 bits of `key` (64
/// in the address, 16 in the port, which is never 0). `key` is a keyed hash of the peer id (the
/// WebSocket frontend's), so a stranger cannot pick a peer id that takes another's place.
///
/// ```
/// use octotracker_core::{AddressFamily, webrtc_addr};
/// let addr = webrtc_addr(0x0123_4567_89ab_cdef_0042);
/// assert_eq!(AddressFamily::of(addr.ip()), AddressFamily::WebRtc);
/// assert_eq!(addr.port(), 0x0042);
/// ```
pub fn webrtc_addr(key: u128) -> SocketAddr {
    let low = (key >> 16) as u64;
    let port = match key as u16 {
        0 => 1,
        p => p,
    };
    let ip = Ipv6Addr::from((u128::from(0x100u16) << 112) | u128::from(low));
    SocketAddr::new(IpAddr::V6(ip), port)
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
