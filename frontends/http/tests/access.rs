//! Access control through the HTTP service: the failure reasons peers read, scrapes that leave
//! refused hashes out, and a policy replaced while the service runs.

#[allow(dead_code)]
mod support;

use std::sync::Arc;

use http::Request;
use http_body_util::BodyExt;
use octotracker_client::{Reply, parse_announce_reply, parse_scrape_reply};
use octotracker_core::{AccessList, AccessMode, AccessPolicy, ClientFilter, StoppedClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, RemoteAddr, TrackerService};
use support::{START, announce_query, escape, hash};
use tower::ServiceExt;

fn service(policy: AccessPolicy) -> (TrackerService, Arc<AccessList>) {
    let access = Arc::new(AccessList::new(policy));
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    let tracker = Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(StoppedClock::new(START)))
        .with_access(access.clone());
    (TrackerService::new(Arc::new(tracker), HttpConfig::default()), access)
}

async fn get(service: &TrackerService, target: &str) -> Vec<u8> {
    let mut req = Request::get(target).body(()).expect("a request");
    req.extensions_mut().insert(RemoteAddr("127.0.0.1:50000".parse().unwrap()));
    let resp = service.clone().oneshot(req).await.expect("infallible");
    resp.into_body().collect().await.expect("body").to_bytes().to_vec()
}

/// The failure reason of an announce, or `None` when it was answered.
async fn announce(service: &TrackerService, query: &str) -> Option<String> {
    match parse_announce_reply(&get(service, &format!("/announce?{query}")).await).expect("bencode") {
        Reply::Ok(_) => None,
        Reply::Failure { reason, .. } => Some(reason),
    }
}

/// The hashes a scrape of 1, 2 and 3 lists.
async fn scraped(service: &TrackerService) -> Vec<u8> {
    let query: Vec<String> = (1..=3).map(|n| format!("info_hash={}", escape(&hash(n).0))).collect();
    let body = get(service, &format!("/scrape?{}", query.join("&"))).await;
    let Reply::Ok(reply) = parse_scrape_reply(&body).expect("bencode") else { panic!("scrape refused") };
    (1..=3).filter(|n| reply.get(&hash(*n)).is_some()).collect()
}

#[tokio::test]
async fn allow_mode_serves_registered_and_allow_listed_torrents_only() {
    let mut policy = AccessPolicy { mode: AccessMode::Allow, ..AccessPolicy::default() };
    policy.registered.insert(hash(1));
    policy.allowed.insert(hash(2));
    let (service, _) = service(policy);
    assert_eq!(announce(&service, &announce_query(hash(1), 7001)).await, None);
    assert_eq!(announce(&service, &announce_query(hash(2), 7001)).await, None);
    assert_eq!(announce(&service, &announce_query(hash(3), 7001)).await.as_deref(), Some("unregistered torrent"));
    assert_eq!(scraped(&service).await, [1, 2], "the unregistered hash is left out");
}

#[tokio::test]
async fn deny_mode_refuses_the_deny_list_only() {
    let mut policy = AccessPolicy { mode: AccessMode::Deny, ..AccessPolicy::default() };
    policy.denied.insert(hash(2));
    let (service, _) = service(policy);
    assert_eq!(announce(&service, &announce_query(hash(1), 7001)).await, None);
    assert_eq!(announce(&service, &announce_query(hash(2), 7001)).await.as_deref(), Some("denied torrent"));
    assert_eq!(scraped(&service).await, [1, 3]);
}

#[tokio::test]
async fn the_client_filter_refuses_other_clients_with_their_prefix() {
    let clients = ClientFilter { allow: vec![b"-qB".to_vec()], deny: Vec::new() };
    let (service, _) = service(AccessPolicy { clients, ..AccessPolicy::default() });
    // The support peer ids start with -OT0001-.
    let reason = announce(&service, &announce_query(hash(1), 7001)).await;
    assert_eq!(reason.as_deref(), Some("client not allowed: -OT0001- is not accepted by this tracker"));
    let qb = format!("info_hash={}&peer_id=-qB4650-abcdefghijkl&port=7001&left=0", escape(&hash(1).0));
    assert_eq!(announce(&service, &qb).await, None);
}

