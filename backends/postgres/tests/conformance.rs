//! The core's conformance suite on a real PostgreSQL: every test in a fresh schema of its own.
//!
//! Needs `OCTOTRACKER_TEST_POSTGRES_URL` (run `scripts/test.sh`, which provides a server).

use std::time::{SystemTime, UNIX_EPOCH};

use octotracker_postgres::{PostgresConfig, PostgresTorrentManager};
use sqlx::Connection;

/// Prefix of the schemas these tests create; a schema name ends with its creation time.
const PREFIX: &str = "octotracker_conformance_";

/// Schemas older than this are left-overs of earlier runs and are dropped.
const STALE_SECS: u64 = 600;

fn postgres_url() -> String {
    std::env::var("OCTOTRACKER_TEST_POSTGRES_URL")
        .expect("OCTOTRACKER_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL and sets it")
}

/// Drops the schemas of earlier runs (a test cannot drop its own: the store outlives it).
async fn drop_stale_schemas(url: &str, now: u64) {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect to OCTOTRACKER_TEST_POSTGRES_URL");
    let names: Vec<(String,)> = sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
        .bind(PREFIX)
        .fetch_all(&mut conn)
        .await
        .expect("list schemas");
    for (name,) in names {
        let created = name[PREFIX.len()..].split('_').next().and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t + STALE_SECS < now) {
            let drop = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            // Another test binary may be dropping it too: ignore failures.
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
        }
    }
}

/// A config for a fresh schema of its own.
async fn fresh_config() -> PostgresConfig {
    let url = postgres_url();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    drop_stale_schemas(&url, now).await;
    let mut config = PostgresConfig::new(url);
    config.pool_size = 8;
    config.schema = Some(format!("{PREFIX}{now}_{:016x}", fastrand::u64(..)));
    config
}

async fn fresh_store() -> PostgresTorrentManager {
    PostgresTorrentManager::connect(&fresh_config().await).await.expect("postgres is running (scripts/test.sh)")
}

octotracker_core::conformance_tests!(|| fresh_store());

/// The concurrency checks again with every call sent to one of two stores (two pools, two sets
/// of announce lanes) on one schema, at random, as two tracker processes would: concurrent
/// announces of one peer then meet in PostgreSQL, not in one lane.
mod two_stores_on_one_schema {
    use async_trait::async_trait;
    use octotracker_core::{
        ExpiryReport, InfoHash, PeerAnnounce, StorageError, SwarmReply, SwarmStats, TorrentManager, UnixTime,
    };

    use super::{PostgresTorrentManager, fresh_config};

    struct EitherStore([PostgresTorrentManager; 2]);

    impl EitherStore {
        fn pick(&self) -> &PostgresTorrentManager {
            &self.0[fastrand::usize(..2)]
        }
    }

    #[async_trait]
    impl TorrentManager for EitherStore {
        async fn announce(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
            self.pick().announce(a, want).await
        }
        async fn scrape(&self, hashes: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
            self.pick().scrape(hashes).await
        }
        async fn expire(&self, cutoff: UnixTime) -> Result<ExpiryReport, StorageError> {
            self.pick().expire(cutoff).await
        }
    }

    async fn either_store() -> EitherStore {
        let config = fresh_config().await;
        let first = PostgresTorrentManager::connect(&config).await.expect("postgres is running");
        let second = PostgresTorrentManager::connect(&config).await.expect("postgres is running");
        EitherStore([first, second])
    }

    macro_rules! concurrency_checks {
        ($($check:ident),*) => {$(
            #[test]
            fn $check() {
                octotracker_core::testing::run(either_store(), |store| async move {
                    octotracker_core::testing::concurrency::$check(store).await
                });
            }
        )*};
    }

    concurrency_checks!(
        concurrent_announces_are_all_counted,
        concurrent_completed_are_each_counted_once,
        concurrent_stops_leave_exact_counts
    );
}

