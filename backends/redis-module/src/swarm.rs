//! The native swarm: what the Lua layout keeps in nine keys, in one value. Its rules are the Lua
//! script's (`backends/redis/src/lua/`), step for step, so that an announce replayed through
//! either engine gets the same reply bytes:
//!
//! - a set per family (IPv4, IPv6, WebRTC) and role, entries in record order; a removed entry's
//!   place is taken by the last live one, in the order the Lua `drop` fills holes;
//! - a lazy prune pass at most every `every` seconds per swarm, removing up to 256 of the swarm's
//!   peers last seen before the cutoff, oldest first across every set (ties by address bytes: the
//!   order of the Lua layout's one expiry sorted set per swarm);
//! - the peers handed out are windows of consecutive records from random starts (the randoms come
//!   with the command), never the announcer.

use crate::family::{Family, PEER_ID};
use crate::index::{INDEX_FROM, INDEX_UNTIL, Index};
use crate::sets::{SETS, Sets, family_of_set};

/// Most peers one lazy prune pass removes (the Lua script's `LIMIT 0 256`).
const LAZY_PRUNE_BATCH: usize = 256;
/// Peers removed per step of a full expiry (the Lua script's `LIMIT 0 1000`).
const EXPIRE_BATCH: usize = 1000;

/// The event of an announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A regular announce.
    None,
    /// The peer started.
    Started,
    /// The peer completed the download.
    Completed,
    /// The peer stopped: it is removed.
    Stopped,
}

impl Event {
    /// The event from its code in the packed arguments (0 none, 1 started, 2 completed, 3 stopped).
    pub(crate) fn from_code(code: u8) -> Option<Event> {
        Some(match code {
            0 => Event::None,
            1 => Event::Started,
            2 => Event::Completed,
            3 => Event::Stopped,
            _ => return None,
        })
    }
}

/// One announce, as the command takes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Announce<'a> {
    /// Compact address of the announcer (its identity in the swarm).
    pub addr: &'a [u8],
    /// Its peer id.
    pub peer_id: &'a [u8; PEER_ID],
    /// The event.
    pub event: Event,
    /// Whether it has the whole content.
    pub seeder: bool,
    /// The time of the announce (Unix seconds).
    pub now: u64,
    /// Peers last seen strictly before this are stale.
    pub cutoff: u64,
    /// Most peers to hand out.
    pub want: u32,
    /// Seconds between two lazy prune passes of the swarm.
    pub every: u32,
    /// Where the windows of seeders and of leechers start.
    pub random: [u32; 2],
}

/// What an announce answers: counts, then the chosen records in stretches (each the bytes of
/// consecutive records, as the Lua script's `GETRANGE`s return them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AnnounceReply {
    /// Seeders, leechers (both families), downloads.
    pub counts: [u64; 3],
    /// The records handed out.
    pub stretches: Vec<Vec<u8>>,
    /// Whether this announce was a prune pass (the key's time to live is refreshed).
    pub pass: bool,
}

/// One swarm.
#[derive(Debug, Default, Clone)]
pub(crate) struct Swarm {
    sets: Sets,
    downloaded: u64,
    pruned_at: u64,
    index: Option<Box<Index>>,
}

/// Stored last-seen time: Unix seconds as 4 bytes (until 2106; later times are clamped).
fn seen_of(now: u64) -> u32 {
    u32::try_from(now).unwrap_or(u32::MAX)
}

impl Swarm {
    /// A swarm from its parts (decoding); the caller checked them.
    pub(crate) fn from_parts(sets: Sets, downloaded: u64, pruned_at: u64) -> Swarm {
        let mut swarm = Swarm { sets, downloaded, pruned_at, index: None };
        swarm.fit_index();
        swarm
    }

    /// The sets, downloads and last prune time (encoding).
    pub(crate) fn parts(&self) -> (&Sets, u64, u64) {
        (&self.sets, self.downloaded, self.pruned_at)
    }

    /// Peers stored.
    pub(crate) fn peers(&self) -> usize {
        self.sets.peers()
    }

    /// Whether no peer is stored (the key goes).
    pub(crate) fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Seeders, leechers, downloads: what a scrape answers (zeros for a swarm without peers).
    pub(crate) fn stats(&self) -> [u64; 3] {
        if self.is_empty() {
            return [0; 3];
        }
        let count = |role: usize| Family::ALL.iter().map(|f| self.len(f.seeders() + role) as u64).sum();
        [count(0), count(1), self.downloaded]
    }

