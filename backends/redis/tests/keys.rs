//! What the backend leaves in Redis: every key under the store's own prefix, every key with a
//! TTL (nothing lives forever without announces), and prefixes kept apart.

mod support;

use octotracker_core::TorrentManager;
use octotracker_core::testing::peers::{AnnounceExt, T0, info_hash, leecher, seeder, stats, v4, v6};
use redis::AsyncCommands;

/// Every key under `prefix` on the standalone server, with its TTL in seconds.
async fn keys_with_ttl(prefix: &str) -> Vec<(String, i64)> {
    let url = std::env::var("OCTOTRACKER_TEST_REDIS_URL").expect("checked by support::standalone");
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = conn.keys(format!("{prefix}:*")).await.unwrap();
    let mut out = Vec::new();
    for key in keys {
        let ttl: i64 = conn.ttl(&key).await.unwrap();
        out.push((key, ttl));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_is_under_the_prefix_in_the_swarms_hash_tag_and_expires() {
    let store = support::store(support::standalone(), "keys").await;
    let prefix = store.config().prefix.clone();
    let h = info_hash(7);
    store.announce(&seeder(h, v4(1)), 50).await.unwrap();
    store.announce(&leecher(h, v4(2)), 50).await.unwrap();
    store.announce(&leecher(h, v6(3)), 50).await.unwrap();
    let keys = keys_with_ttl(&prefix).await;
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let tag = format!("{prefix}:{{{h}}}");
    let expected: Vec<String> = ["i", "l4r", "l6r", "s4r", "z"].iter().map(|s| format!("{tag}:v3:{s}")).collect();
    assert_eq!(names, expected);
    // The TTL is the peer timeout plus the longest time between two refreshes (60 s).
    let timeout = i64::try_from(store.config().peer_timeout.as_secs()).unwrap() + 60;
    for (key, ttl) in &keys {
        assert!(*ttl > 0 && *ttl <= timeout, "{key} has TTL {ttl}, expected 1..={timeout}");
    }

    // The last peers stopping delete the swarm's keys at once.
    for a in [seeder(h, v4(1)), leecher(h, v4(2)), leecher(h, v6(3))] {
        store.announce(&a.stopped(), 0).await.unwrap();
    }
    assert_eq!(keys_with_ttl(&prefix).await, Vec::new(), "an emptied swarm leaves no key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_with_different_prefixes_share_nothing() {
    let a = support::store(support::standalone(), "prefix-a").await;
    let b = support::store(support::standalone(), "prefix-b").await;
    let h = info_hash(1);
    a.announce(&seeder(h, v4(1)), 50).await.unwrap();
    let reply = b.announce(&leecher(h, v4(2)), 50).await.unwrap();
    assert!(reply.peers.is_empty(), "b sees a's peer: {:?}", reply.peers);
    assert_eq!(reply.stats, stats(0, 1, 0));
    assert_eq!(a.scrape(&[h]).await.unwrap(), vec![stats(1, 0, 0)]);

    let far = T0.plus(std::time::Duration::from_secs(10));
    assert_eq!(b.expire(far).await.unwrap().peers_removed, 1, "b's expiry removes b's peer only");
    assert_eq!(a.scrape(&[h]).await.unwrap(), vec![stats(1, 0, 0)], "a's peer survives b's expiry");
    assert_eq!(b.purge().await.unwrap(), 0, "b has nothing left");
    assert!(a.purge().await.unwrap() > 0);
    assert_eq!(a.scrape(&[h]).await.unwrap(), vec![stats(0, 0, 0)], "a purged");
}

/// An announce drops its swarm's peers last seen more than the peer timeout ago (lazily, so
/// that a swarm that is announced to never hands out stale peers), with their peer ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announce_prunes_its_swarms_stale_peers_lazily() {
    let target = support::standalone();
    let prefix = support::fresh_prefix("lazy");
    let config = octotracker_redis::RedisConfig {
        prefix: prefix.clone(),
        peer_timeout: std::time::Duration::from_secs(100),
        // This test reads the Lua engine's keys (the test server has the module too).
        engine: octotracker_redis::RedisEngine::Lua,
        ..Default::default()
    };
    let store = octotracker_redis::RedisTorrentManager::connect(&target, config).await.unwrap();
    let h = info_hash(3);
    let later = |s| T0.plus(std::time::Duration::from_secs(s));
    store.announce(&seeder(h, v4(1)), 0).await.unwrap();
    store.announce(&leecher(h, v4(2)), 0).await.unwrap();
    store.announce(&leecher(h, v6(3)), 0).await.unwrap();
    store.announce(&leecher(h, v4(4)).at(later(150)), 0).await.unwrap();
    let reply = store.announce(&leecher(h, v4(5)).at(later(161)), 50).await.unwrap();
    assert_eq!(reply.stats, stats(0, 2, 0), "the peers of T0 are gone, of both families");
    assert_eq!(reply.peers.iter().map(|p| p.addr).collect::<Vec<_>>(), vec![v4(4)]);

    let url = std::env::var("OCTOTRACKER_TEST_REDIS_URL").unwrap();
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let fields: Vec<Vec<u8>> = conn.hkeys(format!("{prefix}:{{{h}}}:v3:i")).await.unwrap();
    let peers = fields.iter().filter(|f| f.len() == 6 || f.len() == 18).count();
    assert_eq!(peers, 2, "the entries of the two peers left, not of the stale ones: {fields:?}");
    let members: Vec<Vec<u8>> = conn.zrange(format!("{prefix}:{{{h}}}:v3:z"), 0, -1).await.unwrap();
    assert_eq!(members.len(), 2, "the expiry sorted set holds the two peers left: {members:?}");
    assert_eq!(store.expire(later(100)).await.unwrap(), Default::default(), "nothing stale is left");
    store.purge().await.unwrap();
}
