//! [`RequestTarget`]: the path and query of each generated request, written into one reused
//! buffer. Byte for byte what `octotracker_core::http_wire::QueryEncoder` writes for the same
//! announce (a test pins that), without `fmt` machinery or allocations.

use std::net::Ipv4Addr;

use octotracker_core::{Decimal, Event, InfoHash};

use super::lifecycle::Step;
use super::population::{PEER_ID_PREFIX, SimPeer, write_hex};

/// The parameters of an announce besides the peer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnnounceOptions {
    /// `numwant`, when set.
    pub numwant: Option<u32>,
    /// Send the peer's fake address as `ip`.
    pub send_ip: bool,
}

/// A reusable buffer holding one request's path and query (origin form, `/announce?…`).
#[derive(Debug, Clone, Default)]
pub struct RequestTarget {
    buf: Vec<u8>,
}

impl RequestTarget {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written by the last call: ASCII only.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Writes an announce: `prefix` is the announce path with `?` (or its own query and `&`).
    pub fn announce(&mut self, prefix: &str, hash: &InfoHash, peer: &SimPeer, step: &Step, opts: AnnounceOptions) {
        self.buf.clear();
        self.buf.extend_from_slice(prefix.as_bytes());
        self.buf.extend_from_slice(b"info_hash=");
        self.percent_encode(&hash.0);
        self.buf.extend_from_slice(b"&peer_id=");
        self.buf.extend_from_slice(PEER_ID_PREFIX);
        let at = self.buf.len();
        self.buf.resize(at + 12, 0);
        write_hex(&mut self.buf[at..at + 8], u64::from(peer.index));
        write_hex(&mut self.buf[at + 8..], u64::from(step.generation));
        self.number(b"&port=", u64::from(peer.port));
        self.number(b"&uploaded=", step.uploaded);
        self.number(b"&downloaded=", step.downloaded);
        self.number(b"&left=", step.left);
        self.buf.extend_from_slice(b"&compact=1");
        match step.event {
            Event::None => {}
            Event::Started => self.buf.extend_from_slice(b"&event=started"),
            Event::Stopped => self.buf.extend_from_slice(b"&event=stopped"),
            Event::Completed => self.buf.extend_from_slice(b"&event=completed"),
        }
        if let Some(n) = opts.numwant {
            self.number(b"&numwant=", u64::from(n));
        }
        if opts.send_ip {
            self.ip(peer.session_ip(step.generation));
        }
    }

    /// Writes a scrape of `hashes`: `prefix` is the scrape path with `?` (or its own query and `&`).
    pub fn scrape<'a>(&mut self, prefix: &str, hashes: impl IntoIterator<Item = &'a InfoHash>) {
        self.buf.clear();
        self.buf.extend_from_slice(prefix.as_bytes());
        for (i, h) in hashes.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b'&');
            }
            self.buf.extend_from_slice(b"info_hash=");
            self.percent_encode(&h.0);
        }
    }

    /// Percent-encodes a 20-byte id: every byte outside RFC 3986's unreserved set becomes `%XX`
    /// (upper-case hex). Written to the stack first, then appended in one copy.
    fn percent_encode(&mut self, bytes: &[u8; 20]) {
        let mut out = [0u8; 60];
        let mut n = 0;
        for &b in bytes {
            if UNRESERVED[usize::from(b)] {
                out[n] = b;
                n += 1;
            } else {
                out[n] = b'%';
                out[n + 1] = HEX_UPPER[usize::from(b >> 4)];
                out[n + 2] = HEX_UPPER[usize::from(b & 0xf)];
                n += 3;
            }
        }
        self.buf.extend_from_slice(&out[..n]);
    }

    fn number(&mut self, name: &[u8], value: u64) {
        self.buf.extend_from_slice(name);
        self.decimal(value);
    }

    fn decimal(&mut self, value: u64) {
        self.buf.extend_from_slice(Decimal::new(value).as_bytes());
    }

    fn ip(&mut self, ip: Ipv4Addr) {
        self.buf.extend_from_slice(b"&ip=");
        for (i, octet) in ip.octets().into_iter().enumerate() {
            if i > 0 {
                self.buf.push(b'.');
            }
            self.decimal(u64::from(octet));
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986's unreserved bytes: `A-Z a-z 0-9 - . _ ~`.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use octotracker_core::AnnounceRequest;
    use octotracker_core::http_wire::{QueryEncoder, parse_announce, parse_scrape};

    use super::*;
    use crate::load::population::{info_hash, peer_id};

    fn text(t: &RequestTarget) -> &str {
        std::str::from_utf8(t.as_bytes()).unwrap()
    }

    #[test]
    fn announces_match_the_core_query_encoder() {
        let peer = SimPeer { index: 0xbeef, torrent: 3, port: 7001 };
        let hash = info_hash(11, 3);
        let mut target = RequestTarget::new();
        for event in [Event::None, Event::Started, Event::Stopped, Event::Completed] {
            for (numwant, send_ip) in [(None, false), (Some(0), false), (Some(200), true)] {
                let step = Step { event, generation: 0x12, left: 123_456, downloaded: 789, uploaded: u64::MAX };
                target.announce("/announce?", &hash, &peer, &step, AnnounceOptions { numwant, send_ip });
                let mut req = AnnounceRequest::new(hash, peer_id(peer.index, step.generation), peer.port);
                req.left = step.left;
                req.downloaded = step.downloaded;
                req.uploaded = step.uploaded;
                req.event = event;
                req.numwant = numwant;
                req.ip = send_ip.then(|| IpAddr::V4(peer.session_ip(step.generation)));
                let mut want = QueryEncoder::new();
                want.announce(&req);
                assert_eq!(text(&target), format!("/announce?{}", want.as_str()));
                let parsed = parse_announce(text(&target).strip_prefix("/announce?").unwrap().as_bytes()).unwrap();
                assert_eq!(parsed.info_hash, hash);
                assert_eq!(parsed.event, event);
            }
        }
    }

    #[test]
    fn a_prefix_with_its_own_query_is_kept() {
        let peer = SimPeer { index: 1, torrent: 0, port: 1024 };
        let step = Step { event: Event::None, generation: 0, left: 0, downloaded: 0, uploaded: 0 };
        let mut target = RequestTarget::new();
        target.announce("/a/announce.php?passkey=x&", &InfoHash([b'a'; 20]), &peer, &step, AnnounceOptions::default());
        assert!(text(&target).starts_with("/a/announce.php?passkey=x&info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id="));
    }

    #[test]
    fn scrapes_list_every_hash() {
        let hashes = [info_hash(1, 0), info_hash(1, 1), InfoHash([0; 20])];
        let mut target = RequestTarget::new();
        target.scrape("/scrape?", &hashes);
        let query = text(&target).strip_prefix("/scrape?").unwrap();
        let mut want = QueryEncoder::new();
        want.scrape(&hashes);
        assert_eq!(query, want.as_str());
        assert_eq!(parse_scrape(query.as_bytes(), 10).unwrap().info_hashes, hashes);
    }
}
