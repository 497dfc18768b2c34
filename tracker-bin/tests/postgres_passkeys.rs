//! A private tracker whose passkeys live in PostgreSQL: `octotracker keys` against a fresh
//! database, and a tracker serving `--passkeys backend` on it.

use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, InfoHash, PeerId};
use sqlx::Connection;

mod common;
mod postgres_support;

use postgres_support::{FreshDatabase, Server, octotracker, postgres_url};

fn keys(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = octotracker().args(["--backend", url, "keys"]).args(args).output().expect("octotracker runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn announce_with(client: &HttpTrackerClient, server: &Server, key: &str) -> Option<String> {
    let req = AnnounceRequest::new(InfoHash([3; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
    let url = format!("http://{}/{key}/announce", server.addr);
    match client.announce(&url, &req).await.expect("answered") {
        Reply::Ok(_) => None,
        Reply::Failure { reason, .. } => Some(reason),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_postgres_apply_to_a_running_private_tracker() {
    let db = FreshDatabase::create(&postgres_url()).await;
    let url = db.url.clone();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || keys(&url, &["add", "carol0000000000000001"])).await.unwrap();
    assert_eq!((code, out.trim()), (Some(0), "carol0000000000000001"), "{err}");

    let server = Server::serve(&db.url, &["--passkeys", "backend", "--access-reload-interval", "1"]);
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    assert_eq!(announce_with(&client, &server, "carol0000000000000001").await, None);
    assert_eq!(announce_with(&client, &server, "dave00000000000000002").await.as_deref(), Some("unknown passkey"));

    // Ratio tracking: the peer reports 1,000 uploaded, then 1,500; carol's total is 1,500.
    for uploaded in [1_000, 1_500] {
        let mut req = AnnounceRequest::new(InfoHash([3; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
        req.uploaded = uploaded;
        req.downloaded = uploaded / 10;
        let url = format!("http://{}/carol0000000000000001/announce", server.addr);
        assert!(matches!(client.announce(&url, &req).await.expect("answered"), Reply::Ok(_)));
    }
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (up, down): (i64, i64) =
            sqlx::query_as("SELECT uploaded, downloaded FROM passkeys WHERE passkey = 'carol0000000000000001'")
                .fetch_one(&mut conn)
                .await
                .expect("carol's row");
        if (up, down) == (1_500, 150) {
            break;
        }
        assert!(up <= 1_500 && down <= 150, "counted twice: {up} / {down}");
        assert!(Instant::now() < deadline, "totals never reached 1,500 / 150: {up} / {down}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = conn.close().await;

    let url = db.url.clone();
    let (code, _, err) =
        tokio::task::spawn_blocking(move || keys(&url, &["revoke", "carol0000000000000001"])).await.unwrap();
    assert_eq!(code, Some(0), "{err}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while announce_with(&client, &server, "carol0000000000000001").await.is_none() {
        assert!(Instant::now() < deadline, "the revoked key is still accepted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = db.url.clone();
    let (_, listed, _) = tokio::task::spawn_blocking(move || keys(&url, &["list"])).await.unwrap();
    assert_eq!(listed, "", "no valid key left");
    server.stop();
}
