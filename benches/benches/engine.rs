//! The engine's announce, in process and with no sockets: `Tracker::announce` over the memory
//! backend (`Static` intervals, the system clock), as a frontend calls it once a query is parsed.
//!
//! - `engine/reannounce_want50/N`: one swarm of N peers (10, 1,000, 100,000; 3 in 10 seeders),
//!   and a peer already in it announces again (no event, `numwant=50`), the common case. Peers
//!   are picked in a scattered order so a large swarm does not stay in the CPU caches by luck.
//!   If an announce costs O(numwant), not O(swarm), the three figures are about the same (issue
//!   3's target: 10 and 100,000 within 20%).
//! - `engine/reannounce_want50_100k_resident/N`: 100,000 peers in the store whatever N is
//!   (100,000 / N swarms of N peers), a random peer of a random swarm announcing: the same memory
//!   footprint for every N, so the figures compare the work per announce, not how much of the
//!   store fits in the CPU caches. (A swarm of 10 hands out 9 peers, the others 50.)
//! - `engine/reannounce_want9_100k_resident/{10,100000}`: the same stores, every announce asking
//!   for 9 peers (all a swarm of 10 can give): the same footprint and the same reply, so what is
//!   left between the two is the swarm's size alone.
//! - `engine/reannounce_want50_encode/N`: the first case plus encoding the compact bencoded reply
//!   into a reused buffer: what a frontend does per announce, minus HTTP.
//!
//! - `engine/metrics/{off,on}`: the first case at 1,000 peers, without and with Prometheus
//!   metrics attached (`octotracker-metrics` as the engine's observer, plus the request timing
//!   the HTTP frontend adds): issue 7's target is under 5% apart.
//!
//! `cargo bench -p octotracker-benches --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
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

/// Swarm `s`'s info hash: 20 random-looking bytes.
fn swarm_hash(s: u64) -> InfoHash {
    let mut bytes = [0u8; 20];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(s.wrapping_mul(3).wrapping_add(i as u64) ^ 0x5eed).to_le_bytes()[..chunk.len()]);
    }
    InfoHash(bytes)
}

/// An engine over a fresh memory store holding `swarms` swarms of `size` peers each (each peer
/// announced `started`), and those peers, swarm after swarm.
fn engine_with_swarms(swarms: u64, size: u64) -> (Tracker, Vec<Announcer>) {
    let tracker = Tracker::new(
        TrackerConfig::default(),
        Arc::new(MemoryTorrentManager::new(Default::default())),
        Arc::new(Static::default()),
        Arc::new(SystemClock),
    );
    let peers: Vec<_> =
        (0..swarms).flat_map(|s| (0..size).map(move |k| announcer(swarm_hash(s), s * size + k))).collect();
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

/// Benchmarks re-announcing `peers` through `tracker` in a scattered order.
fn bench_reannounce(group: &mut BenchmarkGroup<'_, WallTime>, size: u64, tracker: &Tracker, peers: &[Announcer]) {
    let stride = scattered_stride(peers.len());
    let mut i = 0;
    group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
        b.iter(|| {
            i = (i + stride) % peers.len();
            let p = &peers[i];
            black_box(block_on(tracker.announce(black_box(&p.req), p.ip)).expect("announce"))
        })
    });
}

fn reannounce(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/reannounce_want50");
    group.throughput(Throughput::Elements(1));
    let mut group_encode = Vec::new();
    for size in SIZES {
        let (tracker, peers) = engine_with_swarms(1, size);
        bench_reannounce(&mut group, size, &tracker, &peers);
        group_encode.push((size, tracker, peers));
    }
    group.finish();

    let mut group = c.benchmark_group("engine/reannounce_want50_100k_resident");
    group.throughput(Throughput::Elements(1));
    let mut resident = Vec::new();
    for size in SIZES {
        let (tracker, peers) = engine_with_swarms(100_000 / size, size);
        bench_reannounce(&mut group, size, &tracker, &peers);
        resident.push((size, tracker, peers));
    }
    group.finish();

    // The same stores, every announce asking for 9 peers: what a swarm of 10 can give. With the
    // same footprint and the same reply, what is left between 10 and 100,000 is the swarm's size.
    let mut group = c.benchmark_group("engine/reannounce_want9_100k_resident");
    group.throughput(Throughput::Elements(1));
    for (size, tracker, peers) in resident.iter_mut().filter(|(size, ..)| *size != 1_000) {
        peers.iter_mut().for_each(|p| p.req.numwant = Some(9));
        bench_reannounce(&mut group, *size, tracker, peers);
    }
    group.finish();
    drop(resident);

    let mut out = Vec::with_capacity(4096);
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

/// The same workload without and with metrics, alternating in one group.
fn metrics_overhead(c: &mut Criterion) {
    use octotracker_core::RequestKind;
    use octotracker_metrics::TrackerMetrics;
    use octotracker_metrics::prometheus_client::registry::Registry;

    let (plain, peers) = engine_with_swarms(1, 1_000);
    let (observed, _) = engine_with_swarms(1, 1_000);
    let mut registry = Registry::default();
    let metrics = Arc::new(TrackerMetrics::register(&mut registry));
    let observed = observed.with_observer(metrics);
    let stride = scattered_stride(peers.len());

    let mut group = c.benchmark_group("engine/metrics");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("off", |b| {
        b.iter(|| {
            i = (i + stride) % peers.len();
            let p = &peers[i];
            black_box(block_on(plain.announce(black_box(&p.req), p.ip)).expect("announce"))
        })
    });
    let mut i = 0;
    group.bench_function("on", |b| {
        b.iter(|| {
            i = (i + stride) % peers.len();
            let p = &peers[i];
            // What the HTTP frontend adds when an observer is attached: one timed request.
            let started = observed.observer().map(|_| std::time::Instant::now());
            let reply = block_on(observed.announce(black_box(&p.req), p.ip)).expect("announce");
            if let (Some(obs), Some(started)) = (observed.observer(), started) {
                obs.request("http", RequestKind::Announce, started.elapsed());
            }
            black_box(reply)
        })
    });
    group.finish();
}

criterion_group!(benches, reannounce, metrics_overhead);
criterion_main!(benches);
