//! Judging a 200 reply on the hot path: valid bencode of the prescribed shape, a
//! `failure reason`, or malformed. A single pass over the bytes with no allocation; as strict
//! as `octotracker_core::bencode::decode` (canonical integers, byte-string keys, bounded nesting,
//! nothing after the value), which a test checks on a table of replies.

/// What a reply body turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict<'a> {
    /// A valid reply.
    Ok,
    /// A valid reply carrying this `failure reason`.
    Failure(&'a [u8]),
    /// Not the shape the protocol prescribes.
    Malformed,
}

/// Nesting allowed, as in the core decoder.
const MAX_DEPTH: u32 = 64;

/// Checks an announce reply: a dictionary with an integer `interval` and a `peers` string (a
/// multiple of 6 bytes) or list; or a `failure reason`.
pub(super) fn check_announce(body: &[u8]) -> Verdict<'_> {
    check(body, |key, value, found| match key {
        b"interval" => found.required |= matches!(value, Shape::Int),
        b"peers" => {
            found.bad |=
                matches!(value, Shape::Bytes(b) if b.len() % 6 != 0) || matches!(value, Shape::Int | Shape::Dict)
        }
        _ => {}
    })
}

/// Checks a scrape reply: a dictionary with a `files` dictionary; or a `failure reason`.
pub(super) fn check_scrape(body: &[u8]) -> Verdict<'_> {
    check(body, |key, value, found| {
        if key == b"files" {
            found.required |= matches!(value, Shape::Dict);
        }
    })
}

/// Checks a UDP announce reply (BEP 15), its transaction id already matched: action 1 with
/// interval, leechers and seeders, then whole peers (6 bytes each, 18 when `v6`); or an error
/// packet, whose message counts as a failure reason.
pub(super) fn check_udp_announce(reply: &[u8], v6: bool) -> Verdict<'_> {
    let peer = if v6 { 18 } else { 6 };
    match udp_action(reply) {
        Some(1) if reply.len() >= 20 && (reply.len() - 20).is_multiple_of(peer) => Verdict::Ok,
        Some(3) => Verdict::Failure(&reply[8..]),
        _ => Verdict::Malformed,
    }
}

/// Checks a UDP scrape reply of `hashes` hashes: action 2 and 12 bytes per hash; or an error.
pub(super) fn check_udp_scrape(reply: &[u8], hashes: usize) -> Verdict<'_> {
    match udp_action(reply) {
        Some(2) if reply.len() == 8 + 12 * hashes => Verdict::Ok,
        Some(3) => Verdict::Failure(&reply[8..]),
        _ => Verdict::Malformed,
    }
}

fn udp_action(reply: &[u8]) -> Option<u32> {
    let action: [u8; 4] = reply.get(..4)?.try_into().ok()?;
    (reply.len() >= 8).then(|| u32::from_be_bytes(action))
}

/// The shape of a top-level value.
#[derive(Debug, Clone, Copy)]
enum Shape<'a> {
    Int,
    Bytes(&'a [u8]),
    List,
    Dict,
}

/// What the per-key rule saw.
#[derive(Debug, Default)]
struct Found {
    required: bool,
    bad: bool,
}

