//! Stateless connection ids (BEP 15): a keyed hash of the client's address and a coarse clock,
//! so the tracker keeps no per-client state and a spoofed source cannot fill its memory.
//!
//! An id is made for the current minute and accepted during that minute and the next one (one
//! to two minutes of validity). The key is random per process and rotates every ten minutes;
//! ids made with the previous key stay valid until they would expire anyway.

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
        let step = now.0 / STEP;
        mac(&self.keys(step).current, addr, step)
    }

    /// Whether `id` was made for `addr` within the last one to two minutes.
    pub fn check(&self, id: u64, addr: &SocketAddr, now: UnixTime) -> bool {
        let step = now.0 / STEP;
        let keys = self.keys(step);
        [step, step.saturating_sub(1)]
            .iter()
            .any(|&s| mac(&keys.current, addr, s) == id || mac(&keys.previous, addr, s) == id)
    }
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
    }
}
