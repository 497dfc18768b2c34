//! The swarm type's rules without Redis (the replay test compares it with the Lua script through
//! real servers: `backends/redis/tests/replay.rs`).

use crate::encoding::{decode, encode};
use crate::swarm::{Announce, Event, Swarm};

fn addr4(n: u32) -> [u8; 6] {
    let mut a = [0; 6];
    a[..4].copy_from_slice(&n.to_be_bytes());
    a[4..].copy_from_slice(&6881_u16.to_be_bytes());
    a
}

fn announce<'a>(addr: &'a [u8], id: &'a [u8; 20], seeder: bool, event: Event, now: u64) -> Announce<'a> {
    Announce {
        addr,
        peer_id: id,
        event,
        seeder,
        now,
        cutoff: now.saturating_sub(100),
        want: 50,
        every: 10,
        random: [7, 11],
    }
}

#[test]
fn counts_follow_announces_and_an_empty_swarm_says_so() {
    let mut s = Swarm::default();
    let (a, b) = (addr4(1), addr4(2));
    let id = [1; 20];
    let r = s.announce(&announce(&a, &id, false, Event::Started, 1000), false);
    assert_eq!(r.counts, [0, 1, 0]);
    assert!(r.pass, "a new swarm refreshes its time to live");
    let r = s.announce(&announce(&b, &id, true, Event::Started, 1001), true);
    assert_eq!(r.counts, [1, 1, 0]);
    assert_eq!(r.stretches.concat(), [&a[..], &id[..]].concat(), "the seeder gets the leecher");
    let r = s.announce(&announce(&a, &id, true, Event::Completed, 1002), true);
    assert_eq!(r.counts, [2, 0, 1]);
    let r = s.announce(&announce(&a, &id, true, Event::Completed, 1003), true);
    assert_eq!(r.counts, [2, 0, 1], "a second completed from a seeder counts nothing");
    s.announce(&announce(&a, &id, true, Event::Stopped, 1004), true);
    let r = s.announce(&announce(&b, &id, true, Event::Stopped, 1005), true);
    assert_eq!(r.counts, [0, 0, 0]);
    assert!(s.is_empty());
}

#[test]
fn expiry_removes_the_stale_and_keeps_positions_dense() {
    let mut s = Swarm::default();
    let id = [9; 20];
    // Enough peers for the index (more than 32).
    for n in 0..100 {
        s.announce(&announce(&addr4(n), &id, n % 2 == 0, Event::Started, 1000 + u64::from(n)), n > 0);
    }
    assert_eq!(s.peers(), 100);
    let (removed, empty) = s.expire(1050);
    assert_eq!((removed, empty), (50, false));
    assert_eq!(s.stats()[..2], [25, 25]);
    // Every remaining peer is found again (the index followed the moves): a re-announce does not
    // add it twice.
    for n in 50..100 {
        s.announce(&announce(&addr4(n), &id, n % 2 == 0, Event::None, 1100), true);
    }
    assert_eq!(s.peers(), 50);
    assert_eq!(s.expire(2000), (50, true));
}

#[test]
fn the_announcer_is_never_handed_itself() {
    let mut s = Swarm::default();
    let id = [3; 20];
    for n in 0..40 {
        s.announce(&announce(&addr4(n), &id, false, Event::Started, 1000), n > 0);
    }
    for n in 0..40 {
        let me = addr4(n);
        for random in [0, 5, 39, 1 << 31] {
            let mut a = announce(&me, &id, false, Event::None, 1001);
            a.want = 10;
            a.random = [random, random];
            let r = s.announce(&a, true);
            let bytes = r.stretches.concat();
            assert_eq!(bytes.len(), 10 * 26);
            assert!(bytes.chunks_exact(26).all(|rec| rec[..6] != me), "peer {n} got itself");
        }
    }
}

#[test]
fn the_encoding_round_trips_and_refuses_damage() {
    let mut s = Swarm::default();
    let id = [4; 20];
    for n in 0..50 {
        s.announce(&announce(&addr4(n), &id, n % 3 == 0, Event::Started, 1000), n > 0);
    }
    let mut v6 = [0; 18];
    v6[0] = 0x20;
    s.announce(&announce(&v6, &id, true, Event::Started, 1000), true);
    let blob = encode(&s);
    let back = decode(&blob).expect("decodes");
    assert_eq!(encode(&back), blob);
    assert_eq!(back.stats(), s.stats());
    assert!(decode(&blob[..blob.len() - 1]).unwrap_err().contains("truncated"));
    let mut longer = blob.clone();
    longer.push(0);
    assert!(decode(&longer).unwrap_err().contains("after the swarm"));
    let mut version = blob.clone();
    version[0] = 9;
    assert!(decode(&version).unwrap_err().contains("version 9"));
    // A count far larger than the bytes that follow.
    let mut huge = blob[..17].to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(decode(&huge).is_err());
    // The same address twice.
    let mut twice = blob[..17].to_vec();
    twice.extend_from_slice(&2_u32.to_le_bytes());
    let entry = [&addr4(1)[..], &id[..], &1000_u32.to_le_bytes()[..]].concat();
    twice.extend_from_slice(&entry);
    twice.extend_from_slice(&entry);
    twice.extend_from_slice(&[0; 12]);
    assert!(decode(&twice).unwrap_err().contains("twice"));
}

