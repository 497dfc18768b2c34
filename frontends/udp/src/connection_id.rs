//! Stateless connection ids (BEP 15): a keyed hash of the client's address and a coarse clock,
//! so the tracker keeps no per-client state and a spoofed source cannot fill its memory.
//!
//! An id is made for the current minute and accepted during that minute and the next one (one
//! to two minutes of validity). The key is random per process and rotates every ten minutes;
//! ids made with the previous key stay valid until they would expire anyway. The id's lowest
//! bit is the parity of the minute it was made in (the other 63 bits are the hash), so checking
//! an id computes one hash, not one per minute and key it might come from.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use octotracker_core::UnixTime;

/// Seconds per coarse time step.
const STEP: u64 = 60;
/// Steps between key rotations.
const ROTATE_EVERY: u64 = 10;

/// The keys of one rotation period.
#[derive(Debug)]
struct Keys {
    rotation: u64,
    current: RandomState,
    previous: RandomState,
}

/// Makes and checks connection ids. Reading the keys takes no lock (arc-swap); a rotation
/// replaces them as a whole.
#[derive(Debug)]
pub struct ConnectionIds {
    keys: ArcSwap<Keys>,
}

impl Default for ConnectionIds {
    fn default() -> Self {
        let keys = Keys { rotation: 0, current: RandomState::new(), previous: RandomState::new() };
        ConnectionIds { keys: ArcSwap::from_pointee(keys) }
    }
}

fn mac(key: &RandomState, addr: &SocketAddr, step: u64) -> u64 {
    let mut h = key.build_hasher();
    match addr {
        SocketAddr::V4(a) => h.write(&a.ip().octets()),
        SocketAddr::V6(a) => h.write(&a.ip().octets()),
    }
    h.write_u16(addr.port());
    h.write_u64(step);
    h.finish()
}

impl ConnectionIds {
    /// The keys for `step`, rotated first when a new rotation period began (two workers may
    /// both rotate at the boundary; the last one wins and ids of the loser's key are refused:
    /// the client connects again, as BEP 15 clients do).
    fn keys(&self, step: u64) -> arc_swap::Guard<Arc<Keys>> {
        let rotation = step / ROTATE_EVERY;
        let keys = self.keys.load();
        if keys.rotation >= rotation {
            return keys;
        }
        let previous = if keys.rotation + 1 == rotation { keys.current.clone() } else { RandomState::new() };
        self.keys.store(Arc::new(Keys { rotation, current: RandomState::new(), previous }));
        self.keys.load()
    }

    /// The id for `addr` at `now`.
    pub fn make(&self, addr: &SocketAddr, now: UnixTime) -> u64 {
        self.at(now).make(addr)
    }

    /// Whether `id` was made for `addr` within the last one to two minutes.
    pub fn check(&self, id: u64, addr: &SocketAddr, now: UnixTime) -> bool {
        self.at(now).check(id, addr)
    }

    /// The keys in force at `now`, to make and check the ids of a batch of datagrams received
    /// together with one look at the shared keys.
    pub fn at(&self, now: UnixTime) -> KeysAt {
        let step = now.0 / STEP;
        KeysAt { keys: arc_swap::Guard::into_inner(self.keys(step)), step }
    }
}

/// The keys in force at one time ([`ConnectionIds::at`]).
#[derive(Debug, Clone)]
pub struct KeysAt {
    keys: Arc<Keys>,
    step: u64,
}

impl KeysAt {
    /// The id for `addr`.
    pub fn make(&self, addr: &SocketAddr) -> u64 {
        tagged(mac(&self.keys.current, addr, self.step), self.step)
    }

    /// Whether `id` was made for `addr` within the last one to two minutes.
    pub fn check(&self, id: u64, addr: &SocketAddr) -> bool {
        let (keys, step) = (&self.keys, self.step);
        // The minute the id says it was made in: this one or the one before.
        let made = if id & 1 == step & 1 { step } else { step.wrapping_sub(1) };
        let key = match keys.rotation.checked_sub(made / ROTATE_EVERY) {
            Some(0) => &keys.current,
            Some(1) => &keys.previous,
            _ => return false,
        };
        made <= step && tagged(mac(key, addr, made), made) == id
    }
}

/// `hash` with its lowest bit replaced by the parity of `step`.
fn tagged(hash: u64, step: u64) -> u64 {
    (hash & !1) | (step & 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_one_to_two_minutes_for_their_address_only() {
        let ids = ConnectionIds::default();
        let a: SocketAddr = "10.0.0.1:6881".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:6882".parse().unwrap();
        let t = UnixTime(1_000_020);
        let id = ids.make(&a, t);
        assert!(ids.check(id, &a, t));
        assert!(!ids.check(id, &b, t), "another port");
        assert!(!ids.check(id.wrapping_add(1), &a, t));
        assert!(ids.check(id, &a, UnixTime(t.0 + 60)), "the next minute");
        assert!(!ids.check(id, &a, UnixTime(t.0 + 120)), "two minutes on");
        assert!(!ids.check(id, &a, UnixTime(t.0 - 60)), "not before it was made");
    }

    #[test]
    fn ids_survive_one_key_rotation() {
        let ids = ConnectionIds::default();
        let a: SocketAddr = "[2001:db8::1]:6881".parse().unwrap();
        // 59 s before a rotation boundary (every 600 s).
        let t = UnixTime(600 * 1_000 - 59);
        let id = ids.make(&a, t);
        let after = UnixTime(600 * 1_000 + 1);
        assert!(ids.check(id, &a, after), "made with the previous key, still in its validity");
        assert_ne!(ids.make(&a, after), ids.make(&a, UnixTime(600 * 1_000 - 1)), "a new key");
        assert!(!ids.check(id, &a, UnixTime(600 * 1_000 + 61)), "two minutes on");
    }

    #[test]
    fn an_id_with_its_minute_bit_flipped_is_refused() {
        let ids = ConnectionIds::default();
        let a: SocketAddr = "10.0.0.1:6881".parse().unwrap();
        let t = UnixTime(1_000_020);
        let id = ids.make(&a, t);
        assert_eq!(id & 1, (t.0 / 60) & 1, "the lowest bit is the minute's parity");
        assert!(!ids.check(id ^ 1, &a, t), "claims the previous minute: another hash");
        assert!(!ids.check(id ^ 1, &a, UnixTime(t.0 + 60)));
        assert!(!ids.check(0, &a, UnixTime(0)), "minute 0, no earlier minute");
    }
}
