//! The peers of one address family in one swarm: a boxed slice of compact entries, **seeders
//! first, then leechers**, so the counts are the boundary and the length (they cannot drift
//! from the stored peers), and each role is one contiguous range to choose from.
//!
//! An announcer is found by a linear scan while the list is small; above [`INDEX_FROM`]
//! entries a hash index (address and port → position, see [`Index`]) is built, and it is dropped again below
//! [`INDEX_UNTIL`] (the gap keeps a swarm hovering at the threshold from rebuilding it on every
//! announce). Small swarms, the vast majority, pay no index memory. Entries move by swaps (to
//! cross the seeder/leecher boundary, or to the end before a removal), each swap fixing the
//! index.
//!
//! The index lives beside the list, not in it (the caller passes it in): the swarm keeps it in
//! the rarely allocated part of its header, so a list is 24 bytes (a boxed slice and two `u32`
//! counts) instead of a `Vec`'s 24 plus the counts and an index pointer.
//!
//! The slice grows by a quarter (at least two entries) rather than doubling, and gives memory
//! back when less than half of it is used, keeping the memory per peer close to the entry size.

use octotracker_core::{Peer, UnixTime};

use crate::entry::{Entry, Ip, Key, PeerIdSlot};
pub(crate) use crate::index::Index;
use crate::selection::{self, Ask, Draws, pick};

/// Above this many entries, a list keeps a hash index of its peers.
pub(crate) const INDEX_FROM: usize = 32;
/// Below this many entries, a list drops its index.
pub(crate) const INDEX_UNTIL: usize = 16;

/// What a peer was before an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Was {
    /// Not in the list.
    Absent,
    /// A seeder.
    Seeder,
    /// A leecher.
    Leecher,
}

/// The peers of one family in one swarm.
#[derive(Debug, Default)]
pub(crate) struct PeerList<A: Ip, P: PeerIdSlot> {
    /// Seeders in `0..seeders`, leechers in `seeders..len`, spare slots after.
    slots: Box<[Entry<A, P>]>,
    len: u32,
    seeders: u32,
}

impl<A: Ip, P: PeerIdSlot> PeerList<A, P> {
    /// Peers stored.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no peer is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Seeders stored.
    pub(crate) fn seeders(&self) -> usize {
        self.seeders as usize
    }

    /// Leechers stored.
    pub(crate) fn leechers(&self) -> usize {
        self.len() - self.seeders()
    }

    /// Entries the list has room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The stored entries, seeders first.
    pub(crate) fn entries(&self) -> &[Entry<A, P>] {
        &self.slots[..self.len()]
    }

    /// The position of the peer at `key`.
    pub(crate) fn find(&self, index: &Option<Index<A>>, key: Key<A>) -> Option<usize> {
        match index {
            Some(index) => index.find(self.entries(), key),
            None => self.entries().iter().position(|e| e.key() == key),
        }
    }

    /// Inserts or updates the peer `entry` as a seeder or a leecher; returns its position now
    /// and what it was before.
    pub(crate) fn upsert(&mut self, index: &mut Option<Index<A>>, entry: Entry<A, P>, seeder: bool) -> (usize, Was) {
        let Some(at) = self.find(index, entry.key()) else {
            return (self.insert(index, entry, seeder), Was::Absent);
        };
        let was_seeder = at < self.seeders();
        self.slots[at] = entry;
        let at = match (was_seeder, seeder) {
            (false, true) => {
                // The first leecher's slot becomes the last seeder's.
                let boundary = self.seeders();
                self.swap(index, at, boundary);
                self.seeders += 1;
                boundary
            }
            (true, false) => {
                let last_seeder = self.seeders() - 1;
                self.swap(index, at, last_seeder);
                self.seeders -= 1;
                last_seeder
            }
            _ => at,
        };
        (at, if was_seeder { Was::Seeder } else { Was::Leecher })
    }

    fn insert(&mut self, index: &mut Option<Index<A>>, entry: Entry<A, P>, seeder: bool) -> usize {
        let at = self.len();
        if at == self.slots.len() {
            self.resize(at + (at / 4).max(2));
        }
        self.slots[at] = entry;
        self.len += 1;
        if let Some(index) = index {
            index.insert(entry.key(), at);
        } else if self.len() > INDEX_FROM {
            *index = Some(self.build_index());
        }
        if !seeder {
            return at;
        }
        let boundary = self.seeders();
        self.swap(index, at, boundary);
        self.seeders += 1;
        boundary
    }

