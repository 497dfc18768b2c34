//! The simulated population: `T` torrents with Zipf popularity and `P` peers spread over them,
//! every identity derived from one seed.

use std::net::Ipv4Addr;

use fastrand::Rng;
use octotracker_core::{InfoHash, PeerId};

use super::zipf::Zipf;

/// The largest population: 2^24 peers (so that each gets its own fake address in `10.0.0.0/8`)
/// and as many torrents.
pub const MAX_POPULATION: u32 = 1 << 24;

/// The lowest port given to a simulated peer; ports count up from it within each swarm.
pub const FIRST_PORT: u16 = 1024;

/// Ports available per swarm (`1024..=65535`).
const PORTS: u32 = 65536 - FIRST_PORT as u32;

/// The peer id prefix of every simulated peer (BEP 20 style).
pub(super) const PEER_ID_PREFIX: &[u8; 8] = b"-OT0001-";

/// One simulated peer slot. A slot keeps its torrent and port for the whole run; each time it
/// rejoins after `stopped` it is a new peer (a new `generation`, hence a new peer id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimPeer {
    /// The slot's index in the population, `0..P`.
    pub index: u32,
    /// The torrent, an index into [`Population::info_hashes`] (0 is the most popular).
    pub torrent: u32,
    /// The port it announces: distinct within its swarm (see [`Population::build`]).
    pub port: u16,
}

impl SimPeer {
    /// A fake address, distinct per slot: `10.0.0.0 + index`. Trackers see the TCP source
    /// address (127.0.0.1 here); they use this one only when sent as `ip` and configured to
    /// accept it (octotracker: `accept_ip_param`).
    pub fn fake_ip(&self) -> Ipv4Addr {
        self.session_ip(0)
    }

    /// The fake address of the slot's `generation`-th session (what `ip` carries): the
    /// [`fake_ip`](Self::fake_ip) for the first, then moved by an odd step each session, so the
    /// sessions of one slot never share an address (the step times a generation difference below
    /// 2^16 is never a multiple of 2^24). A tracker that accepts `ip` then sees each session as a
    /// new peer, and one that ended without `stopped` stays in the swarm until it expires instead
    /// of being overwritten by its successor (ports alone keep the slots of a swarm apart).
    pub fn session_ip(&self, generation: u16) -> Ipv4Addr {
        const STEP: u32 = 0x009e_3779;
        let offset = self.index.wrapping_add(u32::from(generation).wrapping_mul(STEP));
        Ipv4Addr::from(0x0a00_0000 | (offset & 0x00ff_ffff))
    }
}

/// `T` torrents and `P` peers, deterministic from a seed.
#[derive(Debug, Clone)]
pub struct Population {
    /// The torrents' info hashes; index 0 is the most popular.
    pub info_hashes: Vec<InfoHash>,
    /// The peers, in slot order.
    pub peers: Vec<SimPeer>,
}

impl Population {
    /// Assigns each of `peers` slots a torrent drawn by Zipf popularity (`exponent`) over
    /// `torrents` torrents, and a port: the k-th peer of a swarm gets `1024 + k` (wrapping after
    /// 64,512 peers in one swarm, where ports start to repeat). Every peer reaches the tracker
    /// from 127.0.0.1, and a tracker's peer identity is address + port within a swarm, so the
    /// port is what keeps simulated peers apart.
    ///
    /// `None` when a count is 0 or above [`MAX_POPULATION`], or the exponent is invalid.
    pub fn build(torrents: u32, peers: u32, exponent: f64, seed: u64) -> Option<Population> {
        if torrents > MAX_POPULATION || peers == 0 || peers > MAX_POPULATION {
            return None;
        }
        let zipf = Zipf::new(u64::from(torrents), exponent)?;
        let mut rng = Rng::with_seed(mix(seed, 0x706f_7075_6c61_7465));
        let mut swarm_sizes = vec![0u32; torrents as usize];
        let peers = (0..peers)
            .map(|index| {
                // The index is below `torrents`, a u32.
                let torrent = zipf.sample_index(&mut rng) as u32;
                let k = &mut swarm_sizes[torrent as usize];
                // Below 65536 after the modulo.
                let port = FIRST_PORT + (*k % PORTS) as u16;
                *k += 1;
                SimPeer { index, torrent, port }
            })
            .collect();
        Some(Population { info_hashes: info_hashes(torrents, seed).collect(), peers })
    }
}

/// The info hashes of a population of `torrents` torrents built with `seed`, most popular
/// first: what `octotracker load --list-info-hashes` prints (to whitelist them in a tracker).
pub fn info_hashes(torrents: u32, seed: u64) -> impl Iterator<Item = InfoHash> {
    (0..torrents).map(move |i| info_hash(seed, i))
}

