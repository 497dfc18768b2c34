//! [`TorrentManager::expire`]: peers last seen before the cutoff go, and swarms left without
//! peers go with them. Time is the announces' `now` and the cutoff: a stopped clock.

use std::time::Duration;

use super::peers::{
    AnnounceExt, T0, addrs, announce, announce_all, expire, info_hash, leecher, scrape_one, seeder, stats, v4,
};
use crate::{ExpiryReport, SwarmStats, TorrentManager, UnixTime};

fn at(secs: u64) -> UnixTime {
    T0.plus(Duration::from_secs(secs))
}

/// Peers last seen before the cutoff are removed, fresher ones (and one seen exactly at the
/// cutoff) are kept, and the report counts exactly the peers removed.
pub async fn expire_removes_peers_last_seen_before_the_cutoff(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(
        store,
        [
            leecher(h, v4(1)).at(at(0)),
            seeder(h, v4(2)).at(at(10)),
            leecher(h, v4(3)).at(at(99)),
            leecher(h, v4(4)).at(at(100)),
            seeder(h, v4(5)).at(at(200)),
        ],
    )
    .await;
    let report = expire(store, at(100)).await;
    assert_eq!(report, ExpiryReport { peers_removed: 3, swarms_removed: 0 });
    assert_eq!(scrape_one(store, h).await, stats(1, 1, 0), "the peers seen at or after the cutoff stay");

    let reply = announce(store, leecher(h, v4(9)).at(at(200)), 50).await;
    assert_eq!(addrs(&reply), [v4(4), v4(5)].into(), "expired peers are not handed out");
}

/// A swarm whose peers all expired is removed: a scrape shows zeros, a full scrape omits it,
/// its `downloaded` count goes with it, and the report counts it.
pub async fn expire_removes_swarms_left_empty(store: &dyn TorrentManager) {
    let (old, mixed, fresh) = (info_hash(1), info_hash(2), info_hash(3));
    announce_all(
        store,
        [
            leecher(old, v4(1)).at(at(0)),
            leecher(old, v4(1)).completed().seeding().at(at(1)),
            leecher(old, v4(2)).at(at(2)),
            leecher(mixed, v4(1)).at(at(0)),
            leecher(mixed, v4(2)).at(at(500)),
            seeder(fresh, v4(1)).at(at(500)),
        ],
    )
    .await;
    let report = expire(store, at(100)).await;
    assert_eq!(report, ExpiryReport { peers_removed: 3, swarms_removed: 1 });
    assert_eq!(scrape_one(store, old).await, SwarmStats::default(), "an expired swarm scrapes as zeros");
    assert_eq!(scrape_one(store, mixed).await, stats(0, 1, 0));
    assert_eq!(scrape_one(store, fresh).await, stats(1, 0, 0));
    if let Ok(mut all) = store.scrape_all(100).await {
        all.sort_by_key(|(h, _)| *h);
        let mut expected = vec![(mixed, stats(0, 1, 0)), (fresh, stats(1, 0, 0))];
        expected.sort_by_key(|(h, _)| *h);
        assert_eq!(all, expected, "a full scrape lists only the swarms left with peers");
    }

    let reply = announce(store, leecher(old, v4(3)).at(at(600)), 50).await;
    assert_eq!(reply.stats, stats(0, 1, 0), "a swarm created again starts from zero downloads");
    assert!(reply.peers.is_empty());
}

/// A re-announce refreshes a peer's last-seen time, whatever its event or role.
pub async fn a_re_announce_refreshes_last_seen(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)).at(at(0)), leecher(h, v4(2)).at(at(0)), leecher(h, v4(3)).at(at(0))]).await;
    announce_all(store, [leecher(h, v4(1)).at(at(150)), leecher(h, v4(2)).completed().seeding().at(at(150))]).await;
    let report = expire(store, at(100)).await;
    assert_eq!(report, ExpiryReport { peers_removed: 1, swarms_removed: 0 }, "only the peer not refreshed expires");
    assert_eq!(scrape_one(store, h).await, stats(1, 1, 1));
}

/// Expiring again with the same cutoff, or an empty store, removes nothing.
pub async fn expire_with_nothing_stale_removes_nothing(store: &dyn TorrentManager) {
    assert_eq!(expire(store, at(0)).await, ExpiryReport::default(), "an empty store has nothing to expire");
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)).at(at(0)), seeder(h, v4(2)).at(at(50))]).await;
    assert_eq!(expire(store, at(0)).await, ExpiryReport::default(), "no peer is older than the cutoff");
    assert_eq!(expire(store, at(10)).await, ExpiryReport { peers_removed: 1, swarms_removed: 0 });
    assert_eq!(expire(store, at(10)).await, ExpiryReport::default(), "a second pass finds nothing more");
    assert_eq!(scrape_one(store, h).await, stats(1, 0, 0));
}

/// Expiry counts exactly, over many swarms: every peer and swarm removed, no more.
pub async fn expire_counts_exactly_over_many_swarms(store: &dyn TorrentManager) {
    // Swarm n holds n peers; peer k of it was last seen at k seconds. Cutoff 5: peers 0..=4 of
    // each swarm go; swarms 1..=5 (whose peers are all older than 5) go.
    let mut expected_removed = 0;
    for n in 1..=20u32 {
        let h = info_hash(n);
        for k in 0..n {
            let a = if k % 3 == 0 { seeder(h, v4(k)) } else { leecher(h, v4(k)) };
            announce(store, a.at(at(u64::from(k))), 0).await;
        }
        expected_removed += u64::from(n.min(5));
    }
    let report = expire(store, at(5)).await;
    assert_eq!(report, ExpiryReport { peers_removed: expected_removed, swarms_removed: 5 });
    for n in 1..=20u32 {
        assert_eq!(scrape_one(store, info_hash(n)).await.peers(), u64::from(n.saturating_sub(5)), "swarm {n}");
    }
}
