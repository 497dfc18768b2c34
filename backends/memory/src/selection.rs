//! Choosing the peers an announce hands out, in O(`want`) whatever the swarm's size.
//!
//! A list keeps its seeders first and its leechers after them. From a range (the seeders, or
//! the leechers), peers are taken in a **window**: from a random start, walking forward and
//! wrapping around, skipping the announcer, until enough are taken. A seeder is given leechers
//! only; a leecher is given seeders and leechers in proportion to their numbers (the fraction
//! rounded at random, so a rare seeder is still handed out now and then), filling from one
//! range when the other runs short.

use std::ops::Range;

use octotracker_core::Peer;

use crate::entry::{Entry, Ip, PeerIdSlot};

/// Who is asking, and for how many.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ask {
    /// The announcer's position in the list, if it is stored (it never is handed out).
    pub me: Option<usize>,
    /// Whether the announcer is a seeder.
    pub seeder: bool,
    /// How many peers it wants.
    pub want: usize,
}

/// The random numbers of one choice: the roll that rounds the split, and where the seeders'
/// and the leechers' windows start. Drawn before the announcer is looked up, so the windows'
/// first entries can be loaded while the lookup waits for memory ([`PeerList::preload`]).
///
/// [`PeerList::preload`]: crate::peer_list::PeerList::preload
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Draws {
    /// Rounds the split between seeders and leechers.
    pub roll: u64,
    /// Where the seeders' window starts.
    pub seeds: u64,
    /// Where the leechers' window starts.
    pub leeches: u64,
}

impl Draws {
    /// Fresh random numbers.
    pub(crate) fn new() -> Self {
        Draws { roll: fastrand::u64(..), seeds: fastrand::u64(..), leeches: fastrand::u64(..) }
    }
}

/// `raw` scaled into `0..n` (`n > 0`) by multiplying: one more or one fewer peer in the range
/// moves the result by at most one, so a window starts where [`Draws`] said it would before
/// the announcer joined or left the range.
pub(crate) fn pick(raw: u64, n: usize) -> usize {
    ((u128::from(raw) * n as u128) >> 64) as usize
}

/// Appends the chosen peers of `entries` (seeders in `0..seeders`, leechers after) to `out`.
pub(crate) fn choose<A: Ip, P: PeerIdSlot>(
    entries: &[Entry<A, P>],
    seeders: usize,
    ask: Ask,
    draws: Draws,
    out: &mut Vec<Peer>,
) {
    let seeders = seeders.min(entries.len());
    let seed_range = 0..seeders;
    let leech_range = seeders..entries.len();
    let me_in = |r: &Range<usize>| usize::from(ask.me.is_some_and(|i| r.contains(&i)));
    let leeches = leech_range.len() - me_in(&leech_range);
    let seeds = if ask.seeder { 0 } else { seed_range.len() - me_in(&seed_range) };

    let (take_seeds, take_leeches) = if ask.want >= seeds + leeches {
        (seeds, leeches)
    } else {
        split(ask.want, seeds, leeches, pick(draws.roll, seeds + leeches))
    };
    out.reserve(take_seeds + take_leeches);
    if take_seeds > 0 {
        window(entries, seed_range, ask.me, take_seeds, pick(draws.seeds, seeders), out);
    }
    if take_leeches > 0 {
        let offset = pick(draws.leeches, entries.len() - seeders);
        window(entries, leech_range, ask.me, take_leeches, offset, out);
    }
}

/// Splits `want` (less than `seeds + leeches`) between seeders and leechers in proportion; the
/// fractional part goes to the seeders when `roll` (in `0..seeds + leeches`) falls below it.
pub(crate) fn split(want: usize, seeds: usize, leeches: usize, roll: usize) -> (usize, usize) {
    let total = seeds + leeches;
    if total == 0 {
        return (0, 0);
    }
    // Both factors are below 2^32 in practice; u128 keeps any input exact.
    let scaled = want as u128 * seeds as u128;
    let (whole, rest) = (scaled / total as u128, scaled % total as u128);
    let take_seeds = (whole as usize + usize::from((roll as u128) < rest)).min(seeds);
    let take_leeches = (want - take_seeds.min(want)).min(leeches);
    // Fill from the seeders when the leechers run short.
    let take_seeds = (want - take_leeches).min(seeds);
    (take_seeds, take_leeches)
}

/// Appends up to `take` peers of `entries[range]` to `out`: from `range.start + offset % len`,
/// walking forward and wrapping around, skipping position `skip`.
pub(crate) fn window<A: Ip, P: PeerIdSlot>(
    entries: &[Entry<A, P>],
    range: Range<usize>,
    skip: Option<usize>,
    take: usize,
    offset: usize,
    out: &mut Vec<Peer>,
) {
    let Some(slice) = entries.get(range.clone()) else {
        return;
    };
    if slice.is_empty() || take == 0 {
        return;
    }
    let start = offset % slice.len();
    let skip = skip.and_then(|i| i.checked_sub(range.start)).filter(|&i| i < slice.len());
    // The window is `start..` then `..start`; the announcer splits whichever half holds it.
    let (before, after) = slice.split_at(start);
    let mut left = take;
    for (half, first) in [(after, start), (before, 0)] {
        let (head, tail) = match skip.and_then(|i| i.checked_sub(first)).filter(|&i| i < half.len()) {
            Some(at) => (&half[..at], &half[at + 1..]),
            None => (half, &[][..]),
        };
        for part in [head, tail] {
            let n = part.len().min(left);
            append(out, &part[..n]);
            left -= n;
            if left == 0 {
                return;
            }
        }
    }
}

