//! `--metrics ADDR`, black box: the real binary with a tracker listener and a metrics listener
//! on 127.0.0.1:0. `/metrics` is parsed as Prometheus text and its counters and gauges must move
//! exactly with the requests sent; `/stats` must summarise the same traffic; neither endpoint
//! may answer on the tracker's port.

use std::time::Duration;

use octotracker_client::HttpTrackerClient;
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};
use serde_json::Value;

mod common;

use common::{LoggedServer, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);

struct Tracker {
    _server: LoggedServer,
    announce_url: String,
    metrics: String,
    client: HttpTrackerClient,
}

fn start(extra: &[&str]) -> Tracker {
    let mut server =
        LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]).args(extra));
    let http = server.await_after("listening on http://", DEADLINE);
    let metrics_url = server.await_after("metrics on ", DEADLINE);
    let metrics = metrics_url.strip_suffix("/metrics").expect("the metrics line names /metrics").to_owned();
    Tracker {
        _server: server,
        announce_url: format!("http://{http}/announce"),
        metrics,
        client: HttpTrackerClient::new().with_timeout(Duration::from_secs(10)),
    }
}

/// The value of one sample, as printed (`name{labels}`); 0 when the series is absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("bad value for {series}: {v:?}")))
        .unwrap_or(0.0)
}

impl Tracker {
    async fn get(&self, url: &str) -> String {
        let body = self.client.get(url, "").await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        String::from_utf8(body.to_vec()).expect("utf-8")
    }

    async fn scrape_metrics(&self) -> String {
        self.get(&format!("{}/metrics", self.metrics)).await
    }

    async fn announce(&self, hash: u8, peer: u8, left: u64, event: Event) {
        let mut req = AnnounceRequest::new(InfoHash([hash; 20]), PeerId([peer; 20]), 6000 + u16::from(peer));
        req.left = left;
        req.event = event;
        let reply = self.client.announce(&self.announce_url, &req).await.expect("the tracker answers");
        assert!(reply.failure_reason().is_none(), "{:?}", reply.failure_reason());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_and_gauges_move_exactly_with_the_traffic() {
    let t = start(&[]);
    let before = t.scrape_metrics().await;
    assert!(before.contains("# TYPE octotracker_announces counter"), "{before}");
    let delta = |after: &str, series: &str| sample(after, series) - sample(&before, series);

    for peer in 1..=5 {
        t.announce(1, peer, 1_000, Event::Started).await;
    }
    for peer in 6..=7 {
        t.announce(2, peer, 0, Event::Started).await;
    }
    t.announce(1, 1, 0, Event::Completed).await;
    t.announce(1, 2, 1_000, Event::None).await;
    // A query without info_hash: refused before the engine.
    let refused = t.client.get(&t.announce_url, "peer_id=-OT0001-abcdefghijkl&port=6881").await.unwrap();
    assert!(String::from_utf8_lossy(&refused).contains("missing info_hash"));
    let scrape_url = octotracker_client::scrape_url(&t.announce_url).unwrap();
    t.client.scrape(&scrape_url, &[InfoHash([1; 20]), InfoHash([2; 20]), InfoHash([3; 20])]).await.unwrap();

    let after = t.scrape_metrics().await;
    assert_eq!(delta(&after, "octotracker_announces_total{event=\"started\",outcome=\"ok\"}"), 7.0);
    assert_eq!(delta(&after, "octotracker_announces_total{event=\"completed\",outcome=\"ok\"}"), 1.0);
    assert_eq!(delta(&after, "octotracker_announces_total{event=\"none\",outcome=\"ok\"}"), 1.0);
    assert_eq!(delta(&after, "octotracker_announces_total{event=\"unknown\",outcome=\"refused\"}"), 1.0);
    assert_eq!(delta(&after, "octotracker_failures_total{reason=\"missing_parameter\"}"), 1.0);
    assert_eq!(delta(&after, "octotracker_scrapes_total{outcome=\"ok\"}"), 1.0);
    assert_eq!(delta(&after, "octotracker_scraped_hashes_total"), 3.0);
    let http_announces = "octotracker_request_duration_seconds_count{frontend=\"http\",request=\"announce\"}";
    assert_eq!(delta(&after, http_announces), 10.0, "every announce, refused or not, is timed");
    let backend_announces = "octotracker_backend_duration_seconds_count{operation=\"announce\"}";
    assert_eq!(delta(&after, backend_announces), 9.0, "the refused one never reached the storage");
    // Swarm 1: peer 1 seeding, peers 2–5 leeching; swarm 2: two seeders.
    assert_eq!(sample(&after, "octotracker_torrents"), 2.0);
    assert_eq!(sample(&after, "octotracker_seeders"), 3.0);
    assert_eq!(sample(&after, "octotracker_leechers"), 4.0);
    assert_eq!(sample(&after, "octotracker_peers"), 7.0);

    t.announce(1, 3, 1_000, Event::Stopped).await;
    let last = t.scrape_metrics().await;
    assert_eq!(sample(&last, "octotracker_leechers"), 3.0, "a stopped peer leaves the gauge at once");
    assert_eq!(delta(&last, "octotracker_announces_total{event=\"stopped\",outcome=\"ok\"}"), 1.0);

    let stats: Value = serde_json::from_str(&t.get(&format!("{}/stats", t.metrics)).await).expect("JSON");
    assert_eq!(stats["torrents"], 2);
    assert_eq!(stats["peers"], 6);
    assert_eq!(stats["seeders"], 3);
    assert_eq!(stats["leechers"], 3);
    let rate = stats["announces_per_second"].as_f64().expect("a number");
    assert!((rate - 11.0 / 60.0).abs() < 1e-9, "11 announces within the last minute: {rate} ({stats})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_port_serves_neither_endpoint() {
    let t = start(&[]);
    let base = t.announce_url.strip_suffix("/announce").unwrap();
    for path in ["/metrics", "/stats"] {
        match t.client.get(&format!("{base}{path}"), "").await {
            Err(octotracker_client::ClientError::Status { status, .. }) => assert_eq!(status, 404, "{path}"),
            other => panic!("{path} on the tracker port: {other:?}"),
        }
    }
    match t.client.get(&format!("{}/elsewhere", t.metrics), "").await {
        Err(octotracker_client::ClientError::Status { status, .. }) => assert_eq!(status, 404),
        other => panic!("an unknown path on the metrics port: {other:?}"),
    }
}

#[test]
fn a_bad_or_clashing_metrics_address_is_refused() {
    let run = |args: &[&str]| {
        let out = octotracker().args(args).output().expect("runs");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["--http", "127.0.0.1:0", "--metrics", "nowhere"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid metrics address \"nowhere\""), "{err}");
    let (code, err) = run(&["--http", "127.0.0.1:6999", "--metrics", "127.0.0.1:6999"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("also a tracker listen address"), "{err}");
}
