//! One trace through both engines, every reply compared byte for byte: 100,000 announces from
//! the load generator's population and lifecycle (Zipf torrents; started, regular, completed and
//! stopped announces; sessions that end silently and must expire), a fifth of the slots on
//! IPv6 and a seventh of the others WebRTC peers (synthetic 100::/64 addresses: the sibling
//! group of each swarm, whose counts join the IP peers'), wants from 0 to 200, simulated time running ten announces a second so that lazy prune
//! passes and full expiry sweeps remove the silent peers. Both stores live on the module-loaded
//! test server (`OCTOTRACKER_TEST_REDIS_URL`) under their own prefixes.

mod support;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use octotracker_client::load::{Lifecycle, LifecycleConfig, Population, peer_id};
use octotracker_core::{AddressFamily, InfoHash, PeerAnnounce, TorrentManager, UnixTime, webrtc_addr};
use octotracker_redis::RedisEngine;

const ANNOUNCES: u32 = 100_000;
const TORRENTS: u32 = 2_000;
const PEERS: u32 = 10_000;
/// Announces between two full expiry sweeps.
const SWEEP_EVERY: u32 = 10_000;

/// Slot `index`'s address in session `generation`: the load generator's session address, or an
/// IPv6 one made from it for every fifth slot, or a WebRTC peer's synthetic one for every
/// seventh of the others.
fn address(p: &octotracker_client::load::SimPeer, generation: u16) -> SocketAddr {
    let v4 = p.session_ip(generation);
    if !p.index.is_multiple_of(5) && p.index.is_multiple_of(7) {
        return webrtc_addr((u128::from(u32::from(v4)) << 16) | u128::from(p.port));
    }
    let ip = if p.index.is_multiple_of(5) {
        let o = v4.octets();
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            u16::from_be_bytes([o[0], o[1]]),
            u16::from_be_bytes([o[2], o[3]]),
        ))
    } else {
        IpAddr::V4(v4)
    };
    SocketAddr::new(ip, p.port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lua_and_module_give_the_same_bytes_for_a_whole_trace() {
    let timeout = std::time::Duration::from_secs(600);
    let lua = support::store_with(support::standalone(), "replay-lua", RedisEngine::Lua, timeout).await;
    let module = support::store_with(support::standalone(), "replay-module", RedisEngine::Module, timeout).await;
    assert_eq!(module.engine(), RedisEngine::Module);
    // A peer timeout of 10 minutes: at 10 announces a second, silent peers expire within the
    // trace (lazy passes every 60 s of simulated time, a sweep every 1,000 s).
    assert_eq!(lua.config().peer_timeout, module.config().peer_timeout);
    let population = Population::build(TORRENTS, PEERS, 1.0, 17).expect("a population");
    let config = LifecycleConfig { vanish_probability: 0.2, ..LifecycleConfig::default() };
    let mut lives = vec![Lifecycle::new(); PEERS as usize];
    let mut rng = fastrand::Rng::with_seed(42);
    let t0 = 1_700_000_000_u64;
    let (mut peers_returned, mut expired, mut webrtc_stretches) = (0_usize, 0_u64, 0_usize);
    for i in 0..ANNOUNCES {
        let slot = rng.u32(..PEERS) as usize;
        let p = &population.peers[slot];
        let step = lives[slot].next(&config, &mut rng);
        let now = UnixTime(t0 + u64::from(i / 10));
        let a = PeerAnnounce {
            info_hash: population.info_hashes[p.torrent as usize],
            addr: address(p, step.generation),
            peer_id: peer_id(p.index, step.generation),
            event: step.event,
            seeder: step.left == 0,
            now,
        };
        let want = [0, 1, 5, 50, 50, 50, 200][rng.usize(..7)];
        let random = [rng.u32(..), rng.u32(..)];
        let (from_lua, from_module) =
            tokio::join!(lua.announce_raw(&a, want, random), module.announce_raw(&a, want, random));
        let (from_lua, from_module) = (from_lua.expect("lua announce"), from_module.expect("module announce"));
        assert_eq!(from_module, from_lua, "announce {i}: {a:?} want {want}");
        peers_returned += from_lua.len() - 3;
        if AddressFamily::of(a.addr.ip()) == AddressFamily::WebRtc {
            webrtc_stretches += from_lua.len() - 3;
        }
        if i % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let cutoff = UnixTime(now.0 - lua.config().peer_timeout.as_secs());
            let (l, m) = tokio::join!(lua.expire(cutoff), module.expire(cutoff));
            let (l, m) = (l.expect("lua expire"), m.expect("module expire"));
            assert_eq!(m, l, "sweep after announce {i}");
            expired += l.peers_removed;
        }
    }
    // The trace did what it is for: peers handed out, silent peers expired.
    assert!(peers_returned > 100_000, "{peers_returned} stretches of peers");
    assert!(expired > 0, "no peer expired in a sweep");
    assert!(webrtc_stretches > 1_000, "{webrtc_stretches} stretches of WebRTC peers");
    let hashes: Vec<InfoHash> = population.info_hashes.clone();
    assert_eq!(module.scrape(&hashes).await.unwrap(), lua.scrape(&hashes).await.unwrap());
    assert_eq!(module.totals().await.unwrap(), lua.totals().await.unwrap());
    lua.purge().await.unwrap();
    module.purge().await.unwrap();
}
