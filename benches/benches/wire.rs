//! The HTTP wire format, with no sockets: parsing query strings as a client sends them, and
//! encoding bencoded replies into one output buffer reused across iterations (as a server
//! reusing its write buffer would).
//!
//! - `wire/parse_announce`: a realistic announce query (qBittorrent-like, every parameter a real
//!   client sends, binary `info_hash` and `peer_id` percent-encoded).
//! - `wire/parse_scrape_10`: a scrape of 10 hashes.
//! - `wire/write_announce/{compact_0,compact_50,non_compact_50}`: announce replies with 0 or 50
//!   IPv4 peers, compact (BEP 23) or as a list of dicts with peer ids.
//! - `wire/write_scrape_10`: a scrape reply of 10 files.
//!
//! `cargo bench -p octotracker-benches --bench wire -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use octotracker_core::http_wire::{QueryEncoder, parse_announce, parse_scrape, write_announce, write_scrape};
use octotracker_core::{AnnounceResponse, InfoHash, Peer, PeerId, ScrapeResponse, SwarmStats};

/// 20 random-looking bytes derived from `seed` (splitmix64), like a SHA-1 or a client's peer id
/// tail: most bytes are outside the unreserved set, so most are percent-encoded on the wire.
fn random_bytes<const N: usize>(seed: u64) -> [u8; N] {
    let mut out = [0u8; N];
    let mut z = seed;
    for chunk in out.chunks_mut(8) {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = z;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

fn info_hash(n: u64) -> InfoHash {
    InfoHash(random_bytes(n))
}

/// An Azureus-style peer id: `-qB4650-` and 12 random bytes.
fn peer_id(n: u64) -> PeerId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-qB4650-");
    id[8..].copy_from_slice(&random_bytes::<12>(n ^ 0x5eed));
    PeerId(id)
}

/// The query string qBittorrent sends on a regular announce, in its parameter order.
fn announce_query() -> String {
    let mut q = QueryEncoder::new();
    q.bytes("info_hash", &info_hash(1).0)
        .bytes("peer_id", &peer_id(2).0)
        .number("port", 51413)
        .number("uploaded", 1_234_567_890u64)
        .number("downloaded", 9_876_543_210u64)
        .number("left", 3_221_225_472u64)
        .number("corrupt", 0)
        .number("key", "5A7B1C2D")
        .bytes("event", b"started")
        .number("numwant", 200)
        .number("compact", 1)
        .number("no_peer_id", 1)
        .number("supportcrypto", 1)
        .number("redundant", 0);
    q.into_string()
}

fn scrape_query(hashes: u64) -> String {
    let mut q = QueryEncoder::new();
    q.scrape(&(0..hashes).map(info_hash).collect::<Vec<_>>());
    q.into_string()
}

fn peers(n: u64) -> Vec<Peer> {
    (0..n)
        .map(|i| {
            let [a, b, c, d, p0, p1, ..] = random_bytes::<8>(i + 100);
            let port = u16::from_be_bytes([p0, p1]).max(1024);
            Peer { addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), port)), id: peer_id(i) }
        })
        .collect()
}

fn announce_response(peer_count: u64, compact: bool) -> AnnounceResponse {
    AnnounceResponse {
        interval: 2700,
        min_interval: 600,
        stats: SwarmStats { complete: 1_234, incomplete: 567, downloaded: 89_012 },
        peers: peers(peer_count),
        peers6: Vec::new(),
        tracker_id: None,
        warning: None,
        external_ip: Some("203.0.113.7".parse().expect("an address")),
        compact,
        no_peer_id: false,
    }
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("wire");
    let announce = announce_query();
    assert!(parse_announce(announce.as_bytes()).is_ok(), "the announce query parses");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_announce", |b| {
        b.iter(|| black_box(parse_announce(black_box(announce.as_bytes())).expect("announce")))
    });
    let scrape = scrape_query(10);
    assert_eq!(parse_scrape(scrape.as_bytes(), 100).expect("scrape").info_hashes.len(), 10);
    group.bench_function("parse_scrape_10", |b| {
        b.iter(|| black_box(parse_scrape(black_box(scrape.as_bytes()), 100).expect("scrape")))
    });
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("wire/write_announce");
    group.throughput(Throughput::Elements(1));
    for (name, peer_count, compact) in [("compact_0", 0, true), ("compact_50", 50, true), ("non_compact_50", 50, false)]
    {
        let response = announce_response(peer_count, compact);
        let mut out = Vec::with_capacity(4096);
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                write_announce(&mut out, black_box(&response));
                black_box(out.len())
            })
        });
    }
    group.finish();

    let scrape = ScrapeResponse {
        files: (0..10)
            .map(|n| (info_hash(n), SwarmStats { complete: 10 * n as u32, incomplete: n as u32, downloaded: 7 * n }))
            .collect(),
    };
    let mut out = Vec::with_capacity(4096);
    c.bench_function("wire/write_scrape_10", |b| {
        b.iter(|| {
            out.clear();
            write_scrape(&mut out, black_box(&scrape));
            black_box(out.len())
        })
    });
}

criterion_group!(benches, parsing, encoding);
criterion_main!(benches);