#[tokio::test]
async fn a_replaced_policy_applies_to_the_next_request_and_keeps_the_swarm() {
    let (service, access) = service(AccessPolicy::default());
    assert_eq!(announce(&service, &announce_query(hash(1), 7001)).await, None);
    access.replace(AccessPolicy { mode: AccessMode::Allow, ..AccessPolicy::default() });
    assert_eq!(announce(&service, &announce_query(hash(1), 7002)).await.as_deref(), Some("unregistered torrent"));
    assert!(scraped(&service).await.is_empty());
    access.replace(AccessPolicy::default());
    // The peer announced before the refusal is still in the swarm: refusing stored nothing and
    // removed nothing.
    let body = get(&service, &format!("/announce?{}", announce_query(hash(1), 7003))).await;
    let Reply::Ok(reply) = parse_announce_reply(&body).expect("bencode") else { panic!("refused") };
    assert_eq!(reply.incomplete, Some(2));
}

#[tokio::test]
async fn a_private_tracker_answers_known_passkeys_in_the_path_only() {
    let keys = ["k3y0000000000001".to_owned()].into_iter().collect();
    let (service, access) = service(AccessPolicy { passkeys: Some(keys), ..AccessPolicy::default() });
    let query = announce_query(hash(1), 7001);
    let at = |path: &str| format!("{path}?{query}");
    let reason = |body: Vec<u8>| match parse_announce_reply(&body).expect("bencode") {
        Reply::Ok(_) => None,
        Reply::Failure { reason, .. } => Some(reason),
    };
    assert_eq!(reason(get(&service, &at("/k3y0000000000001/announce")).await), None);
    assert_eq!(reason(get(&service, &at("/k3y0000000000002/announce")).await).as_deref(), Some("unknown passkey"));
    let missing = reason(get(&service, &at("/announce")).await).expect("refused");
    assert!(missing.starts_with("missing passkey"), "{missing}");
    let scrape = format!("/k3y0000000000001/scrape?info_hash={}", escape(&hash(1).0));
    let Reply::Ok(reply) = parse_scrape_reply(&get(&service, &scrape).await).expect("bencode") else { panic!() };
    assert_eq!(reply.get(&hash(1)).map(|f| f.incomplete), Some(1));
    let scrape = format!("/nope/scrape?info_hash={}", escape(&hash(1).0));
    assert!(matches!(parse_scrape_reply(&get(&service, &scrape).await), Ok(Reply::Failure { .. })));
    // Not passkey paths: 404.
    for path in ["/a/b/announce", "/k3y0000000000001/announce/x", "/bad%20key/announce"] {
        let mut req = Request::get(path).body(()).unwrap();
        req.extensions_mut().insert(RemoteAddr("127.0.0.1:50000".parse().unwrap()));
        let resp = service.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
    // Revoked: the next request is refused.
    access.replace(AccessPolicy { passkeys: Some(Default::default()), ..AccessPolicy::default() });
    assert_eq!(reason(get(&service, &at("/k3y0000000000001/announce")).await).as_deref(), Some("unknown passkey"));
    // Not private: passkey paths are not the tracker's.
    access.replace(AccessPolicy::default());
    let mut req = Request::get(at("/k3y0000000000001/announce")).body(()).unwrap();
    req.extensions_mut().insert(RemoteAddr("127.0.0.1:50000".parse().unwrap()));
    assert_eq!(service.clone().oneshot(req).await.unwrap().status(), 404);
}

#[tokio::test]
async fn answered_announces_with_a_passkey_reach_subscribers_as_transfers() {
    let keys = ["k3y0000000000001".to_owned()].into_iter().collect();
    let access = Arc::new(AccessList::new(AccessPolicy { passkeys: Some(keys), ..AccessPolicy::default() }));
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    let tracker = Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(StoppedClock::new(START)))
        .with_access(access);
    let mut events = tracker.events().subscribe(16);
    let service = TrackerService::new(Arc::new(tracker), HttpConfig::default());
    let query = format!("{}&uploaded=1234&downloaded=99", announce_query(hash(1), 7001));
    get(&service, &format!("/k3y0000000000001/announce?{query}")).await;
    get(&service, &format!("/wrongkey00000000/announce?{query}")).await; // refused: not published
    get(&service, &format!("/announce?{query}")).await; // refused: not published
    let mut recorded = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            octotracker_core::events::TrackerEvent::Announce(a) => {
                assert_eq!(a.frontend, "http");
                recorded.extend(octotracker_core::Transfer::of(&a));
            }
            other => panic!("only the announce was answered: {other:?}"),
        }
    }
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let t = &recorded[0];
    assert_eq!((t.passkey.as_str(), t.info_hash, t.uploaded, t.downloaded), ("k3y0000000000001", hash(1), 1234, 99));
    assert_eq!(t.addr, "127.0.0.1:7001".parse().unwrap());
}
