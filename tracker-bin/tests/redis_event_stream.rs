//! `--redis-event-stream`: two tracker processes on one Redis append their events to one
//! stream, and one consumer reads both, in order per process, and turns them into transfers.

use std::collections::HashMap;
use std::time::Instant;

use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::events::{TrackerEvent, TransferDeltas};
use octotracker_core::{Event, InfoHash};
use octotracker_redis::{RedisConfig, RedisTarget, StreamReader};

mod common;
mod redis_support;

use redis_support::{DEADLINE, Tracker, cluster_backend, prefix, purge, request, runtime, standalone_url};

#[test]
fn one_consumer_reads_the_events_of_two_tracker_processes() {
    one_consumer_reads_two_processes(&standalone_url());
}

#[test]
fn one_consumer_reads_the_events_of_two_tracker_processes_on_a_redis_cluster() {
    one_consumer_reads_two_processes(&cluster_backend());
}

fn one_consumer_reads_two_processes(backend: &str) {
    let backend = backend.to_owned();
    let prefix = prefix("events");
    let key = format!("{prefix}:events");
    let target = RedisTarget::parse(&backend).expect("a redis URL");
    let rt = runtime();
    let mut reader = rt.block_on(StreamReader::connect(&target, &RedisConfig::default(), &key, "0")).expect("redis");
    let flags = ["--redis-event-stream", key.as_str(), "--redis-event-stream-maxlen", "1000"];
    let a = Tracker::start_with(&backend, &prefix, "auto", &flags);
    let b = Tracker::start_with(&backend, &prefix, "auto", &flags);
    let hash = InfoHash([0x5e; 20]);
    let client = HttpTrackerClient::new();
    // A peer announces minutes apart, each process appends within milliseconds: wait for each
    // event to arrive (bounded) before the next request, as the stream's order across processes
    // is the order of arrival.
    let mut read = Vec::new();
    let mut arrives = |read: &mut Vec<_>| {
        let deadline = Instant::now() + DEADLINE;
        let before = read.len();
        while read.len() == before {
            assert!(Instant::now() < deadline, "no event arrived after {read:#?}");
            read.extend(rt.block_on(reader.next_batch(100)).expect("XREAD"));
        }
    };
    fn ok<T: std::fmt::Debug>(reply: Reply<T>) {
        assert!(matches!(reply, Reply::Ok(_)), "{reply:?}");
    }
    ok(rt.block_on(client.announce(&a.announce_url(), &request(hash, 7001, true))).unwrap());
    arrives(&mut read);
    let mut leecher = request(hash, 7002, false);
    ok(rt.block_on(client.announce(&b.announce_url(), &leecher)).unwrap());
    arrives(&mut read);
    // The leecher's next announce reaches the other process: its download still counts once.
    leecher.event = Event::Completed;
    leecher.left = 0;
    leecher.downloaded = 1_000;
    leecher.uploaded = 10;
    ok(rt.block_on(client.announce(&a.announce_url(), &leecher)).unwrap());
    arrives(&mut read);
    leecher.event = Event::None;
    leecher.uploaded = 250;
    ok(rt.block_on(client.announce(&b.announce_url(), &leecher)).unwrap());
    arrives(&mut read);
    ok(rt.block_on(client.scrape(&b.scrape_url(), &[hash])).unwrap());
    arrives(&mut read);
    assert_eq!(read.len(), 5, "{read:#?}");

    let sources: Vec<&str> = read.iter().map(|e| e.source.as_str()).collect();
    assert_ne!(sources[0], sources[1], "two processes: {sources:?}");
    assert_eq!([sources[2], sources[3], sources[4]], [sources[0], sources[1], sources[1]], "{sources:?}");
    let mut deltas = TransferDeltas::default();
    let mut transferred: HashMap<u16, (u64, u64)> = HashMap::new();
    let mut events = Vec::new();
    for e in &read {
        match &e.event {
            TrackerEvent::Announce(a) => {
                assert_eq!((a.info_hash, a.frontend, a.passkey.as_deref()), (hash, "http", None));
                let (up, down) = deltas.apply(a);
                let total = transferred.entry(a.peer.port()).or_default();
                *total = (total.0 + up, total.1 + down);
                events.push((a.peer.port(), a.event, a.stats.complete, a.stats.incomplete, a.stats.downloaded));
            }
            TrackerEvent::Scrape(s) => {
                assert_eq!((&s.info_hashes[..], s.full), (&[hash][..], false));
                events.push((0, Event::None, 0, 0, 0));
            }
            TrackerEvent::Expiry(x) => panic!("no expiry pass ran yet: {x:?}"),
        }
    }
    assert_eq!(
        events,
        [
            (7001, Event::Started, 1, 0, 0),
            (7002, Event::Started, 1, 1, 0),
            (7002, Event::Completed, 2, 0, 1),
            (7002, Event::None, 2, 0, 1),
            (0, Event::None, 0, 0, 0),
        ]
    );
    assert_eq!(transferred[&7002], (250, 1_000), "deltas across both processes");
    assert_eq!(transferred[&7001], (0, 0));

    drop((a, b));
    rt.block_on(async {
        reader.delete().await.expect("cleanup");
        purge(target, &prefix, "auto").await;
    });
}
