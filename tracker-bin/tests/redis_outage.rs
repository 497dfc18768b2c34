//! Redis stopped under a running `octotracker`: announces get the failure reason "storage
//! unavailable, retry later" promptly, the process stays up, and once redis-server is started
//! again on the same port the same process serves again within seconds, without a restart.
//!
//! The test runs a redis-server of its own on a free loopback port (`redis-server` must be on
//! PATH: `scripts/test.sh` installs it), so it can kill it.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::InfoHash;
use redis_support::server::{Persistence, RedisServer};
use redis_support::{Tracker, prefix, request, runtime};

mod common;
mod redis_support;

#[test]
fn a_redis_outage_gives_a_failure_reason_and_the_tracker_recovers_by_itself_lua() {
    outage("lua");
}

#[test]
fn a_redis_outage_gives_a_failure_reason_and_the_tracker_recovers_by_itself_module() {
    outage("module");
}

fn outage(engine: &str) {
    let module = engine == "module";
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redis = RedisServer::start(port, &Persistence::None, module);
    let mut tracker = Tracker::start(&format!("redis://127.0.0.1:{port}/0"), &prefix("outage"), engine);
    runtime().block_on(async {
        let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(15));
        let url = tracker.announce_url();
        let hash = InfoHash([0x0f; 20]);
        let reply = client.announce(&url, &request(hash, 7001, true)).await.expect("the tracker answers");
        assert!(matches!(reply, Reply::Ok(_)), "while redis is up: {reply:?}");

        drop(redis);
        for n in 0..5u16 {
            let started = Instant::now();
            let reply = client.announce(&url, &request(hash, 7100 + n, false)).await.expect("the tracker answers");
            assert_eq!(reply.failure_reason(), Some("storage unavailable, retry later"), "announce {n}: {reply:?}");
            assert!(started.elapsed() < Duration::from_secs(5), "announce {n} took {:?}", started.elapsed());
        }

        let _redis = RedisServer::start(port, &Persistence::None, module);
        let back = Instant::now();
        loop {
            let reply = client.announce(&url, &request(hash, 7002, false)).await.expect("the tracker answers");
            match reply {
                Reply::Ok(r) => {
                    assert_eq!((r.complete, r.incomplete), (Some(0), Some(1)), "the new redis starts empty");
                    break;
                }
                Reply::Failure { reason, .. } => {
                    assert!(back.elapsed() < Duration::from_secs(10), "still failing 10 s after restart: {reason}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    assert!(tracker.child.try_wait().expect("pollable").is_none(), "the tracker process stayed up");
    tracker.kill();
}
