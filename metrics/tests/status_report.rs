//! `StatusSource::report`: what the status page shows, from a real engine (memory backend) and
//! from a backend that is down.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use octotracker_core::{
    AnnounceRequest, Event, ExpiryReport, InfoHash, Observer, PeerAnnounce, PeerId, RequestKind, StoppedClock,
    StorageError, SwarmReply, SwarmStats, TorrentManager, Tracker, TrackerConfig, UnixTime,
};
use octotracker_memory::MemoryTorrentManager;
use octotracker_metrics::{StatusSource, TrackerMetrics};
use prometheus_client::registry::Registry;

fn source(storage: Arc<dyn TorrentManager>) -> (StatusSource, Arc<Tracker>, Arc<TrackerMetrics>) {
    let metrics = Arc::new(TrackerMetrics::register(&mut Registry::default()));
    let tracker = Arc::new(
        Tracker::new(
            TrackerConfig::default(),
            storage,
            Arc::new(octotracker_interval::Static::default()),
            Arc::new(StoppedClock::new(UnixTime(1_000_000))),
        )
        .with_observer(metrics.clone()),
    );
    (StatusSource::new(tracker.clone(), metrics.clone(), "memory", "1.2.3"), tracker, metrics)
}

async fn announce(tracker: &Tracker, torrent: u8, peer: u8, left: u64) {
    let mut req = AnnounceRequest::new(InfoHash([torrent; 20]), PeerId([peer; 20]), 6881);
    req.left = left;
    req.event = Event::Started;
    tracker.announce(&req, IpAddr::V4(Ipv4Addr::new(10, 0, 0, peer))).await.expect("answered");
}

#[tokio::test]
async fn the_report_counts_ranks_and_measures() {
    let (source, tracker, metrics) = source(Arc::new(MemoryTorrentManager::default()));
    for peer in 1..=3 {
        announce(&tracker, 1, peer, 0).await;
    }
    for peer in 4..=8 {
        announce(&tracker, 2, peer, 10).await;
    }
    announce(&tracker, 3, 9, 10).await;
    metrics.request("http", RequestKind::Announce, Duration::from_micros(30));
    metrics.request("udp", RequestKind::Announce, Duration::from_millis(3));
    metrics.request("http", RequestKind::Scrape, Duration::from_secs(1));

    let r = source.report().await;
    assert_eq!(
        (r.version.as_str(), r.backend.as_str(), r.backend_ok, r.backend_error),
        ("1.2.3", "memory", true, None)
    );
    assert_eq!((r.torrents, r.peers, r.seeders, r.leechers), (Some(3), Some(9), Some(3), Some(6)));
    assert_eq!(r.announces_total, 9);
    assert!((r.announces_per_second - 9.0 / 60.0).abs() < 1e-9, "{}", r.announces_per_second);
    assert_eq!(r.clock_seconds, 1_000_000);
    assert_eq!(r.announces_each_second.len(), 60);
    assert_eq!(r.announces_each_second[59], 9, "all nine in the engine's current second");
    assert_eq!(r.announces_each_second.iter().sum::<u64>(), 9);
    let hashes: Vec<_> = r.top_torrents.iter().map(|t| (t.info_hash.clone(), t.seeders, t.leechers)).collect();
    assert_eq!(
        hashes,
        [("02".repeat(20), 0, 5), ("01".repeat(20), 3, 0), ("03".repeat(20), 0, 1)],
        "busiest first, hex hashes"
    );
    // Announce latency of both frontends, not the scrape: cumulative buckets ending at the count.
    let latency = &r.announce_latency;
    assert_eq!(latency.count, 2);
    assert!((latency.sum_seconds - 0.003_03).abs() < 1e-9, "{}", latency.sum_seconds);
    let at = |bound: f64| latency.buckets.iter().find(|(b, _)| (*b - bound).abs() < 1e-12).unwrap().1;
    assert_eq!((at(0.000_025), at(0.000_05), at(0.002_5), at(0.005), at(10.0)), (0, 1, 1, 2, 2));
}

#[tokio::test]
async fn a_backend_that_is_down_is_reported_not_an_error() {
    let (source, _, _) = source(Arc::new(Down));
    let r = source.report().await;
    assert!(!r.backend_ok);
    assert_eq!(r.backend_error.as_deref(), Some("storage unavailable: connection refused"));
    assert_eq!((r.torrents, r.peers), (None, None));
    assert_eq!(r.top_torrents, []);
    assert_eq!(r.top_torrents_error.as_deref(), Some("storage unavailable: connection refused"));
}

/// A store whose server cannot be reached.
struct Down;

fn refused() -> StorageError {
    StorageError::Unavailable("connection refused".into())
}

#[async_trait]
impl TorrentManager for Down {
    async fn announce(&self, _: &PeerAnnounce, _: usize) -> Result<SwarmReply, StorageError> {
        Err(refused())
    }
    async fn scrape(&self, _: &[InfoHash]) -> Result<Vec<SwarmStats>, StorageError> {
        Err(refused())
    }
    async fn scrape_all(&self, _: usize) -> Result<Vec<(InfoHash, SwarmStats)>, StorageError> {
        Err(refused())
    }
    async fn totals(&self) -> Result<octotracker_core::StoreTotals, StorageError> {
        Err(refused())
    }
    async fn expire(&self, _: UnixTime) -> Result<ExpiryReport, StorageError> {
        Err(refused())
    }
}
