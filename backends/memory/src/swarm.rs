//! One swarm: its IPv4 peers inline, and in a rarely allocated box its IPv6 peers, its WebRTC
//! peers and the hash indexes of large lists; its download count. Applies the contract's
//! announce step to itself.
//!
//! The header is 40 bytes (a 64-byte slot with its info hash in the shard's map): most swarms
//! have a few IPv4 peers and no IPv6 one, so the parts only large or IPv6 swarms need live
//! behind one pointer, allocated when the first of them is needed and freed when none is left.
//! Which list a peer goes to is decided in one place, [`Swarm::announce`], by
//! [`AddressFamily::of`]. WebRTC peers always keep their peer ids: the WebSocket frontend relays
//! offers by peer id.

use std::net::SocketAddr;

use octotracker_core::{AddressFamily, Event, Peer, PeerAnnounce, SwarmReply, SwarmStats, UnixTime};

use crate::entry::{Entry, Ip, PeerIdSlot, stamp};
use crate::peer_list::{Index, PeerList, Was};
use crate::selection::{Ask, Draws};

/// The peers and counts of one info hash; `P` says whether peer ids are kept (`[u8; 20]`) or
/// not (`()`).
#[derive(Debug, Default)]
pub(crate) struct Swarm<P: PeerIdSlot = [u8; 20]> {
    v4: PeerList<[u8; 4], P>,
    downloaded: u64,
    /// IPv6 and WebRTC peers and the indexes of large lists; `None` when none is needed.
    rare: Option<Box<Rare<P>>>,
}

/// What few swarms need.
#[derive(Debug, Default)]
struct Rare<P: PeerIdSlot> {
    v4_index: Option<Index<[u8; 4]>>,
    v6: PeerList<[u8; 16], P>,
    v6_index: Option<Index<[u8; 16]>>,
    /// WebRTC peers ([`AddressFamily::WebRtc`]: synthetic IPv6 addresses), with their ids.
    rtc: PeerList<[u8; 16], [u8; 20]>,
    rtc_index: Option<Index<[u8; 16]>>,
}

impl<P: PeerIdSlot> Rare<P> {
    fn is_unused(&self) -> bool {
        self.v4_index.is_none() && self.v6.is_empty() && self.rtc.is_empty()
    }
}

impl<P: PeerIdSlot> Swarm<P> {
    /// Applies one announce (the contract's steps 1–4) and returns the chosen peers and counts.
    pub(crate) fn announce(&mut self, a: &PeerAnnounce, want: usize) -> SwarmReply {
        let mut peers = Vec::new();
        match a.addr {
            SocketAddr::V4(addr) => {
                let entry = entry(addr.ip().octets(), addr.port(), a);
                match &mut self.rare {
                    Some(rare) => {
                        apply(&mut self.v4, &mut rare.v4_index, entry, a, want, &mut self.downloaded, &mut peers);
                    }
                    None => {
                        let mut index = None;
                        apply(&mut self.v4, &mut index, entry, a, want, &mut self.downloaded, &mut peers);
                        if index.is_some() {
                            self.rare = Some(Box::new(Rare { v4_index: index, ..Rare::default() }));
                        }
                    }
                }
            }
            SocketAddr::V6(addr) => {
                if a.event == Event::Stopped && self.rare.is_none() {
                    // Nothing to remove, and nothing to create.
                } else {
                    let rare = self.rare.get_or_insert_with(Box::default);
                    let (ip, port) = (addr.ip().octets(), addr.port());
                    if AddressFamily::of(a.addr.ip()) == AddressFamily::WebRtc {
                        let entry = entry(ip, port, a);
                        apply(&mut rare.rtc, &mut rare.rtc_index, entry, a, want, &mut self.downloaded, &mut peers);
                    } else {
                        let entry = entry(ip, port, a);
                        apply(&mut rare.v6, &mut rare.v6_index, entry, a, want, &mut self.downloaded, &mut peers);
                    }
                }
            }
        }
        self.drop_unused_rare();
        SwarmReply { peers, stats: self.stats() }
    }

    /// Seeders and leechers per address family (admin pages).
    pub(crate) fn families(&self) -> octotracker_core::FamilyCounts {
        use octotracker_core::PeerCounts;
        let counts =
            |seeders: usize, leechers: usize| PeerCounts { seeders: seeders as u64, leechers: leechers as u64 };
        let mut families =
            octotracker_core::FamilyCounts { v4: counts(self.v4.seeders(), self.v4.leechers()), ..Default::default() };
        if let Some(rare) = &self.rare {
            families.v6 = counts(rare.v6.seeders(), rare.v6.leechers());
            families.webrtc = counts(rare.rtc.seeders(), rare.rtc.leechers());
        }
        families
    }

