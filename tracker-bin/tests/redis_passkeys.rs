//! A private tracker whose passkeys live in Redis: `octotracker keys add|revoke|list` against a
//! real Redis, and a tracker serving `--passkeys backend` that follows them.

use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, InfoHash, PeerId};

mod common;
mod redis_support;

use common::{LoggedServer, octotracker};
use redis_support::{prefix, standalone_url};

/// `octotracker --backend URL --redis-prefix P keys ARGS…`: (exit code, stdout, stderr).
fn keys(backend: &str, prefix: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = octotracker()
        .args(["--backend", backend, "--redis-prefix", prefix, "keys"])
        .args(args)
        .output()
        .expect("octotracker runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn announce_with(client: &HttpTrackerClient, base: &str, key: &str) -> Option<String> {
    let req = AnnounceRequest::new(InfoHash([7; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
    match client.announce(&format!("{base}/{key}/announce"), &req).await.expect("answered") {
        Reply::Ok(_) => None,
        Reply::Failure { reason, .. } => Some(reason),
    }
}

#[test]
fn keys_issued_and_revoked_in_redis_apply_to_a_running_private_tracker() {
    let backend = standalone_url();
    let prefix = prefix("passkeys");

    let (code, random, err) = keys(&backend, &prefix, &["add"]);
    assert_eq!(code, Some(0), "{err}");
    let random = random.trim().to_owned();
    assert!(random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()), "a random key: {random:?}");
    let (code, out, err) = keys(&backend, &prefix, &["add", "alice0000000000000001"]);
    assert_eq!((code, out.trim()), (Some(0), "alice0000000000000001"), "{err}");
    let (_, listed, _) = keys(&backend, &prefix, &["list"]);
    let mut expected = vec![random.clone(), "alice0000000000000001".to_owned()];
    expected.sort();
    assert_eq!(listed.lines().collect::<Vec<_>>(), expected);

    let mut server = LoggedServer::spawn(octotracker().args([
        "--http",
        "127.0.0.1:0",
        "--backend",
        &backend,
        "--redis-prefix",
        &prefix,
        "--passkeys",
        "backend",
        "--access-reload-interval",
        "1",
    ]));
    let base = format!("http://{}", server.await_after("listening on http://", Duration::from_secs(30)));
    let rt = redis_support::runtime();
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    rt.block_on(async {
        assert_eq!(announce_with(&client, &base, &random).await, None);
        assert_eq!(announce_with(&client, &base, "alice0000000000000001").await, None);
        assert_eq!(announce_with(&client, &base, "mallory0000000000003").await.as_deref(), Some("unknown passkey"));
    });

    let (code, _, err) = keys(&backend, &prefix, &["revoke", &random]);
    assert_eq!(code, Some(0), "{err}");
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while announce_with(&client, &base, &random).await.is_none() {
            assert!(Instant::now() < deadline, "the revoked key is still accepted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(announce_with(&client, &base, &random).await.as_deref(), Some("unknown passkey"));
        assert_eq!(announce_with(&client, &base, "alice0000000000000001").await, None, "alice is still valid");
    });

    let (code, _, err) = keys(&backend, &prefix, &["revoke", &random]);
    assert_eq!(code, Some(1), "revoking twice fails: {err}");
    assert!(err.contains("no such passkey"), "{err}");
    let (code, _, err) = keys(&backend, &prefix, &["add", "not a key"]);
    assert_eq!(code, Some(2), "{err}");
    // Leave nothing behind: an empty set is deleted by Redis.
    assert_eq!(keys(&backend, &prefix, &["revoke", "alice0000000000000001"]).0, Some(0));
    drop(server);
}

#[test]
fn the_memory_backend_keeps_no_passkeys() {
    let out = octotracker().args(["keys", "list"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keeps no passkeys"), "{err}");
    let out = octotracker().args(["--http", "127.0.0.1:0", "--passkeys", "backend"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeps no passkeys"));
}
