//! Resident memory per IPv4 peer in the memory backend: 1,000,000 peers over 100,000 torrents
//! (10 each, 3 in 10 seeders), announced through the `TorrentManager` API.
//!
//! `cargo run --release -p octotracker-benches --bin bytes_per_peer [-- sequential]`
//!
//! By default the peers arrive interleaved (each round adds one peer to every torrent, as real
//! announces arrive), which is the harder case for the allocator; `sequential` fills one torrent
//! after another. Reads `VmRSS` from `/proc/self/status` (Linux).

use std::time::Instant;

use octotracker_benches::workload::{announce, block_on, is_seeder};
use octotracker_core::TorrentManager;
use octotracker_memory::MemoryTorrentManager;

const TORRENTS: u64 = 100_000;
const PEERS_PER_TORRENT: u64 = 10;
const PEERS: u64 = TORRENTS * PEERS_PER_TORRENT;
const WANT: usize = 50;

/// The resident set size in bytes, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("a VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS in kB");
    kib * 1024
}

fn main() {
    let sequential = std::env::args().any(|a| a == "sequential");
    let store = MemoryTorrentManager::default();
    let before = rss_bytes();

    let start = Instant::now();
    let mut peers_handed_out = 0usize;
    let mut add = |t: u64, k: u64| {
        let a = announce(t, t * PEERS_PER_TORRENT + k, is_seeder(k));
        peers_handed_out += block_on(store.announce(&a, WANT)).expect("announce").peers.len();
    };
    if sequential {
        (0..TORRENTS).for_each(|t| (0..PEERS_PER_TORRENT).for_each(|k| add(t, k)));
    } else {
        (0..PEERS_PER_TORRENT).for_each(|k| (0..TORRENTS).for_each(|t| add(t, k)));
    }
    let insert_time = start.elapsed();
    let after = rss_bytes();

    let start = Instant::now();
    for t in 0..TORRENTS {
        for k in 0..PEERS_PER_TORRENT {
            let a = announce(t, t * PEERS_PER_TORRENT + k, is_seeder(k));
            std::hint::black_box(block_on(store.announce(&a, WANT)).expect("announce"));
        }
    }
    let reannounce_time = start.elapsed();

    let all = block_on(store.scrape_all(usize::MAX)).expect("scrape_all");
    let stored: u64 = all.iter().map(|(_, s)| s.peers()).sum();
    assert_eq!((all.len() as u64, stored), (TORRENTS, PEERS), "every peer is stored");

    let delta = after.saturating_sub(before);
    println!("order:            {}", if sequential { "sequential" } else { "interleaved" });
    println!("peers:            {PEERS} IPv4 over {TORRENTS} torrents (3 in 10 seeders)");
    println!("rss before/after: {} / {} KiB", before / 1024, after / 1024);
    println!("bytes per peer:   {:.1}", delta as f64 / PEERS as f64);
    println!(
        "insert:           {:.2?} ({:.0} ns per announce, numwant {WANT}, {peers_handed_out} peers handed out)",
        insert_time,
        insert_time.as_nanos() as f64 / PEERS as f64
    );
    println!(
        "re-announce all:  {:.2?} ({:.0} ns per announce)",
        reannounce_time,
        reannounce_time.as_nanos() as f64 / PEERS as f64
    );
}
