//! Adding, updating and removing peers; a peer is its address and port (contract rule 1).

use crate::TorrentManager;

use super::peers::{
    AnnounceExt, addrs, announce, announce_all, info_hash, leecher, peer, peer_id_for, scrape_one, seeder, stats, v4,
    with_port,
};
use crate::{PeerId, SwarmStats};

/// The first announce to an unknown swarm creates it, stores the peer and counts it; the
/// announcer gets no peers since it is alone.
pub async fn a_first_announce_stores_the_peer(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let reply = announce(store, leecher(h, v4(1)).started(), 50).await;
    assert!(reply.peers.is_empty(), "a lone peer gets no peers, got {:?}", reply.peers);
    assert_eq!(reply.stats, stats(0, 1, 0), "the reply counts the new leecher");
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 0), "the leecher is stored");

    let reply = announce(store, leecher(h, v4(2)), 50).await;
    assert_eq!(reply.peers, vec![peer(v4(1))], "the stored peer is handed to the next one");
}

/// A re-announce from the same address and port updates the stored peer; it is not stored twice.
pub async fn a_re_announce_updates_the_peer_without_duplicating_it(store: &dyn TorrentManager) {
    let h = info_hash(1);
    for _ in 0..3 {
        let reply = announce(store, leecher(h, v4(1)), 50).await;
        assert_eq!(reply.stats, stats(0, 1, 0), "re-announcing does not add a peer");
    }
    let reply = announce(store, leecher(h, v4(2)), 50).await;
    assert_eq!(reply.peers, vec![peer(v4(1))], "the re-announced peer is listed once");
}

/// A `stopped` announce (BEP 3) removes the peer at once: it is no longer counted nor handed out.
pub async fn a_stopped_peer_is_removed(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)), seeder(h, v4(2)), leecher(h, v4(3))]).await;

    let reply = announce(store, leecher(h, v4(1)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 0), "the reply counts no longer include the stopped leecher");
    let reply = announce(store, seeder(h, v4(2)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(0, 1, 0), "the reply counts no longer include the stopped seeder");

    let reply = announce(store, leecher(h, v4(3)), 50).await;
    assert!(reply.peers.is_empty(), "stopped peers are not handed out, got {:?}", reply.peers);
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 0));
}

/// A stopped peer that announces again is stored again, as a new peer.
pub async fn a_stopped_peer_can_come_back(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [leecher(h, v4(1)), leecher(h, v4(2))]).await;
    announce(store, leecher(h, v4(1)).stopped(), 0).await;
    let reply = announce(store, leecher(h, v4(1)).started(), 50).await;
    assert_eq!(reply.stats, stats(0, 2, 0), "the returning peer is counted again");
    assert_eq!(reply.peers, vec![peer(v4(2))]);
}

/// `stopped` for a swarm the store does not know returns zeros and creates nothing.
pub async fn stopped_for_an_unknown_swarm_returns_zeros_and_stores_nothing(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let reply = announce(store, leecher(h, v4(1)).stopped(), 50).await;
    assert_eq!(reply.stats, SwarmStats::default(), "an unknown swarm has zero counts");
    assert!(reply.peers.is_empty());
    assert_eq!(scrape_one(store, h).await, SwarmStats::default(), "nothing was stored");
    if let Ok(all) = store.scrape_all(100).await {
        assert!(all.is_empty(), "no swarm was created: {all:?}");
    }
    let reply = announce(store, leecher(h, v4(2)), 50).await;
    assert!(reply.peers.is_empty(), "the stopped peer was not stored: {:?}", reply.peers);
    assert_eq!(reply.stats, stats(0, 1, 0));
}

/// `stopped` from a peer a known swarm does not hold changes nothing.
pub async fn stopped_for_an_unknown_peer_changes_nothing(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce_all(store, [seeder(h, v4(1)), leecher(h, v4(2))]).await;
    let reply = announce(store, leecher(h, v4(3)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 0), "the swarm's counts are unchanged");
    let reply = announce(store, seeder(h, with_port(v4(1), 7000)).stopped(), 0).await;
    assert_eq!(reply.stats, stats(1, 1, 0), "a stop from another port of a stored address removes nothing");
}

/// The same peer id from another port is another peer: identity is address and port, so nobody
/// can evict or impersonate a peer by reusing its peer id.
pub async fn the_same_peer_id_from_another_port_is_another_peer(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let first = v4(1);
    let second = with_port(first, 51413);
    let id = peer_id_for(first);
    announce(store, leecher(h, first), 0).await;
    let reply = announce(store, leecher(h, second).with_id(id), 50).await;
    assert_eq!(reply.stats, stats(0, 2, 0), "both ports are counted");
    assert_eq!(reply.peers.len(), 1);
    assert_eq!(reply.peers[0].addr, first, "the other port is handed out");

    announce(store, leecher(h, second).with_id(id).stopped(), 0).await;
    assert_eq!(scrape_one(store, h).await, stats(0, 1, 0), "stopping one port leaves the other");
}

/// The same address and port with a new peer id replaces the stored peer (a restarted client),
/// and the new id is the one handed out.
pub async fn a_new_peer_id_from_the_same_address_replaces_the_peer(store: &dyn TorrentManager) {
    let h = info_hash(1);
    announce(store, leecher(h, v4(1)), 0).await;
    let new_id = PeerId(*b"-XX0001-restarted!!!");
    let reply = announce(store, leecher(h, v4(1)).with_id(new_id), 0).await;
    assert_eq!(reply.stats, stats(0, 1, 0), "a new peer id from the same address is not a new peer");
    let reply = announce(store, leecher(h, v4(2)), 50).await;
    assert_eq!(reply.peers.len(), 1);
    assert_eq!(reply.peers[0].addr, v4(1));
    assert_eq!(reply.peers[0].id, new_id, "the newest peer id is handed out");
}

/// The peers handed out carry exactly the address and peer id each one announced with.
pub async fn peer_ids_returned_are_the_ones_stored(store: &dyn TorrentManager) {
    let h = info_hash(1);
    let others: Vec<_> = (1..=20).map(v4).collect();
    announce_all(store, others.iter().map(|&a| seeder(h, a))).await;
    let reply = announce(store, leecher(h, v4(100)), 50).await;
    let mut got = reply.peers.clone();
    got.sort_by_key(|p| p.addr);
    let want: Vec<_> = others.iter().map(|&a| peer(a)).collect();
    assert_eq!(got, want, "each peer comes back with its own peer id");
}

/// Swarms are separate: peers of one info hash are never counted in or handed to another.
pub async fn swarms_are_kept_apart(store: &dyn TorrentManager) {
    let (a, b) = (info_hash(1), info_hash(2));
    announce_all(store, [leecher(a, v4(1)), seeder(a, v4(2)), leecher(b, v4(3))]).await;
    let reply = announce(store, leecher(b, v4(4)), 50).await;
    assert_eq!(addrs(&reply), [v4(3)].into(), "only peers of the same swarm are handed out");
    assert_eq!(reply.stats, stats(0, 2, 0));
    assert_eq!(scrape_one(store, a).await, stats(1, 1, 0));
}
