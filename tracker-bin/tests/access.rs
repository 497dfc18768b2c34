//! Access control, black box: the real binary with `--access allow|deny`, list files written
//! while it runs, and client filters. Every wait for a reload is bounded.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, InfoHash, PeerId};

mod common;

use common::{LoggedServer, TempDir, hex, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);

struct Tracker {
    server: LoggedServer,
    url: String,
    client: HttpTrackerClient,
}

fn start(args: &[&str]) -> Tracker {
    let mut server =
        LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0", "--access-reload-interval", "1"]).args(args));
    let addr = server.await_after("listening on http://", DEADLINE);
    Tracker {
        server,
        url: format!("http://{addr}/announce"),
        client: HttpTrackerClient::new().with_timeout(Duration::from_secs(10)),
    }
}

impl Tracker {
    /// The failure reason of an announce of swarm `n` by `peer_id`, `None` when answered.
    async fn announce_as(&self, n: u8, peer_id: &[u8; 20]) -> Option<String> {
        let req = AnnounceRequest::new(InfoHash([n; 20]), PeerId(*peer_id), 6881);
        match self.client.announce(&self.url, &req).await.expect("the tracker answers") {
            Reply::Ok(_) => None,
            Reply::Failure { reason, .. } => Some(reason),
        }
    }

    async fn announce(&self, n: u8) -> Option<String> {
        self.announce_as(n, b"-qB4650-abcdefghijkl").await
    }

    /// Which of swarms 1..=3 a scrape lists.
    async fn scraped(&self) -> Vec<u8> {
        let url = octotracker_client::scrape_url(&self.url).unwrap();
        let hashes: Vec<InfoHash> = (1..=3).map(|n| InfoHash([n; 20])).collect();
        let Reply::Ok(reply) = self.client.scrape(&url, &hashes).await.expect("answered") else { panic!("refused") };
        (1..=3).filter(|n| reply.get(&InfoHash([*n; 20])).is_some()).collect()
    }