/// Walks a top-level dictionary, calling `rule` on each entry, then judges.
fn check<'a>(b: &'a [u8], rule: impl Fn(&[u8], Shape<'a>, &mut Found)) -> Verdict<'a> {
    let mut found = Found::default();
    let mut failure = None;
    let mut at = 1;
    if b.first() != Some(&b'd') {
        return Verdict::Malformed;
    }
    loop {
        match b.get(at) {
            Some(b'e') => break,
            Some(c) if c.is_ascii_digit() => {}
            _ => return Verdict::Malformed,
        }
        let Some((key, next)) = string(b, at) else { return Verdict::Malformed };
        let Some((shape, end)) = value(b, next, 1) else { return Verdict::Malformed };
        if key == b"failure reason" {
            match shape {
                Shape::Bytes(reason) => failure = Some(reason),
                _ => return Verdict::Malformed,
            }
        }
        rule(key, shape, &mut found);
        at = end;
    }
    if at + 1 != b.len() {
        return Verdict::Malformed;
    }
    match failure {
        Some(reason) => Verdict::Failure(reason),
        None if found.required && !found.bad => Verdict::Ok,
        None => Verdict::Malformed,
    }
}

/// One value at `at`: its shape and the offset after it.
fn value(b: &[u8], at: usize, depth: u32) -> Option<(Shape<'_>, usize)> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *b.get(at)? {
        b'i' => integer(b, at + 1, b'e').map(|(_, end)| (Shape::Int, end)),
        b'0'..=b'9' => string(b, at).map(|(s, end)| (Shape::Bytes(s), end)),
        b'l' => {
            let mut at = at + 1;
            while *b.get(at)? != b'e' {
                at = value(b, at, depth + 1)?.1;
            }
            Some((Shape::List, at + 1))
        }
        b'd' => {
            let mut at = at + 1;
            while *b.get(at)? != b'e' {
                if !b[at].is_ascii_digit() {
                    return None;
                }
                let (_, next) = string(b, at)?;
                at = value(b, next, depth + 1)?.1;
            }
            Some((Shape::Dict, at + 1))
        }
        _ => None,
    }
}

/// A byte string `N:…` at `at`.
fn string(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (len, start) = integer(b, at, b':')?;
    let len = usize::try_from(len).ok()?;
    let end = start.checked_add(len)?;
    Some((b.get(start..end)?, end))
}

/// A canonical integer from `at` up to `end_byte` (no leading zeros, no `-0`, fits in i64):
/// the value and the offset after `end_byte`.
fn integer(b: &[u8], at: usize, end_byte: u8) -> Option<(i64, usize)> {
    let negative = b.get(at) == Some(&b'-');
    let digits_at = at + usize::from(negative);
    let mut i = digits_at;
    let mut n: i64 = 0;
    while let Some(&c) = b.get(i) {
        if c == end_byte {
            break;
        }
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
        i += 1;
    }
    let digits = i - digits_at;
    let canonical = digits > 0 && (b[digits_at] != b'0' || (digits == 1 && !negative));
    if b.get(i) != Some(&end_byte) || !canonical {
        return None;
    }
    Some((if negative { -n } else { n }, i + 1))
}

#[cfg(test)]
mod tests {
    use octotracker_core::bencode::decode;

    use super::*;

    #[test]
    fn announce_replies() {
        assert_eq!(check_announce(b"d8:intervali1800e5:peers6:abcdefe"), Verdict::Ok);
        assert_eq!(check_announce(b"d8:intervali1800e5:peers0:e"), Verdict::Ok);
        assert_eq!(check_announce(b"d8:intervali1800e5:peersld2:ip3:a.b4:porti1eeee"), Verdict::Ok);
        assert_eq!(check_announce(b"d8:completei-3e8:intervali0e6:peers60:e"), Verdict::Ok);
        assert_eq!(check_announce(b"d14:failure reason3:bade"), Verdict::Failure(b"bad"));
        assert_eq!(check_announce(b"d5:peers0:e"), Verdict::Malformed, "no interval");
        assert_eq!(check_announce(b"d8:interval4:1800e"), Verdict::Malformed, "interval not an integer");
        assert_eq!(check_announce(b"d8:intervali1e5:peers5:abcdee"), Verdict::Malformed, "a torn peer");
        assert_eq!(check_announce(b"d8:intervali1e5:peersi1ee"), Verdict::Malformed, "peers an integer");
        assert_eq!(check_announce(b"d8:intervali1e"), Verdict::Malformed, "truncated");
        assert_eq!(check_announce(b"d8:intervali1eee"), Verdict::Malformed, "trailing bytes");
        assert_eq!(check_announce(b"d14:failure reasoni1ee"), Verdict::Malformed, "reason not a string");
        assert_eq!(check_announce(b"<html>"), Verdict::Malformed);
        assert_eq!(check_announce(b"li1ee"), Verdict::Malformed);
        assert_eq!(check_announce(b""), Verdict::Malformed);
    }

