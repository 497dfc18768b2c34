//! Several `octotracker` processes sharing one swarm state in Redis (`--backend redis://…`) and
//! in a 3-master Redis Cluster (`--backend redis-cluster://…`): peers announced to one process
//! are handed out by the other, scrapes agree, concurrent announces spread over both processes
//! give exact counts, and killing a process loses nothing. Plus: an unreachable Redis stops the
//! binary at startup with exit code 1.
//!
//! The servers come from `scripts/test.sh` (`OCTOTRACKER_TEST_REDIS_URL`,
//! `OCTOTRACKER_TEST_REDIS_CLUSTER_URLS`). Each test uses its own key prefix and deletes its keys
//! at the end. All traffic stays on 127.0.0.1; every wait is bounded.

use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::InfoHash;
use octotracker_redis::RedisTarget;
use redis_support::{Tracker, cluster_backend, octotracker, prefix, purge, request, runtime, scrape, standalone_url};

mod common;
mod redis_support;

/// Two trackers on `backend`: a peer announced to one is handed out by the other, both scrape
/// the same; then 2,000 concurrent announces alternating between them give exact counts, and
/// killing one tracker loses nothing.
fn two_trackers_share_one_state(backend: &str, target: RedisTarget, what: &str, engine: &str) {
    let prefix = prefix(what);
    let mut a = Tracker::start(backend, &prefix, engine);
    let b = Tracker::start(backend, &prefix, engine);
    runtime().block_on(async {
        let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
        let hash = InfoHash([0x5e; 20]);

        // A seeder on A is handed to a leecher on B, and the reverse.
        let reply = client.announce(&a.announce_url(), &request(hash, 7001, true)).await.unwrap();
        assert!(reply.ok().is_some_and(|r| r.peers.is_empty()), "the first peer gets no peers");
        let reply = client.announce(&b.announce_url(), &request(hash, 7002, false)).await.unwrap();
        let Reply::Ok(reply) = reply else { panic!("{reply:?}") };
        let got: Vec<SocketAddr> = reply.peers.iter().map(|p| p.addr).collect();
        assert_eq!(got, vec!["127.0.0.1:7001".parse::<SocketAddr>().unwrap()], "B hands out A's seeder");
        assert_eq!((reply.complete, reply.incomplete), (Some(1), Some(1)));
        let reply = client.announce(&a.announce_url(), &request(hash, 7001, true)).await.unwrap().ok().unwrap();
        assert_eq!(
            reply.peers.iter().map(|p| p.addr.port()).collect::<Vec<_>>(),
            vec![7002],
            "A hands out B's leecher"
        );
        assert_eq!(scrape(&client, &a, hash).await, (1, 1, 0));
        assert_eq!(scrape(&client, &b, hash).await, (1, 1, 0), "both trackers scrape the same");

        // 2,000 announces from 50 tasks at once, alternating between the trackers; one in four
        // is a seeder.
        let crowd = InfoHash([0xc0; 20]);
        let urls = [a.announce_url(), b.announce_url()];
        let mut tasks = Vec::new();
        for t in 0..50u16 {
            let (client, urls) = (client.clone(), urls.clone());
            tasks.push(tokio::spawn(async move {
                for k in 0..40u16 {
                    let n = t * 40 + k;
                    let req = request(crowd, 10_000 + n, n % 4 == 0);
                    let reply = client.announce(&urls[usize::from(n % 2)], &req).await;
                    match reply {
                        Ok(Reply::Ok(r)) => assert!(r.peers.len() <= 50),
                        other => panic!("announce {n}: {other:?}"),
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("an announcing task");
        }
        assert_eq!(scrape(&client, &a, crowd).await, (500, 1500, 0), "exact counts on A");
        assert_eq!(scrape(&client, &b, crowd).await, (500, 1500, 0), "exact counts on B");

        // Killing A loses nothing: B still sees every peer, and hands them out.
        a.kill();
        assert_eq!(scrape(&client, &b, crowd).await, (500, 1500, 0), "after A was killed");
        let reply = client.announce(&b.announce_url(), &request(crowd, 7003, false)).await.unwrap().ok().unwrap();
        assert_eq!(reply.peers.len(), 50);
        assert_eq!((reply.complete, reply.incomplete), (Some(500), Some(1501)));

        purge(target, &prefix, engine).await;
    });
}

#[test]
fn two_trackers_on_one_redis_share_swarms_exactly_lua() {
    let url = standalone_url();
    two_trackers_share_one_state(&url, RedisTarget::parse(&url).unwrap(), "standalone", "lua");
}

#[test]
fn two_trackers_on_one_redis_share_swarms_exactly_module() {
    let url = standalone_url();
    two_trackers_share_one_state(&url, RedisTarget::parse(&url).unwrap(), "standalone", "module");
}

#[test]
fn two_trackers_on_a_redis_cluster_share_swarms_exactly_lua() {
    let backend = cluster_backend();
    two_trackers_share_one_state(&backend, RedisTarget::parse(&backend).unwrap(), "cluster", "lua");
}

#[test]
fn two_trackers_on_a_redis_cluster_share_swarms_exactly_module() {
    let backend = cluster_backend();
    two_trackers_share_one_state(&backend, RedisTarget::parse(&backend).unwrap(), "cluster", "module");
}

/// An unreachable Redis (a free port nobody listens on) stops the binary at startup, promptly,
/// with exit code 1 and a message naming the backend.
#[test]
fn an_unreachable_redis_stops_startup_with_exit_code_1() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for backend in [format!("redis://127.0.0.1:{port}/0"), format!("redis-cluster://127.0.0.1:{port}")] {
        let started = Instant::now();
        let out = octotracker()
            .args(["--http", "127.0.0.1:0", "--backend", &backend])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("octotracker starts")
            .wait_with_output()
            .expect("octotracker exits");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{backend}: {stderr}");
        assert!(stderr.contains(&backend) && stderr.contains("unavailable"), "{backend}: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "{backend}: took {:?}", started.elapsed());
    }
}
