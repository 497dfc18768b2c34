//! [`WsConfig`]: the WebSocket frontend's limits.

use std::time::Duration;

/// Limits and timings of the WebSocket frontend. Every field bounds what one peer (or all of
/// them) can make the tracker hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsConfig {
    /// Longest `interval` handed out, in seconds (120 by default): WebRTC peers find each other
    /// only through the offers of announces, so they announce more often than HTTP peers. The
    /// interval algorithm's value is used when shorter.
    pub max_interval: u32,
    /// Largest message (and frame) accepted, in bytes; a larger one closes the connection
    /// (1009, message too big).
    pub max_message_bytes: usize,
    /// Offers relayed per announce at most; more are dropped.
    pub max_offers: usize,
    /// Swarms one connection may announce in; an announce in one more is refused.
    pub max_swarms_per_connection: usize,
    /// Messages a connection may send in a burst, and per second after that ([`rate`](Self::rate)):
    /// a connection over the limit is closed (1008, policy violation).
    pub burst: u32,
    /// Messages per second a connection may send, after its burst.
    pub rate: u32,
    /// Messages waiting to be written to one connection (relayed offers and answers): a peer
    /// that reads slower than this fills is disconnected, never buffered without bound.
    pub outbound_queue: usize,
    /// How long a write to a peer may take before the peer is disconnected as a slow reader.
    pub write_timeout: Duration,
    /// Open connections at most; an upgrade beyond is answered 503.
    pub max_connections: usize,
    /// A ping is sent after this long without a frame from the peer.
    pub ping_after: Duration,
    /// A connection without any frame from the peer (a pong included) for this long is closed.
    pub idle_timeout: Duration,
    /// How long an HTTP request may take to arrive before its connection is dropped (a
    /// never-completed upgrade).
    pub header_timeout: Duration,
    /// Paths the upgrade is accepted on (a private tracker also takes `/<passkey>/announce`).
    pub announce_path: String,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_interval: 120,
            max_message_bytes: 64 * 1024,
            max_offers: 10,
            max_swarms_per_connection: 64,
            burst: 40,
            rate: 10,
            outbound_queue: 64,
            write_timeout: Duration::from_secs(10),
            max_connections: 100_000,
            ping_after: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(150),
            header_timeout: Duration::from_secs(10),
            announce_path: "/announce".to_owned(),
        }
    }
}
