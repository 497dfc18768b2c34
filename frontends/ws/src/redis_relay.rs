//! [`RedisRelay`]: a [`ClusterRelay`] over Redis, so that tracker processes sharing a Redis
//! backend (one server, or a Redis Cluster) share their WebSocket peers (feature `redis`).
//!
//! ```text
//!  <prefix>:ws:{<hex info hash>}:<hex peer id>   string   the process holding that peer's socket,
//!                                                          set on each announce, EX ttl (a dead
//!                                                          process's entries vanish by themselves)
//!  <prefix>:ws:to:<process id>                   channel  messages for that process's peers:
//!                                                          20-byte hash, 20-byte peer id, then the JSON
//! ```
//!
//! An offer or answer for a peer not connected here: `GET` its entry, then publish to its
//! process's channel; that process writes it to the socket. On one server the channel is a plain
//! one (`PUBLISH`/`SUBSCRIBE`); on a Redis Cluster it is a sharded channel (`SPUBLISH`/
//! `SSUBSCRIBE`, Redis 7): a message goes to the one shard that owns the channel's slot, not to
//! every node, and the cluster client subscribes again on the right node after a failover or a
//! slot move. The directory entries live in their swarm's slot (`{<hash>}`) like the swarm. The
//! swarms themselves are the backend's: a process that dies leaves its peers there until the
//! peer timeout expires them.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use octotracker_core::{InfoHash, PeerId};
use redis::aio::ConnectionManager;
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, ProtocolVersion, PushKind, RedisResult, Script, Value};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::{ClusterRelay, PeerKey, Peers};

/// Deletes a directory entry only if it is still this process's (the peer may have moved).
const DELETE_IF_MINE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end";

/// Relays offers and answers between tracker processes through one Redis server or a Redis
/// Cluster.
pub struct RedisRelay {
    conn: Conn,
    prefix: String,
    me: String,
    ttl: u64,
}

/// The connection commands go through: one server, or a cluster (commands routed by slot).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    async fn query<T: FromRedisValue>(&mut self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Conn::Single(c) => cmd.query_async(c).await,
            Conn::Cluster(c) => cmd.query_async(c).await,
        }
    }

    async fn delete_if(&mut self, key: String, value: String) -> RedisResult<()> {
        let script = Script::new(DELETE_IF_MINE);
        let mut call = script.key(key);
        call.arg(value);
        match self {
            Conn::Single(c) => call.invoke_async(c).await,
            Conn::Cluster(c) => call.invoke_async(c).await,
        }
    }

    /// The publish command of this kind of Redis: sharded on a cluster.
    fn publish(&self, channel: String, payload: Vec<u8>) -> Cmd {
        let name = match self {
            Conn::Single(_) => "PUBLISH",
            Conn::Cluster(_) => "SPUBLISH",
        };
        let mut cmd = redis::cmd(name);
        cmd.arg(channel).arg(payload);
        cmd
    }
}

impl std::fmt::Debug for RedisRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.conn {
            Conn::Single(_) => "server",
            Conn::Cluster(_) => "cluster",
        };
        f.debug_struct("RedisRelay")
            .field("prefix", &self.prefix)
            .field("process", &self.me)
            .field("redis", &kind)
            .finish()
    }
}

impl RedisRelay {
    /// Connects to the Redis server at `url`, subscribes this process's channel, and returns the
    /// [`Peers`] to serve the WebSocket frontend with. Directory entries live `ttl` after a
    /// peer's last announce (longer than the longest interval handed to WebSocket peers).
    ///
    /// # Errors
    ///
    /// When Redis cannot be reached.
    pub async fn start(url: &str, prefix: &str, ttl: Duration) -> RedisResult<Arc<Peers>> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let (relay, channel) = Self::new(Conn::Single(conn), prefix, ttl);
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

    /// Like [`start`](Self::start), on a Redis Cluster (Redis 7 or later) given the URLs of
    /// some of its nodes: this process's channel is a sharded one, subscribed with RESP3 on the
    /// node that owns its slot (and again on another after a failover or a slot move).
    ///
    /// # Errors
    ///
    /// When no node can be reached, or the cluster does not know sharded pub/sub.
    pub async fn start_cluster(urls: &[String], prefix: &str, ttl: Duration) -> RedisResult<Arc<Peers>> {
        let (tx, mut pushes) = tokio::sync::mpsc::unbounded_channel();
        let client = ClusterClientBuilder::new(urls.iter().map(String::as_str))
            .use_protocol(ProtocolVersion::RESP3)
            .push_sender(tx)
            .build()?;
        let mut conn = client.get_async_connection().await?;
        let (relay, channel) = Self::new(Conn::Cluster(conn.clone()), prefix, ttl);
        conn.ssubscribe(&channel).await?;
        let peers = Arc::new(Peers::new(Some(relay as Arc<dyn ClusterRelay>)));
        let local: Weak<Peers> = Arc::downgrade(&peers);
        tokio::spawn(async move {
            // Ends when the relay (which holds the connection, and so the push sender) is gone.
            while let Some(push) = pushes.recv().await {
                if push.kind != PushKind::SMessage {
                    continue;
                }
                let Some(peers) = local.upgrade() else { return };
                if let Some(Value::BulkString(payload)) = push.data.get(1) {
                    deliver(&peers, payload);
                }
            }
        });
        Ok(peers)
    }

    /// The relay and this process's channel.
    fn new(conn: Conn, prefix: &str, ttl: Duration) -> (Arc<Self>, String) {
        let me = format!("{:016x}", fastrand::u64(..));
        let channel = format!("{prefix}:ws:to:{me}");
        (Arc::new(RedisRelay { conn, prefix: prefix.to_owned(), me, ttl: ttl.as_secs().max(1) }), channel)
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
            let _: RedisResult<()> = conn.query(redis::cmd("SET").arg(key).arg(me).arg("EX").arg(ttl)).await;
        });
    }

    fn left(&self, peer: PeerKey) {
        let (mut conn, key, me) = (self.conn.clone(), self.key(peer), self.me.clone());
        tokio::spawn(async move {
            let _ = conn.delete_if(key, me).await;
        });
    }

    fn deliver(&self, peer: PeerKey, message: Utf8Bytes) {
        let (mut conn, key, prefix, me) = (self.conn.clone(), self.key(peer), self.prefix.clone(), self.me.clone());
        tokio::spawn(async move {
            let Ok(Some(process)) = conn.query::<Option<String>>(redis::cmd("GET").arg(key)).await else { return };
            if process == me {
                return;
            }
            let mut payload = Vec::with_capacity(40 + message.len());
            payload.extend_from_slice(&peer.0.0);
            payload.extend_from_slice(&peer.1.0);
            payload.extend_from_slice(message.as_bytes());
            let publish = conn.publish(format!("{prefix}:ws:to:{process}"), payload);
            let _: RedisResult<()> = conn.query(&publish).await;
        });
    }
}
