//! Announces per second through the storage trait: PostgreSQL and memory, same generator, same
//! run. No HTTP: this is what the store itself sustains.
//!
//! ```text
//! cargo run --release -p octotracker-postgres --example announce_rate -- \
//!     postgres://postgres@127.0.0.1:5432/postgres [TASKS=64] [SECONDS=10] [POOL=16]
//! ```
//!
//! Population: 5,000 swarms × 20 peers (IPv4), filled first; then TASKS tasks announce random
//! peers of random swarms (numwant 50, one in 20 a `completed`) for SECONDS each. Prints one
//! markdown row per store. Uses (and empties) the schema `octotracker_bench`.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, TorrentManager, UnixTime};
use octotracker_memory::{MemoryConfig, MemoryTorrentManager};
use octotracker_postgres::{PostgresConfig, PostgresTorrentManager};

const SWARMS: u32 = 5_000;
const PEERS_PER_SWARM: u32 = 20;

fn announce(swarm: u32, peer: u32, event: Event) -> PeerAnnounce {
    let mut hash = [0x5a; 20];
    hash[16..].copy_from_slice(&swarm.to_be_bytes());
    let ip = Ipv4Addr::from(0x0a00_0000 + swarm * PEERS_PER_SWARM + peer);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    PeerAnnounce {
        info_hash: InfoHash(hash),
        addr: SocketAddr::V4(SocketAddrV4::new(ip, 6881)),
        peer_id: PeerId([b'p'; 20]),
        event,
        seeder: peer.is_multiple_of(4) || event == Event::Completed,
        now: UnixTime(now),
    }
}

/// Runs `tasks` tasks announcing for `secs` seconds: announces per second and errors.
async fn measure(store: Arc<dyn TorrentManager>, tasks: usize, secs: u64) -> (f64, u64) {
    // Fill.
    let fill: Vec<_> = (0..tasks as u32)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for s in (t..SWARMS).step_by(tasks) {
                    for p in 0..PEERS_PER_SWARM {
                        let _ = store.announce(&announce(s, p, Event::Started), 0).await;
                    }
                }
            })
        })
        .collect();
    let filling = Instant::now();
    for f in fill {
        f.await.expect("fill task");
    }
    eprintln!("filled {} peers in {:?}", SWARMS * PEERS_PER_SWARM, filling.elapsed());
    let (done, errors, stop) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let started = Instant::now();
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (store, done, errors, stop) = (store.clone(), done.clone(), errors.clone(), stop.clone());
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::new();
                while !stop.load(Ordering::Relaxed) {
                    let event = if rng.u32(..20) == 0 { Event::Completed } else { Event::None };
                    let a = announce(rng.u32(..SWARMS), rng.u32(..PEERS_PER_SWARM), event);
                    match store.announce(&a, 50).await {
                        Ok(_) => done.fetch_add(1, Ordering::Relaxed),
                        Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                    };
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    // A thread, not a tokio timer: busy workers (the memory store never waits) starve the timer.
    let stopper = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(secs));
        stopper.store(true, Ordering::Relaxed);
    });
    for w in workers {
        w.await.expect("worker");
    }
    (done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(), errors.load(Ordering::Relaxed))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().cloned().expect("usage: announce_rate POSTGRES_URL [TASKS] [SECONDS] [POOL]");
    let tasks: usize = args.get(1).map_or(64, |a| a.parse().expect("TASKS"));
    let secs: u64 = args.get(2).map_or(10, |a| a.parse().expect("SECONDS"));
    let pool: u32 = args.get(3).map_or(16, |a| a.parse().expect("POOL"));

    let mut config = PostgresConfig::new(url);
    config.pool_size = pool;
    config.schema = Some("octotracker_bench".into());
    let postgres = PostgresTorrentManager::connect(&config).await.expect("connect");
    sqlx::raw_sql("TRUNCATE peers, torrents").execute(postgres.pool()).await.expect("truncate");
    let memory = MemoryTorrentManager::new(MemoryConfig::default());

    println!("| store | tasks | pool | announces/s | errors |");
    println!("|---|---|---|---|---|");
    let stores: [(&str, Arc<dyn TorrentManager>); 2] = [("memory", Arc::new(memory)), ("postgres", Arc::new(postgres))];
    for (name, store) in stores {
        let (rate, errors) = measure(store, tasks, secs).await;
        println!("| {name} | {tasks} | {pool} | {rate:.0} | {errors} |");
    }
}
