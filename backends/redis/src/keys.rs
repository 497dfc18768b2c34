//! The key layout: every key of one swarm carries the info hash as its `{hash tag}`, so a swarm
//! lives in one cluster slot and one script can touch all of it.
//!
//! ```text
//! <prefix>:{<40 hex info hash>}:v2:s4    sorted set  IPv4 seeders   member: 4-byte IP + 2-byte port
//! <prefix>:{<40 hex info hash>}:v2:l4    sorted set  IPv4 leechers  score: last seen (Unix seconds)
//! <prefix>:{<40 hex info hash>}:v2:s6    sorted set  IPv6 seeders   member: 16-byte IP + 2-byte port
//! <prefix>:{<40 hex info hash>}:v2:l6    sorted set  IPv6 leechers
//! <prefix>:{<40 hex info hash>}:v2:s4r   string      the records of v2:s4: address + 20-byte peer id each,
//!   (and :v2:l4r, :v2:s6r, :v2:l6r)                  back to back; the first ZCARD of them are live
//! <prefix>:{<40 hex info hash>}:v2:i     hash        address → peer id + set letter (s, l) + record
//!                                                    position (decimal); "dl": downloads;
//!                                                    "pt": last lazy prune (Unix s)
//! ```
//!
//! A peer's identity is its address (IP and port): the sorted sets order the addresses by last
//! seen (for expiry) and count them; the record strings hold address and peer id at fixed
//! offsets, so the peers an announce hands out are one `GETRANGE` of consecutive records (one
//! string for Redis to reply and for Lua to handle, not one per peer). A removed record's place
//! is taken by the last live one of its string (its hash entry follows).
//!
//! `v2` is the layout version: layout 1 (`:s4` … `:i`, members address + peer id, no record
//! strings) is neither read nor written; after an upgrade its keys vanish by their TTL (the peer
//! timeout plus a minute) while the peers re-announce into layout 2.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use octotracker_core::{InfoHash, Peer, PeerId};

use crate::engine::Engine;

/// Suffix of the swarm hash, the one key every swarm with peers has (Lua engine).
const IDS: &str = "v2:i";
/// Suffix of the module engine's one key per swarm (a value of the module's `octoswarm` type).
const NATIVE: &str = "swarm";

/// The suffixes of a swarm's keys in the order the scripts take them (IPv4 first).
const SUFFIXES_V4: [&str; 9] = ["v2:s4", "v2:l4", "v2:s6", "v2:l6", IDS, "v2:s4r", "v2:l4r", "v2:s6r", "v2:l6r"];
/// The same for an IPv6 announcer (its family first).
const SUFFIXES_V6: [&str; 9] = ["v2:s6", "v2:l6", "v2:s4", "v2:l4", IDS, "v2:s6r", "v2:l6r", "v2:s4r", "v2:l4r"];

/// Builds the keys of one swarm in one reusable buffer: `<prefix>:{<hex hash>}:` then a suffix.
#[derive(Debug)]
pub(crate) struct SwarmKeys {
    buf: Vec<u8>,
    base: usize,
    v6: bool,
}

impl SwarmKeys {
    /// The keys of swarm `hash`: `[s4, l4, s6, l6, i, s4r, l4r, s6r, l6r]`, or with the families
    /// swapped when `v6` (the announcer's family first).
    pub(crate) fn new(prefix: &str, hash: &InfoHash, v6: bool) -> SwarmKeys {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = Vec::with_capacity(prefix.len() + 44 + 8);
        buf.extend_from_slice(prefix.as_bytes());
        buf.extend_from_slice(b":{");
        for b in hash.0 {
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 15)]);
        }
        buf.extend_from_slice(b"}:");
        let base = buf.len();
        SwarmKeys { buf, base, v6 }
    }

    /// Calls `f` with each key, in the scripts' order.
    pub(crate) fn each(&mut self, mut f: impl FnMut(&[u8])) {
        let suffixes = if self.v6 { &SUFFIXES_V6 } else { &SUFFIXES_V4 };
        for suffix in suffixes {
            self.buf.truncate(self.base);
            self.buf.extend_from_slice(suffix.as_bytes());
            f(&self.buf);
        }
    }

    /// The swarm hash's key (the sibling group's, for an announce: see [`family_prefix`]).
    pub(crate) fn ids(&mut self) -> &[u8] {
        self.buf.truncate(self.base);
        self.buf.extend_from_slice(IDS.as_bytes());
        &self.buf
    }

    /// The keys as strings (scrape, tests).
    pub(crate) fn all(&mut self) -> Vec<String> {
        let mut keys = Vec::with_capacity(9);
        self.each(|k| keys.push(String::from_utf8_lossy(k).into_owned()));
        keys
    }
}

/// The prefix of a swarm's WebRTC peers (WebSocket trackers'): `<prefix>:rtc`. Under either
/// engine they are kept as a sibling swarm in the same layout (IPv6 sets or the IPv6 family of
/// the native swarm, synthetic addresses in 100::/64) under the same hash tag, so one script or
/// one module command still reaches both; each announce adds the sibling's counts and downloads
/// to its own. IP peers and WebRTC peers thus share counts and never peer lists.
pub(crate) fn family_prefix(prefix: &str, webrtc: bool) -> std::borrow::Cow<'_, str> {
    if webrtc { format!("{prefix}:rtc").into() } else { prefix.into() }
}

/// The module engine's key of swarm `hash`: `<prefix>:{<hex hash>}:swarm`.
pub(crate) fn native_key(prefix: &str, hash: &InfoHash) -> String {
    format!("{prefix}:{{{hash}}}:{NATIVE}")
}

