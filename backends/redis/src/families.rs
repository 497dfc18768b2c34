//! [`TorrentManager::family_counts`](octotracker_core::TorrentManager::family_counts): each
//! engine already keeps every family's counts (Lua engine: the swarm hash's field "m"; module
//! engine: the swarm's six sets, `OCTO.FAMILIES`), so the split is read, not computed: one
//! command.

use octotracker_core::{FamilyCounts, InfoHash, PeerCounts, StorageError};
use redis::Value;

use crate::RedisTorrentManager;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, native_key};

impl RedisTorrentManager {
    pub(crate) async fn families_of(&self, hash: &InfoHash) -> Result<FamilyCounts, StorageError> {
        let mut conn = self.conn.clone();
        // [seeders, leechers] of IPv4, IPv6, WebRTC.
        let counts: [u64; 6] = if self.engine == Engine::Module {
            let cmd = redis::cmd("OCTO.FAMILIES").arg(native_key(&self.config.prefix, hash)).clone();
            let counts: Vec<u64> = self.bounded("counting peers per family", cmd.query_async(&mut conn)).await?;
            counts.try_into().map_err(|_| bad_reply("OCTO.FAMILIES"))?
        } else {
            let cmd = redis::cmd("HGET").arg(SwarmKeys::new(&self.config.prefix, hash).ids()).arg("m").clone();
            let m: Value = self.bounded("counting peers per family", cmd.query_async(&mut conn)).await?;
            counts_of_m(&m).ok_or_else(|| bad_reply("a family count"))?
        };
        let pair = |i: usize| PeerCounts { seeders: counts[2 * i], leechers: counts[2 * i + 1] };
        Ok(FamilyCounts { v4: pair(0), v6: pair(1), webrtc: pair(2) })
    }
}

/// The six set counts in field "m" (after 8 bytes of prune time and 8 of downloads, 4 bytes
/// each, big-endian: see `lua/records.lua`); zeros when there is none.
fn counts_of_m(v: &Value) -> Option<[u64; 6]> {
    match v {
        Value::BulkString(m) if m.len() == 40 => Some(std::array::from_fn(|i| {
            u64::from(u32::from_be_bytes([m[16 + 4 * i], m[17 + 4 * i], m[18 + 4 * i], m[19 + 4 * i]]))
        })),
        Value::Nil => Some([0; 6]),
        _ => None,
    }
}
