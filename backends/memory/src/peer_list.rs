//! The peers of one address family in one swarm: a vector of compact entries, **seeders first,
//! then leechers**, so the counts are the boundary and the length (they cannot drift from the
//! stored peers), and each role is one contiguous range to choose from.
//!
//! An announcer is found by a linear scan while the list is small; above [`INDEX_FROM`]
//! entries a hash index (address and port → position) is built, and it is dropped again below
//! [`INDEX_UNTIL`] (the gap keeps a swarm hovering at the threshold from rebuilding it on every
//! announce). Small swarms, the vast majority, pay no index memory. Entries move by swaps (to
//! cross the seeder/leecher boundary, or to the end before a `pop`), each swap fixing the index.
//!
//! The vector grows by a quarter (at least two entries) rather than doubling, and gives memory
//! back when less than half of it is used, keeping the memory per peer close to the entry size.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use octotracker_core::{Peer, UnixTime};

use crate::entry::{Entry, Ip, Key};
use crate::selection::{self, Ask};

/// Above this many entries, a list keeps a hash index of its peers.
pub(crate) const INDEX_FROM: usize = 32;
/// Below this many entries, a list drops its index.
pub(crate) const INDEX_UNTIL: usize = 16;

/// Address and port → position in the list.
type Index<A> = HashMap<Key<A>, u32, RandomState>;

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
pub(crate) struct PeerList<A: Ip> {
    /// Seeders in `0..seeders`, leechers in `seeders..`.
    entries: Vec<Entry<A>>,
    seeders: u32,
    index: Option<Box<Index<A>>>,
}

impl<A: Ip> PeerList<A> {
    /// Peers stored.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no peer is stored.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Seeders stored.
    pub(crate) fn seeders(&self) -> usize {
        self.seeders as usize
    }

    /// Leechers stored.
    pub(crate) fn leechers(&self) -> usize {
        self.len() - self.seeders()
    }

    /// The stored entries, seeders first.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> &[Entry<A>] {
        &self.entries
    }

    /// Whether the list keeps a hash index.
    #[cfg(test)]
    pub(crate) fn is_indexed(&self) -> bool {
        self.index.is_some()
    }

    /// The position of the peer at `key`.
    pub(crate) fn find(&self, key: Key<A>) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(&key).map(|&i| i as usize),
            None => self.entries.iter().position(|e| e.key() == key),
        }
    }

    /// Inserts or updates the peer `entry` as a seeder or a leecher; returns its position now
    /// and what it was before.
    pub(crate) fn upsert(&mut self, entry: Entry<A>, seeder: bool) -> (usize, Was) {
        let Some(at) = self.find(entry.key()) else {
            return (self.insert(entry, seeder), Was::Absent);
        };
        let was_seeder = at < self.seeders();
        self.entries[at] = entry;
        let at = match (was_seeder, seeder) {
            (false, true) => {
                // The first leecher's slot becomes the last seeder's.
                let boundary = self.seeders();
                self.swap(at, boundary);
                self.seeders += 1;
                boundary
            }
            (true, false) => {
                let last_seeder = self.seeders() - 1;
                self.swap(at, last_seeder);
                self.seeders -= 1;
                last_seeder
            }
            _ => at,
        };
        (at, if was_seeder { Was::Seeder } else { Was::Leecher })
    }

    fn insert(&mut self, entry: Entry<A>, seeder: bool) -> usize {
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact((self.entries.len() / 4).max(2));
        }
        let at = self.entries.len();
        self.entries.push(entry);
        if let Some(index) = &mut self.index {
            index.insert(entry.key(), at as u32);
        } else if self.entries.len() > INDEX_FROM {
            self.build_index();
        }
        if !seeder {
            return at;
        }
        let boundary = self.seeders();
        self.swap(at, boundary);
        self.seeders += 1;
        boundary
    }

    /// Removes the peer at `key`; returns what it was.
    pub(crate) fn remove(&mut self, key: Key<A>) -> Was {
        let Some(mut at) = self.find(key) else {
            return Was::Absent;
        };
        let was = if at < self.seeders() { Was::Seeder } else { Was::Leecher };
        if was == Was::Seeder {
            // Move it to the boundary, then make the boundary a leecher slot.
            let last_seeder = self.seeders() - 1;
            self.swap(at, last_seeder);
            self.seeders -= 1;
            at = last_seeder;
        }
        let last = self.entries.len() - 1;
        self.swap(at, last);
        if let (Some(gone), Some(index)) = (self.entries.pop(), &mut self.index) {
            index.remove(&gone.key());
        }
        self.after_shrinking();
        was
    }

    /// Removes the peers last seen before `cutoff`; returns how many.
    pub(crate) fn expire(&mut self, cutoff: UnixTime) -> usize {
        let before = self.entries.len();
        let stale_seeders = self.entries[..self.seeders()].iter().filter(|e| e.seen_before(cutoff)).count();
        if stale_seeders == 0 && !self.entries.iter().any(|e| e.seen_before(cutoff)) {
            return 0;
        }
        // `retain` keeps the order, so seeders stay in front.
        self.entries.retain(|e| !e.seen_before(cutoff));
        self.seeders -= stale_seeders as u32;
        if self.index.is_some() {
            self.build_index();
        }
        self.after_shrinking();
        before - self.entries.len()
    }

    /// Appends the peers chosen for `ask` to `out` (see [`selection`]).
    pub(crate) fn choose(&self, ask: Ask, out: &mut Vec<Peer>) {
        selection::choose(&self.entries, self.seeders(), ask, |n| fastrand::usize(..n), out);
    }

    /// Swaps two entries, keeping the index right.
    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.entries.swap(a, b);
        if let Some(index) = &mut self.index {
            index.insert(self.entries[a].key(), a as u32);
            index.insert(self.entries[b].key(), b as u32);
        }
    }

    /// (Re)builds the index from the entries.
    fn build_index(&mut self) {
        let mut index = Index::with_capacity_and_hasher(self.entries.len(), RandomState::default());
        index.extend(self.entries.iter().enumerate().map(|(i, e)| (e.key(), i as u32)));
        self.index = Some(Box::new(index));
    }

    /// Drops the index of a list that became small, and memory the list no longer needs.
    fn after_shrinking(&mut self) {
        let len = self.entries.len();
        if len < INDEX_UNTIL {
            self.index = None;
        } else if let Some(index) = &mut self.index
            && index.capacity() > 4 * len
        {
            index.shrink_to(2 * len);
        }
        if self.entries.capacity() > 2 * len + 2 {
            self.entries.shrink_to(len + len / 4);
        }
    }
}

#[cfg(test)]
#[path = "peer_list_tests.rs"]
mod tests;
