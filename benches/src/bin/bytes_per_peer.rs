//! Resident memory per peer in the memory backend: 1,000,000 peers over 100,000 torrents (10
//! each, 3 in 10 seeders), announced through the `TorrentManager` API.
//!
//! `cargo run --release -p octotracker-benches --bin bytes_per_peer [-- [sequential] [no-peer-ids] [ipv6]]`
//!
//! By default the peers arrive interleaved (each round adds one peer to every torrent, as real
//! announces arrive), which is the harder case for the allocator; `sequential` fills one torrent
//! after another. `no-peer-ids` measures a store that does not keep peer ids
//! (`MemoryConfig::peer_ids = false`); `ipv6` announces every peer from an IPv6 address. Reads
//! `VmRSS` from `/proc/self/status` (Linux); the allocator is the system's (glibc).
//!
//! Reports, as RSS deltas: bytes per peer **all-in** (everything / peers); in interleaved order
//! also bytes **per torrent** with its first peer (after the first round, one peer in each
//! torrent) and the **marginal** bytes per peer over the other nine rounds.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::Instant;

use octotracker_benches::workload::{announce, block_on, is_seeder};
use octotracker_core::{PeerAnnounce, TorrentManager};
use octotracker_memory::{MemoryConfig, MemoryTorrentManager};

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

/// The announce of peer `k` of torrent `t`, from an IPv6 address when `ipv6` (the IPv4 address
/// in the low bits of a documentation prefix, so every peer stays distinct).
fn peer(t: u64, k: u64, ipv6: bool) -> PeerAnnounce {
    let mut a = announce(t, t * PEERS_PER_TORRENT + k, is_seeder(k));
    if ipv6 && let SocketAddr::V4(v4) = a.addr {
        let [a0, a1, a2, a3] = v4.ip().octets();
        let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, u16::from_be_bytes([a0, a1]), u16::from_be_bytes([a2, a3]));
        a.addr = SocketAddr::V6(SocketAddrV6::new(ip, v4.port(), 0, 0));
    }
    a
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let (sequential, peer_ids, ipv6) = (has("sequential"), !has("no-peer-ids"), has("ipv6"));
    let store = MemoryTorrentManager::new(MemoryConfig { peer_ids, ..MemoryConfig::default() });
    let before = rss_bytes();

    let start = Instant::now();
    let mut peers_handed_out = 0usize;
    let mut add = |t: u64, k: u64| {
        peers_handed_out += block_on(store.announce(&peer(t, k, ipv6), WANT)).expect("announce").peers.len();
    };
    let mut after_first_round = None;
    if sequential {
        (0..TORRENTS).for_each(|t| (0..PEERS_PER_TORRENT).for_each(|k| add(t, k)));
    } else {
        for k in 0..PEERS_PER_TORRENT {
            (0..TORRENTS).for_each(|t| add(t, k));
            if k == 0 {
                after_first_round = Some(rss_bytes());
            }
        }
    }
    let insert_time = start.elapsed();
    let after = rss_bytes();

    let start = Instant::now();
    for t in 0..TORRENTS {
        for k in 0..PEERS_PER_TORRENT {
            std::hint::black_box(block_on(store.announce(&peer(t, k, ipv6), WANT)).expect("announce"));
        }
    }
    let reannounce_time = start.elapsed();

    let all = block_on(store.scrape_all(usize::MAX)).expect("scrape_all");
    let stored: u64 = all.iter().map(|(_, s)| s.peers()).sum();
    assert_eq!((all.len() as u64, stored), (TORRENTS, PEERS), "every peer is stored");

    let delta = after.saturating_sub(before);
    println!("order:            {}", if sequential { "sequential" } else { "interleaved" });
    println!(
        "peers:            {PEERS} {} over {TORRENTS} torrents (3 in 10 seeders), peer ids {}",
        if ipv6 { "IPv6" } else { "IPv4" },
        if peer_ids { "kept" } else { "not kept" }
    );
    println!("rss before/after: {} / {} KiB", before / 1024, after / 1024);
    println!("bytes per peer:   {:.1} all-in", delta as f64 / PEERS as f64);
    if let Some(first) = after_first_round {
        let per_torrent = first.saturating_sub(before) as f64 / TORRENTS as f64;
        let marginal = after.saturating_sub(first) as f64 / (PEERS - TORRENTS) as f64;
        println!("per torrent:      {per_torrent:.1} bytes with its first peer");
        println!("marginal:         {marginal:.1} bytes per peer over the last {}", PEERS - TORRENTS);
    }
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
