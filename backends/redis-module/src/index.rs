//! The address index of a large swarm: compact address → (set, position), as one `u32` per peer
//! in a hash table whose keys are read from the sets themselves (no address stored twice).
//! Small swarms, most of them, keep none and scan instead.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;

use crate::sets::Sets;

/// Above this many peers a swarm keeps an index.
pub(crate) const INDEX_FROM: usize = 32;
/// Below this many peers a swarm drops its index (the gap keeps a swarm hovering at the
/// threshold from rebuilding it on every announce).
pub(crate) const INDEX_UNTIL: usize = 16;

/// Bits of a slot holding the position; the set is above them.
const POS_BITS: u32 = 28;

/// Most entries one set may hold (positions must fit in [`POS_BITS`]).
pub(crate) const MAX_SET_LEN: usize = 1 << POS_BITS;

/// A peer's place: set and position, packed.
fn slot(set: usize, pos: usize) -> u32 {
    debug_assert!(pos < MAX_SET_LEN && set < 16);
    (u32::try_from(set).expect("small") << POS_BITS) | u32::try_from(pos).expect("fits")
}

/// The set and position of a slot.
fn unslot(s: u32) -> (usize, usize) {
    ((s >> POS_BITS) as usize, (s & ((1 << POS_BITS) - 1)) as usize)
}

/// The hasher: one random seed per process (addresses are chosen by strangers).
fn hasher() -> &'static foldhash::fast::RandomState {
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default)
}

fn hash(addr: &[u8]) -> u64 {
    hasher().hash_one(addr)
}

/// The address of the peer in slot `s`.
fn addr_at(sets: &Sets, s: u32) -> &[u8] {
    let (set, pos) = unslot(s);
    sets.addr(set, pos)
}

/// Address → place, for the peers of every set of a swarm.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    table: HashTable<u32>,
}

impl Index {
    /// An index of every peer of `sets`.
    pub(crate) fn build(sets: &Sets) -> Index {
        let mut index = Index::default();
        for set in 0..crate::sets::SETS {
            for pos in 0..sets.len(set) {
                index.insert(sets, set, pos);
            }
        }
        index
    }

    /// The place of `addr` (of family `f`).
    pub(crate) fn find(&self, sets: &Sets, addr: &[u8]) -> Option<(usize, usize)> {
        self.table.find(hash(addr), |&s| addr_at(sets, s) == addr).map(|&s| unslot(s))
    }

    /// Adds the peer now at `pos` of `set`.
    pub(crate) fn insert(&mut self, sets: &Sets, set: usize, pos: usize) {
        let addr = sets.addr(set, pos);
        self.table.insert_unique(hash(addr), slot(set, pos), |&s| hash(addr_at(sets, s)));
    }

    /// Forgets `addr` (which must be where the index says).
    pub(crate) fn remove(&mut self, sets: &Sets, addr: &[u8]) {
        if let Ok(entry) = self.table.find_entry(hash(addr), |&s| addr_at(sets, s) == addr) {
            entry.remove();
        }
    }

    /// Records that `addr` is now at `pos` of `set`.
    pub(crate) fn moved(&mut self, sets: &Sets, addr: &[u8], set: usize, pos: usize) {
        if let Some(s) = self.table.find_mut(hash(addr), |&s| addr_at(sets, s) == addr) {
            *s = slot(set, pos);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        // hashbrown: one u32 and one control byte per bucket.
        self.table.capacity() * 5 * 8 / 7
    }
}
