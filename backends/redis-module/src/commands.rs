//! The module's commands: argument checks, the swarm key, replies. Each is one atomic step on
//! one key (Redis runs module commands alone), replicated verbatim to replicas and the AOF
//! (every argument, the time and the random starts included, comes from the caller, so a
//! replica replaying the command ends with the same swarm).
//!
//! ```text
//! OCTO.ANNOUNCE key address peer-id numbers → [seeders, leechers, downloads, records…]
//! OCTO.SCRAPE   key                         → [seeders, leechers, downloads]
//! OCTO.FAMILIES key                         → [seeders, leechers] of IPv4, IPv6, WebRTC
//! OCTO.EXPIRE   key cutoff                  → [peers removed, 1 when the swarm went else 0]
//! OCTO.RESTORE  key blob                    → OK   (the AOF rewrite's form of a swarm)
//! ```
//!
//! One key holds every family of a swarm (IPv4, IPv6 and WebRTC peers: `family.rs`), so an
//! announce reads and writes that key only: counts and downloads cover every family, peer lists
//! never mix.
//!
//! `numbers` is the Lua script's third argument: `>BBI8I8I4I4I4I4I4` (event, seeder, now,
//! cutoff, want, key TTL in seconds, seconds between prune passes, two random starts).

use std::time::Duration;

use redis_module::{Context, RedisError, RedisResult, RedisString, RedisValue};

use crate::encoding;
use crate::family::{Family, PEER_ID};
use crate::ffi::SWARM_TYPE;
use crate::swarm::{Announce, AnnounceReply, Event, Swarm};

/// Bytes of the packed numbers.
const NUMBERS: usize = 38;

fn err(msg: impl Into<String>) -> RedisError {
    RedisError::String(format!("ERR octotracker: {}", msg.into()))
}

/// Redis's own reply for a key of another type (the crate words it its own way).
fn wrong_type(e: RedisError) -> RedisError {
    match e {
        RedisError::WrongType | RedisError::Str("Existing key has wrong Redis type") => {
            RedisError::Str("WRONGTYPE Operation against a key holding the wrong kind of value")
        }
        e => e,
    }
}

/// The announce's numbers, unpacked and checked.
struct Numbers {
    event: Event,
    seeder: bool,
    now: u64,
    cutoff: u64,
    want: u32,
    ttl: u32,
    every: u32,
    random: [u32; 2],
}

fn numbers(b: &[u8]) -> Result<Numbers, RedisError> {
    if b.len() != NUMBERS {
        return Err(err(format!("the numbers argument is {} bytes, not {NUMBERS}", b.len())));
    }
    let u64_at = |i: usize| u64::from_be_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    let event = Event::from_code(b[0]).ok_or_else(|| err(format!("unknown event code {}", b[0])))?;
    let seeder = match b[1] {
        0 => false,
        1 => true,
        x => return Err(err(format!("seeder flag {x} is neither 0 nor 1"))),
    };
    Ok(Numbers {
        event,
        seeder,
        now: u64_at(2),
        cutoff: u64_at(10),
        want: u32_at(18),
        ttl: u32_at(22),
        every: u32_at(26),
        random: [u32_at(30), u32_at(34)],
    })
}

/// The reply of an announce, as the Lua script returns it.
fn announce_value(reply: AnnounceReply) -> RedisValue {
    let mut out = Vec::with_capacity(3 + reply.stretches.len());
    out.extend(reply.counts.iter().map(|&c| RedisValue::Integer(i64::try_from(c).unwrap_or(i64::MAX))));
    out.extend(reply.stretches.into_iter().map(RedisValue::StringBuffer));
    RedisValue::Array(out)
}

fn counts_value(counts: [u64; 3]) -> RedisValue {
    RedisValue::Array(counts.iter().map(|&c| RedisValue::Integer(i64::try_from(c).unwrap_or(i64::MAX))).collect())
}

