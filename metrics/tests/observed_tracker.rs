//! The metrics of a real engine on the memory backend move exactly with the requests it answers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use octotracker_core::http_wire::parse_announce;
use octotracker_core::{
    AnnounceRequest, Event, InfoHash, PeerId, RequestKind, ScrapeRequest, StoppedClock, Tracker, TrackerConfig,
    UnixTime,
};
use octotracker_memory::MemoryTorrentManager;
use octotracker_metrics::TrackerMetrics;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

struct Fixture {
    registry: Registry,
    metrics: Arc<TrackerMetrics>,
    tracker: Tracker,
    clock: Arc<StoppedClock>,
}

fn fixture(config: TrackerConfig) -> Fixture {
    let mut registry = Registry::default();
    let metrics = Arc::new(TrackerMetrics::register(&mut registry));
    let clock = Arc::new(StoppedClock::new(UnixTime(1_000_000)));
    let tracker = Tracker::new(
        config,
        Arc::new(MemoryTorrentManager::default()),
        Arc::new(octotracker_interval::Static::default()),
        clock.clone(),
    )
    .with_observer(metrics.clone());
    Fixture { registry, metrics, tracker, clock }
}

impl Fixture {
    async fn scrape_metrics(&self) -> String {
        self.metrics.refresh(&self.tracker).await.expect("memory backend counts");
        let mut text = String::new();
        encode(&mut text, &self.registry).unwrap();
        text
    }
}

/// The value of the sample `name` (with its labels, as printed) in an exposition, 0 when absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad value for {name}: {v}")))
        .unwrap_or(0.0)
}

fn announce(hash: u8, peer: u8, left: u64, event: Event) -> AnnounceRequest {
    let mut req = AnnounceRequest::new(InfoHash([hash; 20]), PeerId([peer; 20]), 6881);
    req.left = left;
    req.event = event;
    req
}

fn ip(n: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, n])
}

#[tokio::test]
async fn counters_and_gauges_follow_the_traffic() {
    let f = fixture(TrackerConfig::default());
    let before = f.scrape_metrics().await;
    assert_eq!(sample(&before, "octotracker_announces_total{event=\"started\",outcome=\"ok\"}"), 0.0);
    assert_eq!(sample(&before, "octotracker_torrents"), 0.0);

    for n in 1..=5 {
        f.tracker.announce(&announce(1, n, 100, Event::Started), ip(n)).await.unwrap();
    }
    for n in 6..=7 {
        f.tracker.announce(&announce(2, n, 0, Event::Started), ip(n)).await.unwrap();
    }
    f.tracker.announce(&announce(1, 1, 0, Event::Completed), ip(1)).await.unwrap();
    f.tracker.announce(&announce(1, 2, 100, Event::None), ip(2)).await.unwrap();
    f.tracker.announce(&announce(1, 5, 100, Event::Stopped), ip(5)).await.unwrap();
    f.tracker.scrape(&ScrapeRequest { info_hashes: vec![InfoHash([1; 20]), InfoHash([2; 20])] }).await.unwrap();

    let text = f.scrape_metrics().await;
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"started\",outcome=\"ok\"}"), 7.0);
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"completed\",outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"none\",outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"stopped\",outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_scrapes_total{outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_scraped_hashes_total"), 2.0);
    // Swarm 1: peer 1 seeding, peers 2–4 leeching (5 stopped); swarm 2: two seeders.
    assert_eq!(sample(&text, "octotracker_torrents"), 2.0);
    assert_eq!(sample(&text, "octotracker_seeders"), 3.0);
    assert_eq!(sample(&text, "octotracker_leechers"), 3.0);
    assert_eq!(sample(&text, "octotracker_peers"), 6.0);
    assert_eq!(sample(&text, "octotracker_backend_duration_seconds_count{operation=\"announce\"}"), 10.0);
    assert_eq!(sample(&text, "octotracker_backend_duration_seconds_count{operation=\"scrape\"}"), 1.0);
    assert!(text.contains("# HELP octotracker_announces Announces by event and outcome"), "{text}");
    assert!(text.contains("# TYPE octotracker_backend_duration_seconds histogram"), "{text}");

    // Every peer of swarm 2 and the rest of swarm 1 go silent past the peer timeout.
    f.clock.advance(Duration::from_secs(3_001));
    let report = f.tracker.expire().await.unwrap();
    assert_eq!(report.peers_removed, 6);
    let text = f.scrape_metrics().await;
    assert_eq!(sample(&text, "octotracker_expired_peers_total"), 6.0);
    assert_eq!(sample(&text, "octotracker_expired_swarms_total"), 2.0);
    assert_eq!(sample(&text, "octotracker_torrents"), 0.0);
    assert_eq!(sample(&text, "octotracker_peers"), 0.0);
}

#[tokio::test]
async fn refusals_are_counted_by_reason_and_outcome() {
    let config = TrackerConfig { allow_non_compact: false, allow_full_scrape: false, ..TrackerConfig::default() };
    let f = fixture(config);
    let mut non_compact = announce(1, 1, 10, Event::Started);
    non_compact.compact = false;
    assert!(f.tracker.announce(&non_compact, ip(1)).await.is_err());
    assert!(f.tracker.scrape(&ScrapeRequest { info_hashes: vec![] }).await.is_err());
    // What a frontend reports for a query that did not parse.
    let refusal = parse_announce(b"info_hash=short&peer_id=x&port=1").unwrap_err();
    f.tracker.record_rejected(RequestKind::Announce, refusal.label());
    f.tracker.record_rejected(RequestKind::Announce, "client_address");

    let text = f.scrape_metrics().await;
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"started\",outcome=\"refused\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"unknown\",outcome=\"refused\"}"), 2.0);
    assert_eq!(sample(&text, "octotracker_scrapes_total{outcome=\"refused\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_failures_total{reason=\"non_compact_disabled\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_failures_total{reason=\"full_scrape_disabled\"}"), 1.0);
    assert_eq!(sample(&text, &format!("octotracker_failures_total{{reason=\"{}\"}}", refusal.label())), 1.0);
    assert_eq!(sample(&text, "octotracker_failures_total{reason=\"client_address\"}"), 1.0);
    assert_eq!(sample(&text, "octotracker_announces_total{event=\"started\",outcome=\"ok\"}"), 0.0);
    assert_eq!(sample(&text, "octotracker_backend_duration_seconds_count{operation=\"announce\"}"), 0.0);
}

#[tokio::test]
async fn the_summary_counts_announces_of_the_last_minute() {
    let f = fixture(TrackerConfig::default());
    for n in 0..90u8 {
        f.tracker.announce(&announce(n % 3, n, 0, Event::Started), ip(n)).await.unwrap();
    }
    let summary = f.metrics.summary(&f.tracker).await.unwrap();
    assert_eq!(summary.torrents, Some(3));
    assert_eq!((summary.seeders, summary.leechers, summary.peers), (Some(90), Some(0), Some(90)));
    assert_eq!(summary.announces_per_second, 1.5);
    let json: serde_json::Value = serde_json::to_value(summary).unwrap();
    for key in ["torrents", "peers", "seeders", "leechers", "announces_per_second"] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }

    f.clock.advance(Duration::from_secs(30));
    for n in 0..30u8 {
        f.tracker.announce(&announce(0, n, 0, Event::None), ip(n)).await.unwrap();
    }
    assert_eq!(f.metrics.summary(&f.tracker).await.unwrap().announces_per_second, 2.0);
    f.clock.advance(Duration::from_secs(30));
    assert_eq!(f.metrics.summary(&f.tracker).await.unwrap().announces_per_second, 0.5, "the first 90 left the window");
}
