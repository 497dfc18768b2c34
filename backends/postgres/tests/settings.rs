//! The pool settings take effect: the statement timeout is set on every connection, and a
//! statement that runs past it fails as "storage unavailable" without harming later ones.
//!
//! Needs `OCTOTRACKER_TEST_POSTGRES_URL` (run `scripts/test.sh`, which provides a server).

use std::time::{Duration, Instant};

use octotracker_core::testing::peers::{info_hash, leecher, v4};
use octotracker_core::{StorageError, TorrentManager};
use octotracker_postgres::{PostgresConfig, PostgresTorrentManager};
use sqlx::{Connection, Executor};

fn postgres_url() -> String {
    std::env::var("OCTOTRACKER_TEST_POSTGRES_URL")
        .expect("OCTOTRACKER_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL and sets it")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_timeout_is_unavailable_and_the_next_one_succeeds() {
    let schema = format!("octotracker_settings_{:016x}", fastrand::u64(..));
    let mut config = PostgresConfig::new(postgres_url());
    config.schema = Some(schema.clone());
    config.pool_size = 2;
    config.statement_timeout = Duration::from_millis(300);
    let store = PostgresTorrentManager::connect(&config).await.expect("postgres is running (scripts/test.sh)");

    let (timeout,): (String,) = sqlx::query_as("SHOW statement_timeout").fetch_one(store.pool()).await.unwrap();
    assert_eq!(timeout, "300ms");

    // Another session holds the peers table: the announce waits until the timeout cancels it.
    let mut blocker = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
    blocker.execute("BEGIN").await.unwrap();
    let lock = format!("LOCK TABLE \"{schema}\".peers IN ACCESS EXCLUSIVE MODE");
    blocker.execute(sqlx::AssertSqlSafe(lock)).await.unwrap();
    let started = Instant::now();
    let result = store.announce(&leecher(info_hash(1), v4(1)), 50).await;
    assert!(matches!(result, Err(StorageError::Unavailable(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    blocker.execute("ROLLBACK").await.unwrap();

    let reply = store.announce(&leecher(info_hash(1), v4(1)), 50).await.expect("the next announce succeeds");
    assert_eq!(reply.stats.incomplete, 1);

    let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
    blocker.execute(sqlx::AssertSqlSafe(drop)).await.unwrap();
}
