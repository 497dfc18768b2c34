//! Which peers an announce hands out, and how many (contract rule 3).

use std::collections::HashSet;
use std::net::SocketAddr;

use super::peers::{AnnounceExt, addrs, announce, announce_all, info_hash, leecher, seeder, stats, v4};
use crate::{InfoHash, TorrentManager};

/// Stores `seeders` seeders then `leechers` leechers (addresses `v4(1..)`) in swarm `h`, and
/// returns (seeder addresses, leecher addresses).
async fn fill(
    store: &dyn TorrentManager,
    h: InfoHash,
    seeders: u32,
    leechers: u32,
) -> (HashSet<SocketAddr>, HashSet<SocketAddr>) {
    let s: HashSet<_> = (1..=seeders).map(v4).collect();
    let l: HashSet<_> = (seeders + 1..=seeders + leechers).map(v4).collect();
    announce_all(store, s.iter().map(|&a| seeder(h, a))).await;
    announce_all(store, l.iter().map(|&a| leecher(h, a))).await;
    (s, l)
}

/// `numwant = 0` returns no peers, but the counts all the same (how clients ask for counts only).
pub async fn numwant_zero_returns_no_peers_but_the_counts(store: &dyn TorrentManager) {
    let h = info_hash(1);
    fill(store, h, 3, 4).await;
    let reply = announce(store, leecher(h, v4(1000)), 0).await;
    assert!(reply.peers.is_empty(), "numwant 0 asks for no peers, got {:?}", reply.peers);
    assert_eq!(reply.stats, stats(3, 5, 0));
}

/// A swarm larger than `numwant` gives exactly `numwant` distinct peers of the swarm.
pub async fn numwant_limits_the_peers_returned(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let (s, l) = fill(store, h, 10, 30).await;
    let me = v4(1000);
    for want in [1, 5, 17, 39] {
        let reply = announce(store, leecher(h, me), want).await;
        let got = addrs(&reply);
        assert_eq!(got.len(), want, "numwant {want} in a swarm of 40 others");
        assert!(got.iter().all(|a| s.contains(a) || l.contains(a)), "only the swarm's peers: {got:?}");
    }
}

/// A `numwant` larger than the swarm returns every other peer, even an absurd one.
pub async fn a_want_larger_than_the_swarm_returns_every_other_peer(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let (s, l) = fill(store, h, 4, 6).await;
    let everyone: HashSet<_> = s.union(&l).copied().collect();
    for want in [11, 50, 10_000, usize::MAX] {
        let me = v4(1);
        let reply = announce(store, seeder(h, me), want).await;
        assert_eq!(addrs(&reply), l, "a seeder with numwant {want} gets every leecher");
        let me = v4(5);
        let reply = announce(store, leecher(h, me), want).await;
        let others: HashSet<_> = everyone.iter().copied().filter(|&a| a != me).collect();
        assert_eq!(addrs(&reply), others, "a leecher with numwant {want} gets every other peer");
    }
}

/// The announcer is never in its own list, whatever the swarm's size, `numwant`, event or role.
pub async fn the_announcer_is_never_in_its_own_list(store: &dyn TorrentManager) {
    let h = info_hash(1);
    fill(store, h, 20, 40).await;
    for n in 1..=60 {
        for want in [1, 10, 59, 60, 200] {
            let me = v4(n);
            for a in [leecher(h, me), seeder(h, me), leecher(h, me).started(), leecher(h, me).completed()] {
                let reply = announce(store, a, want).await;
                assert!(!addrs(&reply).contains(&me), "{me} was handed itself (numwant {want})");
            }
        }
    }
    let reply = announce(store, leecher(info_hash(2), v4(1)), 50).await;
    assert!(reply.peers.is_empty(), "the first peer of a swarm is not handed itself");
}

/// A seeder is given leechers only: seeders have nothing to get from each other.
pub async fn a_seeder_is_given_only_leechers(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let (_, l) = fill(store, h, 30, 30).await;
    for n in [1, 15, 30] {
        let reply = announce(store, seeder(h, v4(n)), 10).await;
        let got = addrs(&reply);
        assert_eq!(got.len(), 10);
        assert!(got.is_subset(&l), "a seeder got seeders: {got:?}");
    }
    let reply = announce(store, seeder(h, v4(1000)), 100).await;
    assert_eq!(addrs(&reply), l, "a new seeder with a large numwant gets every leecher");

    let lone = info_hash(2);
    fill(store, lone, 5, 0).await;
    let reply = announce(store, seeder(lone, v4(1000)), 50).await;
    assert!(reply.peers.is_empty(), "a seeder in a swarm of seeders gets no peers");
}

/// A leecher is given seeders and leechers.
pub async fn a_leecher_is_given_seeders_and_leechers(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let (s, l) = fill(store, h, 3, 3).await;
    let reply = announce(store, leecher(h, v4(1000)), 50).await;
    let got = addrs(&reply);
    assert!(s.is_subset(&got), "every seeder is handed out: {got:?}");
    assert!(l.is_subset(&got), "every leecher is handed out: {got:?}");
}

/// When the swarm holds more candidates than `numwant`, the choice varies between announces, so
/// every peer gets introduced. Over 30 announces of `numwant = 10` in a swarm of 200 others,
/// more than 10 distinct peers must appear (a random choice fails this with a probability far
/// below one in 10^60).
pub async fn the_choice_varies_between_announces(store: &dyn TorrentManager) {
    let h = info_hash(1);
    fill(store, h, 50, 150).await;
    let mut seen_by_leecher = HashSet::new();
    let mut seen_by_seeder = HashSet::new();
    for _ in 0..30 {
        seen_by_leecher.extend(addrs(&announce(store, leecher(h, v4(1000)), 10).await));
        seen_by_seeder.extend(addrs(&announce(store, seeder(h, v4(1001)), 10).await));
    }
    assert!(seen_by_leecher.len() > 10, "a leecher always got the same peers: {seen_by_leecher:?}");
    assert!(seen_by_seeder.len() > 10, "a seeder always got the same peers: {seen_by_seeder:?}");
}
