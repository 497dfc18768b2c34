//! [`TorrentManager::announce`](octotracker_core::TorrentManager::announce): one `EVALSHA` of
//! `lua/records.lua` + `lua/announce.lua`, one round trip.

use octotracker_core::{Event, PeerAnnounce, StorageError, SwarmReply, SwarmStats};

use redis::{Cmd, ErrorKind, ServerErrorKind};

use crate::RedisTorrentManager;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, compact, parse_peers};

/// Longest time, in seconds, between two lazy prune passes of one swarm: an announce prunes its
/// swarm and refreshes the TTL of its keys (to the peer timeout plus this) when the last pass is
/// older ([`TorrentManager::expire`] removes everything stale anyway).
///
/// [`TorrentManager::expire`]: octotracker_core::TorrentManager::expire
const LAZY_PRUNE_EVERY: u64 = 60;

/// The event as the script's one-letter argument.
fn event_code(event: Event) -> &'static str {
    match event {
        Event::None => "n",
        Event::Started => "s",
        Event::Completed => "c",
        Event::Stopped => "x",
    }
}

impl RedisTorrentManager {
    pub(crate) async fn announce_once(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        let v6 = a.addr.is_ipv6();
        let timeout = self.config.peer_timeout.as_secs().max(1);
        let every = (timeout / 4).clamp(1, LAZY_PRUNE_EVERY);
        // `EVALSHA sha 9 keys… args…` built in place: one buffer for every key and argument.
        let script = &self.scripts.announce;
        let mut cmd = Cmd::with_capacity(3 + 9 + 11, 9 * (self.config.prefix.len() + 52) + 160);
        cmd.arg("EVALSHA").arg(script.get_hash()).arg(9);
        SwarmKeys::new(&self.config.prefix, &a.info_hash, v6).each(|key| {
            cmd.arg(key);
        });
        cmd.arg(&compact(&a.addr)[..])
            .arg(&a.peer_id.0[..])
            .arg(event_code(a.event))
            .arg(u8::from(a.seeder))
            .arg(a.now.0)
            .arg(a.now.0.saturating_sub(timeout))
            .arg(want.min(u32::MAX as usize))
            .arg(timeout + every)
            .arg(every)
            .arg(fastrand::u32(..))
            .arg(fastrand::u32(..));
        let mut conn = self.conn.clone();
        let run = async {
            match cmd.query_async(&mut conn).await {
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    // A server that has not seen the script yet (new, restarted or flushed).
                    script.load_async(&mut conn).await?;
                    cmd.query_async(&mut conn).await
                }
                reply => reply,
            }
        };
        let (complete, incomplete, downloaded, blob): (u32, u32, u64, Vec<u8>) = self.bounded("announce", run).await?;
        let peers = parse_peers(&blob, v6).ok_or_else(|| bad_reply("the announce script"))?;
        Ok(SwarmReply { peers, stats: SwarmStats { complete, incomplete, downloaded } })
    }
}
