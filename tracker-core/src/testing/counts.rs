//! Seeders, leechers and downloads (BEP 48 `complete`, `incomplete`, `downloaded`), as returned
//! by every announce **after** it was applied (contract rules 2 and 4).

use super::peers::{AnnounceExt, announce, announce_all, info_hash, leecher, scrape_one, seeder, stats, v4, v6};
use crate::TorrentManager;

/// After each announce of a sequence, the reply's counts are the swarm's counts with that
/// announce applied, and a scrape agrees.
pub async fn counts_in_the_reply_include_the_announce(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let steps = [
        ("a leecher joins", leecher(h, v4(1)).started(), stats(0, 1, 0)),
        ("a second leecher joins", leecher(h, v4(2)).started(), stats(0, 2, 0)),
        ("a seeder joins", seeder(h, v4(3)).started(), stats(1, 2, 0)),
        ("a leecher re-announces", leecher(h, v4(1)), stats(1, 2, 0)),
        ("a leecher completes", leecher(h, v4(1)).completed().seeding(), stats(2, 1, 1)),
        ("an IPv6 leecher joins", leecher(h, v6(1)).started(), stats(2, 2, 1)),
        ("a seeder stops", seeder(h, v4(3)).stopped(), stats(1, 2, 1)),
        ("an IPv6 leecher stops", leecher(h, v6(1)).stopped(), stats(1, 1, 1)),
        ("the last leecher stops", leecher(h, v4(2)).stopped(), stats(1, 0, 1)),
    ];
    for (what, a, expected) in steps {
        let reply = announce(store, a, 50).await;
        assert_eq!(reply.stats, expected, "reply counts after: {what}");
        assert_eq!(scrape_one(store, h).await, expected, "scrape after: {what}");
    }
}

/// A leecher that announces `left = 0` without `completed` (it may have had the data already)
/// becomes a seeder, and no download is counted; a seeder announcing `left > 0` becomes a
/// leecher again.
pub async fn a_leecher_turning_seeder_without_completed_counts_no_download(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)), leecher(h, v4(2))]).await;
    let reply = announce(store, leecher(h, v4(1)).seeding(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 0), "the peer moved from incomplete to complete, with no download");
    let reply = announce(store, seeder(h, v4(1)).leeching(), 0).await;
    assert_eq!(reply.stats, stats(0, 2, 0), "a seeder announcing left > 0 is a leecher again");
}

/// `completed` from a peer stored as a leecher raises `downloaded` by exactly one (BEP 3).
pub async fn completed_from_a_known_leecher_counts_one_download(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)).started(), leecher(h, v4(2)).started()]).await;
    let reply = announce(store, leecher(h, v4(1)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 1), "the completing leecher is a seeder and one download is counted");
    let reply = announce(store, leecher(h, v4(2)).completed().seeding(), 0).await;
    assert_eq!(reply.stats, stats(2, 0, 2), "each completing leecher counts once");
}

/// A second `completed` from the same peer (now a seeder) counts nothing.
pub async fn a_second_completed_counts_nothing(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce(store, leecher(h, v4(1)).started(), 0).await;
    announce(store, leecher(h, v4(1)).completed().seeding(), 0).await;
    for _ in 0..3 {
        let reply = announce(store, seeder(h, v4(1)).completed(), 0).await;
        assert_eq!(reply.stats, stats(1, 0, 1), "a repeated completed is not another download");
    }
}

/// `completed` from a peer the swarm does not hold counts nothing (it may be replayed, or the
/// peer was expired); the peer is stored all the same.
pub async fn completed_from_an_unknown_peer_counts_nothing(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let reply = announce(store, seeder(h, v4(1)).completed(), 0).await;
    assert_eq!(reply.stats, stats(1, 0, 0), "an unknown swarm's first completed stores a seeder, no download");
    let reply = announce(store, seeder(h, v4(2)).completed(), 0).await;
    assert_eq!(reply.stats, stats(2, 0, 0), "an unknown peer's completed stores a seeder, no download");
}

/// `completed` from a peer stored as a seeder counts nothing.
pub async fn completed_from_a_seeder_counts_nothing(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce(store, seeder(h, v4(1)).started(), 0).await;
    let reply = announce(store, seeder(h, v4(1)).completed(), 0).await;
    assert_eq!(reply.stats, stats(1, 0, 0), "a seeder has nothing left to complete");
}

/// Downloads belong to their swarm.
pub async fn downloads_are_counted_per_swarm(store: &dyn TorrentManager) {
    let (a, b) = (info_hash(1), info_hash(2));
    announce_all(store, [leecher(a, v4(1)), leecher(b, v4(1))]).await;
    announce(store, leecher(a, v4(1)).completed().seeding(), 0).await;
    assert_eq!(scrape_one(store, a).await, stats(1, 0, 1));
    assert_eq!(scrape_one(store, b).await, stats(0, 1, 0), "another swarm's download is not counted here");
}
