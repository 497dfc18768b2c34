//! IPv4 and IPv6 peers are kept apart: a peer is only handed peers of its own address family
//! (IPv4 in `peers`, IPv6 in `peers6`, BEP 7), while the counts cover both (contract rules 3, 4).

use std::collections::HashSet;

use super::peers::{AnnounceExt, T0};
use super::peers::{addrs, announce, announce_all, expire, info_hash, leecher, rtc, scrape_one, seeder, stats, v4, v6};
use crate::TorrentManager;

/// An IPv4 announcer never gets IPv6 peers, and an IPv6 announcer never gets IPv4 peers.
pub async fn each_family_is_given_only_peers_of_its_own_family(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let fours: HashSet<_> = (1..=5).map(v4).collect();
    let sixes: HashSet<_> = (1..=5).map(v6).collect();
    announce_all(store, fours.iter().map(|&a| leecher(h, a))).await;
    announce_all(store, sixes.iter().map(|&a| leecher(h, a))).await;

    let reply = announce(store, leecher(h, v4(100)), 50).await;
    assert_eq!(addrs(&reply), fours, "an IPv4 leecher gets exactly the IPv4 peers");
    let reply = announce(store, leecher(h, v6(100)), 50).await;
    assert_eq!(addrs(&reply), sixes, "an IPv6 leecher gets exactly the IPv6 peers");
    let reply = announce(store, seeder(h, v6(200)), 50).await;
    assert_eq!(addrs(&reply), sixes.iter().copied().chain([v6(100)]).collect(), "an IPv6 seeder gets IPv6 leechers");
}

/// A swarm with peers of only the other family gives no peers, but counts them.
pub async fn a_family_alone_in_a_swarm_gets_no_peers_but_all_counts(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [seeder(h, v4(1)), leecher(h, v4(2))]).await;
    let reply = announce(store, leecher(h, v6(1)), 50).await;
    assert!(reply.peers.is_empty(), "an IPv6 peer got IPv4 peers: {:?}", reply.peers);
    assert_eq!(reply.stats, stats(1, 2, 0), "the counts include both families");

    let other = info_hash(2);
    announce_all(store, [seeder(other, v6(1)), leecher(other, v6(2))]).await;
    let reply = announce(store, leecher(other, v4(1)), 50).await;
    assert!(reply.peers.is_empty(), "an IPv4 peer got IPv6 peers: {:?}", reply.peers);
    assert_eq!(reply.stats, stats(1, 2, 0), "the counts include both families");
}

/// Seeders, leechers, downloads, stops and expiry work the same for IPv6 peers, and the counts
/// add both families up.
pub async fn ipv6_peers_are_counted_stopped_and_expired_like_ipv4_ones(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v6(1)), leecher(h, v6(2)), seeder(h, v6(3)), leecher(h, v4(1))]).await;
    assert_eq!(scrape_one(store, h).await, stats(1, 3, 0));
    let reply = announce(store, leecher(h, v6(1)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(2, 2, 1), "an IPv6 leecher's completed counts a download");
    let reply = announce(store, seeder(h, v6(3)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(1, 2, 1), "an IPv6 seeder's stop removes it");

    let later = T0.plus(std::time::Duration::from_secs(600));
    announce(store, leecher(h, v6(2)).at(later), 0).await;
    let report = expire(store, later).await;
    assert_eq!(report.peers_removed, 2, "the stale IPv6 seeder and IPv4 leecher expire");
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 1), "the refreshed IPv6 leecher stays");
}

