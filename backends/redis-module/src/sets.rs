//! The sets of one swarm (seeders and leechers of each family, entries as in [`PeerSet`]).
//!
//! Most swarms are small, so a small swarm keeps all its sets in **one** vector, back to back
//! (one allocation, 40 bytes of header, set ends as `u16`, instead of six vectors' 144: the
//! swarm stays a 64-byte allocation); inserting into an inner set
//! moves the bytes of the sets after it, which stays cheap while the swarm is small. Above
//! [`SPLIT_FROM`] peers the sets move into six vectors of their own (boxed, so the small form
//! stays the swarm's size), and back below [`PACK_UNTIL`].

use crate::family::Family;
use crate::peer_set::PeerSet;

/// Sets per swarm: seeders then leechers of each family.
pub(crate) const SETS: usize = 2 * Family::ALL.len();

/// Above this many peers the sets get a vector each.
const SPLIT_FROM: usize = 64;
/// Below this many peers they share one vector again.
const PACK_UNTIL: usize = 32;

/// The packed form's ends fit in `u16`: it holds at most `SPLIT_FROM + 1` entries (one push
/// past the limit, before `fit` splits), of at most 42 bytes (IPv6 or WebRTC).
const _: () = assert!((SPLIT_FROM + 1) * 42 <= u16::MAX as usize);

/// The family of set `i`.
pub(crate) fn family_of_set(i: usize) -> Family {
    Family::ALL[i / 2]
}

/// The sets of one swarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sets {
    /// Every set in one vector: set `i` is `bytes[ends[i - 1]..ends[i]]` (`ends[-1]` = 0).
    Packed { bytes: Vec<u8>, ends: [u16; SETS] },
    /// A vector per set.
    Split(Box<[PeerSet; SETS]>),
}

impl Default for Sets {
    fn default() -> Self {
        Sets::Packed { bytes: Vec::new(), ends: [0; SETS] }
    }
}

impl Sets {
    /// Sets holding `sets` (decoding), in the form their size calls for.
    pub(crate) fn from_sets(sets: [PeerSet; SETS]) -> Sets {
        let mut s = Sets::Split(Box::new(sets));
        s.fit();
        s
    }

    /// The byte range of set `i` in the packed form.
    fn region(ends: &[u16; SETS], i: usize) -> (usize, usize) {
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        (start, ends[i] as usize)
    }

    /// Entries in set `i`.
    pub(crate) fn len(&self, i: usize) -> usize {
        let f = family_of_set(i);
        match self {
            Sets::Packed { ends, .. } => {
                let (a, b) = Self::region(ends, i);
                (b - a) / PeerSet::entry_len(f)
            }
            Sets::Split(sets) => sets[i].len(f),
        }
    }

    /// Peers in every set.
    pub(crate) fn peers(&self) -> usize {
        (0..SETS).map(|i| self.len(i)).sum()
    }