/// Passkeys in the `passkeys` table: issued, listed, revoked, issued again; shared by two stores
/// on one schema, as two tracker processes would.
#[tokio::test]
async fn passkeys_are_issued_listed_revoked_and_shared() {
    use octotracker_core::TorrentManager;
    let config = fresh_config().await;
    let one = PostgresTorrentManager::connect(&config).await.expect("postgres is running (scripts/test.sh)");
    let two = PostgresTorrentManager::connect(&config).await.expect("a second store on the schema");
    let (a, b) = (one.passkeys().expect("postgres keeps passkeys"), two.passkeys().expect("postgres keeps passkeys"));
    assert!(a.list_passkeys().await.unwrap().is_empty());
    assert!(a.add_passkey("alice0001").await.unwrap());
    assert!(!b.add_passkey("alice0001").await.unwrap(), "already valid, through the other store");
    assert!(b.add_passkey("bob0002").await.unwrap());
    assert_eq!(a.list_passkeys().await.unwrap(), ["alice0001", "bob0002"]);
    assert!(a.revoke_passkey("alice0001").await.unwrap());
    assert!(!b.revoke_passkey("alice0001").await.unwrap(), "revoked twice");
    assert_eq!(b.list_passkeys().await.unwrap(), ["bob0002"]);
    assert!(b.add_passkey("alice0001").await.unwrap(), "a revoked key issued again");
    assert_eq!(a.list_passkeys().await.unwrap(), ["alice0001", "bob0002"]);
    let bad = sqlx::query("INSERT INTO passkeys (passkey, created) VALUES ('has space', 0)").execute(one.pool()).await;
    assert!(bad.is_err(), "the table refuses keys that are not passkeys");
}

/// `totals`: swarms with at least one peer, seeders and leechers over all swarms, kept by the
/// triggers on `peers` through announces, stops, completions, expiry and a second store.
mod totals {
    use octotracker_core::testing::peers::{AnnounceExt, T0, announce, expire, info_hash, leecher, seeder, v4, v6};
    use octotracker_core::{StoreTotals, TorrentManager, UnixTime};

    use super::{PostgresTorrentManager, fresh_config, fresh_store};

    fn totals(torrents: u64, seeders: u64, leechers: u64) -> StoreTotals {
        StoreTotals { torrents, seeders, leechers }
    }

    async fn totals_of(store: &PostgresTorrentManager) -> StoreTotals {
        store.totals().await.expect("totals")
    }

    #[test]
    fn totals_follow_announces_stops_completions_and_expiry() {
        octotracker_core::testing::run(fresh_store(), |store| async move {
            let store = &*store;
            assert_eq!(store.totals().await.unwrap(), totals(0, 0, 0), "an empty store");

            announce(store, seeder(info_hash(1), v4(1)), 0).await;
            announce(store, leecher(info_hash(1), v4(2)), 0).await;
            announce(store, leecher(info_hash(1), v6(3)), 0).await;
            announce(store, leecher(info_hash(2), v4(4)), 0).await;
            assert_eq!(store.totals().await.unwrap(), totals(2, 1, 3));

            // A re-announce changes nothing; a stop removes the peer; a completion moves a
            // leecher to the seeders.
            announce(store, leecher(info_hash(1), v4(2)), 50).await;
            announce(store, leecher(info_hash(1), v6(3)).stopped(), 0).await;
            announce(store, leecher(info_hash(1), v4(2)).completed().seeding(), 0).await;
            assert_eq!(store.totals().await.unwrap(), totals(2, 2, 1));

            // A swarm whose last peer stopped is not counted, though kept until expiry.
            announce(store, leecher(info_hash(2), v4(4)).stopped(), 0).await;
            assert_eq!(store.totals().await.unwrap(), totals(1, 2, 0));

            // Peers not yet expired count as present; expiry removes them from the totals.
            let later = UnixTime(T0.0 + 100);
            announce(store, seeder(info_hash(3), v4(5)).at(later), 0).await;
            assert_eq!(store.totals().await.unwrap(), totals(2, 3, 0));
            expire(store, later).await;
            assert_eq!(store.totals().await.unwrap(), totals(1, 1, 0));
            expire(store, UnixTime(later.0 + 1)).await;
            assert_eq!(store.totals().await.unwrap(), totals(0, 0, 0));
        });
    }

