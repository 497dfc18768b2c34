//! Helpers of the `postgres_*` tests: a fresh database per test, the real binary serving on
//! it, and a client for it. Every wait is bounded; servers are killed and databases dropped
//! when their guards go.

#![allow(dead_code)] // each test file uses a part

pub(crate) mod cluster;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use octotracker_client::{AnnounceReply, HttpTrackerClient, ScrapeFile};
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};
use sqlx::Connection;

/// The longest a process may take to start or stop.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// The server `scripts/test.sh` provides, as `postgres://USER@HOST:PORT/DATABASE`.
pub(crate) fn postgres_url() -> String {
    std::env::var("OCTOTRACKER_TEST_POSTGRES_URL")
        .expect("OCTOTRACKER_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL and sets it")
}

/// `url` with its database replaced by `database`.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a postgres URL ends with /DATABASE");
    format!("{base}/{database}")
}

/// A database created for one test on the server at `admin_url`, dropped (with whatever
/// connections remain) when this goes.
pub(crate) struct FreshDatabase {
    admin_url: String,
    name: String,
    /// Its URL.
    pub url: String,
}

impl FreshDatabase {
    pub(crate) async fn create(admin_url: &str) -> FreshDatabase {
        let name = format!("octotracker_test_{:016x}", fastrand::u64(..));
        let mut conn = sqlx::PgConnection::connect(admin_url).await.expect("connect to the test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        FreshDatabase { admin_url: admin_url.to_owned(), url: with_database(admin_url, &name), name }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: do the blocking work on a thread of its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropper = thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await;
                }
            });
        });
        let _ = dropper.join();
    }
}

pub(crate) use crate::common::octotracker;

/// A running `octotracker` serving on one loopback port; killed when dropped.
pub(crate) struct Server {
    child: Child,
    stderr: mpsc::Receiver<String>,
    /// The stderr lines read so far.
    pub log: Vec<String>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// `octotracker --http 127.0.0.1:0 --backend URL EXTRA…`, once it listens.
    pub(crate) fn serve(backend_url: &str, extra: &[&str]) -> Server {
        let mut child = octotracker()
            .args(["--http", "127.0.0.1:0", "--backend", backend_url])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("octotracker starts");
        let pipe = child.stderr.take().expect("piped stderr");
        let (tx, stderr) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut log = Vec::new();
        let deadline = Instant::now() + DEADLINE;
        let addr = loop {
            match stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    let addr = line.split("listening on http://").nth(1).map(|a| a.split_whitespace().next());
                    log.push(line.clone());
                    if let Some(Some(addr)) = addr {
                        break addr.parse().unwrap_or_else(|_| panic!("bad address in {line:?}"));
                    }
                }
                Err(e) => panic!("octotracker did not listen ({e:?}); stderr: {log:#?}"),
            }
        };
        Server { child, stderr, log, addr }
    }

    pub(crate) fn announce_url(&self) -> String {
        format!("http://{}/announce", self.addr)
    }

    pub(crate) fn scrape_url(&self) -> String {
        format!("http://{}/scrape", self.addr)
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit.
    pub(crate) fn stop(mut self) {
        let kill = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(kill.expect("kill runs").success(), "kill -TERM failed");
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("child can be polled") {
                assert!(status.success(), "octotracker exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "octotracker did not stop within {DEADLINE:?}");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process still runs.
    pub(crate) fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("child can be polled").is_none()
    }

    /// The stderr lines logged since the last call (without waiting).
    pub(crate) fn new_log_lines(&mut self) -> Vec<String> {
        let lines: Vec<String> = self.stderr.try_iter().collect();
        self.log.extend(lines.iter().cloned());
        lines
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A distinct info hash per `n`.
pub(crate) fn hash(n: u8) -> InfoHash {
    InfoHash([n; 20])
}

/// The peer id of the peer on `port`.
pub(crate) fn peer_id(port: u16) -> PeerId {
    let mut id = *b"-OT0001-000000000000";
    id[14..16].copy_from_slice(&port.to_be_bytes());
    PeerId(id)
}

/// An announce from 127.0.0.1:`port`.
pub(crate) fn request(info_hash: InfoHash, port: u16, seeder: bool, event: Event) -> AnnounceRequest {
    let mut req = AnnounceRequest::new(info_hash, peer_id(port), port);
    req.left = if seeder { 0 } else { 1000 };
    req.event = event;
    req.numwant = Some(200);
    req
}

/// An announce that must succeed.
pub(crate) async fn announce_ok(server: &Server, req: &AnnounceRequest) -> AnnounceReply {
    announce_to(&server.announce_url(), req).await
}

/// An announce to `url` that must succeed.
pub(crate) async fn announce_to(url: &str, req: &AnnounceRequest) -> AnnounceReply {
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    let reply = client.announce(url, req).await.expect("the tracker answers");
    let failure = reply.failure_reason().map(str::to_owned);
    reply.ok().unwrap_or_else(|| panic!("announce failed: {failure:?}"))
}

/// A scrape of one hash that must succeed.
pub(crate) async fn scrape_ok(server: &Server, info_hash: InfoHash) -> ScrapeFile {
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
    let reply = client.scrape(&server.scrape_url(), &[info_hash]).await.expect("the tracker answers");
    let reply = reply.ok().expect("scrape succeeds");
    reply.get(&info_hash).copied().unwrap_or_default()
}

/// The ports of the peers in a reply, sorted.
pub(crate) fn ports(reply: &AnnounceReply) -> Vec<u16> {
    let mut ports: Vec<u16> = reply.peers.iter().map(|p| p.addr.port()).collect();
    ports.sort_unstable();
    ports
}
