//! Synthetic swarms for the storage benchmarks and measurements: deterministic, realistic-looking
//! info hashes and peers, and a `block_on` with no runtime in the way.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, UnixTime};

/// The time every synthetic announce happens at.
pub const NOW: UnixTime = UnixTime(1_700_000_000);

/// Runs a future to completion on this thread, polling it with a no-op waker: for stores whose
/// futures are ready at once (the memory backend), it measures the store and nothing else.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// A well-mixed 64-bit value for `n` (splitmix64), so synthetic hashes and addresses look random.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Torrent `t`'s info hash: 20 random-looking bytes, like a SHA-1.
pub fn info_hash(t: u64) -> InfoHash {
    let mut bytes = [0; 20];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = mix(t.wrapping_mul(3).wrapping_add(i as u64)).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    InfoHash(bytes)
}

/// Peer `p` (globally numbered): a distinct, random-looking IPv4 address and port.
pub fn addr(p: u64) -> SocketAddr {
    let ip = Ipv4Addr::from((p as u32).wrapping_mul(2_654_435_761));
    SocketAddr::V4(SocketAddrV4::new(ip, 1024 + (mix(p) % 60_000) as u16))
}

/// A regular announce (no event) of peer `p` in torrent `t`, at [`NOW`].
pub fn announce(t: u64, p: u64, seeder: bool) -> PeerAnnounce {
    let mut id = *b"-XX0001-000000000000";
    id[8..16].copy_from_slice(&mix(p).to_le_bytes());
    PeerAnnounce { info_hash: info_hash(t), addr: addr(p), peer_id: PeerId(id), event: Event::None, seeder, now: NOW }
}

/// Whether peer `k` of a swarm is a seeder: 3 in 10 are.
pub fn is_seeder(k: u64) -> bool {
    k % 10 < 3
}