/// WebRTC peers (WebSocket trackers) join the same swarms: they are counted with the others,
/// given only each other, and never given to IPv4 or IPv6 peers.
pub async fn webrtc_peers_are_counted_but_never_mixed_with_ip_peers(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let rtcs: HashSet<_> = (1..=4).map(rtc).collect();
    announce_all(store, rtcs.iter().map(|&a| leecher(h, a))).await;
    announce_all(store, [seeder(h, v4(1)), leecher(h, v6(1))]).await;
    assert_eq!(scrape_one(store, h).await, stats(1, 5, 0), "the counts include every family");

    let reply = announce(store, leecher(h, v4(2)), 50).await;
    assert_eq!(addrs(&reply), [v4(1)].into(), "an IPv4 leecher gets no WebRTC peer");
    let reply = announce(store, leecher(h, v6(2)), 50).await;
    assert_eq!(addrs(&reply), [v6(1)].into(), "an IPv6 leecher gets no WebRTC peer");
    let reply = announce(store, seeder(h, rtc(100)), 50).await;
    assert_eq!(addrs(&reply), rtcs, "a WebRTC seeder gets exactly the WebRTC leechers");
    assert_eq!(reply.stats, stats(2, 7, 0));

    let reply = announce(store, leecher(h, rtc(1)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(3, 6, 1), "a WebRTC leecher's completed counts a download");
    let reply = announce(store, seeder(h, rtc(100)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(2, 6, 1), "a WebRTC seeder's stop removes it");

    let later = T0.plus(std::time::Duration::from_secs(600));
    announce(store, leecher(h, rtc(2)).at(later), 0).await;
    let report = expire(store, later).await;
    assert_eq!(report.peers_removed, 7, "every stale peer expires, whatever its family");
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 1), "the refreshed WebRTC leecher stays");
    let reply = announce(store, leecher(h, rtc(3)), 50).await;
    assert_eq!(addrs(&reply), [rtc(2)].into());
}

/// [`TorrentManager::family_counts`] splits a swarm's seeders and leechers by address family
/// (WebRTC peers apart from IPv6 ones), follows stops, and is zeros for an unknown swarm.
pub async fn family_counts_split_the_swarm_by_address_family(store: &dyn TorrentManager) {
    use crate::{FamilyCounts, PeerCounts};
    let h = info_hash(1);
    announce_all(store, [seeder(h, v4(1)), leecher(h, v4(2)), leecher(h, v4(3))]).await;
    announce_all(store, [seeder(h, v6(1)), seeder(h, v6(2)), leecher(h, v6(3))]).await;
    announce_all(store, [leecher(h, rtc(1)), leecher(h, rtc(2))]).await;
    announce_all(store, [seeder(info_hash(2), v6(9))]).await;
    let counts = |seeders, leechers| PeerCounts { seeders, leechers };
    let split = store.family_counts(&h).await.expect("family counts");
    assert_eq!(
        split,
        FamilyCounts { v4: counts(1, 2), v6: counts(2, 1), webrtc: counts(0, 2) },
        "the split adds up to the scrape: {:?}",
        scrape_one(store, h).await
    );
    announce_all(store, [leecher(h, v4(2)).stopped(), leecher(h, rtc(1)).stopped()]).await;
    let split = store.family_counts(&h).await.expect("family counts");
    assert_eq!(split, FamilyCounts { v4: counts(1, 1), v6: counts(2, 1), webrtc: counts(0, 1) });
    assert_eq!(store.family_counts(&info_hash(7)).await.expect("family counts"), FamilyCounts::default());
}

/// A swarm's downloads belong to the swarm, not to a family: when the last peer of one family
/// leaves (a stop or expiry) while peers of another remain, the downloads its peers counted stay.
pub async fn downloads_outlive_the_last_peer_of_a_family(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)), leecher(h, rtc(1))]).await;
    let reply = announce(store, leecher(h, v4(1)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 1), "the IPv4 leecher's completed counts a download");
    let reply = announce(store, seeder(h, v4(1)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(0, 1, 1), "the IPv4 family's last peer left: its download stays");
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 1));

    let reply = announce(store, leecher(h, rtc(1)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(1, 0, 2), "the WebRTC leecher's completed counts a second one");
    let later = T0.plus(std::time::Duration::from_secs(600));
    announce(store, leecher(h, v6(1)).at(later), 0).await;
    let report = expire(store, later).await;
    assert_eq!(report.peers_removed, 1, "the WebRTC seeder expires");
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 2), "the WebRTC family's downloads stay too");
}
