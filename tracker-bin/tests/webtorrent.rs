//! The WebSocket (WebTorrent) tracker with real clients from npm, against the `octotracker`
//! binary: `bittorrent-tracker`'s own client for the protocol (tests/webtorrent/protocol.mjs),
//! and a WebTorrent seeder and leecher in Node (WebRTC through node-datachannel) that transfer
//! a file with the tracker as their only peer source (tests/webtorrent/transfer.mjs).
//!
//! With a Redis backend, two tracker processes share the swarms and relay offers and answers
//! through Redis: the seeder announces to one, the leecher to the other.
//!
//! The npm packages come from tests/webtorrent/package-lock.json: `scripts/test.sh` runs
//! `npm ci --ignore-scripts` there. Without them (or without `node`) these tests fail, never skip.

mod common;
mod redis_support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use common::{LoggedServer, octotracker};

const STARTUP: Duration = Duration::from_secs(10);
const HINT: &str = "run scripts/test.sh, which runs `npm ci --ignore-scripts` in tracker-bin/tests/webtorrent";

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/webtorrent")
}

/// Fails (never skips) when node or the npm packages are missing.
fn require_node_packages() {
    let node = Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "node is not installed: {HINT}");
    for package in ["bittorrent-tracker", "webtorrent", "ws", "webrtc-polyfill"] {
        let dir = scripts().join("node_modules").join(package);
        assert!(dir.is_dir(), "the npm package {package} is missing: {HINT}");
    }
}

/// An `octotracker` serving HTTP and WebSocket on loopback ports the kernel picks, with `args`.
fn tracker(args: &[&str]) -> (LoggedServer, String, String) {
    let mut cmd = octotracker();
    cmd.args(["--http", "127.0.0.1:0", "--ws", "127.0.0.1:0"]).args(args);
    let mut server = LoggedServer::spawn(&mut cmd);
    let http = server.await_after("listening on http://", STARTUP);
    let ws = server.await_after("listening on ws://", STARTUP);
    (server, format!("http://{http}/announce"), format!("ws://{ws}"))
}

/// Runs `node SCRIPT ARGS…` in the scripts' folder, bounded by `timeout` (coreutils).
fn node(script: &str, args: &[&str], timeout: Duration) -> Output {
    Command::new("timeout")
        .arg(timeout.as_secs().to_string())
        .arg("node")
        .arg(script)
        .args(args)
        .current_dir(scripts())
        .output()
        .expect("run node")
}

fn assert_passed(what: &str, out: &Output, server: &LoggedServer) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}\ntracker log: {:#?}",
        out.status,
        server.log
    );
    println!("{stdout}");
}

/// Every check of protocol.mjs passed.
fn assert_every_check(out: &Output) {
    let passed = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("ok - ")).count();
    assert_eq!(passed, 9, "every protocol check ran");
}

#[test]
fn bittorrent_trackers_client_announces_relays_scrapes_and_leaves_on_close() {
    require_node_packages();
    let (server, http, ws) = tracker(&[]);
    let out = node("protocol.mjs", &[&ws, &http], Duration::from_secs(120));
    assert_passed("protocol.mjs", &out, &server);
    assert_every_check(&out);
}

/// The same protocol on the HTTP listener's port (`ws://HOST:PORT/announce`), as the npm
/// `bittorrent-tracker` server serves HTTP and WebSocket on one port: no `--ws` listener at all.
#[test]
fn bittorrent_trackers_client_works_on_the_http_listeners_port() {
    require_node_packages();
    let mut cmd = octotracker();
    let mut server = LoggedServer::spawn(cmd.args(["--http", "127.0.0.1:0"]));
    let http = server.await_after("listening on http://", STARTUP);
    let out = node(
        "protocol.mjs",
        &[&format!("ws://{http}/announce"), &format!("http://{http}/announce")],
        Duration::from_secs(120),
    );
    assert_passed("protocol.mjs on the HTTP port", &out, &server);
    assert_every_check(&out);
}

/// The same protocol with the seeder on process A and the leecher on process B of one Redis
/// Cluster: the leecher's offer reaches the seeder, and the seeder's answer the leecher, through
/// the cluster's sharded channels.
#[test]
fn offers_and_answers_cross_two_processes_on_a_redis_cluster() {
    require_node_packages();
    let backend = redis_support::cluster_backend();
    let prefix = redis_support::prefix("ws-cluster");
    let args = ["--backend", backend.as_str(), "--redis-prefix", prefix.as_str()];
    let (a, http_a, ws_a) = tracker(&args);
    let (b, _, ws_b) = tracker(&args);
    assert!(a.log.iter().any(|l| l.contains("relayed between processes")), "process A relays: {:#?}", a.log);
    let out = node("protocol.mjs", &[&ws_a, &http_a, &ws_b], Duration::from_secs(120));
    assert_passed("protocol.mjs across a cluster (A)", &out, &a);
    assert_every_check(&out);
    drop((a, b));
    let target = octotracker_redis::RedisTarget::parse(&backend).expect("the cluster's URLs");
    redis_support::runtime().block_on(redis_support::purge(target, &prefix, "auto"));
}

