//! Parsing announce and scrape query strings into validated requests.

use std::net::IpAddr;

use crate::hex_value;
use crate::{AnnounceRequest, Event, InfoHash, PeerId, Refusal, ScrapeRequest};

/// Parses the query string of `GET /announce` (the bytes after `?`, not decoded).
///
/// ```
/// use octotracker_core::http_wire::parse_announce;
/// let q = b"info_hash=%01%02%03%04%05%06%07%08%09%0a%0B%0c%0d%0e%0f%10%11%12%13%14\
///           &peer_id=-OT0001-abcdefghijkl&port=6881&left=0&event=started";
/// let req = parse_announce(q).unwrap();
/// assert_eq!(req.port, 6881);
/// assert_eq!(req.info_hash.0[9], 0x0a);
/// ```
pub fn parse_announce(query: &[u8]) -> Result<AnnounceRequest, Refusal> {
    let mut info_hash = None;
    let mut peer_id = None;
    let mut port = None;
    let mut left = None;
    let mut uploaded = 0;
    let mut downloaded = 0;
    let mut event = Event::None;
    let mut numwant = None;
    let mut compact = true;
    let mut no_peer_id = false;
    let mut key = None;
    let mut ip = None;

    for (name, value) in pairs(query) {
        match name {
            b"info_hash" => {
                if info_hash.is_some() {
                    return Err(Refusal::Repeated("info_hash"));
                }
                info_hash = Some(InfoHash(decode_id(value, "info_hash")?));
            }
            b"peer_id" => {
                if peer_id.is_some() {
                    return Err(Refusal::Repeated("peer_id"));
                }
                peer_id = Some(PeerId(decode_id(value, "peer_id")?));
            }
            b"port" => {
                let n = decode_uint(value, "port")?;
                port = Some(u16::try_from(n).ok().filter(|&p| p != 0).ok_or(Refusal::PortOutOfRange)?);
            }
            b"left" => left = Some(decode_uint(value, "left")?),
            b"uploaded" => uploaded = decode_uint(value, "uploaded")?,
            b"downloaded" => downloaded = decode_uint(value, "downloaded")?,
            b"event" => {
                let mut buf = [0u8; 16];
                let decoded = decode_small(value, &mut buf).ok_or(Refusal::UnknownEvent)?;
                event = Event::from_query_value(decoded).map_err(|_| Refusal::UnknownEvent)?;
            }
            b"numwant" | b"num_want" => numwant = Some(decode_numwant(value)?),
            b"compact" => compact = !is_zero(value),
            b"no_peer_id" => no_peer_id = !is_zero(value),
            b"key" => key = decode_key(value),
            b"ip" => ip = decode_ip(value),
            _ => {}
        }
    }

    Ok(AnnounceRequest {
        info_hash: info_hash.ok_or(Refusal::Missing("info_hash"))?,
        peer_id: peer_id.ok_or(Refusal::Missing("peer_id"))?,
        port: port.ok_or(Refusal::Missing("port"))?,
        uploaded,
        downloaded,
        left: left.ok_or(Refusal::Missing("left"))?,
        event,
        numwant,
        compact,
        no_peer_id,
        key,
        ip,
    })
}

/// Parses the query string of `GET /scrape`: every `info_hash` parameter, in order. No
/// `info_hash` at all asks for a full scrape (the engine decides whether that is allowed).
/// `max_hashes` bounds the work done on hostile input: parsing stops with
/// [`Refusal::TooManyHashes`] past it.
pub fn parse_scrape(query: &[u8], max_hashes: usize) -> Result<ScrapeRequest, Refusal> {
    let mut info_hashes = Vec::new();
    for (name, value) in pairs(query) {
        if name == b"info_hash" {
            if info_hashes.len() == max_hashes {
                return Err(Refusal::TooManyHashes(max_hashes));
            }
            info_hashes.push(InfoHash(decode_id(value, "info_hash")?));
        }
    }
    Ok(ScrapeRequest { info_hashes })
}

