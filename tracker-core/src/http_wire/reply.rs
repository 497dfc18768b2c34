//! Bencoded replies: announce, scrape, failure. Keys are written in sorted order (BEP 3).

use std::net::{IpAddr, SocketAddr};

use crate::bencode::Encoder;
use crate::{AnnounceResponse, Peer, ScrapeResponse};

/// Appends the bencoded announce reply to `out`.
///
/// Keys: `complete`, `downloaded`, `external ip` (BEP 24), `incomplete`, `interval`,
/// `min interval`, `peers` (always present), `peers6` (when there are IPv6 peers), `tracker id`,
/// `warning message`. Compact peers are 6 bytes (IPv4) or 18 bytes (IPv6) each (BEP 23, BEP 7);
/// otherwise `peers` is a list of dicts with `ip`, `peer id` (unless `no_peer_id`) and `port`.
pub fn write_announce(out: &mut Vec<u8>, r: &AnnounceResponse) {
    let mut e = Encoder::new(out);
    e.dict();
    e.key("complete").uint(u64::from(r.stats.complete));
    e.key("downloaded").uint(r.stats.downloaded);
    if let Some(ip) = r.external_ip {
        e.key("external ip");
        match ip {
            IpAddr::V4(v4) => e.bytes(&v4.octets()),
            IpAddr::V6(v6) => e.bytes(&v6.octets()),
        };
    }
    e.key("incomplete").uint(u64::from(r.stats.incomplete));
    e.key("interval").uint(u64::from(r.interval));
    e.key("min interval").uint(u64::from(r.min_interval));
    e.key("peers");
    write_peers(&mut e, &r.peers, r);
    if !r.peers6.is_empty() {
        e.key("peers6");
        write_peers(&mut e, &r.peers6, r);
    }
    if let Some(id) = &r.tracker_id {
        e.key("tracker id").bytes(id.as_bytes());
    }
    if let Some(w) = &r.warning {
        e.key("warning message").bytes(w.as_bytes());
    }
    e.end();
}

fn write_peers(e: &mut Encoder<'_>, peers: &[Peer], r: &AnnounceResponse) {
    if r.compact {
        let len: usize = peers.iter().map(|p| compact_len(p.addr)).sum();
        e.length_prefix(len);
        for p in peers {
            match p.addr {
                SocketAddr::V4(a) => e.raw(&a.ip().octets()),
                SocketAddr::V6(a) => e.raw(&a.ip().octets()),
            };
            e.raw(&p.addr.port().to_be_bytes());
        }
    } else {
        e.list();
        for p in peers {
            let mut ip_text = [0u8; 45];
            e.dict();
            e.key("ip").bytes(format_ip(p.addr.ip(), &mut ip_text));
            if !r.no_peer_id {
                e.key("peer id").bytes(&p.id.0);
            }
            e.key("port").uint(u64::from(p.addr.port()));
            e.end();
        }
        e.end();
    }
}

fn compact_len(addr: SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => 6,
        SocketAddr::V6(_) => 18,
    }
}

fn format_ip(ip: IpAddr, buf: &mut [u8; 45]) -> &[u8] {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    // 45 bytes hold the longest textual IPv6 address.
    let _ = write!(cursor, "{ip}");
    let len = cursor.position() as usize;
    &buf[..len]
}

/// Appends the bencoded scrape reply (BEP 48): `files`, keyed by the raw 20-byte hash, sorted
/// and without duplicates, each with `complete`, `downloaded`, `incomplete`.
pub fn write_scrape(out: &mut Vec<u8>, r: &ScrapeResponse) {
    let mut files: Vec<_> = r.files.iter().collect();
    files.sort_unstable_by_key(|(h, _)| *h);
    files.dedup_by_key(|(h, _)| *h);
    let mut e = Encoder::new(out);
    e.dict().key("files").dict();
    for (hash, stats) in files {
        e.bytes(&hash.0).dict();
        e.key("complete").uint(u64::from(stats.complete));
        e.key("downloaded").uint(stats.downloaded);
        e.key("incomplete").uint(u64::from(stats.incomplete));
        e.end();
    }
    e.end().end();
}

/// Appends a bencoded failure: `failure reason`, plus `retry in` (BEP 31, minutes) when given.
///
/// ```
/// let mut out = Vec::new();
/// octotracker_core::http_wire::write_failure(&mut out, "missing info_hash", None);
/// assert_eq!(out, b"d14:failure reason17:missing info_hashe");
/// ```
pub fn write_failure(out: &mut Vec<u8>, reason: &str, retry_in_minutes: Option<u32>) {
    let mut e = Encoder::new(out);
    e.dict().key("failure reason").bytes(reason.as_bytes());
    if let Some(m) = retry_in_minutes {
        e.key("retry in").uint(u64::from(m));
    }
    e.end();
}
