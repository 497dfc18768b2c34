//! The engine's announce, in process and with no sockets: `Tracker::announce` over the memory
//! backend (`Static` intervals, the system clock), as a frontend calls it once a query is parsed.
//!
//! - `engine/reannounce_want50/N`: one swarm of N peers (10, 1,000, 100,000; 3 in 10 seeders),
//!   and a peer already in it announces again (no event, `numwant=50`), the common case. Peers
//!   are picked in a scattered order so a large swarm does not stay in the CPU caches by luck.
//!   If an announce costs O(numwant), not O(swarm), the three figures are about the same (issue
//!   3's target: 10 and 100,000 within 20%).
//! - `engine/reannounce_want50_encode/N`: the same plus encoding the compact bencoded reply into a
//!   reused buffer: what a frontend does per announce, minus HTTP.
//!
//! `cargo bench -p octotracker-benches --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use octotracker_core::http_wire::write_announce;
use octotracker_core::{AnnounceRequest, InfoHash, PeerId, SystemClock, Tracker, TrackerConfig};
use octotracker_interval::Static;
use octotracker_memory::MemoryTorrentManager;

const WANT: u32 = 50;
const SIZES: [u64; 3] = [10, 1_000, 100_000];

/// Polls a future to completion on this thread with a no-op waker: the memory backend's futures
/// are ready at once, so this measures the engine and the store, not a runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// splitmix64: a well-mixed value for `n`.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One peer of the swarm: its request (as parsed from the query) and the address it connects from.
struct Announcer {
    req: AnnounceRequest,
    ip: IpAddr,
}

fn announcer(swarm: InfoHash, k: u64) -> Announcer {
    let mut id = *b"-qB4650-000000000000";
    id[8..16].copy_from_slice(&mix(k).to_le_bytes());
    let mut req = AnnounceRequest::new(swarm, PeerId(id), 1024 + (mix(k ^ 0xabcd) % 60_000) as u16);
    // 3 in 10 are seeders; leechers have something left to download.
    req.left = if k % 10 < 3 { 0 } else { 1 + mix(k) % (4 << 30) };
    req.uploaded = mix(k + 1) % (1 << 30);
    req.downloaded = mix(k + 2) % (1 << 30);
    req.numwant = Some(WANT);
    req.key = Some(mix(k + 3) as u32);
    // Distinct, random-looking public-ish addresses (a bijection of k, so no two peers collide).
    let ip = IpAddr::V4(Ipv4Addr::from((k as u32).wrapping_mul(2_654_435_761) | 1));
    Announcer { req, ip }
}

/// An engine over a fresh memory store holding one swarm of `size` peers, and those peers.
fn engine_with_swarm(size: u64) -> (Tracker, Vec<Announcer>) {
    let tracker = Tracker::new(
        TrackerConfig::default(),
        Arc::new(MemoryTorrentManager::new(Default::default())),
        Arc::new(Static::default()),
        Arc::new(SystemClock),
    );
    let swarm = InfoHash(*b"\x8f\x12\x00\xa7%&=+ \xff\x10\x01benchme!");
    let peers: Vec<_> = (0..size).map(|k| announcer(swarm, k)).collect();
    for p in &peers {
        let mut first = p.req.clone();
        first.event = octotracker_core::Event::Started;
        first.numwant = Some(0);
        block_on(tracker.announce(&first, p.ip)).expect("announce");
    }
    let last = peers.last().expect("a peer");
    let reply = block_on(tracker.announce(&last.req, last.ip)).expect("announce");
    assert_eq!(reply.stats.peers(), size, "every peer is in the swarm");
    assert_eq!(reply.peers.len() as u64, (size - 1).min(u64::from(WANT)), "numwant peers handed out");
    (tracker, peers)
}

/// A step through `0..len` that visits every index and jumps far each time.
fn scattered_stride(len: usize) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    (1..).map(|s: usize| 7_919 * s).find(|s| gcd(*s, len) == 1).unwrap_or(1)
}

fn reannounce(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/reannounce_want50");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(4096);
    let mut group_encode = Vec::new();
    for size in SIZES {
        let (tracker, peers) = engine_with_swarm(size);
        let stride = scattered_stride(peers.len());
        let mut i = 0;
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| {
                i = (i + stride) % peers.len();
                let p = &peers[i];
                black_box(block_on(tracker.announce(black_box(&p.req), p.ip)).expect("announce"))
            })
        });
        group_encode.push((size, tracker, peers));
    }
    group.finish();

    let mut group = c.benchmark_group("engine/reannounce_want50_encode");
    group.throughput(Throughput::Elements(1));
    for (size, tracker, peers) in &group_encode {
        let stride = scattered_stride(peers.len());
        let mut i = 0;
        group.bench_with_input(BenchmarkId::from_parameter(size), size, |b, _| {
            b.iter(|| {
                i = (i + stride) % peers.len();
                let p = &peers[i];
                let reply = block_on(tracker.announce(black_box(&p.req), p.ip)).expect("announce");
                out.clear();
                write_announce(&mut out, &reply);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, reannounce);
criterion_main!(benches);
