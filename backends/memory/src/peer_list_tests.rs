//! Unit tests of [`PeerList`]: the seeder/leecher partition and the index across swaps, removals,
//! expiry and the index threshold.

use std::collections::HashMap;

use octotracker_core::UnixTime;

use super::*;

/// A list and its index, as a swarm keeps them.
#[derive(Default)]
struct List {
    list: PeerList<[u8; 4], [u8; 20]>,
    index: Option<Index<[u8; 4]>>,
}

impl List {
    fn len(&self) -> usize {
        self.list.len()
    }

    fn seeders(&self) -> usize {
        self.list.seeders()
    }

    fn leechers(&self) -> usize {
        self.list.leechers()
    }

    fn entries(&self) -> &[Entry<[u8; 4], [u8; 20]>] {
        self.list.entries()
    }

    fn capacity(&self) -> usize {
        self.list.capacity()
    }

    fn is_indexed(&self) -> bool {
        self.index.is_some()
    }

    fn find(&self, key: Key<[u8; 4]>) -> Option<usize> {
        self.list.find(&self.index, key)
    }

    fn upsert(&mut self, entry: Entry<[u8; 4], [u8; 20]>, seeder: bool) -> (usize, Was) {
        self.list.upsert(&mut self.index, entry, seeder)
    }

    fn remove(&mut self, key: Key<[u8; 4]>) -> Was {
        self.list.remove(&mut self.index, key)
    }

    fn expire(&mut self, cutoff: UnixTime) -> usize {
        self.list.expire(&mut self.index, cutoff)
    }
}

fn entry(n: u16, last_seen: u32) -> Entry<[u8; 4], [u8; 20]> {
    Entry::new([10, 0, (n >> 8) as u8, n as u8], 6881, last_seen, [n as u8; 20])
}

fn key(n: u16) -> Key<[u8; 4]> {
    entry(n, 0).key()
}

/// Checks every invariant of `list` against `model` (key → seeder).
fn check(list: &List, model: &HashMap<Key<[u8; 4]>, bool>) {
    assert_eq!(list.len(), model.len(), "one entry per peer");
    assert_eq!(list.seeders(), model.values().filter(|&&s| s).count(), "seeders counted");
    for (i, e) in list.entries().iter().enumerate() {
        let seeder = model.get(&e.key()).copied();
        assert_eq!(seeder, Some(i < list.seeders()), "entry {i} is in its role's range");
        assert_eq!(list.find(e.key()), Some(i), "entry {i} is found where it is");
    }
    if let Some(index) = &list.index {
        assert_eq!(index.len(), list.len(), "the index holds exactly the entries");
    }
    assert_eq!(list.is_indexed(), list.index.is_some());
}

#[test]
fn new_peers_go_to_their_role_and_are_counted() {
    let mut list = List::default();
    assert_eq!(list.upsert(entry(1, 0), false), (0, Was::Absent));
    assert_eq!(list.upsert(entry(2, 0), true), (0, Was::Absent), "a seeder goes in front");
    assert_eq!(list.upsert(entry(3, 0), false).1, Was::Absent);
    assert_eq!((list.seeders(), list.leechers()), (1, 2));
    check(&list, &[(key(1), false), (key(2), true), (key(3), false)].into());
}

#[test]
fn an_update_replaces_the_peer_id_and_time_in_place() {
    let mut list = List::default();
    list.upsert(entry(1, 0), false);
    let mut newer = entry(1, 99);
    newer.peer_id = [42; 20];
    assert_eq!(list.upsert(newer, false), (0, Was::Leecher));
    assert_eq!(list.entries(), &[newer]);
}

#[test]
fn peers_cross_the_boundary_both_ways() {
    let mut list = List::default();
    let mut model = HashMap::new();
    for n in 0..6 {
        list.upsert(entry(n, 0), n % 2 == 0);
        model.insert(key(n), n % 2 == 0);
    }
    assert_eq!(list.upsert(entry(1, 0), true).1, Was::Leecher);
    model.insert(key(1), true);
    check(&list, &model);
    assert_eq!(list.upsert(entry(0, 0), false).1, Was::Seeder);
    model.insert(key(0), false);
    check(&list, &model);
}

