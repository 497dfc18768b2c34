//! Parsing BEP 15 request packets (server side) and writing them (client side).

use std::net::{IpAddr, Ipv4Addr};

use crate::{AnnounceRequest, Event, InfoHash, PeerId};

/// The magic `protocol_id` of a connect request.
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;
/// `action` values.
pub const ACTION_CONNECT: u32 = 0;
/// `action` of an announce.
pub const ACTION_ANNOUNCE: u32 = 1;
/// `action` of a scrape.
pub const ACTION_SCRAPE: u32 = 2;
/// `action` of an error reply.
pub const ACTION_ERROR: u32 = 3;
/// Most info hashes one scrape packet may carry (BEP 15: 74 fill a 1500-byte datagram).
pub const MAX_SCRAPE_HASHES: usize = 74;
/// Bytes of an announce request before its BEP 41 options.
pub const ANNOUNCE_LEN: usize = 98;
/// Longest URL data (BEP 41) kept from one announce; longer is refused.
pub const MAX_URL_DATA: usize = 1024;

/// A request packet, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdpRequest {
    /// Asks for a connection id.
    Connect {
        /// Echoed in the reply.
        transaction_id: u32,
    },
    /// An announce.
    Announce(UdpAnnounce),
    /// A scrape of 1 to [`MAX_SCRAPE_HASHES`] hashes.
    Scrape {
        /// The id from the connect reply.
        connection_id: u64,
        /// Echoed in the reply.
        transaction_id: u32,
        /// The hashes, in order.
        info_hashes: Vec<InfoHash>,
    },
}

/// An announce packet: the request as the engine takes it, and the UDP fields around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpAnnounce {
    /// The id from the connect reply.
    pub connection_id: u64,
    /// Echoed in the reply.
    pub transaction_id: u32,
    /// The announce (`compact` always; `numwant` `None` for -1; `ip` from the packet's IPv4
    /// field when not 0).
    pub request: AnnounceRequest,
    /// BEP 41 URL data: the path and query of the announce URL (e.g. `/<passkey>/announce`),
    /// concatenated from every URLData option; empty when none.
    pub url_data: Vec<u8>,
}

impl UdpAnnounce {
    /// The passkey in the URL data's path (`/<passkey>/announce`), if there is one.
    pub fn passkey(&self) -> Option<&str> {
        // On bytes: most announces carry `/announce` or nothing, and answer `None` after a
        // few comparisons (this runs once per UDP announce).
        let path = self.url_data.split(|&b| b == b'?').next()?;
        let rest = path.strip_prefix(b"/")?;
        let slash = rest.iter().position(|&b| b == b'/')?;
        if &rest[slash + 1..] != b"announce" {
            return None;
        }
        let key = std::str::from_utf8(&rest[..slash]).ok()?;
        crate::is_passkey(key).then_some(key)
    }
}

/// Why a request packet was not understood. `transaction_id` is known when the packet was long
/// enough to carry one, so the error can be answered; otherwise the packet is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct UdpParseError {
    /// The packet's transaction id, when it has one.
    pub transaction_id: Option<u32>,
    /// What is wrong, as an error packet's message.
    pub reason: &'static str,
}

