//! Where each peer of a large list sits: an open-addressing table (linear probing) of 8-byte
//! slots, each holding a peer's position in the list and 32 bits of the hash of its address
//! and port. The keys themselves stay in the list's entries.
//!
//! A lookup reads one slot (a cache miss in a large swarm) and the entry it points at, which
//! the announce then updates anyway: a `HashMap<Key, u32>` read a control byte, then a slot
//! holding a copy of the key, then the entry, one more miss per announce, and took 12 bytes and
//! a control byte per slot instead of 8.
//!
//! The slot's hash bits also say where the slot belongs (its home is those bits masked by the
//! table size), so growing, shrinking and deleting (by shifting the following slots back) never
//! read an entry; only a lookup compares keys, and only when the 32 bits match.

use std::hash::BuildHasher;
use std::marker::PhantomData;

use foldhash::fast::RandomState;

use crate::entry::{Entry, Ip, Key, PeerIdSlot};

/// A free slot.
const EMPTY: u64 = 0;

/// Address and port → position in the list, for lists of addresses of type `A`.
pub(crate) struct Index<A: Ip> {
    /// `EMPTY`, or the key's hash bits in the upper half and its position + 1 in the lower.
    /// The length is a power of two, at most three quarters used.
    slots: Box<[u64]>,
    len: usize,
    /// Seeded at random: addresses and ports are chosen by strangers.
    hasher: RandomState,
    family: PhantomData<A>,
}

impl<A: Ip> std::fmt::Debug for Index<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("len", &self.len).field("slots", &self.slots.len()).finish()
    }
}

impl<A: Ip> Index<A> {
    /// An index of `entries`.
    pub(crate) fn of<P: PeerIdSlot>(entries: &[Entry<A, P>]) -> Self {
        let mut index = Index {
            slots: vec![EMPTY; slots_for(entries.len())].into_boxed_slice(),
            len: 0,
            hasher: RandomState::default(),
            family: PhantomData,
        };
        for (at, e) in entries.iter().enumerate() {
            index.insert(e.key(), at);
        }
        index
    }

    /// Peers indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots allocated.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The upper 32 bits of a slot for `key` (never 0 in the lower half once a position is in).
    fn tag(&self, key: Key<A>) -> u64 {
        self.hasher.hash_one(key) >> 32 << 32
    }

    /// The first slot to look at for a slot value.
    fn home(&self, slot: u64) -> usize {
        (slot >> 32) as usize & self.mask()
    }

    /// The position of the peer at `key` in `entries`.
    pub(crate) fn find<P: PeerIdSlot>(&self, entries: &[Entry<A, P>], key: Key<A>) -> Option<usize> {
        let tag = self.tag(key);
        let mut i = self.home(tag);
        loop {
            let slot = self.slots[i];
            if slot == EMPTY {
                return None;
            }
            if slot >> 32 << 32 == tag {
                let at = (slot as u32 - 1) as usize;
                if entries.get(at).is_some_and(|e| e.key() == key) {
                    return Some(at);
                }
            }
            i = (i + 1) & self.mask();
        }
    }

