//! Benchmarks live in `benches/`; measurement binaries in `src/bin/`.
//!
//! - `benches/memory_announce.rs`: the memory backend's announce in swarms of 10, 1,000 and
//!   100,000 peers, and a scrape of 10 hashes
//!   (`cargo bench -p octotracker-benches --bench memory_announce`).
//! - `src/bin/bytes_per_peer.rs`: resident memory per IPv4 peer at 1,000,000 peers over 100,000
//!   torrents (`cargo run --release -p octotracker-benches --bin bytes_per_peer`).

pub mod workload;
