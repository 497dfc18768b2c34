//! The serialized form of a swarm, for RDB files, AOF rewrites (`OCTO.RESTORE`) and replicas'
//! full syncs. It does not depend on the in-memory layout, and it is versioned: a later layout
//! keeps reading every older version.
//!
//! ```text
//! version 2:  u8 2 | u64 last prune pass | u64 downloads
//!             then per family (IPv4, IPv6, WebRTC), per role (seeders, leechers):
//!               u32 count | count × (compact address, 20-byte peer id, u32 last seen)
//! version 1:  the same with the IPv4 and IPv6 families only (a swarm's WebRTC peers were then
//!             kept in a key of their own); read with no WebRTC peer
//! ```
//!
//! Integers are little-endian. Decoding checks everything (lengths, counts, duplicate
//! addresses): a damaged or forged blob is an error, never a swarm that breaks the rules.

use std::collections::HashSet;

use crate::family::Family;
use crate::index::MAX_SET_LEN;
use crate::peer_set::PeerSet;
use crate::sets::{SETS, Sets};
use crate::swarm::Swarm;

/// The version written.
pub(crate) const VERSION: u8 = 2;

/// Serializes `swarm` (the newest version).
pub(crate) fn encode(swarm: &Swarm) -> Vec<u8> {
    let (sets, downloaded, pruned_at) = swarm.parts();
    let mut out = Vec::with_capacity(17 + SETS * 4 + sets.heap_size());
    out.push(VERSION);
    out.extend_from_slice(&pruned_at.to_le_bytes());
    out.extend_from_slice(&downloaded.to_le_bytes());
    for f in Family::ALL {
        for role in 0..2 {
            let i = f.seeders() + role;
            let n = sets.len(i);
            out.extend_from_slice(&u32::try_from(n).expect("set sizes are bounded").to_le_bytes());
            for pos in 0..n {
                out.extend_from_slice(sets.entry(i, pos));
            }
        }
    }
    out
}

/// Reads a serialized swarm of any known version.
///
/// # Errors
///
/// A message saying what is wrong with the blob.
pub(crate) fn decode(blob: &[u8]) -> Result<Swarm, String> {
    let mut r = Reader { rest: blob };
    match r.take(1)?[0] {
        1 => decode_sets(&mut r, &Family::ALL[..2]),
        2 => decode_sets(&mut r, &Family::ALL),
        v => Err(format!("unknown swarm encoding version {v} (this module reads up to {VERSION})")),
    }
}

/// The sets of `families` (the others empty), after the prune time and the downloads.
fn decode_sets(r: &mut Reader<'_>, families: &[Family]) -> Result<Swarm, String> {
    let pruned_at = r.u64()?;
    let downloaded = r.u64()?;
    let mut sets: [PeerSet; SETS] = Default::default();
    for &f in families {
        let mut seen_addrs = HashSet::new();
        for role in 0..2 {
            let n = r.u32()? as usize;
            if n > MAX_SET_LEN {
                return Err(format!("a set of {n} peers is more than the {MAX_SET_LEN} a swarm holds"));
            }
            let len = PeerSet::entry_len(f);
            let bytes = r.take(n.checked_mul(len).ok_or("peer count overflows")?)?;
            let set = &mut sets[f.seeders() + role];
            for entry in bytes.chunks_exact(len) {
                let addr = &entry[..f.addr_len()];
                if !seen_addrs.insert(addr) {
                    return Err("the same address twice in one family".into());
                }
                if Family::of(addr) != Some(f) {
                    return Err(format!("an address of another family among the {f:?} peers"));
                }
                let seen = u32::from_le_bytes(entry[len - 4..].try_into().expect("4 bytes"));
                set.push(f, &entry[..len - 4], seen);
            }
        }
    }
    if !r.rest.is_empty() {
        return Err(format!("{} bytes after the swarm", r.rest.len()));
    }
    Ok(Swarm::from_parts(Sets::from_sets(sets), downloaded, pruned_at))
}

/// Reads a blob front to back.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("truncated swarm: {} bytes wanted, {} left", n, self.rest.len()));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}
