//! The memory backend's announce, called directly through `TorrentManager`: a re-announce of a
//! peer already in the swarm (the common case), `numwant = 50`, in swarms of 1, 2, 10, 1,000
//! and 100,000 peers (3 in 10 seeders); and a scrape of 10 hashes among 100,000 swarms.
//!
//! - `memory/reannounce_want50/N`: one swarm of N peers in the store, so a small swarm stays in
//!   the CPU caches while a large one does not.
//! - `memory/reannounce_want50_100k_resident/N`: 100,000 peers in the store whatever N is
//!   (100,000 / N swarms of N peers), announcing a random peer of a random swarm: the same
//!   memory footprint for every N, so the figures compare the algorithm, not the caches.
//!
//! `cargo bench -p octotracker-benches --bench memory_announce -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use octotracker_benches::workload::{announce, block_on, info_hash, is_seeder};
use octotracker_core::{PeerAnnounce, TorrentManager};
use octotracker_memory::MemoryTorrentManager;

/// Peers handed out per announce.
const WANT: usize = 50;

/// A store holding `swarms` swarms (torrents `0..swarms`) of `size` peers each.
fn store_with_swarms(swarms: u64, size: u64) -> MemoryTorrentManager {
    let store = MemoryTorrentManager::default();
    for t in 0..swarms {
        for k in 0..size {
            block_on(store.announce(&peer(t, k, size), 0)).expect("announce");
        }
    }
    store
}

/// The announce of peer `k` of torrent `t`, whose swarm has `size` peers.
fn peer(t: u64, k: u64, size: u64) -> PeerAnnounce {
    announce(t, t * size + k, is_seeder(k))
}

/// Benchmarks re-announcing the peers of `swarms` swarms of `size` in a scattered order (a
/// stride coprime with their number, so every peer comes up and consecutive ones are far
/// apart). Each announce is built afresh, as a frontend hands over a freshly parsed one: reading
/// it from a large precomputed array would add a cache miss that grows with the swarm.
fn bench_reannounce(group: &mut BenchmarkGroup<'_, WallTime>, store: &MemoryTorrentManager, swarms: u64, size: u64) {
    let peers = swarms * size;
    let stride = (1..).map(|s: u64| 7_919 * s).find(|&s| gcd(s, peers) == 1).unwrap_or(1);
    let mut i = 0;
    group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
        b.iter(|| {
            i = (i + stride) % peers;
            let a = peer(i / size, i % size, size);
            black_box(block_on(store.announce(&a, WANT)).expect("announce"))
        })
    });
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn reannounce(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory/reannounce_want50");
    for size in [1u64, 2, 10, 1_000, 100_000] {
        let store = store_with_swarms(1, size);
        bench_reannounce(&mut group, &store, 1, size);
    }
    group.finish();

    let mut group = c.benchmark_group("memory/reannounce_want50_100k_resident");
    for size in [1u64, 2, 10, 1_000, 100_000] {
        let store = store_with_swarms(100_000 / size, size);
        bench_reannounce(&mut group, &store, 100_000 / size, size);
    }
    group.finish();
}

fn scrape(c: &mut Criterion) {
    let store = MemoryTorrentManager::default();
    let torrents = 100_000u64;
    for t in 0..torrents {
        for k in 0..3 {
            block_on(store.announce(&announce(t, t * 3 + k, is_seeder(k)), 0)).expect("announce");
        }
    }
    let hashes: Vec<_> = (0..1_000u64).map(|n| info_hash(n * 97 % torrents)).collect();
    let mut at = 0;
    c.bench_function("memory/scrape_10_hashes", |b| {
        b.iter(|| {
            at = (at + 10) % (hashes.len() - 10);
            black_box(block_on(store.scrape(black_box(&hashes[at..at + 10]))).expect("scrape"))
        })
    });
}

criterion_group!(benches, reannounce, scrape);
criterion_main!(benches);