/// A WebTorrent seeder in its own Node process, killed on drop.
struct Seeder {
    child: std::process::Child,
    magnet: String,
}

impl Seeder {
    fn start(tracker: &str, file: &std::path::Path) -> Seeder {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new("node")
            .args(["transfer.mjs", "seed", tracker])
            .arg(file)
            .current_dir(scripts())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start the seeder");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if let Some(magnet) = line.strip_prefix("magnet ") {
                    let _ = tx.send(magnet.to_owned());
                }
            }
        });
        let magnet = rx.recv_timeout(Duration::from_secs(30)).expect("the seeder prints its magnet link");
        Seeder { child, magnet }
    }
}

impl Drop for Seeder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds a random file through `seed_tracker`, downloads it through `leech_tracker` in another
/// Node process, and compares the copy with the original byte for byte.
pub(crate) fn transfer(seed_tracker: &str, leech_tracker: &str, servers: &[&LoggedServer]) {
    let dir = std::env::temp_dir().join(format!("octotracker-wt-{}-{}", std::process::id(), fastrand_name()));
    std::fs::create_dir_all(dir.join("seed")).expect("temp dir");
    let original: Vec<u8> = (0..2 * 1024 * 1024 + 12_345).map(|_| random_byte()).collect();
    let file = dir.join("seed/payload.bin");
    std::fs::write(&file, &original).expect("write the payload");
    let seeder = Seeder::start(seed_tracker, &file);
    let out = node(
        "transfer.mjs",
        &["leech", leech_tracker, &seeder.magnet, dir.join("leech").to_str().unwrap()],
        Duration::from_secs(90),
    );
    drop(seeder);
    let copy = std::fs::read(dir.join("leech/payload.bin"));
    let _ = std::fs::remove_dir_all(&dir);
    let logs: Vec<_> = servers.iter().map(|s| &s.log).collect();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the leecher failed ({}):\n{stdout}\n{}\ntrackers: {logs:#?}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = copy.expect("the leecher wrote the file");
    assert_eq!(copy.len(), original.len(), "the copy's length");
    assert!(copy == original, "the copy differs from the original");
    println!("{stdout}");
}

fn random_byte() -> u8 {
    use std::cell::Cell;
    thread_local!(static STATE: Cell<u64> = Cell::new(seed()));
    STATE.with(|s| {
        // xorshift64*: enough to make a payload no tracker could guess.
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
    })
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) | 1
}

fn fastrand_name() -> u64 {
    seed()
}

#[test]
fn a_webtorrent_leecher_downloads_from_a_seeder_found_only_through_the_tracker() {
    require_node_packages();
    // Announces every 15 s: a WebRTC connection that fails (ICE on a loaded machine) is tried
    // again with the next announce's fresh offers.
    let (server, _http, ws) = tracker(&["--ws-max-interval", "15"]);
    transfer(&ws, &ws, &[&server]);
}

#[test]
fn a_leecher_on_one_process_downloads_from_a_seeder_on_another_sharing_one_redis() {
    require_node_packages();
    let url = redis_support::standalone_url();
    let prefix = redis_support::prefix("ws-relay");
    let args = ["--backend", url.as_str(), "--redis-prefix", prefix.as_str(), "--ws-max-interval", "15"];
    let (a, _, ws_a) = tracker(&args);
    let (b, _, ws_b) = tracker(&args);
    assert!(a.log.iter().any(|l| l.contains("relayed between processes")), "process A relays: {:#?}", a.log);
    transfer(&ws_a, &ws_b, &[&a, &b]);
    drop((a, b));
    let rt = redis_support::runtime();
    rt.block_on(async {
        let config = octotracker_redis::RedisConfig { prefix: prefix.clone(), ..Default::default() };
        let target = octotracker_redis::RedisTarget::Standalone(url.clone());
        let store = octotracker_redis::RedisTorrentManager::connect(&target, config).await.expect("connect");
        store.purge().await.expect("purge the test's swarms");
    });
}

/// The real transfer across two processes on a Redis Cluster: the offers and answers between the
/// two WebTorrent clients go through the cluster's sharded channels.
#[test]
fn a_leecher_on_one_process_downloads_from_a_seeder_on_another_on_one_redis_cluster() {
    require_node_packages();
    let backend = redis_support::cluster_backend();
    let prefix = redis_support::prefix("ws-cluster-transfer");
    let args = ["--backend", backend.as_str(), "--redis-prefix", prefix.as_str(), "--ws-max-interval", "15"];
    let (a, _, ws_a) = tracker(&args);
    let (b, _, ws_b) = tracker(&args);
    assert!(a.log.iter().any(|l| l.contains("relayed between processes")), "process A relays: {:#?}", a.log);
    transfer(&ws_a, &ws_b, &[&a, &b]);
    drop((a, b));
    let target = octotracker_redis::RedisTarget::parse(&backend).expect("the cluster's URLs");
    redis_support::runtime().block_on(redis_support::purge(target, &prefix, "auto"));
}
