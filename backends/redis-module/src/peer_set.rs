//! One set of a swarm (the seeders or the leechers of one family): entries back to back in one
//! vector, each the compact address, the peer id and the last-seen time (Unix seconds, 4 bytes,
//! little-endian). Entry `k` is the Lua layout's record `k`: same positions, same moves, so the
//! windows handed out are the same bytes.

use crate::family::{Family, PEER_ID};

/// Bytes of a last-seen time.
const SEEN: usize = 4;

/// The entries of one set.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct PeerSet {
    bytes: Vec<u8>,
}

impl PeerSet {
    /// Bytes of one entry of family `f`.
    pub(crate) fn entry_len(f: Family) -> usize {
        f.addr_len() + PEER_ID + SEEN
    }

    /// Entries stored, for a set of family `f`.
    pub(crate) fn len(&self, f: Family) -> usize {
        self.bytes.len() / Self::entry_len(f)
    }

    /// Whether the set has no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Entry `pos` (address, peer id, last seen).
    pub(crate) fn entry(&self, f: Family, pos: usize) -> &[u8] {
        let n = Self::entry_len(f);
        &self.bytes[pos * n..(pos + 1) * n]
    }

    /// The last-seen time of an entry.
    pub(crate) fn seen_of(entry: &[u8]) -> u32 {
        u32::from_le_bytes(entry[entry.len() - SEEN..].try_into().expect("4 bytes"))
    }

    /// The entries' bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bytes of the entries.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends an entry, returning its position.
    pub(crate) fn push(&mut self, f: Family, record: &[u8], seen: u32) -> usize {
        debug_assert_eq!(record.len(), f.addr_len() + PEER_ID);
        let pos = self.len(f);
        self.grow_for(Self::entry_len(f));
        self.bytes.extend_from_slice(record);
        self.bytes.extend_from_slice(&seen.to_le_bytes());
        pos
    }

    /// Sets the peer id and last-seen time of entry `pos`.
    pub(crate) fn refresh(&mut self, f: Family, pos: usize, peer_id: &[u8], seen: u32) {
        let n = Self::entry_len(f);
        Self::refresh_entry(f, &mut self.bytes[pos * n..(pos + 1) * n], peer_id, seen);
    }

    /// Sets the peer id and last-seen time of an entry of family `f`.
    pub(crate) fn refresh_entry(f: Family, entry: &mut [u8], peer_id: &[u8], seen: u32) {
        let a = f.addr_len();
        entry[a..a + PEER_ID].copy_from_slice(peer_id);
        entry[a + PEER_ID..].copy_from_slice(&seen.to_le_bytes());
    }

    /// Copies entry `from` over entry `to`.
    pub(crate) fn copy_entry(&mut self, f: Family, from: usize, to: usize) {
        let n = Self::entry_len(f);
        self.bytes.copy_within(from * n..(from + 1) * n, to * n);
    }

    /// Keeps the first `len` entries, giving memory back when less than half is used.
    pub(crate) fn truncate(&mut self, f: Family, len: usize) {
        self.bytes.truncate(len * Self::entry_len(f));
        if self.bytes.capacity() > 2 * self.bytes.len() + Self::entry_len(f) {
            self.bytes.shrink_to(self.bytes.len() + self.bytes.len() / 4);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        self.bytes.capacity()
    }

    /// Grows by a quarter (at least two entries) rather than doubling: memory per peer stays
    /// close to the entry size.
    fn grow_for(&mut self, entry: usize) {
        if self.bytes.len() + entry > self.bytes.capacity() {
            let more = (self.bytes.len() / 4).max(2 * entry);
            self.bytes.reserve_exact(more);
        }
    }
}
