//! The key layout: every key of one swarm carries the info hash as its `{hash tag}`, so a swarm
//! lives in one cluster slot and one script (or one module command) reaches all of it.
//!
//! Lua engine, layout 3:
//!
//! ```text
//! <prefix>:{<40 hex info hash>}:v3:i     hash        address → peer id + set letter (s, l) + record
//!                                                    position (4 bytes); "m": last lazy prune, downloads,
//!                                                    the count of each of the six sets (lua/records.lua)
//! <prefix>:{<40 hex info hash>}:v3:z     sorted set  every peer of the swarm: address → last seen (Unix s)
//! <prefix>:{<40 hex info hash>}:v3:s4r   string      the records of the IPv4 seeders: address + 20-byte
//!   (and :v3:l4r, :v3:s6r, :v3:l6r,                  peer id each, back to back; the first `count` are live
//!    :v3:swr, :v3:lwr for WebRTC peers)
//! ```
//!
//! Module engine: `<prefix>:{<40 hex info hash>}:swarm`, one value of the module's type holding
//! every family.
//!
//! A peer's identity is its address (IP and port): the sorted set orders the addresses by last
//! seen (for expiry); the record strings hold address and peer id at fixed offsets, so the peers
//! an announce hands out are one `GETRANGE` of consecutive records (one string for Redis to reply
//! and for Lua to handle, not one per peer). A removed record's place is taken by the last live
//! one of its string (its hash entry follows). WebRTC peers (synthetic addresses in 100::/64) are
//! a family of the same swarm: the hash's field "m" holds every family's counts, so an announce
//! reads them with its own entry in one `HMGET`.
//!
//! Older layouts are never read: layout 1 (`:s4` … `:i`), layout 2 (`:v2:*`, four sorted sets,
//! WebRTC peers in a sibling group `<prefix>:rtc:{hash}`) and the module's WebRTC sibling keys
//! (`<prefix>:rtc:{hash}:swarm`). Connecting to a prefix that holds layout-2 or sibling keys is
//! refused with a message saying what to do (`engine.rs`, [`OLD_LAYOUTS`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use octotracker_core::{InfoHash, Peer, PeerId};

use crate::engine::Engine;

/// Suffix of the swarm hash, the one key every swarm with peers has (Lua engine).
const IDS: &str = "v3:i";
/// Suffix of the module engine's one key per swarm (a value of the module's `octoswarm` type).
const NATIVE: &str = "swarm";

/// The suffixes of a swarm's keys in the order the scripts take them.
const SUFFIXES: [&str; 8] = [IDS, "v3:z", "v3:s4r", "v3:l4r", "v3:s6r", "v3:l6r", "v3:swr", "v3:lwr"];

/// Keys written by older layouts, as `SCAN MATCH` patterns after `<prefix>:` (one key every such
/// swarm has, then every key of such swarms) with what they were: connecting to a prefix holding
/// them is refused.
pub(crate) const OLD_LAYOUTS: [(&str, &str, &str); 3] = [
    ("{*}:v2:i", "{*}:v2:*", "layout-2 Lua swarms"),
    ("rtc:{*}:v2:i", "rtc:{*}", "layout-2 Lua swarms of WebRTC peers"),
    ("rtc:{*}:swarm", "rtc:{*}", "module swarms of WebRTC peers in sibling keys"),
];

/// Builds the keys of one swarm in one reusable buffer: `<prefix>:{<hex hash>}:` then a suffix.
#[derive(Debug)]
pub(crate) struct SwarmKeys {
    buf: Vec<u8>,
    base: usize,
}

impl SwarmKeys {
    /// The keys of swarm `hash`: `[i, z, s4r, l4r, s6r, l6r, swr, lwr]`.
    pub(crate) fn new(prefix: &str, hash: &InfoHash) -> SwarmKeys {
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
        SwarmKeys { buf, base }
    }

    /// Calls `f` with each key, in the scripts' order.
    pub(crate) fn each(&mut self, mut f: impl FnMut(&[u8])) {
        for suffix in SUFFIXES {
            self.buf.truncate(self.base);
            self.buf.extend_from_slice(suffix.as_bytes());
            f(&self.buf);
        }
    }

    /// The swarm hash's key.
    pub(crate) fn ids(&mut self) -> &[u8] {
        self.buf.truncate(self.base);
        self.buf.extend_from_slice(IDS.as_bytes());
        &self.buf
    }

    /// The keys as strings (tests).
    #[cfg(test)]
    pub(crate) fn all(&mut self) -> Vec<String> {
        let mut keys = Vec::with_capacity(SUFFIXES.len());
        self.each(|k| keys.push(String::from_utf8_lossy(k).into_owned()));
        keys
    }
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
        let keys = SwarmKeys::new("octo:test", &h).all();
        assert_eq!(keys[0], format!("octo:test:{{{h}}}:v3:i"));
        assert_eq!(keys[1], format!("octo:test:{{{h}}}:v3:z"));
        assert_eq!(keys[7], format!("octo:test:{{{h}}}:v3:lwr"));
        assert_eq!(SwarmKeys::new("octo:test", &h).ids(), keys[0].as_bytes());
        assert_eq!(hash_of_key("octo:test", Engine::Lua, keys[0].as_bytes()), Some(h));
        assert_eq!(hash_of_key("other", Engine::Lua, keys[0].as_bytes()), None);
        assert_eq!(hash_of_key("octo:test", Engine::Lua, format!("octo:test:{{{h}}}:i").as_bytes()), None, "layout 1");
        assert_eq!(
            hash_of_key("octo:test", Engine::Lua, format!("octo:test:{{{h}}}:v2:i").as_bytes()),
            None,
            "layout 2"
        );
        let native = native_key("octo:test", &h);
        assert_eq!(native, format!("octo:test:{{{h}}}:swarm"));
        assert_eq!(hash_of_key("octo:test", Engine::Module, native.as_bytes()), Some(h));
        assert_eq!(hash_of_key("octo:test", Engine::Lua, native.as_bytes()), None);
        assert_eq!(hash_of_key("octo:test", Engine::Module, keys[0].as_bytes()), None);
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
