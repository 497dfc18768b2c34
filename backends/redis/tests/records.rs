//! Layout 3 under random announces of every family (IPv4, IPv6, WebRTC): a model of the swarms
//! (peers, downloads, lazy prune times) is checked against every reply, and Redis' own keys
//! against each other after every step: the expiry sorted set holds exactly the stored peers with
//! their last-seen times, each set's live records are exactly its peers, each hash entry names its
//! peer's set, record position and peer id, field "m" holds the counts (see `src/keys.rs`).

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use octotracker_core::testing::peers::{T0, info_hash, rtc, v4, v6};
use octotracker_core::{AddressFamily, Event, InfoHash, PeerAnnounce, PeerId, TorrentManager, UnixTime};
use redis::AsyncCommands;

const TIMEOUT: u64 = 100;
/// Lazy prune passes of one swarm at most this often (the timeout / 4).
const EVERY: u64 = TIMEOUT / 4;

#[derive(Default)]
struct Swarm {
    /// address → (peer id, seeder, last seen)
    peers: HashMap<SocketAddr, (PeerId, bool, u64)>,
    downloaded: u64,
    /// Time of the last lazy prune pass (none: the swarm does not exist).
    pass: Option<u64>,
}

impl Swarm {
    fn prune(&mut self, cutoff: u64) {
        self.peers.retain(|_, p| p.2 >= cutoff);
    }
    fn count(&self, seeders: bool) -> u32 {
        self.peers.values().filter(|p| p.1 == seeders).count() as u32
    }
    fn drop_if_empty(&mut self) {
        if self.peers.is_empty() {
            *self = Swarm::default();
        }
    }
}

fn compact(addr: SocketAddr) -> Vec<u8> {
    let mut m = match addr.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    m.extend_from_slice(&addr.port().to_be_bytes());
    m
}

/// Checks the keys of swarm `h` against the model.
async fn check_keys(conn: &mut redis::aio::MultiplexedConnection, prefix: &str, h: InfoHash, swarm: &Swarm) {
    let tag = format!("{prefix}:{{{h}}}:v3");
    let mut entries: HashMap<Vec<u8>, Vec<u8>> = conn.hgetall(format!("{tag}:i")).await.unwrap();
    // "m": last prune pass, downloads (8 bytes each), then the count of each of the six sets (4 each).
    let m: Vec<u64> = entries
        .remove(&b"m"[..])
        .map(|m| {
            assert_eq!(m.len(), 40, "m: {m:?}");
            let (times, counts) = m.split_at(16);
            let wide = times.chunks(8).map(|b| u64::from_be_bytes(b.try_into().unwrap()));
            wide.chain(counts.chunks(4).map(|b| u64::from(u32::from_be_bytes(b.try_into().unwrap())))).collect()
        })
        .unwrap_or_default();
    assert!(m.is_empty() || m.len() == 8, "m: {m:?}");
    assert_eq!(m.get(1).copied().unwrap_or(0), swarm.downloaded, "the downloads in m");
    // The one expiry sorted set: every stored peer, with its last-seen time.
    let seen: Vec<(Vec<u8>, u64)> = conn.zrange_withscores(format!("{tag}:z"), 0, -1).await.unwrap();
    let expected_seen: HashMap<Vec<u8>, u64> = swarm.peers.iter().map(|(a, p)| (compact(*a), p.2)).collect();
    assert_eq!(seen.into_iter().collect::<HashMap<_, _>>(), expected_seen, "the expiry sorted set");
    let sets = [
        ("s4", true, AddressFamily::V4),
        ("l4", false, AddressFamily::V4),
        ("s6", true, AddressFamily::V6),
        ("l6", false, AddressFamily::V6),
        ("sw", true, AddressFamily::WebRtc),
        ("lw", false, AddressFamily::WebRtc),
    ];
    for (slot, (set, seeders, family)) in sets.into_iter().enumerate() {
        let expected: HashSet<Vec<u8>> = swarm
            .peers
            .iter()
            .filter(|(a, p)| p.1 == seeders && AddressFamily::of(a.ip()) == family)
            .map(|(a, _)| compact(*a))
            .collect();
        let count = m.get(2 + slot).copied().unwrap_or(0) as usize;
        assert_eq!(count, expected.len(), "{set}: its count in m: {m:?}");
        let records: Vec<u8> = conn.get(format!("{tag}:{set}r")).await.unwrap();
        let r = if family == AddressFamily::V4 { 6 + 20 } else { 18 + 20 };
        assert!(records.len() >= count * r, "{set}: {count} records wanted, {} bytes", records.len());
        let mut found = HashSet::new();
        for (k, rec) in records.chunks_exact(r).take(count).enumerate() {
            let (addr, id) = rec.split_at(r - 20);
            assert!(expected.contains(addr) && found.insert(addr.to_vec()), "{set}: record {k} is not a member");
            let entry = entries.remove(addr).unwrap_or_else(|| panic!("{set}: record {k} has no hash entry"));
            let mut want = id.to_vec();
            want.push(set.as_bytes()[0]);
            want.extend_from_slice(&u32::try_from(k).unwrap().to_be_bytes());
            assert_eq!(entry, want, "{set}: record {k}'s hash entry");
            let stored = swarm.peers.values().find(|p| compact_matches(addr, &swarm.peers, p.0)).map(|p| p.0);
            assert_eq!(stored.map(|s| s.0.to_vec()), Some(id.to_vec()), "{set}: record {k}'s peer id");
        }
    }
    // No key the hash needs dies before it (PEXPIRETIME: the absolute time, -2 for no key): the
    // sorted set expires with it, a record string with it or later.
    let at = |suffix: &str| {
        let key = format!("{tag}:{suffix}");
        let mut c = conn.clone();
        async move { redis::cmd("PEXPIRETIME").arg(key).query_async::<i64>(&mut c).await.unwrap() }
    };
    let hash_at = at("i").await;
    assert!(hash_at != -1, "the hash has no TTL");
    assert_eq!(at("z").await, hash_at, "the sorted set expires with the hash");
    for suffix in ["s4r", "l4r", "s6r", "l6r", "swr", "lwr"] {
        let t = at(suffix).await;
        assert!(t == -2 || (hash_at > 0 && t >= hash_at), "{suffix} expires at {t}, the hash at {hash_at}");
    }
    assert!(entries.is_empty(), "hash entries without a record: {entries:?}");
}