fn u32_at(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

fn u64_at(p: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(p[at..at + 8].try_into().unwrap_or([0; 8]))
}

fn id20(p: &[u8], at: usize) -> [u8; 20] {
    p[at..at + 20].try_into().unwrap_or([0; 20])
}

/// Parses one request packet. Never panics; never allocates more than the packet's size.
pub fn parse_request(packet: &[u8]) -> Result<UdpRequest, UdpParseError> {
    if packet.len() < 16 {
        return Err(UdpParseError { transaction_id: None, reason: "packet too short" });
    }
    let (connection_id, action, transaction_id) = (u64_at(packet, 0), u32_at(packet, 8), u32_at(packet, 12));
    let fail = |reason| UdpParseError { transaction_id: Some(transaction_id), reason };
    match action {
        ACTION_CONNECT => {
            if connection_id != PROTOCOL_ID {
                return Err(fail("invalid protocol id"));
            }
            Ok(UdpRequest::Connect { transaction_id })
        }
        ACTION_ANNOUNCE => parse_announce(packet, connection_id, transaction_id).map_err(fail),
        ACTION_SCRAPE => {
            let hashes = &packet[16..];
            if hashes.is_empty() {
                return Err(fail("missing info_hash"));
            }
            if !hashes.len().is_multiple_of(20) {
                return Err(fail("invalid scrape: info hashes must be 20 bytes each"));
            }
            if hashes.len() / 20 > MAX_SCRAPE_HASHES {
                return Err(fail("too many info_hash values: at most 74 per scrape"));
            }
            let info_hashes = hashes.chunks_exact(20).map(|h| InfoHash(h.try_into().unwrap_or([0; 20]))).collect();
            Ok(UdpRequest::Scrape { connection_id, transaction_id, info_hashes })
        }
        _ => Err(fail("unknown action")),
    }
}

fn parse_announce(p: &[u8], connection_id: u64, transaction_id: u32) -> Result<UdpRequest, &'static str> {
    if p.len() < ANNOUNCE_LEN {
        return Err("announce packet too short");
    }
    let event = match u32_at(p, 80) {
        0 => Event::None,
        1 => Event::Completed,
        2 => Event::Started,
        3 => Event::Stopped,
        _ => return Err("invalid event"),
    };
    let port = u16::from_be_bytes([p[96], p[97]]);
    if port == 0 {
        return Err("invalid port: must be between 1 and 65535");
    }
    let ip = match u32_at(p, 84) {
        0 => None,
        raw => Some(IpAddr::V4(Ipv4Addr::from(raw))),
    };
    let numwant = match u32_at(p, 92) as i32 {
        -1 => None,
        n if n < 0 => return Err("invalid numwant: must not be negative"),
        n => Some(n as u32),
    };
    let mut request = AnnounceRequest::new(InfoHash(id20(p, 16)), PeerId(id20(p, 36)), port);
    request.downloaded = u64_at(p, 56);
    request.left = u64_at(p, 64);
    request.uploaded = u64_at(p, 72);
    request.event = event;
    request.ip = ip;
    request.key = Some(u32_at(p, 88));
    request.numwant = numwant;
    let url_data = parse_options(&p[ANNOUNCE_LEN..])?;
    Ok(UdpRequest::Announce(UdpAnnounce { connection_id, transaction_id, request, url_data }))
}

/// BEP 41 options: 0 ends them, 1 is a no-op, 2 carries a length byte and that much URL data.
/// Unknown options end the parse (their length is unknown), as BEP 41 says.
fn parse_options(mut rest: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut url = Vec::new();
    while let Some((&kind, after)) = rest.split_first() {
        match kind {
            0 => break,
            1 => rest = after,
            2 => {
                let (&len, data) = after.split_first().ok_or("truncated URL data option")?;
                let len = usize::from(len);
                if data.len() < len {
                    return Err("truncated URL data option");
                }
                if url.len() + len > MAX_URL_DATA {
                    return Err("URL data too long");
                }
                url.extend_from_slice(&data[..len]);
                rest = &data[len..];
            }
            _ => break,
        }
    }
    Ok(url)
}

/// Client side: a connect request.
pub fn write_connect_request(out: &mut Vec<u8>, transaction_id: u32) {
    out.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
    out.extend_from_slice(&ACTION_CONNECT.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
}

/// Client side: an announce request, with `url_data` (BEP 41) when not empty.
pub fn write_announce_request(
    out: &mut Vec<u8>,
    connection_id: u64,
    transaction_id: u32,
    req: &AnnounceRequest,
    url_data: &[u8],
) {
    out.extend_from_slice(&connection_id.to_be_bytes());
    out.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    out.extend_from_slice(&req.info_hash.0);
    out.extend_from_slice(&req.peer_id.0);
    out.extend_from_slice(&req.downloaded.to_be_bytes());
    out.extend_from_slice(&req.left.to_be_bytes());
    out.extend_from_slice(&req.uploaded.to_be_bytes());
    let event: u32 = match req.event {
        Event::None => 0,
        Event::Completed => 1,
        Event::Started => 2,
        Event::Stopped => 3,
    };
    out.extend_from_slice(&event.to_be_bytes());
    let ip = match req.ip {
        Some(IpAddr::V4(v4)) => u32::from(v4),
        _ => 0,
    };
    out.extend_from_slice(&ip.to_be_bytes());
    out.extend_from_slice(&req.key.unwrap_or(0).to_be_bytes());
    let numwant = req.numwant.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
    out.extend_from_slice(&numwant.to_be_bytes());
    out.extend_from_slice(&req.port.to_be_bytes());
    for chunk in url_data.chunks(255) {
        out.push(2);
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
    if !url_data.is_empty() {
        out.push(0);
    }
}

/// Client side: a scrape request.
pub fn write_scrape_request(out: &mut Vec<u8>, connection_id: u64, transaction_id: u32, hashes: &[InfoHash]) {
    out.extend_from_slice(&connection_id.to_be_bytes());
    out.extend_from_slice(&ACTION_SCRAPE.to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
    for h in hashes {
        out.extend_from_slice(&h.0);
    }
}
