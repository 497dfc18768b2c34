//! A Redis Cluster master going away and coming back: the swarms on that master fail quickly
//! with `StorageError::Unavailable` while the other masters keep serving theirs; once the node
//! is started again (same port, same cluster config file) every swarm works again, with the
//! same store.
//!
//! The test builds a 3-master cluster of its own (`redis-server` and `redis-cli` must be on
//! PATH: `scripts/test.sh` installs them), so it can kill one of its nodes. The drill runs on
//! both engines (the module from `OCTOTRACKER_TEST_REDIS_MODULE` on every node for the module
//! engine); a cluster where one node lacks the module is refused under `--redis-engine module`.

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use octotracker_core::testing::peers::{info_hash, leecher, seeder, v4};
use octotracker_core::{StorageError, TorrentManager};
use octotracker_redis::{RedisConfig, RedisEngine, RedisTarget, RedisTorrentManager};

/// Three cluster nodes and their directory; everything is stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
    /// Which nodes load the module.
    modules: [bool; 3],
}

/// A port that is free, below 55535, with port + 10000 (the cluster bus) free too.
fn cluster_port(taken: &[u16]) -> u16 {
    let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
    loop {
        let p = fastrand::u16(20_000..45_000);
        if free(p) && free(p + 10_000) && taken.iter().all(|&t| t != p && t.abs_diff(p) != 10_000) {
            return p;
        }
    }
}

/// Polls `check` every 50 ms for at most `within`.
fn wait_until(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Cluster {
    fn start(modules: [bool; 3]) -> Cluster {
        let dir = std::env::temp_dir().join(format!("octotracker-cluster-outage-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ports = Vec::new();
        for _ in 0..3 {
            ports.push(cluster_port(&ports));
        }
        let mut cluster = Cluster { dir, ports: ports.clone(), nodes: Vec::new(), modules };
        for i in 0..3 {
            let node = cluster.spawn(i);
            cluster.nodes.push(Some(node));
        }
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli runs: run scripts/test.sh, which installs it");
        assert!(created.success(), "redis-cli --cluster create failed");
        for &port in &ports {
            wait_until(Duration::from_secs(30), "cluster_state:ok", || cluster_ok(port));
        }
        cluster
    }

    /// Starts node `i` (again) and waits until it listens.
    fn spawn(&self, i: usize) -> Child {
        let port = self.ports[i];
        let conf = self.dir.join(format!("nodes-{port}.conf"));
        let mut cmd = Command::new("redis-server");
        if self.modules[i] {
            cmd.arg("--loadmodule").arg(support::server::module_path());
        }
        let child = cmd
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "5000", "--cluster-config-file"])
            .arg(&conf)
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts: run scripts/test.sh, which installs it");
        wait_until(Duration::from_secs(10), "the node listens", || TcpStream::connect(("127.0.0.1", port)).is_ok());
        child
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            let _ = node.kill();
            let _ = node.wait();
        }
    }

    fn target(&self) -> RedisTarget {
        RedisTarget::Cluster(self.ports.iter().map(|p| format!("redis://127.0.0.1:{p}")).collect())
    }
}

fn cluster_ok(port: u16) -> bool {
    Command::new("redis-cli")
        .args(["-p", &port.to_string(), "cluster", "info"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_master_fails_only_its_swarms_quickly_and_the_store_recovers_when_it_returns_lua() {
    dead_master_drill(RedisEngine::Lua).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_master_fails_only_its_swarms_quickly_and_the_store_recovers_when_it_returns_module() {
    dead_master_drill(RedisEngine::Module).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_the_module_is_named_when_the_module_engine_is_asked_for() {
    let cluster = Cluster::start([true, false, true]);
    let missing = cluster.ports[1];
    for engine in [RedisEngine::Module, RedisEngine::Auto] {
        let config = RedisConfig { engine, ..RedisConfig::default() };
        let refused = RedisTorrentManager::connect(&cluster.target(), config).await.unwrap_err().to_string();
        assert!(refused.contains(&format!("node 127.0.0.1:{missing} without the octotracker module")), "{refused}");
        for port in [cluster.ports[0], cluster.ports[2]] {
            assert!(!refused.contains(&port.to_string()), "{refused}");
        }
    }
    let config = RedisConfig { engine: RedisEngine::Lua, ..RedisConfig::default() };
    let store = RedisTorrentManager::connect(&cluster.target(), config).await.expect("lua works on any node");
    assert_eq!(store.engine(), RedisEngine::Lua);
}

async fn dead_master_drill(engine: RedisEngine) {
    let module = engine == RedisEngine::Module;
    let mut cluster = Cluster::start([module; 3]);
    let config = RedisConfig { engine, ..RedisConfig::default() };
    let bound = config.response_timeout + config.connect_timeout + Duration::from_secs(1);
    let store = RedisTorrentManager::connect(&cluster.target(), config).await.expect("the cluster is up");
    assert_eq!(store.engine(), engine);
    let swarms: Vec<_> = (1..=30).map(info_hash).collect();
    for &h in &swarms {
        store.announce(&seeder(h, v4(1)), 50).await.expect("an announce while every node is up");
    }

    cluster.kill(0);
    let (mut failed, mut served) = (0, 0);
    for &h in &swarms {
        let started = Instant::now();
        match store.announce(&leecher(h, v4(2)), 50).await {
            Ok(reply) => {
                assert_eq!(reply.peers.len(), 1, "a live master still hands out its peers");
                served += 1;
            }
            Err(StorageError::Unavailable(_)) => failed += 1,
            Err(e) => panic!("not an unavailability: {e}"),
        }
        assert!(started.elapsed() < bound, "an announce took {:?} with a master down", started.elapsed());
    }
    assert!(
        failed > 0 && served > 0,
        "swarms on the dead master fail, the others work: {failed} failed, {served} served"
    );

    let node = cluster.spawn(0);
    cluster.nodes[0] = Some(node);
    let back = Instant::now();
    for &h in &swarms {
        loop {
            match store.announce(&leecher(h, v4(3)), 50).await {
                Ok(_) => break,
                Err(e) => {
                    assert!(back.elapsed() < Duration::from_secs(15), "still failing 15 s after the restart: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    eprintln!(
        "{failed} of 30 swarms failed while the master was down; all back {:?} after its restart",
        back.elapsed()
    );
}