    /// Many announces from two stores (two pools, two processes' worth of lanes) at once: the
    /// totals match the swarms' scrapes and what was announced.
    #[test]
    fn totals_match_the_peers_after_concurrent_announces_from_two_stores() {
        octotracker_core::testing::run(fresh_store(), |_| async move {
            let config = fresh_config().await;
            let stores = [
                PostgresTorrentManager::connect(&config).await.expect("postgres is running"),
                PostgresTorrentManager::connect(&config).await.expect("postgres is running"),
            ];
            let tasks: Vec<_> = (0..32u32)
                .map(|t| {
                    let store = stores[(t % 2) as usize].clone();
                    tokio::spawn(async move {
                        // Tasks t and t + 16 announce the same 40 peers: stored once each.
                        let owner = t % 16;
                        for k in 0..40 {
                            let a = leecher(info_hash(owner % 4), v4(owner * 100 + k));
                            let a = if k % 4 == 0 { a.seeding() } else { a };
                            // A third of them stop again.
                            let a = if k % 3 == 1 && t >= 16 { a.stopped() } else { a };
                            announce(&store, a, 10).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
            let both = totals_of(&stores[0]).await;
            assert_eq!(both, totals_of(&stores[1]).await);
            let hashes: Vec<_> = (0..4).map(info_hash).collect();
            let scraped = stores[0].scrape(&hashes).await.unwrap();
            let seeders: u64 = scraped.iter().map(|s| u64::from(s.complete)).sum();
            let leechers: u64 = scraped.iter().map(|s| u64::from(s.incomplete)).sum();
            assert_eq!(both, totals(4, seeders, leechers));
            let (stored,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM peers").fetch_one(stores[0].pool()).await.unwrap();
            assert_eq!(both.peers(), stored as u64, "totals equal the stored peers");
            let (seeding,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM peers WHERE seeder").fetch_one(stores[0].pool()).await.unwrap();
            assert_eq!(both.seeders, seeding as u64);
        });
    }
}

/// Per-key transfer totals from announce deltas: growth since a peer's previous announce, all
/// of it for a new peer or after a restart of the client; unknown keys ignored; two stores
/// recording at once count each growth once.
#[tokio::test]
async fn passkey_transfer_totals_add_up_the_deltas() {
    use octotracker_core::{Event, TorrentManager, Transfer, UnixTime};
    let config = fresh_config().await;
    let one = PostgresTorrentManager::connect(&config).await.expect("postgres is running (scripts/test.sh)");
    let two = PostgresTorrentManager::connect(&config).await.expect("a second store on the schema");
    let keys = one.passkeys().expect("postgres keeps passkeys");
    keys.add_passkey("alice0001").await.unwrap();
    let t = |key: &str, port: u16, up: u64, down: u64| Transfer {
        passkey: key.to_owned(),
        info_hash: octotracker_core::InfoHash([1; 20]),
        addr: std::net::SocketAddr::from(([10, 0, 0, 1], port)),
        uploaded: up,
        downloaded: down,
        event: Event::None,
        now: UnixTime(1_000),
    };
    let totals = |pool: &sqlx::PgPool| {
        let pool = pool.clone();
        async move {
            let row: (i64, i64) =
                sqlx::query_as("SELECT uploaded, downloaded FROM passkeys WHERE passkey = 'alice0001'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            row
        }
    };
    keys.record_transfers(&[t("alice0001", 1, 100, 10)]).await.unwrap();
    assert_eq!(totals(one.pool()).await, (100, 10), "a new peer: everything it reports");
    // Growth 50 then (same batch) 25 more; another peer 40; an unknown key ignored.
    let batch =
        [t("alice0001", 1, 150, 10), t("alice0001", 1, 175, 12), t("alice0001", 2, 40, 0), t("mallory", 1, 999, 999)];
    keys.record_transfers(&batch).await.unwrap();
    assert_eq!(totals(one.pool()).await, (100 + 75 + 40, 12));
    // The client restarted: its counters begin again from zero.
    keys.record_transfers(&[t("alice0001", 1, 30, 5)]).await.unwrap();
    assert_eq!(totals(one.pool()).await, (245, 17));

    // Two stores at once: each its own peer growing by 10 per announce (1,010 … 1,200), and
    // between those, the same third peer reporting 1,200 again and again. With the rows locked
    // in turn, the third peer's 1,200 is counted exactly once, whoever records it first.
    let (a, b) = (one.passkeys().unwrap(), two.passkeys().unwrap());
    let sequence = |own: u16| {
        (1..=20u64).flat_map(move |k| [t("alice0001", own, 1_000 + 10 * k, 0), t("alice0001", 11, 1_200, 0)])
    };
    tokio::join!(
        async {
            for x in sequence(10) {
                a.record_transfers(&[x]).await.unwrap();
            }
        },
        async {
            for x in sequence(12) {
                b.record_transfers(&[x]).await.unwrap();
            }
        }
    );
    assert_eq!(totals(one.pool()).await, (245 + 1_200 * 3, 17), "each growth counted once");
    let stored: (i64,) = sqlx::query_as("SELECT count(*) FROM passkey_peers").fetch_one(one.pool()).await.unwrap();
    assert_eq!(stored.0, 5, "one row per (key, swarm, peer)");

    // Expiry removes the last counters with the peers; the totals stay.
    one.expire(UnixTime(2_000)).await.unwrap();
    let stored: (i64,) = sqlx::query_as("SELECT count(*) FROM passkey_peers").fetch_one(one.pool()).await.unwrap();
    assert_eq!(stored.0, 0);
    assert_eq!(totals(one.pool()).await, (245 + 3_600, 17));
}