#[test]
fn removal_keeps_the_partition_and_returns_what_the_peer_was() {
    let mut list = List::default();
    let mut model = HashMap::new();
    for n in 0..8 {
        list.upsert(entry(n, 0), n < 3);
        model.insert(key(n), n < 3);
    }
    for n in [0, 7, 2, 4] {
        let was = if n < 3 { Was::Seeder } else { Was::Leecher };
        assert_eq!(list.remove(key(n)), was, "peer {n}");
        model.remove(&key(n));
        check(&list, &model);
    }
    assert_eq!(list.remove(key(0)), Was::Absent, "removing twice removes nothing");
}

#[test]
fn the_index_appears_above_the_threshold_and_goes_below_the_lower_one() {
    let mut list = List::default();
    let mut model = HashMap::new();
    for n in 0..INDEX_FROM as u16 {
        list.upsert(entry(n, 0), n % 3 == 0);
        model.insert(key(n), n % 3 == 0);
    }
    assert!(!list.is_indexed(), "{INDEX_FROM} entries are scanned");
    list.upsert(entry(1000, 0), true);
    model.insert(key(1000), true);
    assert!(list.is_indexed(), "one more builds the index");
    check(&list, &model);

    // Removing from the front and the back: every swap_remove must fix the index.
    let mut n = 0u16;
    while list.len() >= INDEX_UNTIL {
        assert!(list.is_indexed(), "the index stays down to {INDEX_UNTIL} entries");
        let k = if n.is_multiple_of(2) { list.entries()[0].key() } else { list.entries()[list.len() - 1].key() };
        list.remove(k);
        model.remove(&k);
        check(&list, &model);
        n += 1;
    }
    assert!(!list.is_indexed(), "below {INDEX_UNTIL} entries the index is dropped");
    check(&list, &model);
}

#[test]
fn random_operations_keep_every_invariant() {
    // A model check over 3,000 operations on 80 addresses, in phases that mostly insert (the
    // list settles near 70 peers) and mostly remove (near 8), so it crosses both index
    // thresholds again and again.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut list = List::default();
    let mut model = HashMap::new();
    let mut crossings = 0;
    for step in 0..3_000u32 {
        let removing = (step / 250) % 2 == 1;
        let n = rng.u16(..80);
        let was_indexed = list.is_indexed();
        if rng.u8(..10) < if removing { 9 } else { 1 } {
            let was = list.remove(key(n));
            let expected = match model.remove(&key(n)) {
                None => Was::Absent,
                Some(true) => Was::Seeder,
                Some(false) => Was::Leecher,
            };
            assert_eq!(was, expected, "step {step}");
        } else {
            let seeder = rng.bool();
            let (at, _) = list.upsert(entry(n, step), seeder);
            assert_eq!(list.entries()[at].key(), key(n), "upsert returns the peer's position");
            model.insert(key(n), seeder);
        }
        crossings += usize::from(was_indexed != list.is_indexed());
        check(&list, &model);
    }
    assert!(crossings >= 10, "the test crossed the thresholds ({crossings} times)");
}

#[test]
fn expire_removes_old_peers_and_keeps_the_partition_and_index() {
    for size in [10u16, 100] {
        let mut list = List::default();
        let mut model = HashMap::new();
        for n in 0..size {
            list.upsert(entry(n, u32::from(n % 4)), n % 3 == 0);
            model.insert(key(n), n % 3 == 0);
        }
        let removed = list.expire(UnixTime(2));
        model.retain(|&(ip, _), _| (u16::from(ip[2]) << 8 | u16::from(ip[3])) % 4 >= 2);
        assert_eq!(removed, usize::from(size) - model.len(), "size {size}");
        check(&list, &model);
        assert_eq!(list.expire(UnixTime(2)), 0, "nothing more to expire");
    }
}

#[test]
fn memory_is_given_back_as_a_list_shrinks() {
    let mut list = List::default();
    for n in 0..1000 {
        list.upsert(entry(n, 0), false);
    }
    assert!(list.capacity() <= 1000 + 1000 / 4 + 2, "growth is modest: {}", list.capacity());
    for n in 0..990 {
        list.remove(key(n));
    }
    assert!(list.capacity() <= 2 * 10 + 2, "capacity {} for 10 peers", list.capacity());
    assert!(!list.is_indexed());
}
