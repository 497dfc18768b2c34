//! Writing BEP 15 replies (server side) and parsing them (client side).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::request::{ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_ERROR, ACTION_SCRAPE};
use crate::{AnnounceResponse, Peer, PeerId, ScrapeResponse, SwarmStats};

/// Most peers one announce reply carries, so that it fits one 1500-byte Ethernet frame (20
/// bytes of header, then 6 bytes per IPv4 peer or 18 per IPv6 peer, within 1452 bytes of UDP
/// payload over IPv6).
pub fn max_peers(v6: bool) -> usize {
    if v6 { (1452 - 20) / 18 } else { 200 }
}

/// A connect reply.
pub fn write_connect(out: &mut Vec<u8>, transaction_id: u32, connection_id: u64) {
    out.extend_from_slice(&ACTION_CONNECT.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(&connection_id.to_be_bytes());
}

/// An announce reply: IPv4 peers as 6 bytes each, IPv6 peers as 18 (whichever family the
/// response holds; the engine gives a peer its own family only), at most [`max_peers`].
pub fn write_announce(out: &mut Vec<u8>, transaction_id: u32, response: &AnnounceResponse) {
    out.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(&response.interval.to_be_bytes());
    out.extend_from_slice(&response.stats.incomplete.to_be_bytes());
    out.extend_from_slice(&response.stats.complete.to_be_bytes());
    for peer in response.peers.iter().take(max_peers(false)) {
        if let SocketAddr::V4(a) = peer.addr {
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_be_bytes());
        }
    }
    for peer in response.peers6.iter().take(max_peers(true)) {
        if let SocketAddr::V6(a) = peer.addr {
            out.extend_from_slice(&a.ip().octets());
            out.extend_from_slice(&a.port().to_be_bytes());
        }
    }
}

/// A scrape reply: seeders, completed, leechers for each hash, in order.
pub fn write_scrape(out: &mut Vec<u8>, transaction_id: u32, response: &ScrapeResponse) {
    out.extend_from_slice(&ACTION_SCRAPE.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    for (_, stats) in &response.files {
        out.extend_from_slice(&stats.complete.to_be_bytes());
        out.extend_from_slice(&u32::try_from(stats.downloaded).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&stats.incomplete.to_be_bytes());
    }
}

/// An error reply with `message`.
pub fn write_error(out: &mut Vec<u8>, transaction_id: u32, message: &str) {
    out.extend_from_slice(&ACTION_ERROR.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(message.as_bytes());
}

/// A reply packet, parsed (client side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpReply {
    /// The connection id to use.
    Connect {
        /// The request's transaction id.
        transaction_id: u32,
        /// The id.
        connection_id: u64,
    },
    /// An announce reply; peers carry no peer id (zeros).
    Announce {
        /// The request's transaction id.
        transaction_id: u32,
        /// Seconds until the next announce.
        interval: u32,
        /// Leechers and seeders (`downloaded` is not in a UDP announce reply: 0).
        stats: SwarmStats,
        /// The peers.
        peers: Vec<Peer>,
    },
    /// A scrape reply: one entry per requested hash, in order.
    Scrape {
        /// The request's transaction id.
        transaction_id: u32,
        /// Counts per hash.
        stats: Vec<SwarmStats>,
    },
    /// An error.
    Error {
        /// The request's transaction id.
        transaction_id: u32,
        /// The message.
        message: String,
    },
}

impl UdpReply {
    /// The transaction id of the request this answers.
    pub fn transaction_id(&self) -> u32 {
        match self {
            UdpReply::Connect { transaction_id, .. }
            | UdpReply::Announce { transaction_id, .. }
            | UdpReply::Scrape { transaction_id, .. }
            | UdpReply::Error { transaction_id, .. } => *transaction_id,
        }
    }
}

/// Why a reply packet was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed UDP tracker reply: {0}")]
pub struct UdpReplyError(pub &'static str);

fn be32(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

/// Parses a reply packet; `v6` says which peer size an announce reply uses (the family of the
/// socket it came from).
pub fn parse_reply(packet: &[u8], v6: bool) -> Result<UdpReply, UdpReplyError> {
    if packet.len() < 8 {
        return Err(UdpReplyError("shorter than 8 bytes"));
    }
    let (action, transaction_id) = (be32(packet, 0), be32(packet, 4));
    let body = &packet[8..];
    match action {
        ACTION_CONNECT => {
            let id: [u8; 8] = body.try_into().map_err(|_| UdpReplyError("connect reply is not 16 bytes"))?;
            Ok(UdpReply::Connect { transaction_id, connection_id: u64::from_be_bytes(id) })
        }
        ACTION_ANNOUNCE => {
            if body.len() < 12 {
                return Err(UdpReplyError("announce reply shorter than 20 bytes"));
            }
            let (interval, leechers, seeders) = (be32(body, 0), be32(body, 4), be32(body, 8));
            let size = if v6 { 18 } else { 6 };
            let list = &body[12..];
            if !list.len().is_multiple_of(size) {
                return Err(UdpReplyError("peer list is not a whole number of peers"));
            }
            let peers = list
                .chunks_exact(size)
                .map(|c| {
                    let (ip, port) = c.split_at(size - 2);
                    let ip = match <[u8; 16]>::try_from(ip) {
                        Ok(v6) => IpAddr::V6(Ipv6Addr::from(v6)),
                        Err(_) => IpAddr::V4(Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
                    };
                    Peer { addr: SocketAddr::new(ip, u16::from_be_bytes([port[0], port[1]])), id: PeerId([0; 20]) }
                })
                .collect();
            let stats = SwarmStats { complete: seeders, incomplete: leechers, downloaded: 0 };
            Ok(UdpReply::Announce { transaction_id, interval, stats, peers })
        }
        ACTION_SCRAPE => {
            if !body.len().is_multiple_of(12) {
                return Err(UdpReplyError("scrape reply is not 12 bytes per hash"));
            }
            let stats = body
                .chunks_exact(12)
                .map(|c| SwarmStats { complete: be32(c, 0), downloaded: u64::from(be32(c, 4)), incomplete: be32(c, 8) })
                .collect();
            Ok(UdpReply::Scrape { transaction_id, stats })
        }
        ACTION_ERROR => Ok(UdpReply::Error { transaction_id, message: String::from_utf8_lossy(body).into_owned() }),
        _ => Err(UdpReplyError("unknown action")),
    }
}
