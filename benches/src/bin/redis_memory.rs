//! Redis memory per stored peer, for one engine: fills an empty key prefix with `--peers` peers
//! over `--torrents` swarms (the load generator's population: Zipf popularity, exponent
//! `--zipf`, 0 for uniform), one `started` announce each (a fifth of them seeders), 64 in
//! flight, then prints one JSON object: the engine, peers and swarms stored (from the store's
//! totals), Redis `used_memory` before and after, and bytes per peer. `benches/redis_memory.sh`
//! runs it for both engines on fresh servers.
//!
//! ```text
//! redis_memory redis://127.0.0.1:7250/0 lua|module [--peers 1000000] [--torrents 100000] [--zipf 1.0]
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use octotracker_client::load::{Population, peer_id};
use octotracker_core::{Event, PeerAnnounce, TorrentManager, UnixTime};
use octotracker_redis::{RedisConfig, RedisTarget, RedisTorrentManager};

/// Announces in flight.
const IN_FLIGHT: usize = 64;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: not a number: {v}")))
        .unwrap_or(default)
}

/// `used_memory` of the server.
async fn used_memory(url: &str) -> u64 {
    let client = redis::Client::open(url).expect("a redis URL");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis answers");
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut conn).await.expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(engine)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: redis_memory URL lua|module [--peers N] [--torrents T] [--zipf X]");
        std::process::exit(2);
    };
    let peers: u32 = arg(&args, "--peers", 1_000_000);
    let torrents: u32 = arg(&args, "--torrents", 100_000);
    let zipf: f64 = arg(&args, "--zipf", 1.0);
    let engine = engine.parse().unwrap_or_else(|e| panic!("{e}"));
    let config = RedisConfig {
        prefix: "memory-bench".into(),
        peer_timeout: Duration::from_secs(3600),
        engine,
        ..RedisConfig::default()
    };
    let target = RedisTarget::parse(url).expect("a redis:// URL");
    let store = Arc::new(RedisTorrentManager::connect(&target, config).await.expect("connect"));
    let population = Arc::new(Population::build(torrents, peers, zipf, 1).expect("a population"));
    let before = used_memory(url).await;
    let next = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (store, population, next) = (Arc::clone(&store), Arc::clone(&population), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= peers {
                        break;
                    }
                    let p = &population.peers[i as usize];
                    let a = PeerAnnounce {
                        info_hash: population.info_hashes[p.torrent as usize],
                        addr: SocketAddr::new(p.fake_ip().into(), p.port),
                        peer_id: peer_id(p.index, 0),
                        event: Event::Started,
                        seeder: i % 5 == 0,
                        now: UnixTime(1_700_000_000),
                    };
                    store.announce(&a, 0).await.expect("announce");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a task");
    }
    let after = used_memory(url).await;
    let totals = store.totals().await.expect("totals");
    let stored = totals.seeders + totals.leechers;
    println!(
        "{{\"engine\":\"{}\",\"peers\":{stored},\"swarms\":{},\"used_memory_before\":{before},\
         \"used_memory_after\":{after},\"bytes_per_peer\":{:.1}}}",
        store.engine(),
        totals.torrents,
        (after - before) as f64 / stored as f64
    );
    store.purge().await.expect("purge");
}