    /// Seeders and leechers of each family, in [`Family::ALL`] order (IPv4, IPv6, WebRTC).
    pub(crate) fn families(&self) -> [u64; 6] {
        std::array::from_fn(|set| self.len(set) as u64)
    }

    /// Bytes held, for `MEMORY USAGE`.
    pub(crate) fn mem_usage(&self) -> usize {
        std::mem::size_of::<Swarm>()
            + self.sets.heap_size()
            + self.index.as_ref().map_or(0, |i| std::mem::size_of::<Index>() + i.heap_size())
    }

    fn len(&self, i: usize) -> usize {
        self.sets.len(i)
    }

    /// The set and position of `addr`.
    fn find(&self, f: Family, addr: &[u8]) -> Option<(usize, usize)> {
        if let Some(index) = &self.index {
            return index.find(&self.sets, addr);
        }
        let s = f.seeders();
        (s..s + 2).find_map(|i| self.sets.scan(i, addr).map(|pos| (i, pos)))
    }

    /// Builds or drops the index, and packs or splits the sets, as the swarm grows or shrinks.
    fn fit_index(&mut self) {
        self.sets.fit();
        let n = self.peers();
        if self.index.is_none() && n > INDEX_FROM {
            self.index = Some(Box::new(Index::build(&self.sets)));
        } else if self.index.is_some() && n < INDEX_UNTIL {
            self.index = None;
        }
    }

    /// Appends a record to set `i`, returning its position.
    fn push(&mut self, i: usize, record: &[u8], seen: u32) -> usize {
        let pos = self.sets.push(i, record, seen);
        if let Some(index) = &mut self.index {
            index.insert(&self.sets, i, pos);
        }
        pos
    }

    /// Removes the entries at `gone` (positions in set `i`, distinct, in the order the Lua
    /// script's `drop` gets their addresses): the live entries past the new end move into the
    /// holes, in order.
    fn drop_entries(&mut self, i: usize, gone: &[usize]) {
        let card = self.len(i);
        let left = card - gone.len();
        if let Some(index) = &mut self.index {
            for &p in gone {
                index.remove(&self.sets, self.sets.addr(i, p));
            }
        }
        let mut tail_gone = vec![false; card - left];
        for &p in gone.iter().filter(|&&p| p >= left) {
            tail_gone[p - left] = true;
        }
        let holes = gone.iter().copied().filter(|&p| p < left);
        let movers = (left..card).filter(|&p| !tail_gone[p - left]);
        for (hole, p) in holes.zip(movers) {
            self.sets.copy_entry(i, p, hole);
            if let Some(index) = &mut self.index {
                let addr = self.sets.addr(i, hole).to_vec();
                index.moved(&self.sets, &addr, i, hole);
            }
        }
        self.sets.truncate(i, left);
    }

    /// Runs one announce. The caller deletes the key when the swarm is left empty.
    pub(crate) fn announce(&mut self, a: &Announce<'_>, existed: bool) -> AnnounceReply {
        let f = Family::of(a.addr).expect("the caller checked the address");
        let now = seen_of(a.now);
        // 1. Lazy prune pass, at most once per `every` seconds.
        let pass = !existed || (a.now as i128 - self.pruned_at as i128) >= i128::from(a.every);
        if pass {
            self.pruned_at = a.now;
            if existed {
                self.prune(a.cutoff, LAZY_PRUNE_BATCH);
            }
        }
        // 2. Upsert or remove the announcer.
        let was = self.find(f, a.addr);
        let seeders = f.seeders();
        let into = if a.seeder { seeders } else { seeders + 1 };
        let mut pos = None;
        let stored = a.event != Event::Stopped;
        match was {
            Some((set, p)) if !stored => self.drop_entries(set, &[p]),
            Some((set, p)) => {
                if a.event == Event::Completed && set == seeders + 1 {
                    self.downloaded += 1;
                }
                if set == into {
                    pos = Some(p);
                } else {
                    self.drop_entries(set, &[p]);
                }
            }
            None => {}
        }
        if stored {
            match pos {
                Some(p) => self.sets.refresh(into, p, a.peer_id, now),
                None => {
                    let mut record = [0; 18 + PEER_ID];
                    let r = f.addr_len() + PEER_ID;
                    record[..f.addr_len()].copy_from_slice(a.addr);
                    record[f.addr_len()..r].copy_from_slice(a.peer_id);
                    pos = Some(self.push(into, &record[..r], now));
                }
            }
        }
        self.fit_index();
        // 3. Counts; an empty swarm goes with its downloads.
        if self.is_empty() {
            return AnnounceReply { counts: [0; 3], stretches: Vec::new(), pass };
        }
        let counts = self.stats();
        // 4. Up to `want` others of the announcer's family.
        let (ns, nl) = (self.len(seeders), self.len(seeders + 1));
        let self_s = stored && a.seeder;
        let self_l = stored && !a.seeder;
        let mut cs = ns - usize::from(self_s);
        let cl = nl - usize::from(self_l);
        if a.seeder {
            cs = 0;
        }
        let k = (a.want as usize).min(cs + cl);
        let (mut ks, mut kl) = (cs, cl);
        if k < cs + cl {
            ks = k * cs / (cs + cl);
            kl = k - ks;
            if kl > cl {
                ks += kl - cl;
                kl = cl;
            }
        }
        let mut stretches = Vec::new();
        self.pick(seeders, ks, pos.filter(|_| self_s), a.random[0], &mut stretches);
        self.pick(seeders + 1, kl, pos.filter(|_| self_l), a.random[1], &mut stretches);
        AnnounceReply { counts, stretches, pass }
    }