    /// Adds the peer at `key`, which is not indexed yet, at position `at`.
    pub(crate) fn insert(&mut self, key: Key<A>, at: usize) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(self.slots.len() * 2);
        }
        let slot = self.tag(key) | (at as u64 + 1);
        self.put(slot);
        self.len += 1;
    }

    /// Puts `slot` in the first free slot from its home.
    fn put(&mut self, slot: u64) {
        let mut i = self.home(slot);
        while self.slots[i] != EMPTY {
            i = (i + 1) & self.mask();
        }
        self.slots[i] = slot;
    }

    /// Where the slot of the peer at `key`, at position `at`, is.
    fn slot_of(&self, key: Key<A>, at: usize) -> Option<usize> {
        let wanted = self.tag(key) | (at as u64 + 1);
        let mut i = self.home(wanted);
        loop {
            match self.slots[i] {
                EMPTY => return None,
                slot if slot == wanted => return Some(i),
                _ => i = (i + 1) & self.mask(),
            }
        }
    }

    /// Records that the peers at `a` and `b` swapped places: `key_a` was at `a` and is now at
    /// `b`, `key_b` the other way round.
    pub(crate) fn swapped(&mut self, key_a: Key<A>, a: usize, key_b: Key<A>, b: usize) {
        // Both found before either changes: while one is rewritten, two slots hold one position.
        let (slot_a, slot_b) = (self.slot_of(key_a, a), self.slot_of(key_b, b));
        if let Some(i) = slot_a {
            self.slots[i] = self.tag(key_a) | (b as u64 + 1);
        }
        if let Some(i) = slot_b {
            self.slots[i] = self.tag(key_b) | (a as u64 + 1);
        }
    }

    /// Removes the peer at `key`, at position `at`; the following slots of its run shift back
    /// so that every lookup still finds its slot before a free one.
    pub(crate) fn remove(&mut self, key: Key<A>, at: usize) {
        let Some(mut hole) = self.slot_of(key, at) else {
            return;
        };
        self.len -= 1;
        let mask = self.mask();
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let slot = self.slots[i];
            if slot == EMPTY {
                break;
            }
            // The slot may move back to the hole unless its home lies after the hole (cyclically,
            // up to the slot itself).
            let home = self.home(slot);
            if (i.wrapping_sub(home) & mask) >= (i.wrapping_sub(hole) & mask) {
                self.slots[hole] = slot;
                hole = i;
            }
        }
        self.slots[hole] = EMPTY;
    }

    /// Gives memory back after the list shrank a lot (a table at most an eighth used becomes
    /// one about a third used).
    pub(crate) fn shrink(&mut self) {
        let fitting = slots_for(self.len * 2);
        if fitting < self.slots.len() / 2 {
            self.rebuild(fitting);
        }
    }

    /// Moves every slot to a table of `size` slots.
    fn rebuild(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size].into_boxed_slice());
        for slot in old.iter().copied().filter(|&s| s != EMPTY) {
            self.put(slot);
        }
    }
}

/// Slots for `len` peers: a power of two, at least 8, `len` using at most three quarters.
fn slots_for(len: usize) -> usize {
    (len * 4 / 3 + 1).next_power_of_two().max(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u16) -> Vec<Entry<[u8; 4], ()>> {
        (0..n).map(|i| Entry::new([10, 0, (i >> 8) as u8, i as u8], 6881 + i % 3, 0, ())).collect()
    }

    #[test]
    fn every_entry_is_found_where_it_is_and_strangers_are_not() {
        let e = entries(1_000);
        let index = Index::of(&e);
        assert_eq!(index.len(), 1_000);
        assert!(index.capacity() >= 1_000 * 4 / 3 && index.capacity().is_power_of_two());
        for (at, entry) in e.iter().enumerate() {
            assert_eq!(index.find(&e, entry.key()), Some(at));
        }
        assert_eq!(index.find(&e, ([10, 0, 0, 0], 1)), None);
        assert_eq!(index.find(&e, ([192, 0, 2, 1], 6881)), None);
    }

    #[test]
    fn swaps_and_removals_keep_it_exact_and_shrinking_keeps_it_whole() {
        let mut e = entries(600);
        let mut index = Index::of(&e);
        // Swap pairs around, as the list does at its seeder/leecher boundary.
        for (a, b) in [(0, 599), (5, 6), (300, 1), (42, 42 + 256)] {
            let (ka, kb) = (e[a].key(), e[b].key());
            e.swap(a, b);
            index.swapped(ka, a, kb, b);
        }
        // Remove from the end down to 20 entries, as the list does (swap to the end, then pop).
        while e.len() > 20 {
            let at = e.len() / 3;
            let last = e.len() - 1;
            let (k_at, k_last) = (e[at].key(), e[last].key());
            e.swap(at, last);
            index.swapped(k_at, at, k_last, last);
            let gone = e.pop().expect("an entry");
            index.remove(gone.key(), last);
            assert_eq!(index.find(&e, gone.key()), None);
        }
        index.shrink();
        assert!(index.capacity() <= 64, "{} slots for 20 peers", index.capacity());
        assert_eq!(index.len(), 20);
        for (at, entry) in e.iter().enumerate() {
            assert_eq!(index.find(&e, entry.key()), Some(at), "entry {at}");
        }
    }
}
