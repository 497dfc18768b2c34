//! [`RedisRelay`]: a [`ClusterRelay`] over Redis, so that tracker processes sharing a Redis
//! backend share their WebSocket peers (feature `redis`).
//!
//! ```text
//!  <prefix>:ws:{<hex info hash>}:<hex peer id>   string   the process holding that peer's socket,
//!                                                          set on each announce, EX ttl (a dead
//!                                                          process's entries vanish by themselves)
//!  <prefix>:ws:to:<process id>                   channel  messages for that process's peers:
//!                                                          20-byte hash, 20-byte peer id, then the JSON
//! ```
//!
//! An offer or answer for a peer not connected here: `GET` its entry, then `PUBLISH` to its
//! process's channel; that process writes it to the socket. The swarms themselves are the
//! backend's: a process that dies leaves its peers there until the peer timeout expires them.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use octotracker_core::{InfoHash, PeerId};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::{ClusterRelay, PeerKey, Peers};

/// Relays offers and answers between tracker processes through one Redis server.
pub struct RedisRelay {
    conn: ConnectionManager,
    prefix: String,
    me: String,
    ttl: u64,
}

impl std::fmt::Debug for RedisRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRelay").field("prefix", &self.prefix).field("process", &self.me).finish()
    }
}

impl RedisRelay {
    /// Connects to `url`, subscribes this process's channel, and returns the [`Peers`] to serve
    /// the WebSocket frontend with. Directory entries live `ttl` after a peer's last announce
    /// (longer than the longest interval handed to WebSocket peers).
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn start(url: &str, prefix: &str, ttl: Duration) -> redis::RedisResult<Arc<Peers>> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let me = format!("{:016x}", fastrand::u64(..));
        let channel = format!("{prefix}:ws:to:{me}");
        let relay = Arc::new(RedisRelay { conn, prefix: prefix.to_owned(), me, ttl: ttl.as_secs().max(1) });
        let peers = Arc::new(Peers::new(Some(relay as Arc<dyn ClusterRelay>)));
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let local = Arc::downgrade(&peers);
        tokio::spawn(async move {
            let mut messages = pubsub.into_on_message();
            loop {
                match messages.next().await {
                    Some(msg) => {
                        let Some(peers) = local.upgrade() else { return };
                        deliver(&peers, msg.get_payload_bytes());
                    }
                    None => {
                        // The subscription's connection is gone: subscribe again.
                        tracing::warn!("the WebSocket relay lost its Redis subscription; reconnecting");
                        messages = loop {
                            if local.strong_count() == 0 {
                                return;
                            }
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            if let Ok(mut p) = client.get_async_pubsub().await
                                && p.subscribe(&channel).await.is_ok()
                            {
                                break p.into_on_message();
                            }
                        };
                    }
                }
            }
        });
        Ok(peers)
    }

    fn key(&self, (hash, peer): PeerKey) -> String {
        format!("{}:ws:{{{hash}}}:{peer}", self.prefix)
    }
}

/// Hands a message from another process to the socket it is for.
fn deliver(peers: &Peers, payload: &[u8]) {
    if payload.len() < 40 {
        return;
    }
    let (hash, rest) = payload.split_at(20);
    let (peer, text) = rest.split_at(20);
    let (Ok(hash), Ok(peer)) = (<[u8; 20]>::try_from(hash), <[u8; 20]>::try_from(peer)) else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    peers.deliver_local((InfoHash(hash), PeerId(peer)), Utf8Bytes::from(text));
}

impl ClusterRelay for RedisRelay {
    fn joined(&self, peer: PeerKey) {
        let (mut conn, key, me, ttl) = (self.conn.clone(), self.key(peer), self.me.clone(), self.ttl);
        tokio::spawn(async move {
            let _: redis::RedisResult<()> = conn.set_ex(key, me, ttl).await;
        });
    }

    fn left(&self, peer: PeerKey) {
        let (mut conn, key, me) = (self.conn.clone(), self.key(peer), self.me.clone());
        tokio::spawn(async move {
            // Only this process's entry: the peer may have moved to another process meanwhile.
            let script =
                redis::Script::new("if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end");
            let _: redis::RedisResult<()> = script.key(key).arg(me).invoke_async(&mut conn).await;
        });
    }

    fn deliver(&self, peer: PeerKey, message: Utf8Bytes) {
        let (mut conn, key, prefix, me) = (self.conn.clone(), self.key(peer), self.prefix.clone(), self.me.clone());
        tokio::spawn(async move {
            let Ok(Some(process)) = conn.get::<_, Option<String>>(key).await else { return };
            if process == me {
                return;
            }
            let mut payload = Vec::with_capacity(40 + message.len());
            payload.extend_from_slice(&peer.0.0);
            payload.extend_from_slice(&peer.1.0);
            payload.extend_from_slice(message.as_bytes());
            let _: redis::RedisResult<()> = conn.publish(format!("{prefix}:ws:to:{process}"), payload).await;
        });
    }
}
