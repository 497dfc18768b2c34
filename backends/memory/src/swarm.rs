//! One swarm: its IPv4 peers, its IPv6 and WebRTC peers (boxed, as most swarms have none), and
//! its download count. Applies the contract's announce step to itself.

use std::net::SocketAddr;

use octotracker_core::{AddressFamily, Event, Peer, PeerAnnounce, SwarmReply, SwarmStats, UnixTime};

use crate::entry::{Entry, Ip, stamp};
use crate::peer_list::{PeerList, Was};
use crate::selection::Ask;

/// The peers and counts of one info hash.
#[derive(Debug, Default)]
pub(crate) struct Swarm {
    v4: PeerList<[u8; 4]>,
    v6: Option<Box<PeerList<[u8; 16]>>>,
    /// WebRTC peers ([`AddressFamily::WebRtc`], synthetic IPv6 addresses).
    rtc: Option<Box<PeerList<[u8; 16]>>>,
    downloaded: u64,
}

impl Swarm {
    /// Applies one announce (the contract's steps 1–4) and returns the chosen peers and counts.
    pub fn announce(&mut self, a: &PeerAnnounce, want: usize) -> SwarmReply {
        let mut peers = Vec::new();
        match a.addr {
            SocketAddr::V4(addr) => {
                let entry = entry(addr.ip().octets(), addr.port(), a);
                apply(&mut self.v4, entry, a, want, &mut self.downloaded, &mut peers);
            }
            SocketAddr::V6(addr) => {
                let entry = entry(addr.ip().octets(), addr.port(), a);
                let slot = match AddressFamily::of(a.addr.ip()) {
                    AddressFamily::WebRtc => &mut self.rtc,
                    _ => &mut self.v6,
                };
                if a.event == Event::Stopped && slot.is_none() {
                    // Nothing to remove, and no list to create.
                } else {
                    let list = slot.get_or_insert_with(Box::default);
                    apply(list, entry, a, want, &mut self.downloaded, &mut peers);
                    if list.is_empty() {
                        *slot = None;
                    }
                }
            }
        }
        SwarmReply { peers, stats: self.stats() }
    }

    /// The swarm's counts.
    pub fn stats(&self) -> SwarmStats {
        let (mut complete, mut incomplete) = (self.v4.seeders(), self.v4.leechers());
        for list in [&self.v6, &self.rtc].into_iter().flatten() {
            complete += list.seeders();
            incomplete += list.leechers();
        }
        SwarmStats {
            complete: u32::try_from(complete).unwrap_or(u32::MAX),
            incomplete: u32::try_from(incomplete).unwrap_or(u32::MAX),
            downloaded: self.downloaded,
        }
    }

    /// Whether no peer is left.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_none() && self.rtc.is_none()
    }

    /// Removes the peers last seen before `cutoff`; returns how many.
    pub fn expire(&mut self, cutoff: UnixTime) -> usize {
        let mut removed = self.v4.expire(cutoff);
        for slot in [&mut self.v6, &mut self.rtc] {
            if let Some(list) = slot {
                removed += list.expire(cutoff);
                if list.is_empty() {
                    *slot = None;
                }
            }
        }
        removed
    }
}

fn entry<A: Ip>(ip: A, port: u16, a: &PeerAnnounce) -> Entry<A> {
    Entry { ip, port, last_seen: stamp(a.now), peer_id: a.peer_id.0 }
}

/// The announce step on the announcer's own family list.
fn apply<A: Ip>(
    list: &mut PeerList<A>,
    entry: Entry<A>,
    a: &PeerAnnounce,
    want: usize,
    downloaded: &mut u64,
    out: &mut Vec<Peer>,
) {
    let me = if a.event == Event::Stopped {
        list.remove(entry.key());
        None
    } else {
        let (at, was) = list.upsert(entry, a.seeder);
        if a.event == Event::Completed && was == Was::Leecher {
            *downloaded = downloaded.saturating_add(1);
        }
        Some(at)
    };
    if want > 0 {
        list.choose(Ask { me, seeder: a.seeder, want }, out);
    }
}
