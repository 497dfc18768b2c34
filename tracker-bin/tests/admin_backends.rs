//! The admin API on the shared stores: passkeys issued and revoked, and hashes put on or taken
//! off the allow and deny lists (`--allow-list backend`, `--deny-list backend`), through one
//! process's API reach a second process on the same Redis or PostgreSQL within the reload interval; top-N and
//! stats read what both processes stored (Redis, Redis Cluster, PostgreSQL); `/ready` turns 503 when the store stops answering.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, InfoHash, PeerId};

mod admin_support;
mod common;
mod postgres_support;
mod redis_support;

use admin_support::{TOKEN, request, token_file};
use common::{LoggedServer, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);

/// `octotracker` on `backend` with `--passkeys backend`, and the admin API when `admin`.
fn serve(backend: &[&str], admin: Option<&str>) -> (LoggedServer, String, Option<String>) {
    let mut cmd = octotracker();
    cmd.args(["--http", "127.0.0.1:0", "--passkeys", "backend", "--access-reload-interval", "1"]).args(backend);
    if let Some(token) = admin {
        cmd.args(["--admin", "127.0.0.1:0", "--admin-token-file", token]);
    }
    let mut server = LoggedServer::spawn(&mut cmd);
    let http = format!("http://{}", server.await_after("listening on http://", DEADLINE));
    let admin = admin.map(|_| {
        let line = server.await_after("admin API on http://", DEADLINE);
        line.strip_suffix("/v1/").unwrap().to_owned()
    });
    (server, http, admin)
}

async fn announce(client: &HttpTrackerClient, base: &str, key: &str, swarm: u8, port: u16) -> Option<String> {
    let req = AnnounceRequest::new(InfoHash([swarm; 20]), PeerId(*b"-qB4650-abcdefghijkl"), port);
    match client.announce(&format!("{base}/{key}/announce"), &req).await.expect("answered") {
        Reply::Ok(_) => None,
        Reply::Failure { reason, .. } => Some(reason),
    }
}

