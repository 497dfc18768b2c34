//! [`TorrentManager::announce`](octotracker_core::TorrentManager::announce): one round trip, one
//! `OCTO.ANNOUNCE` (module engine) or one `EVALSHA` of `lua/records.lua` + `lua/announce.lua`
//! (Lua engine), with the same arguments and the same reply.
//!
//! Either reaches the whole swarm (every family, WebRTC peers included): the module's one key,
//! the script's eight, all under one hash tag (one slot).

use octotracker_core::{Event, PeerAnnounce, StorageError, SwarmReply, SwarmStats};

use redis::{Cmd, ErrorKind, ServerErrorKind, Value};

use crate::RedisTorrentManager;
use crate::engine::Engine;
use crate::error::bad_reply;
use crate::keys::{SwarmKeys, compact, native_key, parse_peers};

/// Longest time, in seconds, between two lazy prune passes of one swarm: an announce prunes its
/// swarm and refreshes the TTL of its keys (to the peer timeout plus this) when the last pass is
/// older ([`TorrentManager::expire`] removes everything stale anyway).
///
/// [`TorrentManager::expire`]: octotracker_core::TorrentManager::expire
const LAZY_PRUNE_EVERY: u64 = 60;

/// The event as the script takes it.
fn event_code(event: Event) -> u8 {
    match event {
        Event::None => 0,
        Event::Started => 1,
        Event::Completed => 2,
        Event::Stopped => 3,
    }
}

/// The script's numeric arguments as one: `>BBI8I8I4I4I4I4I4` in Lua's `struct` notation (see
/// `lua/announce.lua`). Each argument costs the script a Lua string; numbers unpacked from one
/// string cost none.
#[allow(clippy::too_many_arguments)]
fn pack_numbers(
    event: Event,
    seeder: bool,
    now: u64,
    cutoff: u64,
    want: u32,
    ttl: u32,
    every: u32,
    random: [u32; 2],
) -> [u8; 38] {
    let mut b = [0; 38];
    b[0] = event_code(event);
    b[1] = u8::from(seeder);
    b[2..10].copy_from_slice(&now.to_be_bytes());
    b[10..18].copy_from_slice(&cutoff.to_be_bytes());
    for (i, x) in [want, ttl, every, random[0], random[1]].into_iter().enumerate() {
        b[18 + 4 * i..22 + 4 * i].copy_from_slice(&x.to_be_bytes());
    }
    b
}

impl RedisTorrentManager {
    pub(crate) async fn announce_once(&self, a: &PeerAnnounce, want: usize) -> Result<SwarmReply, StorageError> {
        let reply = self.announce_raw(a, want, [fastrand::u32(..), fastrand::u32(..)]).await?;
        let v6 = a.addr.is_ipv6();
        // {complete, incomplete, downloaded, records…}: the records in one or more strings.
        let bad = || bad_reply("the announce script");
        let [complete, incomplete, downloaded, records @ ..] = &reply[..] else { return Err(bad()) };
        let int = |v: &Value| match v {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        };
        let count = |v: &Value| int(v).and_then(|x| u32::try_from(x).ok()).ok_or_else(bad);
        let stats = SwarmStats {
            complete: count(complete)?,
            incomplete: count(incomplete)?,
            downloaded: int(downloaded).ok_or_else(bad)?,
        };
        let mut peers = Vec::with_capacity(want.min(200));
        for r in records {
            let Value::BulkString(r) = r else { return Err(bad()) };
            parse_peers(r, v6, &mut peers).ok_or_else(bad)?;
        }
        Ok(SwarmReply { peers, stats })
    }

    /// One announce with the random starts of the windows of seeders and leechers given, and
    /// its reply as Redis sent it (`[seeders, leechers, downloads, records…]`): the same bytes
    /// from either engine. For the replay test that compares the engines, and for debugging;
    /// [`TorrentManager::announce`](octotracker_core::TorrentManager::announce) is this with
    /// random starts, parsed.
    ///
    /// # Errors
    ///
    /// As for an announce.
    pub async fn announce_raw(
        &self,
        a: &PeerAnnounce,
        want: usize,
        random: [u32; 2],
    ) -> Result<Vec<Value>, StorageError> {
        let timeout = self.config.peer_timeout.as_secs().max(1);
        let every = (timeout / 4).clamp(1, LAZY_PRUNE_EVERY);
        let numbers = pack_numbers(
            a.event,
            a.seeder,
            a.now.0,
            a.now.0.saturating_sub(timeout),
            u32::try_from(want).unwrap_or(u32::MAX),
            u32::try_from(timeout + every).unwrap_or(u32::MAX),
            u32::try_from(every).unwrap_or(u32::MAX),
            random,
        );
        let addr = compact(&a.addr);
        match self.engine {
            Engine::Module => {
                // `OCTO.ANNOUNCE key address peer-id numbers`: the script's arguments.
                let mut cmd = Cmd::with_capacity(5, self.config.prefix.len() + 56 + 80);
                cmd.arg("OCTO.ANNOUNCE").arg(native_key(&self.config.prefix, &a.info_hash));
                cmd.arg(&addr[..]).arg(&a.peer_id.0[..]).arg(&numbers[..]);
                let mut conn = self.conn.clone();
                self.bounded("announce", cmd.query_async(&mut conn)).await
            }
            Engine::Lua => self.announce_script(a, &addr, &numbers).await,
        }
    }

    /// `EVALSHA` of the announce script (loading it first on a server that lacks it).
    async fn announce_script(&self, a: &PeerAnnounce, addr: &[u8], numbers: &[u8]) -> Result<Vec<Value>, StorageError> {
        // `EVALSHA sha 8 keys… args…` built in place: one buffer for every key and argument.
        let script = &self.scripts.announce;
        let mut cmd = Cmd::with_capacity(3 + 8 + 3, 8 * (self.config.prefix.len() + 56) + 120);
        cmd.arg("EVALSHA").arg(script.get_hash()).arg(8);
        SwarmKeys::new(&self.config.prefix, &a.info_hash).each(|key| {
            cmd.arg(key);
        });
        cmd.arg(addr).arg(&a.peer_id.0[..]).arg(numbers);
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
        self.bounded("announce", run).await
    }
}
