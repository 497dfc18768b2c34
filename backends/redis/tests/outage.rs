//! Redis going away and coming back: while it is down every operation fails quickly with
//! `StorageError::Unavailable` (peers read "storage unavailable, retry later") and nothing
//! panics; once it is back on the same port, the same store works again within seconds.
//!
//! The test runs a redis-server of its own (`redis-server` must be on PATH: `scripts/test.sh`
//! installs it) on a free loopback port, so it can kill it. Each drill runs on both engines: the
//! Lua scripts, and the module (loaded from `OCTOTRACKER_TEST_REDIS_MODULE`).

mod support;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use octotracker_core::testing::peers::{info_hash, leecher, seeder, v4};
use octotracker_core::{StorageError, TorrentManager};
use octotracker_redis::{RedisConfig, RedisEngine, RedisTarget, RedisTorrentManager};

/// A redis-server child process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    module: bool,
}

impl Server {
    /// Starts redis-server on `port` (0: a free one), with the module loaded or not, and waits
    /// (bounded) until it accepts connections.
    fn start(port: u16, module: bool) -> Server {
        let port =
            if port == 0 { TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port() } else { port };
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        if module {
            cmd.arg("--loadmodule").arg(support::server::module_path());
        }
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| {
                panic!("redis-server does not start ({e}): run scripts/test.sh, which installs it")
            });
        let server = Server { child, port, module };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server on port {port} did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The store's configuration for `engine`.
fn config(what: &str, engine: RedisEngine) -> RedisConfig {
    RedisConfig { prefix: format!("octotest:{what}:{:x}", fastrand::u64(..)), engine, ..RedisConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_gives_unavailable_quickly_and_the_store_recovers_by_itself_lua() {
    outage_drill(RedisEngine::Lua).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_gives_unavailable_quickly_and_the_store_recovers_by_itself_module() {
    outage_drill(RedisEngine::Module).await;
}

async fn outage_drill(engine: RedisEngine) {
    let module = engine == RedisEngine::Module;
    let server = Server::start(0, module);
    let config = config("outage", engine);
    // The longest an operation may take while Redis is down: its bound, plus scheduling slack.
    let bound = config.response_timeout + config.connect_timeout + Duration::from_secs(1);
    let target = RedisTarget::parse(&server.url()).unwrap();
    let store = RedisTorrentManager::connect(&target, config).await.expect("redis is up");
    assert_eq!(store.engine(), engine);
    let h = info_hash(1);
    store.announce(&seeder(h, v4(1)), 50).await.expect("an announce while redis is up");

    let server_module = server.module;
    let port = server.kill();
    for n in 0..5 {
        let started = Instant::now();
        let result = store.announce(&leecher(h, v4(2)), 50).await;
        assert!(matches!(result, Err(StorageError::Unavailable(_))), "announce {n} while down: {result:?}");
        assert!(started.elapsed() < bound, "announce {n} took {:?} while redis was down", started.elapsed());
    }
    let started = Instant::now();
    let scrape = store.scrape(&[h]).await;
    assert!(matches!(scrape, Err(StorageError::Unavailable(_))), "scrape while down: {scrape:?}");
    assert!(matches!(store.expire(octotracker_core::testing::peers::T0).await, Err(StorageError::Unavailable(_))));
    assert!(started.elapsed() < bound * 2, "scrape and expire took {:?} while down", started.elapsed());

    let _server = Server::start(port, server_module);
    let back = Instant::now();
    let reply = loop {
        match store.announce(&leecher(h, v4(2)), 50).await {
            Ok(reply) => break reply,
            Err(StorageError::Unavailable(e)) => {
                assert!(back.elapsed() < Duration::from_secs(10), "still unavailable 10 s after restart: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("after the restart: {e}"),
        }
    };
    // The restarted server kept nothing (no persistence): the swarm starts again from this peer.
    assert_eq!((reply.stats.complete, reply.stats.incomplete), (0, 1));
    let again = store.announce(&seeder(h, v4(1)), 50).await.expect("announces keep working");
    assert_eq!(again.peers.len(), 1);
    eprintln!("recovered {:?} after the restart", back.elapsed());
    store.purge().await.expect("cleanup");
}

/// A Redis that accepts connections but never answers (a stopped process): operations fail with
/// `Unavailable` once their bound passes, however many are waiting, and succeed again once the
/// process continues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_gives_unavailable_within_the_bound_and_the_store_recovers_lua() {
    hung_drill(RedisEngine::Lua).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_gives_unavailable_within_the_bound_and_the_store_recovers_module() {
    hung_drill(RedisEngine::Module).await;
}

async fn hung_drill(engine: RedisEngine) {
    let server = Server::start(0, engine == RedisEngine::Module);
    let config = config("hung", engine);
    let bound = config.response_timeout + config.connect_timeout + Duration::from_secs(1);
    let store = std::sync::Arc::new(
        RedisTorrentManager::connect(&RedisTarget::parse(&server.url()).unwrap(), config).await.expect("redis is up"),
    );
    let h = info_hash(1);
    store.announce(&seeder(h, v4(1)), 50).await.expect("an announce while redis is up");

    let signal = |sig: &str| {
        let status = Command::new("kill").args([sig, &server.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success(), "kill {sig}");
    };
    signal("-STOP");
    let started = Instant::now();
    let waiting: Vec<_> = (0..100u32)
        .map(|n| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.announce(&leecher(h, v4(10 + n)), 50).await })
        })
        .collect();
    for task in waiting {
        let result = task.await.expect("no panic");
        assert!(matches!(result, Err(StorageError::Unavailable(_))), "while hung: {result:?}");
    }
    let elapsed = started.elapsed();
    signal("-CONT");
    assert!(elapsed < bound, "100 announces to a hung redis took {elapsed:?}, more than {bound:?}");

    let back = Instant::now();
    loop {
        match store.announce(&leecher(h, v4(2)), 50).await {
            Ok(reply) => {
                assert!(reply.stats.complete == 1, "the seeder is still there: {:?}", reply.stats);
                break;
            }
            Err(e) => {
                assert!(back.elapsed() < Duration::from_secs(10), "still failing 10 s after SIGCONT: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    store.purge().await.expect("cleanup");
}