    /// Whether every set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Sets::Packed { bytes, .. } => bytes.is_empty(),
            Sets::Split(sets) => sets.iter().all(PeerSet::is_empty),
        }
    }

    /// Entry `pos` of set `i` (address, peer id, last seen).
    pub(crate) fn entry(&self, i: usize, pos: usize) -> &[u8] {
        let f = family_of_set(i);
        match self {
            Sets::Packed { bytes, ends } => {
                let n = PeerSet::entry_len(f);
                let (a, _) = Self::region(ends, i);
                &bytes[a + pos * n..a + (pos + 1) * n]
            }
            Sets::Split(sets) => sets[i].entry(f, pos),
        }
    }

    /// The address of entry `pos` of set `i`.
    pub(crate) fn addr(&self, i: usize, pos: usize) -> &[u8] {
        &self.entry(i, pos)[..family_of_set(i).addr_len()]
    }

    /// The last-seen time of entry `pos` of set `i`.
    pub(crate) fn seen(&self, i: usize, pos: usize) -> u32 {
        PeerSet::seen_of(self.entry(i, pos))
    }

    /// The position of `addr` in set `i`, by a scan.
    pub(crate) fn scan(&self, i: usize, addr: &[u8]) -> Option<usize> {
        (0..self.len(i)).find(|&pos| self.addr(i, pos) == addr)
    }

    /// Appends an entry to set `i`, returning its position.
    pub(crate) fn push(&mut self, i: usize, record: &[u8], seen: u32) -> usize {
        let f = family_of_set(i);
        let pos = self.len(i);
        match self {
            Sets::Packed { bytes, ends } => {
                let n = PeerSet::entry_len(f);
                let at = ends[i] as usize;
                bytes.reserve_exact(n);
                bytes.splice(at..at, record.iter().copied().chain(seen.to_le_bytes()));
                for end in &mut ends[i..] {
                    *end += n as u16;
                }
            }
            Sets::Split(sets) => {
                sets[i].push(f, record, seen);
            }
        }
        pos
    }

    /// Sets the peer id and last-seen time of entry `pos` of set `i`.
    pub(crate) fn refresh(&mut self, i: usize, pos: usize, peer_id: &[u8], seen: u32) {
        let f = family_of_set(i);
        match self {
            Sets::Packed { bytes, ends } => {
                let n = PeerSet::entry_len(f);
                let (a, _) = Self::region(ends, i);
                PeerSet::refresh_entry(f, &mut bytes[a + pos * n..a + (pos + 1) * n], peer_id, seen);
            }
            Sets::Split(sets) => sets[i].refresh(f, pos, peer_id, seen),
        }
    }

    /// Copies entry `from` of set `i` over its entry `to`.
    pub(crate) fn copy_entry(&mut self, i: usize, from: usize, to: usize) {
        let f = family_of_set(i);
        match self {
            Sets::Packed { bytes, ends } => {
                let n = PeerSet::entry_len(f);
                let (a, _) = Self::region(ends, i);
                bytes.copy_within(a + from * n..a + (from + 1) * n, a + to * n);
            }
            Sets::Split(sets) => sets[i].copy_entry(f, from, to),
        }
    }

    /// Keeps the first `len` entries of set `i`.
    pub(crate) fn truncate(&mut self, i: usize, len: usize) {
        let f = family_of_set(i);
        match self {
            Sets::Packed { bytes, ends } => {
                let n = PeerSet::entry_len(f);
                let (a, b) = Self::region(ends, i);
                let cut = b - (a + len * n);
                bytes.drain(a + len * n..b);
                for end in &mut ends[i..] {
                    *end -= cut as u16;
                }
                if bytes.capacity() > bytes.len() + 2 * n {
                    bytes.shrink_to_fit();
                }
            }
            Sets::Split(sets) => sets[i].truncate(f, len),
        }
    }

    /// Appends the records (address + peer id) of entries `from..from + count` of set `i`.
    pub(crate) fn copy_records(&self, i: usize, from: usize, count: usize, out: &mut Vec<u8>) {
        let r = family_of_set(i).addr_len() + crate::family::PEER_ID;
        for pos in from..from + count {
            out.extend_from_slice(&self.entry(i, pos)[..r]);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_size(&self) -> usize {
        match self {
            Sets::Packed { bytes, .. } => bytes.capacity(),
            Sets::Split(sets) => {
                std::mem::size_of::<[PeerSet; SETS]>() + sets.iter().map(PeerSet::heap_size).sum::<usize>()
            }
        }
    }

    /// Moves to the form the swarm's size calls for.
    pub(crate) fn fit(&mut self) {
        let peers = self.peers();
        match self {
            Sets::Packed { .. } if peers > SPLIT_FROM => {
                let mut sets: [PeerSet; SETS] = Default::default();
                for (i, set) in sets.iter_mut().enumerate() {
                    let f = family_of_set(i);
                    for pos in 0..self.len(i) {
                        let e = self.entry(i, pos);
                        set.push(f, &e[..e.len() - 4], PeerSet::seen_of(e));
                    }
                }
                *self = Sets::Split(Box::new(sets));
            }
            Sets::Split(sets) if peers < PACK_UNTIL => {
                let mut bytes = Vec::with_capacity(sets.iter().map(|s| s.byte_len()).sum());
                let mut ends = [0; SETS];
                for (i, set) in sets.iter().enumerate() {
                    bytes.extend_from_slice(set.bytes());
                    ends[i] = u16::try_from(bytes.len()).expect("a packed swarm is small");
                }
                *self = Sets::Packed { bytes, ends };
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize, n: u32) -> Vec<u8> {
        let len = family_of_set(i).addr_len() + crate::family::PEER_ID;
        let mut r = vec![i as u8; len];
        r[..4].copy_from_slice(&n.to_be_bytes());
        r
    }

    /// Every entry of every set, as (record, seen).
    fn contents(sets: &Sets) -> Vec<Vec<(Vec<u8>, u32)>> {
        (0..SETS)
            .map(|i| {
                (0..sets.len(i))
                    .map(|p| {
                        let e = sets.entry(i, p);
                        (e[..e.len() - 4].to_vec(), sets.seen(i, p))
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sets_keep_their_entries_when_packed_and_split() {
        let mut sets = Sets::default();
        let mut expected: Vec<Vec<(Vec<u8>, u32)>> = vec![Vec::new(); SETS];
        for n in 0..100_u32 {
            let i = (n as usize * 7) % SETS;
            let r = record(i, n);
            assert_eq!(sets.push(i, &r, n), expected[i].len());
            expected[i].push((r, n));
            sets.fit();
            assert_eq!(matches!(sets, Sets::Split(_)), n as usize + 1 > SPLIT_FROM, "after {n} pushes");
            assert_eq!(contents(&sets), expected);
        }
        sets.refresh(1, 3, &[9; 20], 77);
        let a = family_of_set(1).addr_len();
        expected[1][3].0[a..].copy_from_slice(&[9; 20]);
        expected[1][3].1 = 77;
        sets.copy_entry(2, 5, 0);
        expected[2][0] = expected[2][5].clone();
        for (i, set) in expected.iter_mut().enumerate() {
            sets.truncate(i, 5);
            set.truncate(5);
        }
        assert_eq!(contents(&sets), expected);
        sets.fit();
        assert!(matches!(sets, Sets::Packed { .. }), "30 peers: packed again");
        assert_eq!(contents(&sets), expected);
        assert_eq!(sets.scan(3, &expected[3][4].0[..family_of_set(3).addr_len()]), Some(4));
        let mut out = Vec::new();
        sets.copy_records(0, 1, 2, &mut out);
        assert_eq!(out, [expected[0][1].0.clone(), expected[0][2].0.clone()].concat());
        for i in 0..SETS {
            sets.truncate(i, 0);
        }
        assert!(sets.is_empty());
    }
}