/// `OCTO.ANNOUNCE key address peer-id numbers`.
pub(crate) fn announce(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key, addr, peer_id, nums] = &args[..] else { return Err(RedisError::WrongArity) };
    let addr = addr.as_slice();
    if Family::of(addr).is_none() {
        return Err(err(format!("an address is 6 (IPv4) or 18 (IPv6) bytes, not {}", addr.len())));
    }
    let peer_id: &[u8; PEER_ID] =
        peer_id.as_slice().try_into().map_err(|_| err(format!("a peer id is {PEER_ID} bytes")))?;
    let n = numbers(nums.as_slice())?;
    let a = Announce {
        addr,
        peer_id,
        event: n.event,
        seeder: n.seeder,
        now: n.now,
        cutoff: n.cutoff,
        want: n.want,
        every: n.every,
        random: n.random,
    };
    let key = ctx.open_key_writable(key);
    let reply = match key.get_value::<Swarm>(&SWARM_TYPE).map_err(wrong_type)? {
        Some(swarm) => {
            let reply = swarm.announce(&a, true);
            if swarm.is_empty() {
                key.delete()?;
            } else if reply.pass {
                key.set_expire(Duration::from_secs(u64::from(n.ttl)))?;
            }
            reply
        }
        None => {
            let mut swarm = Swarm::default();
            let reply = swarm.announce(&a, false);
            if !swarm.is_empty() {
                key.set_value(&SWARM_TYPE, swarm)?;
                key.set_expire(Duration::from_secs(u64::from(n.ttl)))?;
            }
            reply
        }
    };
    ctx.replicate_verbatim();
    Ok(announce_value(reply))
}

/// `OCTO.SCRAPE key`.
pub(crate) fn scrape(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key] = &args[..] else { return Err(RedisError::WrongArity) };
    let key = ctx.open_key(key);
    let counts = key.get_value::<Swarm>(&SWARM_TYPE).map_err(wrong_type)?.map_or([0; 3], Swarm::stats);
    Ok(counts_value(counts))
}

/// `OCTO.FAMILIES key`: the scrape's counts per family (admin pages).
pub(crate) fn families(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key] = &args[..] else { return Err(RedisError::WrongArity) };
    let key = ctx.open_key(key);
    let counts = key.get_value::<Swarm>(&SWARM_TYPE).map_err(wrong_type)?.map_or([0; 6], Swarm::families);
    Ok(RedisValue::Array(counts.iter().map(|&n| RedisValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))).collect()))
}

/// `OCTO.EXPIRE key cutoff`.
pub(crate) fn expire(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key, cutoff] = &args[..] else { return Err(RedisError::WrongArity) };
    let cutoff = cutoff.parse_unsigned_integer().map_err(|_| err("the cutoff is not a whole number of seconds"))?;
    let key = ctx.open_key_writable(key);
    let Some(swarm) = key.get_value::<Swarm>(&SWARM_TYPE).map_err(wrong_type)? else {
        return Ok(RedisValue::Array(vec![RedisValue::Integer(0), RedisValue::Integer(0)]));
    };
    let (removed, empty) = swarm.expire(cutoff);
    if empty {
        key.delete()?;
    }
    if removed > 0 || empty {
        ctx.replicate_verbatim();
    }
    Ok(RedisValue::Array(vec![
        RedisValue::Integer(i64::try_from(removed).unwrap_or(i64::MAX)),
        RedisValue::Integer(i64::from(empty)),
    ]))
}

/// `OCTO.RESTORE key blob`: replaces the value of `key` (absent or a swarm) with the swarm
/// serialized in `blob`, keeping the key's time to live.
pub(crate) fn restore(ctx: &Context, args: Vec<RedisString>) -> RedisResult {
    let [_, key, blob] = &args[..] else { return Err(RedisError::WrongArity) };
    let swarm = encoding::decode(blob.as_slice()).map_err(err)?;
    let key = ctx.open_key_writable(key);
    key.get_value::<Swarm>(&SWARM_TYPE).map_err(wrong_type)?;
    if swarm.is_empty() {
        key.delete()?;
    } else {
        key.set_value(&SWARM_TYPE, swarm)?;
    }
    ctx.replicate_verbatim();
    Ok(RedisValue::SimpleStringStatic("OK"))
}