/// A WebRTC peer's synthetic compact address (100::/64).
fn rtc(n: u8) -> [u8; 18] {
    let mut a = [0; 18];
    a[0] = 1;
    a[15] = n;
    a[17] = 1;
    a
}

#[test]
fn every_family_shares_the_swarm_and_its_downloads_but_not_peer_lists() {
    let mut s = Swarm::default();
    let id = [5; 20];
    let (four, web) = (addr4(1), rtc(1));
    let mut six = [0; 18];
    six[0] = 0x20;
    s.announce(&announce(&four, &id, false, Event::Started, 1000), false);
    s.announce(&announce(&six, &id, true, Event::Started, 1000), true);
    let r = s.announce(&announce(&web, &id, false, Event::Started, 1000), true);
    assert_eq!(r.counts, [1, 2, 0], "the counts cover every family");
    assert!(r.stretches.is_empty(), "a WebRTC leecher alone in its family gets no peer");
    let r = s.announce(&announce(&rtc(2), &id, true, Event::Started, 1001), true);
    assert_eq!(r.stretches.concat(), [&web[..], &id[..]].concat(), "a WebRTC seeder gets the WebRTC leecher");
    let r = s.announce(&announce(&four, &id, true, Event::Completed, 1002), true);
    assert_eq!(r.counts, [3, 1, 1]);
    // The IPv4 family's last peer leaves: the download it counted stays with the swarm.
    let r = s.announce(&announce(&four, &id, true, Event::Stopped, 1003), true);
    assert_eq!(r.counts, [2, 1, 1]);
    let r = s.announce(&announce(&web, &id, true, Event::Completed, 1004), true);
    assert_eq!(r.counts, [3, 0, 2]);
    // Expiry goes over every family, oldest first.
    assert_eq!(s.expire(1001), (1, false), "the IPv6 seeder of 1000");
    assert_eq!(s.stats(), [2, 0, 2]);
    let blob = encode(&s);
    assert_eq!(blob[0], 2, "encoding version 2");
    assert_eq!(decode(&blob).expect("decodes").stats(), [2, 0, 2]);
}

#[test]
fn a_version_1_blob_reads_with_no_webrtc_peer_and_families_are_checked() {
    let id = [6; 20];
    // Version 1: prune time, downloads, then IPv4 seeders (one), IPv4 leechers, IPv6 seeders and
    // leechers (none): no WebRTC sets.
    let mut v1 = vec![1];
    v1.extend_from_slice(&900_u64.to_le_bytes());
    v1.extend_from_slice(&7_u64.to_le_bytes());
    v1.extend_from_slice(&1_u32.to_le_bytes());
    v1.extend_from_slice(&[&addr4(1)[..], &id[..], &1000_u32.to_le_bytes()[..]].concat());
    v1.extend_from_slice(&[0; 12]);
    let s = decode(&v1).expect("a version-1 blob decodes");
    assert_eq!(s.stats(), [1, 0, 7]);
    let v2 = encode(&s);
    assert_eq!((v2[0], v2.len()), (2, v1.len() + 8), "written back as version 2, two empty WebRTC sets more");
    // A WebRTC address among the IPv6 peers is refused (and an IPv6 one among the WebRTC peers).
    let mut forged = v2[..17].to_vec();
    forged.extend_from_slice(&[0; 8]);
    forged.extend_from_slice(&1_u32.to_le_bytes());
    forged.extend_from_slice(&[&rtc(1)[..], &id[..], &1000_u32.to_le_bytes()[..]].concat());
    forged.extend_from_slice(&[0; 12]);
    assert!(decode(&forged).unwrap_err().contains("another family"), "{:?}", decode(&forged).err());
}

#[test]
fn a_swarm_header_is_one_64_byte_allocation() {
    // Redis's allocator (jemalloc) rounds an allocation up to its size class: 64 bytes here, one
    // class more (80) with 32-bit set ends, paid by every swarm.
    assert!(std::mem::size_of::<Swarm>() <= 64, "{}", std::mem::size_of::<Swarm>());
}