fn same_family(a: SocketAddr, b: SocketAddr) -> bool {
    AddressFamily::of(a.ip()) == AddressFamily::of(b.ip())
}

fn compact_matches(addr: &[u8], peers: &HashMap<SocketAddr, (PeerId, bool, u64)>, id: PeerId) -> bool {
    peers.iter().any(|(a, p)| compact(*a) == addr && p.0 == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_announces_keep_sets_records_and_hash_in_step() {
    let target = support::standalone();
    let prefix = support::fresh_prefix("records");
    let config = octotracker_redis::RedisConfig {
        prefix: prefix.clone(),
        peer_timeout: std::time::Duration::from_secs(TIMEOUT),
        // This test reads the Lua engine's keys (the test server has the module too).
        engine: octotracker_redis::RedisEngine::Lua,
        ..Default::default()
    };
    let store = octotracker_redis::RedisTorrentManager::connect(&target, config).await.unwrap();
    let url = std::env::var("OCTOTRACKER_TEST_REDIS_URL").unwrap();
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let hashes = [info_hash(1), info_hash(2)];
    let addrs: Vec<SocketAddr> = (1..=24).map(v4).chain((1..=8).map(v6)).chain((1..=8).map(rtc)).collect();
    let mut swarms: BTreeMap<InfoHash, Swarm> = hashes.iter().map(|h| (*h, Swarm::default())).collect();
    let mut now = T0.0;
    for step in 0..2000 {
        now += rng.u64(0..3);
        let h = hashes[rng.usize(..hashes.len())];
        if rng.u32(..200) == 0 {
            let cutoff = now - rng.u64(0..TIMEOUT);
            store.expire(UnixTime(cutoff)).await.unwrap();
            for s in swarms.values_mut() {
                s.prune(cutoff);
                s.drop_if_empty();
            }
            continue;
        }
        let addr = addrs[rng.usize(..addrs.len())];
        let event = [Event::None, Event::None, Event::Started, Event::Completed, Event::Stopped][rng.usize(..5)];
        let seeder = rng.bool();
        let mut id = [b'x'; 20];
        id[..4].copy_from_slice(&compact(addr)[compact(addr).len() - 4..]);
        id[19] = b'0' + rng.u8(0..2);
        let a = PeerAnnounce { info_hash: h, addr, peer_id: PeerId(id), event, seeder, now: UnixTime(now) };
        let want = rng.usize(0..10);
        let reply = store.announce(&a, want).await.unwrap();

        let s = swarms.get_mut(&h).unwrap();
        if s.pass.is_none_or(|p| now - p >= EVERY) {
            s.prune(now - TIMEOUT);
            s.pass = Some(now);
        }
        let before = s.peers.get(&addr).copied();
        if event == Event::Stopped {
            s.peers.remove(&addr);
        } else {
            if event == Event::Completed && before.is_some_and(|p| !p.1) {
                s.downloaded += 1;
            }
            s.peers.insert(addr, (PeerId(id), seeder, now));
        }
        s.drop_if_empty();
        let ctx = format!("seed {seed}, step {step}: {a:?} want {want}");
        assert_eq!((reply.stats.complete, reply.stats.incomplete), (s.count(true), s.count(false)), "{ctx}");
        assert_eq!(reply.stats.downloaded, s.downloaded, "{ctx}");
        let candidates: Vec<_> =
            s.peers.iter().filter(|(b, p)| **b != addr && same_family(**b, addr) && !(seeder && p.1)).collect();
        assert_eq!(reply.peers.len(), want.min(candidates.len()), "{ctx}: {:?}", reply.peers);
        let mut seen = HashSet::new();
        for p in &reply.peers {
            assert!(seen.insert(p.addr), "{ctx}: {p:?} twice");
            let stored = s.peers.get(&p.addr).unwrap_or_else(|| panic!("{ctx}: {p:?} is not stored"));
            assert!(p.addr != addr && same_family(p.addr, addr), "{ctx}: {p:?}");
            assert_eq!(stored.0, p.id, "{ctx}: {p:?}'s peer id");
            if seeder {
                assert!(!stored.1, "{ctx}: a seeder got seeder {p:?}");
            }
        }
        check_keys(&mut conn, &prefix, h, s).await;
    }
    store.purge().await.unwrap();
    let _ = v6;
}
