//! The key layout: every key of one swarm carries the info hash as its `{hash tag}`, so a swarm
//! lives in one cluster slot and one script can touch all of it.
//!
//! ```text
//! <prefix>:{<40 hex info hash>}:s4   sorted set  IPv4 seeders   member: 4-byte IP + 2-byte port + peer id
//! <prefix>:{<40 hex info hash>}:l4   sorted set  IPv4 leechers  score: last seen (Unix seconds)
//! <prefix>:{<40 hex info hash>}:s6   sorted set  IPv6 seeders   member: 16-byte IP + 2-byte port + peer id
//! <prefix>:{<40 hex info hash>}:l6   sorted set  IPv6 leechers
//! <prefix>:{<40 hex info hash>}:i    hash        address → 20-byte peer id (finds a peer's member);
//!                                                 "dl": downloads; "pt": last lazy prune (Unix s)
//! ```
//!
//! A peer's identity is its address (IP and port); its member carries its peer id too, so the
//! peers an announce hands out need no second lookup.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use octotracker_core::{InfoHash, Peer, PeerId};

/// Suffix of the swarm hash, the one key every swarm with peers has.
const IDS: &str = "i";

/// The five keys of one swarm, in the order the scripts take them.
#[derive(Debug)]
pub(crate) struct SwarmKeys(pub [String; 5]);

impl SwarmKeys {
    /// `[s4, l4, s6, l6, i]`, or `[s6, l6, s4, l4, i]` when `v6` (the announcer's family first).
    pub fn new(prefix: &str, hash: &InfoHash, v6: bool) -> SwarmKeys {
        let base = format!("{prefix}:{{{hash}}}:");
        let key = |suffix: &str| format!("{base}{suffix}");
        if v6 {
            SwarmKeys([key("s6"), key("l6"), key("s4"), key("l4"), key(IDS)])
        } else {
            SwarmKeys([key("s4"), key("l4"), key("s6"), key("l6"), key(IDS)])
        }
    }
}

/// The `SCAN MATCH` pattern finding the swarm hash of every swarm under `prefix` (the prefix
/// holds no glob character: see [`check_prefix`]).
pub(crate) fn swarm_pattern(prefix: &str) -> String {
    format!("{prefix}:{{*}}:{IDS}")
}

/// The info hash of a key matched by [`swarm_pattern`].
pub(crate) fn hash_of_key(prefix: &str, key: &[u8]) -> Option<InfoHash> {
    let rest = key.strip_prefix(prefix.as_bytes())?.strip_prefix(b":{")?;
    let hex = rest.strip_suffix(b"}:i")?;
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

/// Parses the script's blob of members (compact address + peer id) for an announcer of family `v6`.
pub(crate) fn parse_peers(blob: &[u8], v6: bool) -> Option<Vec<Peer>> {
    let ip_len = if v6 { 16 } else { 4 };
    let record = ip_len + 2 + 20;
    if !blob.len().is_multiple_of(record) {
        return None;
    }
    let peers = blob
        .chunks_exact(record)
        .map(|r| {
            let ip = if v6 {
                IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&r[..16]).expect("16 bytes")))
            } else {
                IpAddr::V4(Ipv4Addr::new(r[0], r[1], r[2], r[3]))
            };
            let port = u16::from_be_bytes([r[ip_len], r[ip_len + 1]]);
            let id = PeerId(r[ip_len + 2..].try_into().expect("20 bytes"));
            Peer { addr: SocketAddr::new(ip, port), id }
        })
        .collect();
    Some(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swarm_key_round_trips_to_its_hash() {
        let h = InfoHash([0xab; 20]);
        let keys = SwarmKeys::new("octo:test", &h, false);
        assert_eq!(keys.0[0], format!("octo:test:{{{h}}}:s4"));
        assert_eq!(hash_of_key("octo:test", keys.0[4].as_bytes()), Some(h));
        assert_eq!(hash_of_key("other", keys.0[4].as_bytes()), None);
        assert_eq!(SwarmKeys::new("p", &h, true).0[0], format!("p:{{{h}}}:s6"));
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
            assert_eq!(parse_peers(&blob, v6), Some(vec![Peer { addr, id: PeerId([7; 20]) }]));
            assert_eq!(parse_peers(&blob[1..], v6), None);
        }
    }
}