/// Appends `entries` to `out` as peers. Written field by field into the vector: building each
/// `Peer` whole goes through a stack copy that stalls store-to-load forwarding, which cost more
/// than everything else in an announce.
fn append<A: Ip, P: PeerIdSlot>(out: &mut Vec<Peer>, entries: &[Entry<A, P>]) {
    let start = out.len();
    out.resize(start + entries.len(), BLANK);
    for (peer, entry) in out[start..].iter_mut().zip(entries) {
        entry.write_peer(peer);
    }
}

/// A placeholder, overwritten at once.
const BLANK: Peer = Peer {
    addr: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0)),
    id: octotracker_core::PeerId([0; 20]),
};

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries whose port is their position.
    fn entries(n: u16) -> Vec<Entry<[u8; 4], ()>> {
        (0..n).map(|port| Entry::new([10, 0, 0, 1], port, 0, ())).collect()
    }

    fn ports(out: &[Peer]) -> Vec<u16> {
        out.iter().map(|p| p.addr.port()).collect()
    }

    #[test]
    fn a_window_wraps_around_the_end_of_its_range() {
        let e = entries(10);
        let mut out = Vec::new();
        window(&e, 4..10, None, 4, 4, &mut out);
        assert_eq!(ports(&out), [8, 9, 4, 5]);
    }

    #[test]
    fn a_window_skips_the_announcer_and_still_takes_enough() {
        let e = entries(10);
        let mut out = Vec::new();
        window(&e, 0..10, Some(3), 3, 2, &mut out);
        assert_eq!(ports(&out), [2, 4, 5]);
    }

    #[test]
    fn a_window_larger_than_its_range_takes_everyone_else_once() {
        let e = entries(5);
        let mut out = Vec::new();
        window(&e, 0..5, Some(0), 100, 3, &mut out);
        assert_eq!(ports(&out), [3, 4, 1, 2]);
    }

    #[test]
    fn a_window_outside_the_list_takes_nothing() {
        let e = entries(3);
        let mut out = Vec::new();
        window(&e, 2..9, None, 2, 0, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn split_is_proportional_and_rounds_the_fraction_at_random() {
        assert_eq!(split(50, 300, 700, 0), (15, 35));
        // 10 × 1 / 1000 = 0.01: the lone seeder goes in when the roll is below 10 (of 1000).
        assert_eq!(split(10, 1, 999, 9), (1, 9));
        assert_eq!(split(10, 1, 999, 10), (0, 10));
    }

    #[test]
    fn split_always_sums_to_want_and_never_exceeds_either_side() {
        for (want, seeds, leeches) in [(10, 100, 2), (10, 2, 100), (10, 0, 100), (10, 100, 0), (1, 1, 1), (99, 50, 50)]
        {
            for roll in [0, (seeds + leeches) / 2, seeds + leeches - 1] {
                let (s, l) = split(want, seeds, leeches, roll);
                assert_eq!(s + l, want, "split({want}, {seeds}, {leeches}, {roll})");
                assert!(s <= seeds && l <= leeches, "split({want}, {seeds}, {leeches}, {roll}) = ({s}, {l})");
            }
        }
        let (s, l) = split(usize::MAX - 1, usize::MAX / 2, usize::MAX / 2 + 1, usize::MAX - 1);
        assert_eq!(s + l, usize::MAX - 1, "no overflow on absurd sizes");
    }

    #[test]
    fn pick_scales_into_the_range_and_moves_by_at_most_one_with_its_size() {
        assert_eq!(pick(0, 7), 0);
        assert_eq!(pick(u64::MAX, 7), 6);
        assert_eq!(pick(u64::MAX / 2, 1000), 499);
        for raw in [1, 12_345_678_901, u64::MAX / 3, u64::MAX - 5] {
            for n in [1usize, 2, 33, 1_000, 100_000] {
                let (a, b) = (pick(raw, n), pick(raw, n + 1));
                assert!(a < n && b <= n && b - a <= 1, "pick({raw}, {n}) = {a}, pick(…, {}) = {b}", n + 1);
            }
        }
    }

    #[test]
    fn a_seeder_is_given_leechers_only_and_a_leecher_both() {
        let e = entries(10); // seeders 0..4, leechers 4..10
        let mut out = Vec::new();
        choose(&e, 4, Ask { me: Some(1), seeder: true, want: 50 }, Draws::default(), &mut out);
        assert_eq!(ports(&out), [4, 5, 6, 7, 8, 9]);
        out.clear();
        choose(&e, 4, Ask { me: Some(6), seeder: false, want: 50 }, Draws::default(), &mut out);
        assert_eq!(ports(&out), [0, 1, 2, 3, 4, 5, 7, 8, 9]);
        out.clear();
        choose(&e, 4, Ask { me: Some(6), seeder: false, want: 3 }, Draws::default(), &mut out);
        // 3 × 4/9 = 1.33 seeders: the roll (0) is below the fraction, so 2 seeders, 1 leecher.
        assert_eq!(ports(&out), [0, 1, 4]);
    }
}
