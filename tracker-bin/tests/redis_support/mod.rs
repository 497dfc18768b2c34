//! Helpers of the `redis_*` tests: the test servers `scripts/test.sh` provides, and `octotracker`
//! processes on them; `server`: a redis-server of a test's own, to kill, pause and restart.

#![allow(dead_code)]

pub(crate) mod server;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};
use octotracker_redis::{RedisConfig, RedisTarget, RedisTorrentManager};

/// The longest a process may take to start or exit.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn standalone_url() -> String {
    std::env::var("OCTOTRACKER_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("OCTOTRACKER_TEST_REDIS_URL is not set: run scripts/test.sh, which starts a throwaway Redis")
    })
}

/// The cluster as `--backend` takes it: `redis-cluster://HOST:PORT,…`.
pub(crate) fn cluster_backend() -> String {
    let urls = std::env::var("OCTOTRACKER_TEST_REDIS_CLUSTER_URLS").unwrap_or_else(|_| {
        panic!("OCTOTRACKER_TEST_REDIS_CLUSTER_URLS is not set: run scripts/test.sh, which starts a Redis Cluster")
    });
    let nodes: Vec<&str> = urls.split(',').map(|u| u.trim().trim_start_matches("redis://")).collect();
    format!("redis-cluster://{}", nodes.join(","))
}

pub(crate) use crate::common::octotracker;

/// A running `octotracker`; killed when dropped.
pub(crate) struct Tracker {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Tracker {
    /// Serves on a free loopback port with `backend`, key `prefix` and Redis engine `engine`
    /// (`auto`, `module`, `lua`); waits (bounded) for its `listening on http://ADDR` line.
    pub(crate) fn start(backend: &str, prefix: &str, engine: &str) -> Tracker {
        Tracker::start_with(backend, prefix, engine, &[])
    }

    /// [`start`](Self::start) with more flags.
    pub(crate) fn start_with(backend: &str, prefix: &str, engine: &str, more: &[&str]) -> Tracker {
        let child = octotracker()
            .args(["--http", "127.0.0.1:0", "--backend", backend, "--redis-prefix", prefix, "--redis-engine", engine])
            .args(more)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("octotracker starts");
        // Owned by a `Tracker` at once, so that it is killed and reaped on every path.
        let mut tracker = Tracker { child, addr: SocketAddr::from(([0, 0, 0, 0], 0)) };
        let (tx, rx) = mpsc::channel();
        let stderr = tracker.child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + DEADLINE;
        let mut log = Vec::new();
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        tracker.addr = rest.split_whitespace().next().unwrap_or_default().parse().expect("an address");
                        // Keep draining stderr so the process never blocks on a full pipe.
                        std::thread::spawn(move || while rx.recv().is_ok() {});
                        return tracker;
                    }
                    log.push(line);
                }
                Err(e) => panic!("octotracker did not listen ({e:?}): {log:#?}"),
            }
        }
    }

    pub(crate) fn announce_url(&self) -> String {
        format!("http://{}/announce", self.addr)
    }

    pub(crate) fn scrape_url(&self) -> String {
        format!("http://{}/scrape", self.addr)
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

pub(crate) fn prefix(what: &str) -> String {
    format!("octotest:e2e-{what}:{:016x}", fastrand::u64(..))
}

/// An announce from 127.0.0.1:`port`, a seeder when `seeder`.
pub(crate) fn request(hash: InfoHash, port: u16, seeder: bool) -> AnnounceRequest {
    let mut id = *b"-OT0001-000000000000";
    id[14..16].copy_from_slice(&port.to_be_bytes());
    let mut req = AnnounceRequest::new(hash, PeerId(id), port);
    req.left = if seeder { 0 } else { 1000 };
    req.event = Event::Started;
    req.numwant = Some(50);
    req
}

/// (complete, incomplete, downloaded) of `hash` scraped from `tracker`.
pub(crate) async fn scrape(client: &HttpTrackerClient, tracker: &Tracker, hash: InfoHash) -> (i64, i64, i64) {
    let reply = client.scrape(&tracker.scrape_url(), &[hash]).await.expect("scrape answers");
    let Reply::Ok(reply) = reply else { panic!("scrape failed: {reply:?}") };
    let file = reply.files.iter().find(|(h, _)| *h == hash).map(|(_, f)| *f).unwrap_or_default();
    (file.complete, file.incomplete, file.downloaded)
}

/// Deletes the keys a test left under `prefix`.
pub(crate) async fn purge(target: RedisTarget, prefix: &str, engine: &str) {
    let engine = engine.parse().expect("an engine");
    let config = RedisConfig { prefix: prefix.to_owned(), engine, ..RedisConfig::default() };
    let store = RedisTorrentManager::connect(&target, config).await.expect("redis for the cleanup");
    store.purge().await.expect("purge");
}
