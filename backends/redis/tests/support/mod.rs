//! Finding the test servers `scripts/test.sh` provides, and making isolated stores on them.

#![allow(dead_code)]

pub(crate) mod server;

use octotracker_redis::{RedisConfig, RedisEngine, RedisTarget, RedisTorrentManager};

/// The standalone server (`OCTOTRACKER_TEST_REDIS_URL`); fails when it is not set.
pub(crate) fn standalone() -> RedisTarget {
    let url = std::env::var("OCTOTRACKER_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("OCTOTRACKER_TEST_REDIS_URL is not set: run scripts/test.sh, which starts a throwaway Redis")
    });
    RedisTarget::parse(&url).unwrap_or_else(|| panic!("OCTOTRACKER_TEST_REDIS_URL={url:?} is not a redis:// URL"))
}

/// The 3-master cluster (`OCTOTRACKER_TEST_REDIS_CLUSTER_URLS`); fails when it is not set.
pub(crate) fn cluster() -> RedisTarget {
    let urls = std::env::var("OCTOTRACKER_TEST_REDIS_CLUSTER_URLS").unwrap_or_else(|_| {
        panic!(
            "OCTOTRACKER_TEST_REDIS_CLUSTER_URLS is not set: run scripts/test.sh, which starts a throwaway \
             3-master Redis Cluster"
        )
    });
    RedisTarget::Cluster(urls.split(',').map(|u| u.trim().to_owned()).collect())
}

/// A key prefix no other test uses.
pub(crate) fn fresh_prefix(what: &str) -> String {
    format!("octotest:{what}:{:016x}", fastrand::u64(..))
}

/// A store on `target` under a fresh prefix, on the Lua engine. The conformance checks announce
/// at times up to 600 s apart: the peer timeout must be longer so that lazy pruning leaves
/// expiry to them. The keys expire after that timeout, in real time.
pub(crate) async fn store(target: RedisTarget, what: &str) -> RedisTorrentManager {
    store_on(target, what, RedisEngine::Lua).await
}

/// The same on the module engine (the test servers load the module: `scripts/test.sh`).
pub(crate) async fn module_store(target: RedisTarget, what: &str) -> RedisTorrentManager {
    let store = store_on(target, what, RedisEngine::Module).await;
    assert_eq!(store.engine(), RedisEngine::Module);
    store
}

/// A store on `target` under a fresh prefix with `engine`.
pub(crate) async fn store_on(target: RedisTarget, what: &str, engine: RedisEngine) -> RedisTorrentManager {
    store_with(target, what, engine, std::time::Duration::from_secs(3600)).await
}

/// A store on `target` under a fresh prefix with `engine` and `peer_timeout`.
pub(crate) async fn store_with(
    target: RedisTarget,
    what: &str,
    engine: RedisEngine,
    peer_timeout: std::time::Duration,
) -> RedisTorrentManager {
    let config = RedisConfig { prefix: fresh_prefix(what), peer_timeout, engine, ..RedisConfig::default() };
    RedisTorrentManager::connect(&target, config).await.unwrap_or_else(|e| panic!("connecting to {target:?}: {e}"))
}
