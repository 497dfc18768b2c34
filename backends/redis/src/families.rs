//! [`TorrentManager::family_counts`](octotracker_core::TorrentManager::family_counts): the peer
//! sets already keep each family apart (Lua engine: one sorted set per family and role; module
//! engine: `OCTO.FAMILIES`), so the split is read, not computed, in one pipeline for both family
//! groups (the WebRTC group's peers are its IPv6 sets).

use octotracker_core::{FamilyCounts, InfoHash, PeerCounts, StorageError};
use redis::Value;

use crate::RedisTorrentManager;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, family_prefix, native_key};

impl RedisTorrentManager {
    pub(crate) async fn families_of(&self, hash: &InfoHash) -> Result<FamilyCounts, StorageError> {
        let mut pipe = redis::pipe();
        for webrtc in [false, true] {
            let prefix = family_prefix(&self.config.prefix, webrtc);
            if self.engine == Engine::Module {
                pipe.cmd("OCTO.FAMILIES").arg(native_key(&prefix, hash));
            } else {
                let keys = SwarmKeys::new(&prefix, hash, false).all();
                let [s4, l4, s6, l6, ..] = &keys[..] else { unreachable!("nine keys") };
                pipe.cmd("ZCARD").arg(s4).cmd("ZCARD").arg(l4).cmd("ZCARD").arg(s6).cmd("ZCARD").arg(l6);
            }
        }
        let mut conn = self.conn.clone();
        let values: Vec<Value> = self.bounded("counting peers per family", pipe.query_async(&mut conn)).await?;
        // [s4, l4, s6, l6] of the IP group, then of the WebRTC group.
        let numbers: Vec<u64> = values
            .iter()
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().map(number).collect(),
                other => vec![number(other)],
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad_reply("a family count"))?;
        let [s4, l4, s6, l6, _, _, rs, rl] = numbers[..] else { return Err(bad_reply("a family count")) };
        Ok(FamilyCounts {
            v4: PeerCounts { seeders: s4, leechers: l4 },
            v6: PeerCounts { seeders: s6, leechers: l6 },
            webrtc: PeerCounts { seeders: rs, leechers: rl },
        })
    }
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Nil => Some(0),
        _ => None,
    }
}