    /// Removes the peers of every set last seen before `cutoff`: (peers removed, whether the
    /// swarm is left empty).
    pub(crate) fn expire(&mut self, cutoff: u64) -> (u64, bool) {
        let mut removed = 0;
        loop {
            let n = self.prune(cutoff, EXPIRE_BATCH);
            if n == 0 {
                break;
            }
            removed += n as u64;
        }
        self.fit_index();
        (removed, self.is_empty())
    }

    /// Removes up to `limit` of the swarm's peers last seen before `cutoff`, oldest first across
    /// every set (ties by address bytes), returning how many went. The batch is then dropped set
    /// by set, each set's peers in the batch's order (the Lua script's `drop` per set).
    fn prune(&mut self, cutoff: u64, limit: usize) -> usize {
        let set = &self.sets;
        let mut old: Vec<(u32, &[u8], usize, usize)> = (0..SETS)
            .flat_map(|i| (0..set.len(i)).map(move |p| (i, p)))
            .filter(|&(i, p)| u64::from(set.seen(i, p)) < cutoff)
            .map(|(i, p)| (set.seen(i, p), set.addr(i, p), i, p))
            .collect();
        if old.is_empty() {
            return 0;
        }
        if old.len() > limit {
            old.select_nth_unstable(limit);
            old.truncate(limit);
        }
        old.sort_unstable();
        let mut gone: [Vec<usize>; SETS] = Default::default();
        for &(_, _, i, p) in &old {
            gone[i].push(p);
        }
        let removed = old.len();
        for (i, positions) in gone.iter().enumerate() {
            if !positions.is_empty() {
                self.drop_entries(i, positions);
            }
        }
        removed
    }

    /// Up to `m` records of set `i` as a window from a random start, wrapping around, without
    /// the announcer (at `me` when it is in the set).
    fn pick(&self, i: usize, m: usize, me: Option<usize>, random: u32, out: &mut Vec<Vec<u8>>) {
        let card = self.len(i);
        if m == 0 {
            return;
        }
        let random = random as usize;
        match me {
            None => self.range(i, card, random, m.min(card), out),
            Some(me) if m + 1 >= card => {
                self.range(i, card, 0, me, out);
                self.range(i, card, me + 1, card - me - 1, out);
            }
            Some(me) => {
                let first = random % card;
                let at = (me + card - first) % card;
                if at < m {
                    self.range(i, card, first, at, out);
                    self.range(i, card, me + 1, m - at, out);
                } else {
                    self.range(i, card, first, m, out);
                }
            }
        }
    }

    /// `count` records of set `i` from `from` (modulo `card`), wrapping: one or two stretches.
    fn range(&self, i: usize, card: usize, from: usize, count: usize, out: &mut Vec<Vec<u8>>) {
        if count == 0 {
            return;
        }
        let f = family_of_set(i);
        let from = from % card;
        let to = from + count;
        let mut stretch = |from: usize, count: usize| {
            let mut bytes = Vec::with_capacity(count * (f.addr_len() + PEER_ID));
            self.sets.copy_records(i, from, count, &mut bytes);
            out.push(bytes);
        };
        if to <= card {
            stretch(from, count);
        } else {
            stretch(from, card - from);
            stretch(0, to - card);
        }
    }
}
