//! PostgreSQL stopped under load and started again, through the real binary: while it is down,
//! announces get the failure reason "storage unavailable, retry later" promptly and the process
//! stays up; once it is back, announces succeed again without a restart, and the swarm is intact
//! (a clean PostgreSQL shutdown keeps the unlogged peers table).
//!
//! Runs a PostgreSQL cluster of its own (it has to stop it): needs PostgreSQL's binaries, which
//! `scripts/test.sh` installs.

mod common;
mod postgres_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use octotracker_client::HttpTrackerClient;
use octotracker_core::Event;
use postgres_support::cluster::Cluster;
use postgres_support::{Server, announce_ok, hash, ports, request};

/// What the load generator saw.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    unavailable: AtomicU64,
    other: AtomicU64,
}

/// Announces in a loop (4 tasks) until `stop` is set.
fn load(url: String, tally: Arc<Tally>, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4u16)
        .map(|t| {
            let (url, tally, stop) = (url.clone(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(15));
                let mut i = 0u16;
                while !stop.load(Ordering::Relaxed) {
                    let req = request(hash(9), 50000 + t * 100 + i % 100, false, Event::None);
                    i = i.wrapping_add(1);
                    match client.announce(&url, &req).await {
                        Ok(reply) if reply.failure_reason().is_none() => tally.ok.fetch_add(1, Ordering::Relaxed),
                        Ok(reply) if reply.failure_reason() == Some("storage unavailable, retry later") => {
                            tally.unavailable.fetch_add(1, Ordering::Relaxed)
                        }
                        _ => tally.other.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect()
}

/// Polls `check` every 100 ms until it holds, for at most `within`.
async fn eventually(within: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load_fails_clearly_then_recovers() {
    let cluster = Cluster::start_new();
    // Metrics on a port the OS picked a moment ago: the outage must show in them too.
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let mut server = Server::serve(&cluster.url(), &["--postgres-pool-size", "4", "--metrics", &metrics]);
    let h = hash(1);
    announce_ok(&server, &request(h, 40001, true, Event::Started)).await;

    let (tally, stop) = (Arc::new(Tally::default()), Arc::new(AtomicBool::new(false)));
    let workers = load(server.announce_url(), tally.clone(), stop.clone());
    eventually(Duration::from_secs(10), "announces succeed under load", async || tally.ok.load(Ordering::Relaxed) > 20)
        .await;

    cluster.stop();
    let down_at = Instant::now();
    let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(15));
    let reply = client.announce(&server.announce_url(), &request(h, 40002, false, Event::None)).await;
    let reply = reply.expect("the tracker answers while PostgreSQL is down");
    assert_eq!(reply.failure_reason(), Some("storage unavailable, retry later"));
    assert!(down_at.elapsed() < Duration::from_secs(10), "the failure took {:?}", down_at.elapsed());
    assert!(server.is_running(), "octotracker stays up");
    let failed_while_down = tally.unavailable.load(Ordering::Relaxed);

    cluster.start();
    let ok_before = tally.ok.load(Ordering::Relaxed);
    eventually(Duration::from_secs(20), "announces succeed again after PostgreSQL is back", async || {
        tally.ok.load(Ordering::Relaxed) > ok_before + 20
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("load task");
    }
    eprintln!(
        "load: {} ok, {} storage unavailable, {} other",
        tally.ok.load(Ordering::Relaxed),
        tally.unavailable.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed)
    );

    let reply = announce_ok(&server, &request(h, 40003, false, Event::Started)).await;
    assert_eq!(ports(&reply), [40001], "the swarm survived the outage");
    assert!(server.is_running());
    let other = tally.other.load(Ordering::Relaxed);
    assert_eq!(other, 0, "every announce either succeeded or said storage unavailable; log: {:#?}", {
        server.new_log_lines();
        &server.log
    });
    assert!(tally.unavailable.load(Ordering::Relaxed) + failed_while_down > 0, "the load saw the outage");

    // Every announce told "storage unavailable" is counted as such, once per view.
    let body = client.get(&format!("http://{metrics}/metrics"), "").await.expect("metrics answered");
    let text = String::from_utf8_lossy(&body);
    let value = |series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
            .map_or(0, |v| v.trim().parse().unwrap_or_else(|_| panic!("bad value for {series}")))
    };
    let told = tally.unavailable.load(Ordering::Relaxed) + 1; // the load's and the single announce above
    let backend_errors = value("octotracker_backend_errors_total{operation=\"announce\",kind=\"unavailable\"}");
    assert!(backend_errors >= told, "{backend_errors} backend errors for {told} unavailable replies:\n{text}");
    assert!(value("octotracker_failures_total{reason=\"storage_unavailable\"}") >= told, "{text}");
    let unavailable = "octotracker_announces_total{event=\"none\",outcome=\"unavailable\"}";
    assert!(value(unavailable) >= 1, "{text}");
    server.stop();
}
