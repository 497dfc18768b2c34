//! A store that does not keep peer ids (`MemoryConfig::peer_ids = false`): the same counts,
//! roles and selection as the contract asks, peer ids handed out as zeros.

use octotracker_core::{Event, InfoHash, PeerAnnounce, PeerId, TorrentManager, UnixTime};
use octotracker_memory::{MemoryConfig, MemoryTorrentManager};

fn announce(addr: &str, seeder: bool, event: Event, now: u64) -> PeerAnnounce {
    PeerAnnounce {
        info_hash: InfoHash([5; 20]),
        addr: addr.parse().unwrap(),
        peer_id: PeerId(*b"-XX0001-abcdefghijkl"),
        event,
        seeder,
        now: UnixTime(now),
    }
}

#[tokio::test]
async fn counts_roles_and_expiry_work_and_ids_are_zeros() {
    let store = MemoryTorrentManager::new(MemoryConfig { peer_ids: false, ..MemoryConfig::default() });
    assert!(!store.keeps_peer_ids());
    store.announce(&announce("192.0.2.1:1", true, Event::Started, 10), 50).await.unwrap();
    store.announce(&announce("[2001:db8::1]:1", false, Event::Started, 10), 50).await.unwrap();
    let reply = store.announce(&announce("192.0.2.2:2", false, Event::Started, 20), 50).await.unwrap();
    assert_eq!(reply.peers.len(), 1, "only the IPv4 seeder, never the announcer or an IPv6 peer");
    assert_eq!(reply.peers[0].addr, "192.0.2.1:1".parse().unwrap());
    assert_eq!(reply.peers[0].id, PeerId([0; 20]), "no id is kept, so none is handed out");
    assert_eq!((reply.stats.complete, reply.stats.incomplete), (1, 2));

    let reply = store.announce(&announce("192.0.2.2:2", true, Event::Completed, 20), 0).await.unwrap();
    assert_eq!((reply.stats.complete, reply.stats.incomplete, reply.stats.downloaded), (2, 1, 1));

    let report = store.expire(UnixTime(20)).await.unwrap();
    assert_eq!((report.peers_removed, report.swarms_removed), (2, 0), "the two peers seen at 10 go");
    let stats = store.scrape(&[InfoHash([5; 20])]).await.unwrap();
    assert_eq!((stats[0].complete, stats[0].incomplete, stats[0].downloaded), (1, 0, 1));
}