    /// The swarm's counts.
    pub(crate) fn stats(&self) -> SwarmStats {
        let (mut complete, mut incomplete) = (self.v4.seeders(), self.v4.leechers());
        if let Some(rare) = &self.rare {
            complete += rare.v6.seeders() + rare.rtc.seeders();
            incomplete += rare.v6.leechers() + rare.rtc.leechers();
        }
        SwarmStats {
            complete: u32::try_from(complete).unwrap_or(u32::MAX),
            incomplete: u32::try_from(incomplete).unwrap_or(u32::MAX),
            downloaded: self.downloaded,
        }
    }

    /// Whether no peer is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.rare.as_ref().is_none_or(|r| r.v6.is_empty() && r.rtc.is_empty())
    }

    /// Removes the peers last seen before `cutoff`; returns how many.
    pub(crate) fn expire(&mut self, cutoff: UnixTime) -> usize {
        let removed = match &mut self.rare {
            Some(rare) => {
                self.v4.expire(&mut rare.v4_index, cutoff)
                    + rare.v6.expire(&mut rare.v6_index, cutoff)
                    + rare.rtc.expire(&mut rare.rtc_index, cutoff)
            }
            None => self.v4.expire(&mut None, cutoff),
        };
        self.drop_unused_rare();
        removed
    }

    fn drop_unused_rare(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_unused()) {
            self.rare = None;
        }
    }
}

fn entry<A: Ip, Q: PeerIdSlot>(ip: A, port: u16, a: &PeerAnnounce) -> Entry<A, Q> {
    Entry::new(ip, port, stamp(a.now), Q::keep(&a.peer_id))
}

/// The announce step on the announcer's own family list.
fn apply<A: Ip, P: PeerIdSlot>(
    list: &mut PeerList<A, P>,
    index: &mut Option<Index<A>>,
    entry: Entry<A, P>,
    a: &PeerAnnounce,
    want: usize,
    downloaded: &mut u64,
    out: &mut Vec<Peer>,
) {
    let draws = Draws::new();
    if want > 0 {
        list.preload(index, &draws);
    }
    let me = if a.event == Event::Stopped {
        list.remove(index, entry.key());
        None
    } else {
        let (at, was) = list.upsert(index, entry, a.seeder);
        if a.event == Event::Completed && was == Was::Leecher {
            *downloaded = downloaded.saturating_add(1);
        }
        Some(at)
    };
    if want > 0 {
        list.choose(Ask { me, seeder: a.seeder, want }, draws, out);
    }
}

#[cfg(test)]
mod tests {
    use octotracker_core::{InfoHash, PeerId};

    use super::*;

    #[test]
    fn the_swarm_header_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Swarm<[u8; 20]>>(), 40);
        assert_eq!(std::mem::size_of::<Swarm<()>>(), 40);
        assert_eq!(std::mem::size_of::<(InfoHash, Swarm<()>)>(), 64, "one slot of a shard's map");
    }

    fn announce(addr: &str, event: Event, now: u64) -> PeerAnnounce {
        PeerAnnounce {
            info_hash: InfoHash([1; 20]),
            addr: addr.parse().unwrap(),
            peer_id: PeerId([3; 20]),
            event,
            seeder: false,
            now: UnixTime(now),
        }
    }

    #[test]
    fn the_rare_part_exists_only_while_ipv6_peers_or_an_index_need_it() {
        let mut swarm = Swarm::<()>::default();
        swarm.announce(&announce("10.0.0.1:1", Event::Started, 5), 50);
        assert!(swarm.rare.is_none(), "a small IPv4 swarm has no rare part");
        swarm.announce(&announce("[2001:db8::1]:1", Event::Started, 5), 50);
        assert!(swarm.rare.is_some());
        swarm.announce(&announce("[2001:db8::1]:1", Event::Stopped, 5), 50);
        assert!(swarm.rare.is_none(), "freed when the last IPv6 peer leaves");
        for port in 1..=40 {
            swarm.announce(&announce(&format!("10.0.0.2:{port}"), Event::Started, 6), 0);
        }
        assert!(swarm.rare.as_ref().is_some_and(|r| r.v4_index.is_some()), "a large list is indexed");
        assert_eq!(swarm.expire(UnixTime(6)), 1);
        assert_eq!(swarm.expire(UnixTime(7)), 40);
        assert!(swarm.rare.is_none() && swarm.is_empty());
    }
}
