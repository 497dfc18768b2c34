//! The engine's events: the exact sequence a scripted swarm publishes, and subscribers that
//! fall behind lose events (counted) without ever holding up an announce.
#![cfg(feature = "testing")]

// The reference store's module also holds wrappers only the conformance tests use.
#[allow(dead_code)]
mod support {
    pub(crate) mod fixed;
    pub(crate) mod reference;
}

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use octotracker_core::events::{
    AnnounceEvent, EventHub, ExpiryEvent, FRONTEND_UNNAMED, ScrapeEvent, TrackerEvent, TransferDeltas,
};
use octotracker_core::{
    AnnounceRequest, Event, InfoHash, PeerId, ScrapeRequest, StoppedClock, SwarmStats, Tracker, TrackerConfig, UnixTime,
};
use support::fixed::Fixed;
use support::reference::{Flaw, Reference};

const START: UnixTime = UnixTime(1_000_000);

fn tracker() -> (Tracker, Arc<StoppedClock>) {
    let clock = Arc::new(StoppedClock::new(START));
    let tracker =
        Tracker::new(TrackerConfig::default(), Arc::new(Reference::new(Flaw::None)), Arc::new(Fixed), clock.clone());
    (tracker, clock)
}

fn ip(n: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, n])
}

fn request(n: u8, left: u64, event: Event, uploaded: u64, downloaded: u64) -> AnnounceRequest {
    AnnounceRequest {
        left,
        event,
        uploaded,
        downloaded,
        ..AnnounceRequest::new(InfoHash([7; 20]), PeerId([n; 20]), 6881)
    }
}

fn stats(complete: u32, incomplete: u32, downloaded: u64) -> SwarmStats {
    SwarmStats { complete, incomplete, downloaded }
}

/// The announce event of `request(n, …)` from 10.0.0.n, as the engine should publish it.
fn announced(
    req: &AnnounceRequest,
    n: u8,
    passkey: Option<&str>,
    frontend: &'static str,
    stats: SwarmStats,
    now: u64,
) -> TrackerEvent {
    TrackerEvent::Announce(AnnounceEvent {
        info_hash: req.info_hash,
        peer: SocketAddr::new(ip(n), req.port),
        peer_id: req.peer_id,
        event: req.event,
        uploaded: req.uploaded,
        downloaded: req.downloaded,
        left: req.left,
        passkey: passkey.map(Arc::from),
        frontend,
        stats,
        now: UnixTime(now),
    })
}

fn drain(events: &mut octotracker_core::events::Subscription) -> Vec<TrackerEvent> {
    std::iter::from_fn(|| events.try_recv()).collect()
}

#[tokio::test]
async fn a_scripted_swarm_publishes_exactly_its_answered_requests_and_expiry_passes() {
    let (tracker, clock) = tracker();
    let mut events = tracker.events().subscribe(64);
    let t = START.0;

    let seed = request(1, 0, Event::Started, 0, 0);
    tracker.announce_via("http", &seed, ip(1), Some("alice")).await.unwrap();
    let leech = request(2, 500, Event::Started, 0, 0);
    tracker.announce_via("udp", &leech, ip(2), None).await.unwrap();
    clock.advance(Duration::from_secs(60));
    let done = request(2, 0, Event::Completed, 10, 500);
    tracker.announce(&done, ip(2)).await.unwrap();
    // Refused (an address reserved for WebRTC peers): nothing happened, nothing is published.
    let refused = AnnounceRequest { ip: Some("100::1".parse().unwrap()), ..request(3, 5, Event::Started, 0, 0) };
    let with_claims = Tracker::new(
        TrackerConfig { accept_ip_param: true, ..TrackerConfig::default() },
        tracker.storage().clone(),
        Arc::new(Fixed),
        clock.clone(),
    );
    assert!(with_claims.announce(&refused, ip(3)).await.is_err());
    let scrape = ScrapeRequest { info_hashes: vec![InfoHash([7; 20]), InfoHash([8; 20])] };
    tracker.scrape_via("http", &scrape, Some("alice")).await.unwrap();
    let stop = request(1, 0, Event::Stopped, 4_000, 0);
    tracker.announce_via("http", &stop, ip(1), Some("alice")).await.unwrap();
    // Peer 2 falls silent past the timeout: the next pass removes it and its swarm.
    clock.advance(Duration::from_secs(301));
    tracker.expire().await.unwrap();

    let expected = vec![
        announced(&seed, 1, Some("alice"), "http", stats(1, 0, 0), t),
        announced(&leech, 2, None, "udp", stats(1, 1, 0), t),
        announced(&done, 2, None, FRONTEND_UNNAMED, stats(2, 0, 1), t + 60),
        TrackerEvent::Scrape(ScrapeEvent {
            info_hashes: Arc::from([InfoHash([7; 20]), InfoHash([8; 20])]),
            full: false,
            passkey: Some(Arc::from("alice")),
            frontend: "http",
            now: UnixTime(t + 60),
        }),
        announced(&stop, 1, Some("alice"), "http", stats(1, 0, 1), t + 60),
        TrackerEvent::Expiry(ExpiryEvent {
            cutoff: UnixTime(t + 61),
            peers_removed: 1,
            swarms_removed: 1,
            now: UnixTime(t + 361),
        }),
    ];
    assert_eq!(drain(&mut events), expected);
    assert_eq!(events.lost(), 0);
}