    #[test]
    fn scrape_replies() {
        assert_eq!(check_scrape(b"d5:filesdee"), Verdict::Ok);
        assert_eq!(check_scrape(b"d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1eeee"), Verdict::Ok);
        assert_eq!(check_scrape(b"d14:failure reason2:noe"), Verdict::Failure(b"no"));
        assert_eq!(check_scrape(b"d5:filesi1ee"), Verdict::Malformed);
        assert_eq!(check_scrape(b"de"), Verdict::Malformed);
        assert_eq!(check_scrape(b""), Verdict::Malformed);
    }

    #[test]
    fn udp_replies() {
        use octotracker_core::udp_wire::{write_announce, write_error, write_scrape};
        use octotracker_core::{AnnounceResponse, ScrapeResponse, SwarmStats};
        let mut announce = [1u32.to_be_bytes(), 9u32.to_be_bytes(), 1800u32.to_be_bytes(), [0; 4], [0; 4]].concat();
        assert_eq!(check_udp_announce(&announce, false), Verdict::Ok, "no peers");
        announce.extend_from_slice(&[127, 0, 0, 1, 0x1a, 0xe1]);
        assert_eq!(check_udp_announce(&announce, false), Verdict::Ok);
        assert_eq!(check_udp_announce(&announce, true), Verdict::Malformed, "6 bytes are no IPv6 peer");
        announce.push(0);
        assert_eq!(check_udp_announce(&announce, false), Verdict::Malformed, "a torn peer");
        assert_eq!(check_udp_announce(&announce[..16], false), Verdict::Malformed, "no seeders count");
        let mut out = Vec::new();
        let peer =
            octotracker_core::Peer { addr: "127.0.0.1:1".parse().unwrap(), id: octotracker_core::PeerId([0; 20]) };
        let response = AnnounceResponse {
            interval: 1800,
            min_interval: 0,
            stats: SwarmStats::default(),
            peers: vec![peer; 2],
            peers6: Vec::new(),
            tracker_id: None,
            warning: None,
            external_ip: None,
            compact: true,
            no_peer_id: false,
        };
        write_announce(&mut out, 5, &response);
        assert_eq!(check_udp_announce(&out, false), Verdict::Ok);
        assert_eq!(check_udp_scrape(&out, 1), Verdict::Malformed, "an announce reply to a scrape");
        out.clear();
        write_error(&mut out, 5, "not whitelisted");
        assert_eq!(check_udp_announce(&out, false), Verdict::Failure(b"not whitelisted"));
        assert_eq!(check_udp_scrape(&out, 3), Verdict::Failure(b"not whitelisted"));
        out.clear();
        let files = vec![(octotracker_core::InfoHash([1; 20]), SwarmStats::default()); 3];
        write_scrape(&mut out, 5, &ScrapeResponse { files });
        assert_eq!(check_udp_scrape(&out, 3), Verdict::Ok);
        assert_eq!(check_udp_scrape(&out, 2), Verdict::Malformed, "one hash too many");
        assert_eq!(check_udp_announce(&[0, 0, 0, 1], false), Verdict::Malformed);
        assert_eq!(check_udp_scrape(&[], 1), Verdict::Malformed);
    }

    #[test]
    fn as_strict_as_the_core_decoder() {
        let table: &[&[u8]] = &[
            b"d8:intervali1800ee",
            b"d8:intervali01ee",
            b"d8:intervali-0ee",
            b"d8:intervali-ee",
            b"d8:intervalie",
            b"d8:intervali99999999999999999999ee",
            b"d8:intervali1e5:peers03:abce",
            b"d8:intervali1e1:xd1:yl1:zi2eeee",
            b"d8:intervali1ei1ei2ee",
            b"d8:intervali1e1:xlee",
            b"d8:intervali1e1:x",
            b"d8:intervali1e1:x99:ae",
            b"d8:intervali1e1:xq",
        ];
        for body in table {
            let core_ok = decode(body).is_ok();
            let ours_ok = check_announce(body) != Verdict::Malformed;
            assert_eq!(ours_ok, core_ok, "{}", body.escape_ascii());
        }
        let deep = [b"d8:intervali1e1:x".as_slice(), &[b'l'; 70], &[b'e'; 71]].concat();
        assert!(decode(&deep).is_err());
        assert_eq!(check_announce(&deep), Verdict::Malformed, "nesting is bounded");
    }
}