/// Torrent `index`'s info hash: 16 pseudo-random bytes from the seed and the index, then the
/// index big-endian, so hashes are distinct by construction.
pub fn info_hash(seed: u64, index: u32) -> InfoHash {
    let a = mix(seed, u64::from(index) << 1);
    let b = mix(seed, u64::from(index) << 1 | 1);
    let mut hash = [0u8; 20];
    hash[..8].copy_from_slice(&a.to_be_bytes());
    hash[8..16].copy_from_slice(&b.to_be_bytes());
    hash[16..].copy_from_slice(&index.to_be_bytes());
    InfoHash(hash)
}

/// The peer id of slot `index` in its `generation`-th session: `-OT0001-`, the index as 8 hex
/// digits, the generation as 4. Distinct among live peers (a slot has one live session).
pub fn peer_id(index: u32, generation: u16) -> PeerId {
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(PEER_ID_PREFIX);
    write_hex(&mut id[8..16], u64::from(index));
    write_hex(&mut id[16..20], u64::from(generation));
    PeerId(id)
}

/// Writes the low `out.len()` nibbles of `value` as lower-case hex, most significant first.
pub(crate) fn write_hex(out: &mut [u8], mut value: u64) {
    for b in out.iter_mut().rev() {
        *b = b"0123456789abcdef"[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// SplitMix64 of `seed` and `salt`: a well-mixed 64-bit value, the same on every platform.
pub(crate) fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_same_seed_builds_the_same_population() {
        let a = Population::build(100, 1000, 1.0, 5).unwrap();
        let b = Population::build(100, 1000, 1.0, 5).unwrap();
        let c = Population::build(100, 1000, 1.0, 6).unwrap();
        assert_eq!(a.info_hashes, b.info_hashes);
        assert_eq!(a.peers, b.peers);
        assert_ne!(a.info_hashes, c.info_hashes);
        assert_eq!(a.info_hashes, info_hashes(100, 5).collect::<Vec<_>>());
    }

    #[test]
    fn info_hashes_and_peer_ids_are_distinct() {
        let hashes: HashSet<_> = info_hashes(100_000, 1).collect();
        assert_eq!(hashes.len(), 100_000);
        let ids: HashSet<_> = (0..10_000).map(|i| peer_id(i, 0)).collect();
        assert_eq!(ids.len(), 10_000);
        assert_ne!(peer_id(7, 0), peer_id(7, 1));
        assert_eq!(&peer_id(0x1234_abcd, 0x00ef).0, b"-OT0001-1234abcd00ef");
    }

    #[test]
    fn ports_are_distinct_within_each_swarm() {
        let pop = Population::build(50, 20_000, 1.0, 2).unwrap();
        let mut seen = HashSet::new();
        for p in &pop.peers {
            assert!(p.port >= FIRST_PORT);
            assert!(seen.insert((p.torrent, p.port)), "port {} repeated in torrent {}", p.port, p.torrent);
        }
    }

    #[test]
    fn popular_torrents_get_more_peers() {
        let pop = Population::build(1000, 100_000, 1.0, 3).unwrap();
        let count = |t| pop.peers.iter().filter(|p| p.torrent == t).count();
        assert!(count(0) > 2 * count(9), "{} vs {}", count(0), count(9));
        assert!(count(0) > 5000, "rank 1 holds about 13% of peers, got {}", count(0));
    }

    #[test]
    fn fake_addresses_are_distinct_private_addresses() {
        let a = SimPeer { index: 0, torrent: 0, port: 1024 }.fake_ip();
        let b = SimPeer { index: 0x01_0203, torrent: 0, port: 1024 }.fake_ip();
        assert_eq!(a, Ipv4Addr::new(10, 0, 0, 0));
        assert_eq!(b, Ipv4Addr::new(10, 1, 2, 3));
    }

    #[test]
    fn each_session_of_a_slot_has_an_address_of_its_own() {
        let peer = SimPeer { index: 0x00ab_cdef, torrent: 0, port: 1024 };
        assert_eq!(peer.session_ip(0), peer.fake_ip());
        let addresses: HashSet<_> = (0..=u16::MAX).map(|g| peer.session_ip(g)).collect();
        assert_eq!(addresses.len(), 1 << 16, "two sessions of one slot share an address");
        assert!(addresses.iter().all(|a| a.octets()[0] == 10));
    }

    #[test]
    fn refuses_empty_or_oversized_populations() {
        assert!(Population::build(0, 10, 1.0, 0).is_none());
        assert!(Population::build(10, 0, 1.0, 0).is_none());
        assert!(Population::build(10, MAX_POPULATION + 1, 1.0, 0).is_none());
    }
}
