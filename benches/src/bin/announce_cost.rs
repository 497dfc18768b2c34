//! A fixed number of re-announces against the memory backend, for counting instructions per
//! announce with callgrind (deterministic where a shared machine's timings are not).
//!
//! `announce_cost SIZE COUNT [no-peer-ids]`: fills 100,000 peers as 100,000 / SIZE swarms of SIZE (3 in 10
//! seeders), then re-announces COUNT peers in a scattered order (as `benches/memory_announce.rs`
//! does), `numwant` 50. Run it twice under `valgrind --tool=callgrind` with two counts: the
//! difference of the totals over the difference of the counts is the cost of one announce, the
//! fill cancelling out.
//!
//! ```sh
//! for n in 20000 40000; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!   target/release/announce_cost 10 $n; done
//! ```

use octotracker_benches::workload::{announce, block_on, is_seeder};
use octotracker_core::TorrentManager;
use octotracker_memory::{MemoryConfig, MemoryTorrentManager};

const RESIDENT: u64 = 100_000;
const WANT: usize = 50;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).map_or(default, |a| a.parse().expect("SIZE COUNT: numbers"));
    let (size, count) = (number(0, 10).clamp(1, RESIDENT), number(1, 10_000));
    let peer_ids = args.get(2).is_none_or(|a| a != "no-peer-ids");
    let swarms = RESIDENT / size;
    let store = MemoryTorrentManager::new(MemoryConfig { peer_ids, ..MemoryConfig::default() });
    for t in 0..swarms {
        for k in 0..size {
            block_on(store.announce(&announce(t, t * size + k, is_seeder(k)), 0)).expect("announce");
        }
    }
    let peers = swarms * size;
    let stride = (1..).map(|s: u64| 7_919 * s).find(|&s| gcd(s, peers) == 1).unwrap_or(1);
    let (mut i, mut handed_out) = (0, 0);
    for _ in 0..count {
        i = (i + stride) % peers;
        let (t, k) = (i / size, i % size);
        handed_out +=
            block_on(store.announce(&announce(t, t * size + k, is_seeder(k)), WANT)).expect("announce").peers.len();
    }
    println!("{count} announces in {swarms} swarms of {size}: {handed_out} peers handed out");
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