/// Announces until the failure reason is `want` (bounded).
async fn until(client: &HttpTrackerClient, base: &str, key: &str, want: Option<&str>) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let got = announce(client, base, key, 9, 6881).await;
        if got.as_deref() == want {
            return;
        }
        assert!(Instant::now() < deadline, "{key} at {base}: still {got:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Process A serves the API; B only follows the store.
async fn keys_and_top_n_across_two_processes(backend: &[&str]) {
    let token = token_file("backends");
    let (_a, a_http, admin) = serve(backend, Some(&token.0));
    let admin = admin.unwrap();
    let (_b, b_http, _) = serve(backend, None);
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    let call = |method: &'static str, path: String, body: &'static str| {
        let admin = admin.clone();
        async move { request(&admin, method, &path, Some(TOKEN), body).await }
    };

    let (status, made) = call("POST", "/v1/keys".into(), "{}").await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    until(&client, &b_http, &key, None).await;
    let (status, named) = call("POST", "/v1/keys".into(), r#"{"key": "erin_000000000000001"}"#).await;
    assert_eq!(status, 201, "{named}");
    let (_, listed) = call("GET", "/v1/keys".into(), "").await;
    let mut expected = vec![key.clone(), "erin_000000000000001".to_owned()];
    expected.sort();
    assert_eq!(listed["keys"], serde_json::json!(expected));

    // Swarm 9 holds B's one peer; swarm 8 gets three through A.
    for port in [7001, 7002, 7003] {
        assert_eq!(announce(&client, &a_http, &key, 8, port).await, None);
    }
    let (status, top) = call("GET", "/v1/torrents?sort=peers&limit=1".into(), "").await;
    assert_eq!(status, 200, "{top}");
    assert_eq!(top["torrents"].as_array().unwrap().len(), 1);
    assert_eq!(top["torrents"][0]["info_hash"], InfoHash([8; 20]).to_string());
    assert_eq!(top["torrents"][0]["peers"], 3, "{top}");
    let (status, one) = call("GET", format!("/v1/torrents/{}", InfoHash([9; 20])), "").await;
    assert_eq!((status, one["peers"].as_u64()), (200, Some(1)), "{one}");
    let (status, stats) = call("GET", "/v1/stats".into(), "").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!((stats["torrents"].as_u64(), stats["peers"].as_u64()), (Some(2), Some(4)), "{stats}");

    let (status, _) = call("DELETE", format!("/v1/keys/{key}"), "").await;
    assert_eq!(status, 200);
    until(&client, &b_http, &key, Some("unknown passkey")).await;
    let (status, _) = call("DELETE", format!("/v1/keys/{key}"), "").await;
    assert_eq!(status, 404, "already revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keys_through_the_api_reach_a_second_process() {
    let url = redis_support::standalone_url();
    let prefix = redis_support::prefix("admin");
    keys_and_top_n_across_two_processes(&["--backend", &url, "--redis-prefix", &prefix]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_keys_through_the_api_reach_a_second_process() {
    let backend = redis_support::cluster_backend();
    let prefix = redis_support::prefix("admin-cluster");
    keys_and_top_n_across_two_processes(&["--backend", &backend, "--redis-prefix", &prefix]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keys_through_the_api_reach_a_second_process() {
    let db = postgres_support::FreshDatabase::create(&postgres_support::postgres_url()).await;
    keys_and_top_n_across_two_processes(&["--backend", &db.url]).await;
}

/// `octotracker` on `backend` serving only what its `list` (`allow` or `deny`) in the backend
/// says, and the admin API when `admin`.
fn serve_listed(backend: &[&str], list: &str, admin: Option<&str>) -> (LoggedServer, String, Option<String>) {
    let mut cmd = octotracker();
    cmd.args(["--http", "127.0.0.1:0", "--access", list, &format!("--{list}-list"), "backend"])
        .args(["--access-reload-interval", "1"])
        .args(backend);
    if let Some(token) = admin {
        cmd.args(["--admin", "127.0.0.1:0", "--admin-token-file", token]);
    }
    let mut server = LoggedServer::spawn(&mut cmd);
    let http = format!("http://{}", server.await_after("listening on http://", DEADLINE));
    let admin =
        admin.map(|_| server.await_after("admin API on http://", DEADLINE).strip_suffix("/v1/").unwrap().to_owned());
    (server, http, admin)
}

/// Announces a peer of `swarm` to `base` until the failure reason is `want` (bounded).
async fn until_swarm(client: &HttpTrackerClient, base: &str, swarm: u8, want: Option<&str>) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let req = AnnounceRequest::new(InfoHash([swarm; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
        let got = match client.announce(&format!("{base}/announce"), &req).await.expect("answered") {
            Reply::Ok(_) => None,
            Reply::Failure { reason, .. } => Some(reason),
        };
        if got.as_deref() == want {
            return;
        }
        assert!(Instant::now() < deadline, "swarm {swarm} at {base}: still {got:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A hash put on the `list` (`allow` or `deny`) through A's API is applied by B (and A) within
/// the reload interval; taken off, it is served (or refused) again.
async fn a_list_in_the_backend_across_two_processes(backend: &[&str], list: &str) {
    let token = token_file("lists");
    let (_a, a_http, admin) = serve_listed(backend, list, Some(&token.0));
    let admin = admin.unwrap();
    let (_b, b_http, _) = serve_listed(backend, list, None);
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    let (unlisted, listed) = match list {
        "allow" => (Some("unregistered torrent"), None),
        _ => (None, Some("denied torrent")),
    };
    let hash = InfoHash([0x4c; 20]);
    until_swarm(&client, &b_http, 0x4c, unlisted).await;

    let (status, body) = request(&admin, "PUT", &format!("/v1/{list}/{hash}"), Some(TOKEN), "").await;
    assert_eq!((status, &body["changed"]), (200, &serde_json::json!(true)), "{body}");
    let (_, again) = request(&admin, "PUT", &format!("/v1/{list}/{hash}"), Some(TOKEN), "").await;
    assert_eq!(again["changed"], false, "already listed: {again}");
    until_swarm(&client, &b_http, 0x4c, listed).await;
    until_swarm(&client, &a_http, 0x4c, listed).await;
    // Another hash is untouched.
    until_swarm(&client, &b_http, 0x4d, unlisted).await;

    let (status, body) = request(&admin, "DELETE", &format!("/v1/{list}/{hash}"), Some(TOKEN), "").await;
    assert_eq!((status, &body["listed"]), (200, &serde_json::json!(false)), "{body}");
    until_swarm(&client, &b_http, 0x4c, unlisted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_deny_list_through_the_api_reaches_a_second_process() {
    let url = redis_support::standalone_url();
    let prefix = redis_support::prefix("deny");
    a_list_in_the_backend_across_two_processes(&["--backend", &url, "--redis-prefix", &prefix], "deny").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_allow_list_through_the_api_reaches_a_second_process() {
    let url = redis_support::standalone_url();
    let prefix = redis_support::prefix("allow");
    a_list_in_the_backend_across_two_processes(&["--backend", &url, "--redis-prefix", &prefix], "allow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_deny_list_through_the_api_reaches_a_second_process() {
    let db = postgres_support::FreshDatabase::create(&postgres_support::postgres_url()).await;
    a_list_in_the_backend_across_two_processes(&["--backend", &db.url], "deny").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_allow_list_through_the_api_reaches_a_second_process() {
    let db = postgres_support::FreshDatabase::create(&postgres_support::postgres_url()).await;
    a_list_in_the_backend_across_two_processes(&["--backend", &db.url], "allow").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_is_503_while_redis_is_paused_and_200_again_after() {
    use redis_support::server::{Persistence, RedisServer};
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redis = RedisServer::start(port, &Persistence::None, false);
    let token = token_file("ready");
    let backend = format!("redis://127.0.0.1:{port}/0");
    let mut cmd = octotracker();
    cmd.args([
        "--http",
        "127.0.0.1:0",
        "--backend",
        &backend,
        "--admin",
        "127.0.0.1:0",
        "--admin-token-file",
        &token.0,
    ]);
    let mut server = LoggedServer::spawn(&mut cmd);
    let admin = server.await_after("admin API on http://", DEADLINE).strip_suffix("/v1/").unwrap().to_owned();
    assert_eq!(request(&admin, "GET", "/ready", None, "").await.0, 200);

    redis.signal("STOP");
    let (status, body) = request(&admin, "GET", "/ready", None, "").await;
    redis.signal("CONT");
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert_eq!(request(&admin, "GET", "/health", None, "").await.0, 200, "the process itself is up");
    let deadline = Instant::now() + DEADLINE;
    while request(&admin, "GET", "/ready", None, "").await.0 != 200 {
        assert!(Instant::now() < deadline, "/ready stays 503 after redis-server resumed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