#[tokio::test]
async fn a_stalled_subscriber_loses_events_counted_and_never_holds_up_an_announce() {
    let (tracker, _clock) = tracker();
    let mut stalled = tracker.events().subscribe(4);
    let mut keeping_up = tracker.events().subscribe(2_000);
    // One thread, no other task: an announce that waited for the stalled subscriber would
    // never return.
    for n in 0..1_000u32 {
        let req = AnnounceRequest { uploaded: u64::from(n), ..request(1, 10, Event::None, 0, 0) };
        tracker.announce(&req, ip(1)).await.unwrap();
    }
    assert_eq!(stalled.lost(), 996);
    assert_eq!(keeping_up.lost(), 0);
    assert_eq!(tracker.events().lost(), 996);
    let uploaded = |events: Vec<TrackerEvent>| -> Vec<u64> {
        events
            .into_iter()
            .map(|e| match e {
                TrackerEvent::Announce(a) => a.uploaded,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(uploaded(drain(&mut stalled)), [0, 1, 2, 3], "the oldest are kept");
    assert_eq!(uploaded(drain(&mut keeping_up)), (0..1_000).collect::<Vec<u64>>());
    // Caught up, it receives again; a subscriber dropped keeps its losses in the hub's count.
    tracker.announce(&request(1, 10, Event::None, 5_000, 0), ip(1)).await.unwrap();
    assert_eq!(uploaded(drain(&mut stalled)), [5_000]);
    drop(stalled);
    assert_eq!(tracker.events().subscribers(), 1);
    assert_eq!(tracker.events().lost(), 996);
}

#[tokio::test]
async fn recv_waits_for_the_next_event_and_ends_when_the_engine_is_gone() {
    let (tracker, _clock) = tracker();
    let mut events = tracker.events().subscribe(8);
    let tracker = Arc::new(tracker);
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(event) = events.recv().await {
            seen.push(event);
        }
        seen
    });
    for n in 1..=3 {
        tracker.announce(&request(n, 10, Event::Started, 0, 0), ip(n)).await.unwrap();
        tokio::task::yield_now().await;
    }
    drop(tracker);
    assert_eq!(reader.await.unwrap().len(), 3);
}

#[test]
fn nobody_subscribed_costs_no_event() {
    let hub = EventHub::new();
    hub.publish(|| unreachable!("nothing is built without a subscriber"));
    let events = hub.subscribe(1);
    drop(events);
    hub.publish(|| unreachable!("a dropped subscription is detached"));
    assert_eq!(hub.subscribers(), 0);
}

#[tokio::test]
async fn transfer_deltas_follow_each_peer_through_restarts_and_expiry() {
    let (tracker, clock) = tracker();
    let mut events = tracker.events().subscribe(64);
    let script = [(1, 100, 0), (1, 250, 10), (2, 40, 0), (1, 30, 10), (2, 90, 5)];
    for (n, up, down) in script {
        tracker.announce_with_passkey(&request(n, 10, Event::None, up, down), ip(n), Some("bob")).await.unwrap();
    }
    clock.advance(Duration::from_secs(400));
    tracker.expire().await.unwrap();
    tracker.announce_with_passkey(&request(1, 10, Event::None, 35, 10), ip(1), Some("bob")).await.unwrap();
    let mut deltas = TransferDeltas::default();
    let mut seen = Vec::new();
    for event in drain(&mut events) {
        match event {
            TrackerEvent::Announce(a) => seen.push(deltas.apply(&a)),
            TrackerEvent::Expiry(e) => deltas.forget_before(e.cutoff),
            TrackerEvent::Scrape(_) => {}
        }
    }
    // 100 new; +150 +10; peer 2 new; peer 1 restarted (30 < 250: all of it); +50 +5; after
    // expiry peer 1 is new again.
    assert_eq!(seen, [(100, 0), (150, 10), (40, 0), (30, 0), (50, 5), (35, 10)]);
}