    /// Removes the peer at `key`; returns what it was.
    pub(crate) fn remove(&mut self, index: &mut Option<Index<A>>, key: Key<A>) -> Was {
        let Some(mut at) = self.find(index, key) else {
            return Was::Absent;
        };
        let was = if at < self.seeders() { Was::Seeder } else { Was::Leecher };
        if was == Was::Seeder {
            // Move it to the boundary, then make the boundary a leecher slot.
            let last_seeder = self.seeders() - 1;
            self.swap(index, at, last_seeder);
            self.seeders -= 1;
            at = last_seeder;
        }
        let last = self.len() - 1;
        self.swap(index, at, last);
        self.len -= 1;
        if let Some(index) = index {
            index.remove(self.slots[last].key(), last);
        }
        self.after_shrinking(index);
        was
    }

    /// Removes the peers last seen before `cutoff`; returns how many.
    pub(crate) fn expire(&mut self, index: &mut Option<Index<A>>, cutoff: UnixTime) -> usize {
        let before = self.len();
        if !self.entries().iter().any(|e| e.seen_before(cutoff)) {
            return 0;
        }
        let stale_seeders = self.entries()[..self.seeders()].iter().filter(|e| e.seen_before(cutoff)).count();
        // Compacts in place, keeping the order, so seeders stay in front.
        let mut kept = 0;
        for i in 0..before {
            let e = self.slots[i];
            if !e.seen_before(cutoff) {
                self.slots[kept] = e;
                kept += 1;
            }
        }
        self.len = kept as u32;
        self.seeders -= stale_seeders as u32;
        if index.is_some() {
            *index = Some(self.build_index());
        }
        self.after_shrinking(index);
        before - kept
    }

    /// Appends the peers chosen for `ask` with `draws` to `out` (see [`selection`]).
    pub(crate) fn choose(&self, ask: Ask, draws: Draws, out: &mut Vec<Peer>) {
        selection::choose(self.entries(), self.seeders(), ask, draws, out);
    }

    /// Loads the entries where the windows of `draws` will start, without waiting for them: in
    /// an indexed list the search for the announcer waits on memory a few times, and these
    /// loads (as unlikely to be cached) then wait at the same time instead of after it. A small
    /// list is read whole by the search anyway.
    pub(crate) fn preload(&self, index: &Option<Index<A>>, draws: &Draws) {
        let (len, seeders) = (self.len(), self.seeders());
        if index.is_none() || len == 0 {
            return;
        }
        let seed = self.slots[pick(draws.seeds, seeders.max(1)).min(len - 1)];
        let leech = self.slots[(seeders + pick(draws.leeches, (len - seeders).max(1))).min(len - 1)];
        std::hint::black_box((seed, leech));
    }

    /// Swaps two entries, keeping the index right.
    fn swap(&mut self, index: &mut Option<Index<A>>, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.slots.swap(a, b);
        if let Some(index) = index {
            index.swapped(self.slots[b].key(), a, self.slots[a].key(), b);
        }
    }

    /// An index of the entries.
    fn build_index(&self) -> Index<A> {
        Index::of(self.entries())
    }

    /// Moves the entries to a slice of `capacity` slots (at least the length).
    fn resize(&mut self, capacity: usize) {
        let capacity = capacity.max(self.len());
        if capacity == 0 {
            self.slots = Box::default();
            return;
        }
        let mut slots = Vec::with_capacity(capacity);
        slots.extend_from_slice(self.entries());
        slots.resize(capacity, Entry::default());
        self.slots = slots.into_boxed_slice();
    }

    /// Drops the index of a list that became small, and memory the list no longer needs.
    fn after_shrinking(&mut self, index: &mut Option<Index<A>>) {
        let len = self.len();
        if len < INDEX_UNTIL {
            *index = None;
        } else if let Some(index) = index {
            index.shrink();
        }
        if self.slots.len() > 2 * len + 2 {
            self.resize(len + len / 4);
        }
    }
}

#[cfg(test)]
#[path = "peer_list_tests.rs"]
mod tests;
