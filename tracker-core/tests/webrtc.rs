//! The engine's WebRTC path: WebSocket peers share the swarms, never the peer lists, and no
//! HTTP or UDP announce can take a WebRTC peer's reserved address.
#![cfg(feature = "testing")]

// The reference store's module also holds wrappers only the conformance tests use.
#[allow(dead_code)]
mod support {
    pub(crate) mod fixed;
    pub(crate) mod reference;
}

use std::net::IpAddr;
use std::sync::Arc;

use octotracker_core::{
    AddressFamily, AnnounceRequest, InfoHash, PeerId, Refusal, StoppedClock, Tracker, TrackerConfig, TrackerError,
    UnixTime,
};
use support::fixed::Fixed;
use support::reference::{Flaw, Reference};

fn tracker(config: TrackerConfig) -> Tracker {
    let clock = Arc::new(StoppedClock::new(UnixTime(1_000_000)));
    Tracker::new(config, Arc::new(Reference::new(Flaw::None)), Arc::new(Fixed), clock)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn leecher(n: u8) -> AnnounceRequest {
    AnnounceRequest { left: 100, ..AnnounceRequest::new(InfoHash([7; 20]), PeerId([n; 20]), 6881) }
}

#[tokio::test]
async fn webrtc_peers_get_each_other_and_ip_peers_never_get_them() {
    let t = tracker(TrackerConfig::default());
    let a = t.announce_webrtc(&leecher(1), ip("192.0.2.1"), None).await.unwrap();
    assert!(a.peers.is_empty() && a.peers6.is_empty());
    t.announce(&leecher(2), ip("2001:db8::2")).await.unwrap();
    t.announce(&leecher(3), ip("192.0.2.3")).await.unwrap();

    let b = t.announce_webrtc(&leecher(4), ip("192.0.2.1"), None).await.unwrap();
    assert!(b.peers.is_empty(), "a WebRTC peer got IP peers: {:?}", b.peers);
    assert_eq!(b.peers6.len(), 1);
    assert_eq!(b.peers6[0].id, PeerId([1; 20]), "the other WebRTC peer, by its peer id");
    assert_eq!(AddressFamily::of(b.peers6[0].addr.ip()), AddressFamily::WebRtc);
    assert_eq!(b.stats.incomplete, 4, "the counts include every family");

    let v6 = t.announce(&leecher(5), ip("2001:db8::5")).await.unwrap();
    assert_eq!(v6.peers6.iter().map(|p| p.id).collect::<Vec<_>>(), [PeerId([2; 20])], "only the IPv6 peer");
    let v4 = t.announce(&leecher(6), ip("192.0.2.6")).await.unwrap();
    assert_eq!(v4.peers.iter().map(|p| p.id).collect::<Vec<_>>(), [PeerId([3; 20])], "only the IPv4 peer");
}

#[tokio::test]
async fn a_webrtc_peer_keeps_one_place_per_peer_id() {
    let t = tracker(TrackerConfig::default());
    for _ in 0..3 {
        let r = t.announce_webrtc(&leecher(1), ip("192.0.2.1"), None).await.unwrap();
        assert_eq!(r.stats.incomplete, 1, "re-announces of one peer id are one peer");
    }
    let r = t.announce_webrtc(&leecher(2), ip("192.0.2.1"), None).await.unwrap();
    assert_eq!(r.stats.incomplete, 2, "another peer id from the same connection address is another peer");
    let stop = AnnounceRequest { event: octotracker_core::Event::Stopped, ..leecher(1) };
    let r = t.announce_webrtc(&stop, ip("192.0.2.9"), None).await.unwrap();
    assert_eq!(r.stats.incomplete, 1, "a stop finds the peer by its peer id");
}

#[tokio::test]
async fn http_and_udp_announces_cannot_take_the_reserved_block() {
    let config = TrackerConfig { accept_ip_param: true, ..TrackerConfig::default() };
    let t = tracker(config);
    let refused = Err(TrackerError::Refused(Refusal::ReservedAddress));
    assert_eq!(t.announce(&leecher(1), ip("100::1:2:3:4")).await, refused, "from the block");
    let claim = AnnounceRequest { ip: Some(ip("100::9")), ..leecher(2) };
    assert_eq!(t.announce(&claim, ip("192.0.2.2")).await, refused, "claiming an address in it");
    assert_eq!(
        Refusal::ReservedAddress.to_string(),
        "invalid address: 100::/64 is reserved",
        "the failure reason peers read"
    );
    let next = t.announce(&leecher(3), ip("100:0:0:1::1")).await.unwrap();
    assert_eq!(next.stats.incomplete, 1, "just outside the /64 is an ordinary IPv6 address");
}