    /// Announces swarm `n` until the reply's failure reason is `want` (bounded).
    async fn until(&self, n: u8, want: Option<&str>) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let got = self.announce(n).await;
            if got.as_deref() == want {
                return;
            }
            assert!(Instant::now() < deadline, "swarm {n}: still {got:?}, not {want:?}; log: {:#?}", self.server.log);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_mode_follows_the_allow_list_as_it_is_rewritten() {
    let dir = TempDir::new("access", "allow");
    let list = dir.write("allow.txt", &format!("# the first torrent\n{}\nnot-a-hash\n", hex(1)));
    let mut t = start(&["--access", "allow", "--allow-list", &list]);
    assert_eq!(t.announce(1).await, None);
    assert_eq!(t.announce(2).await.as_deref(), Some("unregistered torrent"));
    assert_eq!(t.scraped().await, [1]);
    let problem = t.server.await_after("allow.txt:3: skipped ", DEADLINE);
    assert_eq!(problem, "\"not-a-hash\":", "the bad line is reported with its file and line");

    dir.write("allow.txt", &format!("{}\n{}\n", hex(1), hex(2)));
    t.until(2, None).await;
    assert_eq!(t.scraped().await, [1, 2]);
    dir.write("allow.txt", &hex(2));
    t.until(1, Some("unregistered torrent")).await;
    assert_eq!(t.announce(2).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_mode_refuses_the_deny_list_and_keeps_it_when_the_file_goes() {
    let dir = TempDir::new("access", "deny");
    let list = dir.write("deny.txt", &hex(2));
    let t = start(&["--access", "deny", "--deny-list", &list]);
    assert_eq!(t.announce(1).await, None);
    assert_eq!(t.announce(2).await.as_deref(), Some("denied torrent"));
    assert_eq!(t.scraped().await, [1, 3]);

    // A list that cannot be read keeps the one loaded before.
    std::fs::remove_file(&list).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        assert_eq!(t.announce(2).await.as_deref(), Some("denied torrent"), "a vanished deny list must not open up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    dir.write("deny.txt", &hex(3));
    t.until(2, None).await;
    assert_eq!(t.announce(3).await.as_deref(), Some("denied torrent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_filters_refuse_other_clients_by_peer_id_prefix() {
    let t = start(&["--client-allow", "-qB,-TR", "--client-deny", "-TR2"]);
    assert_eq!(t.announce_as(1, b"-qB4650-abcdefghijkl").await, None);
    assert_eq!(t.announce_as(1, b"-TR4050-abcdefghijkl").await, None);
    let refused = t.announce_as(1, b"-XX0001-abcdefghijkl").await;
    assert_eq!(refused.as_deref(), Some("client not allowed: -XX0001- is not accepted by this tracker"));
    assert!(t.announce_as(1, b"-TR2940-abcdefghijkl").await.is_some(), "deny beats allow");
}

/// The info hashes (hex) `octotracker torrent info --json` reports for a fixture.
fn fixture_hashes(file: &str) -> (PathBuf, Vec<String>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../torrent/tests/fixtures").join(file);
    let out = octotracker().args(["torrent", "info", "--json"]).arg(&path).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let hashes = json["info_hashes"].as_array().expect("info_hashes").iter().map(|h| h.as_str().unwrap().to_owned());
    (path, hashes.collect())
}

fn hash_of(hex: &str) -> InfoHash {
    hex.parse().expect("a hex info hash")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_torrents_directory_registers_its_files_as_they_come_and_go() {
    let dir = TempDir::new("access", "registry");
    let torrents = dir.0.join("torrents"); // created by the tracker
    let (v1, v1_hashes) = fixture_hashes("v1-single.torrent");
    let (hybrid, hybrid_hashes) = fixture_hashes("hybrid-multi.torrent");
    assert_eq!((v1_hashes.len(), hybrid_hashes.len()), (1, 2), "a hybrid torrent registers two swarms");

    let mut t = start(&["--access", "allow", "--torrents", torrents.to_str().unwrap()]);
    assert!(torrents.is_dir(), "the directory is created");
    let served = |hex: &str| {
        let req = AnnounceRequest::new(hash_of(hex), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
        let client = t.client.clone();
        let url = t.url.clone();
        async move {
            match client.announce(&url, &req).await.expect("answered") {
                Reply::Ok(_) => None,
                Reply::Failure { reason, .. } => Some(reason),
            }
        }
    };
    assert_eq!(served(&v1_hashes[0]).await.as_deref(), Some("unregistered torrent"));

    // Files arrive while it runs: a good one, and malformed ones that are skipped with a reason.
    std::fs::copy(&v1, torrents.join("a.torrent")).unwrap();
    std::fs::write(torrents.join("truncated.torrent"), &std::fs::read(&v1).unwrap()[..100]).unwrap();
    std::fs::write(torrents.join("no-info.torrent"), b"d8:announce3:urle").unwrap();
    std::fs::write(torrents.join("notes.txt"), b"not a torrent, not even looked at").unwrap();
    let until = |hex: String, want: Option<&'static str>| {
        let served = &served;
        async move {
            let deadline = Instant::now() + DEADLINE;
            loop {
                let got = served(&hex).await;
                if got.as_deref() == want {
                    return;
                }
                assert!(Instant::now() < deadline, "{hex}: still {got:?}, not {want:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    until(v1_hashes[0].clone(), None).await;
    let truncated = t.server.await_after("truncated.torrent: skipped: ", DEADLINE);
    assert!(!truncated.is_empty());
    t.server.await_after("no-info.torrent: skipped: ", DEADLINE);
    assert!(!t.server.log.iter().any(|l| l.contains("notes.txt")), "only .torrent files are read");

    // A hybrid torrent: both its v1 and its truncated v2 hash are served.
    std::fs::copy(&hybrid, torrents.join("b.torrent")).unwrap();
    until(hybrid_hashes[0].clone(), None).await;
    assert_eq!(served(&hybrid_hashes[1]).await, None);

    // Removed: unregistered again; the other stays.
    std::fs::remove_file(torrents.join("a.torrent")).unwrap();
    until(v1_hashes[0].clone(), Some("unregistered torrent")).await;
    assert_eq!(served(&hybrid_hashes[0]).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_tracker_follows_its_passkeys_file() {
    let dir = TempDir::new("access", "passkeys");
    let keys = dir.write("passkeys.txt", "alice0000000000000001  # alice\nbob00000000000000002\nnot a key\n");
    let mut t = start(&["--passkeys", &keys]);
    let base = t.url.strip_suffix("/announce").unwrap().to_owned();
    t.server.await_after("passkeys.txt:3: skipped", DEADLINE);
    let announce_at = |key: &str| {
        let url = format!("{base}/{key}/announce");
        let client = t.client.clone();
        async move {
            let req = AnnounceRequest::new(InfoHash([1; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
            match client.announce(&url, &req).await.expect("answered") {
                Reply::Ok(_) => None,
                Reply::Failure { reason, .. } => Some(reason),
            }
        }
    };
    assert_eq!(announce_at("alice0000000000000001").await, None);
    assert_eq!(announce_at("bob00000000000000002").await, None);
    assert_eq!(announce_at("mallory0000000000003").await.as_deref(), Some("unknown passkey"));
    assert!(t.announce(1).await.expect("refused").starts_with("missing passkey"), "no key in the path");

    // Revoke bob, issue carol: applies within the reload interval.
    dir.write("passkeys.txt", "alice0000000000000001\ncarol000000000000003\n");
    let deadline = Instant::now() + DEADLINE;
    while announce_at("carol000000000000003").await.is_some() {
        assert!(Instant::now() < deadline, "carol's key never became valid");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(announce_at("bob00000000000000002").await.as_deref(), Some("unknown passkey"));
    assert_eq!(announce_at("alice0000000000000001").await, None);
}

/// One announce over a WebSocket at `url`: the tracker's reply.
async fn ws_announce(url: &str) -> serde_json::Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let addr = url.trim_start_matches("ws://").split('/').next().unwrap().to_owned();
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.expect("upgrade");
    let announce = serde_json::json!({"action": "announce", "info_hash": "\u{1}".repeat(20),
        "peer_id": "-WW0208-abcdefghijkl", "left": 5, "event": "started", "numwant": 0});
    ws.send(Message::text(announce.to_string())).await.expect("send");
    loop {
        match tokio::time::timeout(DEADLINE, ws.next()).await.expect("a reply in time") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).expect("JSON"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("no reply from {url}: {other:?}"),
        }
    }
}

/// Passkeys in the upgrade's path (`/<passkey>/announce`), on the `--ws` listener and on the
/// HTTP listener's port alike: a known key announces; an unknown or missing key gets the same
/// failure reason as over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_tracker_takes_passkeys_in_the_websocket_upgrade_path() {
    let dir = TempDir::new("access", "ws-passkeys");
    let keys = dir.write("passkeys.txt", "alice0000000000000001\n");
    let mut t = start(&["--passkeys", &keys, "--ws", "127.0.0.1:0"]);
    let ws_port = t.server.await_after("listening on ws://", DEADLINE);
    let http_port = t.url.trim_start_matches("http://").trim_end_matches("/announce").to_owned();
    let http_reason = |key: Option<&str>| {
        let url = match key {
            Some(key) => t.url.replace("/announce", &format!("/{key}/announce")),
            None => t.url.clone(),
        };
        let client = t.client.clone();
        async move {
            let req = AnnounceRequest::new(InfoHash([1; 20]), PeerId(*b"-qB4650-abcdefghijkl"), 6881);
            match client.announce(&url, &req).await.expect("answered") {
                Reply::Ok(_) => None,
                Reply::Failure { reason, .. } => Some(reason),
            }
        }
    };
    let unknown = http_reason(Some("mallory0000000000003")).await.expect("HTTP refuses an unknown key");
    let missing = http_reason(None).await.expect("HTTP refuses a missing key");
    for host in [&ws_port, &http_port] {
        let reply = ws_announce(&format!("ws://{host}/alice0000000000000001/announce")).await;
        assert_eq!(reply["incomplete"], 1, "alice announces over ws://{host}: {reply}");
        assert!(reply.get("failure reason").is_none(), "{reply}");
        let reply = ws_announce(&format!("ws://{host}/mallory0000000000003/announce")).await;
        assert_eq!(reply["failure reason"].as_str(), Some(unknown.as_str()), "ws://{host}: {reply}");
        let reply = ws_announce(&format!("ws://{host}/announce")).await;
        assert_eq!(reply["failure reason"].as_str(), Some(missing.as_str()), "ws://{host}: {reply}");
    }
}

#[test]
fn operator_mistakes_exit_2_naming_them() {
    let run = |args: &[&str]| {
        let out = octotracker().args(["--http", "127.0.0.1:0"]).args(args).output().expect("runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["--access", "closed"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown access mode \"closed\""), "{err}");
    let (code, err) = run(&["--access", "allow", "--allow-list", "/nonexistent/allow.txt"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("allow list: cannot read /nonexistent/allow.txt"), "{err}");
    let (code, err) = run(&["--client-allow", ""]);
    assert_eq!(code, Some(2), "{err}");
}

/// Sends SIGHUP to the server (as `systemctl reload` does).
fn hang_up(server: &LoggedServer) {
    let status =
        std::process::Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -HUP failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_lists_at_once() {
    let dir = TempDir::new("access", "sighup");
    let list = dir.write("deny.txt", &hex(1));
    // An hour between periodic checks: only the signal can make the change seen in time.
    let mut server = LoggedServer::spawn(octotracker().args([
        "--http",
        "127.0.0.1:0",
        "--access-reload-interval",
        "3600",
        "--access",
        "deny",
        "--deny-list",
        &list,
    ]));
    let addr = server.await_after("listening on http://", DEADLINE);
    let mut t = Tracker {
        server,
        url: format!("http://{addr}/announce"),
        client: HttpTrackerClient::new().with_timeout(DEADLINE),
    };
    assert_eq!(t.announce(2).await, None);

    dir.write("deny.txt", &format!("{}\n{}\n", hex(1), hex(2)));
    hang_up(&t.server);
    t.server.await_after("SIGHUP: reloading", DEADLINE);
    t.server.await_after("access lists reloaded", DEADLINE);
    assert_eq!(t.announce(2).await.as_deref(), Some("denied torrent"));

    // A second SIGHUP with nothing changed says so, and the process keeps serving.
    hang_up(&t.server);
    t.server.await_after("access lists unchanged", DEADLINE);
    assert_eq!(t.announce(3).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_without_access_lists_changes_nothing_and_does_not_stop_the_server() {
    let mut t = start(&[]);
    assert_eq!(t.announce(1).await, None);
    hang_up(&t.server);
    t.server.await_after("SIGHUP: nothing to reload", DEADLINE);
    assert_eq!(t.announce(1).await, None);
    assert!(t.server.child.try_wait().expect("wait").is_none(), "the server is still running");
}