/// The `name=value` pairs of a query string; empty pieces are skipped, a piece without `=` has
/// an empty value.
fn pairs(query: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    query.split(|&b| b == b'&').filter(|p| !p.is_empty()).map(|piece| match piece.iter().position(|&b| b == b'=') {
        Some(i) => (&piece[..i], &piece[i + 1..]),
        None => (piece, &b""[..]),
    })
}

/// Percent-decodes into `out` and returns the decoded length; bytes past `out.len()` are counted
/// but dropped, so a length above `out.len()` means "did not fit". `Err` on a bad escape.
fn percent_decode_into(value: &[u8], out: &mut [u8]) -> Result<usize, ()> {
    let mut len = 0;
    let mut i = 0;
    while i < value.len() {
        let byte = if value[i] == b'%' {
            let hi = value.get(i + 1).copied().and_then(hex_value).ok_or(())?;
            let lo = value.get(i + 2).copied().and_then(hex_value).ok_or(())?;
            i += 3;
            hi << 4 | lo
        } else {
            i += 1;
            value[i - 1]
        };
        if let Some(slot) = out.get_mut(len) {
            *slot = byte;
        }
        len += 1;
    }
    Ok(len)
}

fn decode_id(value: &[u8], param: &'static str) -> Result<[u8; 20], Refusal> {
    let mut out = [0u8; 20];
    let len = percent_decode_into(value, &mut out).map_err(|_| Refusal::BadEscape(param))?;
    if len != 20 {
        return Err(Refusal::WrongLength { param, got: len });
    }
    Ok(out)
}

/// Decodes a short value into `buf`; `None` if it has a bad escape or does not fit.
fn decode_small<'b>(value: &[u8], buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let len = percent_decode_into(value, buf).ok()?;
    buf.get(..len)
}

fn decode_uint(value: &[u8], param: &'static str) -> Result<u64, Refusal> {
    let mut buf = [0u8; 24];
    let digits = decode_small(value, &mut buf).ok_or(Refusal::NotANumber(param))?;
    parse_decimal(digits).ok_or(Refusal::NotANumber(param))
}

fn decode_numwant(value: &[u8]) -> Result<u32, Refusal> {
    let mut buf = [0u8; 24];
    let text = decode_small(value, &mut buf).ok_or(Refusal::NotANumber("numwant"))?;
    match text.split_first() {
        Some((b'-', digits)) => match parse_decimal(digits) {
            Some(0) => Ok(0),
            Some(_) => Err(Refusal::NegativeNumwant),
            None => Err(Refusal::NotANumber("numwant")),
        },
        // Anything above u32::MAX is clamped by the engine's cap anyway.
        _ => parse_decimal(text).map(|n| u32::try_from(n).unwrap_or(u32::MAX)).ok_or(Refusal::NotANumber("numwant")),
    }
}

/// Plain ASCII decimal digits (no sign, no spaces) that fit a `u64`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let digit = u64::from(d.checked_sub(b'0').filter(|v| *v < 10)?);
        acc.checked_mul(10)?.checked_add(digit)
    })
}

fn is_zero(value: &[u8]) -> bool {
    value == b"0"
}

/// `key` is an opaque client value; hex values up to 8 digits are kept, others ignored.
fn decode_key(value: &[u8]) -> Option<u32> {
    let mut buf = [0u8; 8];
    let text = decode_small(value, &mut buf)?;
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u32, |acc, &c| Some(acc << 4 | u32::from(hex_value(c)?)))
}

/// `ip` may be an address or (BEP 3) a DNS name; only addresses are kept.
fn decode_ip(value: &[u8]) -> Option<IpAddr> {
    let mut buf = [0u8; 64];
    let text = decode_small(value, &mut buf)?;
    std::str::from_utf8(text).ok()?.parse().ok()
}
