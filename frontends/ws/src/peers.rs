//! [`Peers`]: which WebRTC peer is connected to which socket of this process, so that offers and
//! answers reach it; and, in a cluster, the [`ClusterRelay`] for peers connected elsewhere.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use octotracker_core::{InfoHash, PeerId};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Shards of the map: announces of different swarms rarely wait on one lock.
const SHARDS: usize = 64;

/// A peer's place: the swarm and its peer id.
pub type PeerKey = (InfoHash, PeerId);

/// Carries relayed messages to and from other tracker processes sharing the swarms (see
/// `octotracker-ws`'s cluster notes). The frontend tells it which peers it holds; it delivers
/// the messages for peers it does not hold.
pub trait ClusterRelay: Send + Sync + 'static {
    /// A peer of this process announced in a swarm (refreshes its directory entry).
    fn joined(&self, peer: PeerKey);
    /// A peer of this process left a swarm (stopped, or its socket closed).
    fn left(&self, peer: PeerKey);
    /// Sends `message` to `peer`, connected to another process (or nowhere: then it is dropped).
    fn deliver(&self, peer: PeerKey, message: Utf8Bytes);
}

/// A connected peer's mailbox: where messages for its socket are left.
#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    /// The connection's number (a peer id may move to another socket).
    pub conn: u64,
    /// Messages to write to the socket.
    pub outbox: Arc<Outbox>,
}

/// Messages waiting for one connection's socket (relayed offers and answers), at most
/// `capacity`. A queue that allocates nothing until a message comes (a channel's first block
/// would cost every idle peer a kilobyte).
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: Mutex<VecDeque<Utf8Bytes>>,
    capacity: usize,
    /// Wakes the connection: a message came, or one found the queue full.
    ready: Notify,
    /// A message found the queue full: the peer reads too slowly and is disconnected.
    overflowed: AtomicBool,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Outbox { queue: Mutex::default(), capacity, ready: Notify::new(), overflowed: AtomicBool::new(false) }
    }

    /// Leaves `message` for the connection, or marks the queue overflowed when it is full (the
    /// message is lost, as it would be had the peer gone).
    fn push(&self, message: Utf8Bytes) {
        let mut queue = self.queue.lock();
        if queue.len() < self.capacity {
            queue.push_back(message);
        } else {
            self.overflowed.store(true, Ordering::Relaxed);
        }
        drop(queue);
        self.ready.notify_one();
    }

    /// The oldest message waiting.
    pub(crate) fn pop(&self) -> Option<Utf8Bytes> {
        self.queue.lock().pop_front()
    }

    /// Whether a message found the queue full.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }

    /// Resolves once something was pushed (or overflowed) since the last wait.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }
}

/// The peers connected to this process, by swarm and peer id.
pub struct Peers {
    shards: Box<[Mutex<HashMap<PeerKey, Mailbox, foldhash::fast::RandomState>>]>,
    hasher: foldhash::fast::RandomState,
    cluster: Option<Arc<dyn ClusterRelay>>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("connected", &self.len()).field("cluster", &self.cluster.is_some()).finish()
    }
}

impl Peers {
    /// An empty registry; `cluster` carries messages for peers of other processes.
    pub fn new(cluster: Option<Arc<dyn ClusterRelay>>) -> Self {
        Peers {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: foldhash::fast::RandomState::default(),
            cluster,
        }
    }

    fn shard(&self, key: &PeerKey) -> &Mutex<HashMap<PeerKey, Mailbox, foldhash::fast::RandomState>> {
        &self.shards[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// How many (swarm, peer) places are connected here.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether no peer is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `key` is now reached through `mailbox`.
    pub(crate) fn insert(&self, key: PeerKey, mailbox: &Mailbox) {
        {
            let mut shard = self.shard(&key).lock();
            // A re-announce on the same socket (the common case) changes nothing here.
            if shard.get(&key).is_none_or(|held| held.conn != mailbox.conn) {
                shard.insert(key, mailbox.clone());
            }
        }
        if let Some(cluster) = &self.cluster {
            cluster.joined(key);
        }
    }

    /// `key` left, if connection `conn` still holds it.
    pub(crate) fn remove(&self, key: PeerKey, conn: u64) {
        let mut shard = self.shard(&key).lock();
        if shard.get(&key).is_some_and(|m| m.conn == conn) {
            shard.remove(&key);
            drop(shard);
            if let Some(cluster) = &self.cluster {
                cluster.left(key);
            }
        }
    }

    /// Sends `message` to `key`: to its socket when it is connected here, else through the
    /// cluster. A peer whose queue is full is disconnected (a slow reader); the message is lost,
    /// as it would be had the peer gone.
    pub fn deliver(&self, key: PeerKey, message: Utf8Bytes) {
        match &self.cluster {
            Some(cluster) if !self.deliver_local(key, message.clone()) => cluster.deliver(key, message),
            Some(_) => {}
            None => {
                self.deliver_local(key, message);
            }
        }
    }

    /// Sends `message` to `key` only if it is connected to this process (for messages that came
    /// from the cluster); returns whether it is.
    pub fn deliver_local(&self, key: PeerKey, message: Utf8Bytes) -> bool {
        // Pushing never waits: done under the shard's lock, without cloning the mailbox.
        let shard = self.shard(&key).lock();
        let Some(m) = shard.get(&key) else { return false };
        m.outbox.push(message);
        true
    }

    /// Every place held here (for a cluster relay refreshing its directory).
    pub fn keys(&self) -> Vec<PeerKey> {
        self.shards.iter().flat_map(|s| s.lock().keys().copied().collect::<Vec<_>>()).collect()
    }
}
