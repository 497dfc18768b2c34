//! `--admin ADDR`, black box: the real binary's admin API and health checks. Allow and deny
//! list changes and passkeys made through the API land in the files the tracker reads, and the
//! tracker applies them within its reload interval; the operator errors exit 2 naming the flag.

use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, InfoHash, PeerId};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod admin_support;
mod common;

use admin_support::{TOKEN, request};
use common::{LoggedServer, TempDir, hex, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);

struct Tracker {
    server: LoggedServer,
    announce: String,
    admin: String,
    client: HttpTrackerClient,
}

fn start(args: &[&str]) -> Tracker {
    let mut server = LoggedServer::spawn(
        octotracker()
            .args(["--http", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--access-reload-interval", "1"])
            .args(args),
    );
    let http = server.await_after("listening on http://", DEADLINE);
    let admin = server.await_after("admin API on http://", DEADLINE);
    Tracker {
        server,
        announce: format!("http://{http}/announce"),
        admin: admin.strip_suffix("/v1/").expect("the line names /v1/").to_owned(),
        client: HttpTrackerClient::new().with_timeout(Duration::from_secs(10)),
    }
}

impl Tracker {
    async fn call(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        request(&self.admin, method, path, Some(TOKEN), body).await
    }

    async fn announce(&self, url: &str, n: u8) -> Option<String> {
        let req = AnnounceRequest::new(InfoHash([n; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
        match self.client.announce(url, &req).await.expect("the tracker answers") {
            Reply::Ok(_) => None,
            Reply::Failure { reason, .. } => Some(reason),
        }
    }

    /// Announces swarm `n` (at `url`) until the failure reason is `want` (bounded).
    async fn until(&self, url: &str, n: u8, want: Option<&str>) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let got = self.announce(url, n).await;
            if got.as_deref() == want {
                return;
            }
            assert!(Instant::now() < deadline, "swarm {n}: still {got:?}, not {want:?}; log: {:#?}", self.server.log);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[test]
fn admin_without_a_usable_token_file_exits_2_naming_the_flag() {
    let run = |args: &[&str]| {
        let out = octotracker().args(["--http", "127.0.0.1:0"]).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["--admin", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--admin-token-file"), "{err}");
    let dir = TempDir::new("admin", "badtoken");
    let short = dir.write("token", "short\n");
    let (code, err) = run(&["--admin", "127.0.0.1:0", "--admin-token-file", &short]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--admin-token-file") && err.contains("at least 16"), "{err}");
    let missing = dir.0.join("nothing").to_string_lossy().into_owned();
    let (code, err) = run(&["--admin", "127.0.0.1:0", "--admin-token-file", &missing]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot read"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_ready_on_the_metrics_and_admin_listeners() {
    let dir = TempDir::new("admin", "health");
    let token = dir.write("token", &format!("{TOKEN}\n"));
    let mut t = start(&["--admin-token-file", &token, "--metrics", "127.0.0.1:0"]);
    let metrics = t.server.await_after("metrics on http://", DEADLINE);
    let metrics = metrics.strip_suffix("/metrics").unwrap().to_owned();
    for base in [&metrics, &t.admin] {
        assert_eq!(request(base, "GET", "/health", None, "").await, (200, serde_json::json!({"status": "up"})));
        assert_eq!(request(base, "GET", "/ready", None, "").await, (200, serde_json::json!({"status": "ready"})));
    }
    // The tracker's own port serves neither.
    let tracker = t.announce.strip_prefix("http://").unwrap().strip_suffix("/announce").unwrap().to_owned();
    let mut stream = tokio::net::TcpStream::connect(&tracker).await.unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 404"), "{}", String::from_utf8_lossy(&raw));
    let (status, _) = request(&t.admin, "GET", "/v1/stats", None, "").await;
    assert_eq!(status, 401);
    let (status, stats) = t.call("GET", "/v1/stats", "").await;
    assert_eq!((status, stats["torrents"].as_u64()), (200, Some(0)));
    drop(t);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_list_changed_through_the_api_is_applied_and_kept_in_the_file() {
    let dir = TempDir::new("admin", "allow");
    let token = dir.write("token", TOKEN);
    let list = dir.write("allow.txt", &format!("# kept\n{}\n", hex(1)));
    let t = start(&["--admin-token-file", &token, "--access", "allow", "--allow-list", &list]);
    let url = t.announce.clone();
    assert_eq!(t.announce(&url, 1).await, None);
    assert_eq!(t.announce(&url, 2).await.as_deref(), Some("unregistered torrent"));

    let (status, body) = t.call("PUT", &format!("/v1/allow/{}", hex(2)), "").await;
    assert_eq!((status, body["changed"].as_bool()), (200, Some(true)), "{body}");
    t.until(&url, 2, None).await;
    let (status, body) = t.call("DELETE", &format!("/v1/allow/{}", hex(1)), "").await;
    assert_eq!((status, body["changed"].as_bool()), (200, Some(true)), "{body}");
    t.until(&url, 1, Some("unregistered torrent")).await;
    assert_eq!(std::fs::read_to_string(&list).unwrap(), format!("# kept\n{}\n", hex(2)));

    // A second process reading the same file follows the change made through the first's API.
    let mut other = LoggedServer::spawn(octotracker().args([
        "--http",
        "127.0.0.1:0",
        "--access-reload-interval",
        "1",
        "--access",
        "allow",
        "--allow-list",
        &list,
    ]));
    let other_url = format!("http://{}/announce", other.await_after("listening on http://", DEADLINE));
    assert_eq!(t.announce(&other_url, 2).await, None);
    t.call("PUT", &format!("/v1/allow/{}", hex(5)), "").await;
    t.until(&other_url, 5, None).await;

    let (status, body) = t.call("PUT", &format!("/v1/deny/{}", hex(3)), "").await;
    assert_eq!(status, 404, "no deny list was configured: {body}");
    let (status, _) = t.call("GET", &format!("/v1/torrents/{}", hex(2)), "").await;
    assert_eq!(status, 200, "the announced swarm is listed");
    let (_, top) = t.call("GET", "/v1/torrents?sort=leechers&limit=5", "").await;
    // One leecher each: ties go to the smaller hash.
    let listed: Vec<&str> =
        top["torrents"].as_array().unwrap().iter().map(|t| t["info_hash"].as_str().unwrap()).collect();
    assert_eq!(listed, [hex(1), hex(2)], "swarm 1's peer stays stored after it left the list: {top}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_issued_and_revoked_through_the_api_open_and_close_the_private_tracker() {
    let dir = TempDir::new("admin", "keys");
    let token = dir.write("token", TOKEN);
    let keys = dir.write("passkeys.txt", "# issued by hand\n");
    let t = start(&["--admin-token-file", &token, "--passkeys", &keys]);
    let base = t.announce.strip_suffix("/announce").unwrap().to_owned();
    let (status, made) = t.call("POST", "/v1/keys", "{}").await;
    assert_eq!(status, 201, "{made}");
    let key = made["key"].as_str().unwrap().to_owned();
    let url = format!("{base}/{key}/announce");
    t.until(&url, 1, None).await;
    let (_, listed) = t.call("GET", "/v1/keys", "").await;
    assert_eq!(listed["keys"], serde_json::json!([key]));
    let (status, body) = t.call("POST", "/v1/keys", "{\"key\": 12").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(t.call("GET", "/v1/keys", "").await.1["keys"], serde_json::json!([key]), "nothing changed");
    let (status, _) = t.call("DELETE", &format!("/v1/keys/{key}"), "").await;
    assert_eq!(status, 200);
    let refused = loop {
        if let Some(reason) = t.announce(&url, 1).await {
            break reason;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!refused.is_empty());
    assert_eq!(std::fs::read_to_string(&keys).unwrap(), "# issued by hand\n");
}