/// The suffix of the one key every swarm of `engine` has.
fn swarm_suffix(engine: Engine) -> &'static str {
    match engine {
        Engine::Lua => IDS,
        Engine::Module => NATIVE,
    }
}

/// The `SCAN MATCH` pattern finding one key of every swarm of `engine` under `prefix` (the
/// prefix holds no glob character: see [`check_prefix`]).
pub(crate) fn swarm_pattern(prefix: &str, engine: Engine) -> String {
    format!("{prefix}:{{*}}:{}", swarm_suffix(engine))
}

/// The info hash of a key matched by [`swarm_pattern`].
pub(crate) fn hash_of_key(prefix: &str, engine: Engine, key: &[u8]) -> Option<InfoHash> {
    let rest = key.strip_prefix(prefix.as_bytes())?.strip_prefix(b":{")?;
    let hex = rest.strip_suffix(swarm_suffix(engine).as_bytes())?.strip_suffix(b"}:")?;
    std::str::from_utf8(hex).ok()?.parse().ok()
}

/// A key prefix is non-empty and made of `[A-Za-z0-9_.:/-]`: no `{` (which would move the hash
/// tag) and no glob character (which would break `SCAN MATCH`).
pub(crate) fn check_prefix(prefix: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.:/-".contains(c);
    if prefix.is_empty() || !prefix.chars().all(ok) {
        return Err(format!("invalid redis key prefix {prefix:?}: use letters, digits and _ . : / -"));
    }
    Ok(())
}

/// The compact form of an address: IP bytes then the port, big-endian.
pub(crate) fn compact(addr: &SocketAddr) -> Vec<u8> {
    let mut m = match addr.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    m.extend_from_slice(&addr.port().to_be_bytes());
    m
}

/// Parses records (compact address + peer id, back to back) for an announcer of family `v6`,
/// appending the peers to `peers`; `None` when `records` is not whole records.
pub(crate) fn parse_peers(records: &[u8], v6: bool, peers: &mut Vec<Peer>) -> Option<()> {
    let ip_len = if v6 { 16 } else { 4 };
    let record = ip_len + 2 + 20;
    if !records.len().is_multiple_of(record) {
        return None;
    }
    peers.extend(records.chunks_exact(record).map(|r| {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&r[..16]).expect("16 bytes")))
        } else {
            IpAddr::V4(Ipv4Addr::new(r[0], r[1], r[2], r[3]))
        };
        let port = u16::from_be_bytes([r[ip_len], r[ip_len + 1]]);
        let id = PeerId(r[ip_len + 2..].try_into().expect("20 bytes"));
        Peer { addr: SocketAddr::new(ip, port), id }
    }));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swarm_key_round_trips_to_its_hash() {
        let h = InfoHash([0xab; 20]);
        let keys = SwarmKeys::new("octo:test", &h, false).all();
        assert_eq!(keys[0], format!("octo:test:{{{h}}}:v2:s4"));
        assert_eq!(keys[8], format!("octo:test:{{{h}}}:v2:l6r"));
        assert_eq!(hash_of_key("octo:test", Engine::Lua, keys[4].as_bytes()), Some(h));
        assert_eq!(hash_of_key("other", Engine::Lua, keys[4].as_bytes()), None);
        assert_eq!(hash_of_key("octo:test", Engine::Lua, format!("octo:test:{{{h}}}:i").as_bytes()), None, "layout 1");
        let native = native_key("octo:test", &h);
        assert_eq!(native, format!("octo:test:{{{h}}}:swarm"));
        assert_eq!(hash_of_key("octo:test", Engine::Module, native.as_bytes()), Some(h));
        assert_eq!(hash_of_key("octo:test", Engine::Lua, native.as_bytes()), None);
        assert_eq!(hash_of_key("octo:test", Engine::Module, keys[4].as_bytes()), None);
        let v6 = SwarmKeys::new("p", &h, true).all();
        assert_eq!(v6[0], format!("p:{{{h}}}:v2:s6"));
        assert_eq!(v6[5], format!("p:{{{h}}}:v2:s6r"));
        assert_eq!(v6[4], format!("p:{{{h}}}:v2:i"));
        assert_eq!(SwarmKeys::new("p", &h, true).ids(), v6[4].as_bytes());
        let rtc = family_prefix("p", true);
        assert_eq!(native_key(&rtc, &h), format!("p:rtc:{{{h}}}:swarm"));
        assert_eq!(hash_of_key(&rtc, Engine::Module, native_key(&rtc, &h).as_bytes()), Some(h));
        assert_eq!(hash_of_key("p", Engine::Module, native_key(&rtc, &h).as_bytes()), None, "groups apart");
    }

    #[test]
    fn prefixes_with_braces_or_globs_are_refused() {
        assert!(check_prefix("octotracker").is_ok());
        assert!(check_prefix("a-b_c.d:e/f9").is_ok());
        for bad in ["", "a{b", "a}b", "a*", "a?", "a[b]", "a b"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn members_parse_back_to_peers() {
        for (addr, v6) in [("10.1.2.3:6881", false), ("[2001:db8::7]:51413", true)] {
            let addr: SocketAddr = addr.parse().unwrap();
            let mut blob = compact(&addr);
            blob.extend_from_slice(&[7; 20]);
            let mut peers = Vec::new();
            assert_eq!(parse_peers(&blob, v6, &mut peers), Some(()));
            assert_eq!(peers, vec![Peer { addr, id: PeerId([7; 20]) }]);
            assert_eq!(parse_peers(&blob[1..], v6, &mut peers), None);
        }
    }
}
