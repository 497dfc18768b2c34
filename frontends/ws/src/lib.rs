//! # octotracker-ws
//!
//! The WebTorrent tracker protocol (JSON over WebSocket, as the npm `bittorrent-tracker` client
//! speaks it) on the same [`Tracker`](octotracker_core::Tracker) engine and the same stores as
//! HTTP and UDP.
//!
//! ```text
//!  upgrade request ──► WsService (tower Service: 101, then a task per connection)
//!                          │
//!  text frame ──► message::parse ──► Tracker::announce_webrtc ──► reply {complete, incomplete, interval}
//!                          │              peers of the WebRTC family (by peer id)
//!                          ▼
//!                 Peers::deliver: each offer to one chosen peer's socket (here, or through a
//!                 ClusterRelay to the process that holds it); answers to the offerer only
//! ```
//!
//! - [`WsService`]: the endpoint as a tower `Service` (mount it in axum next to
//!   `octotracker_http::TrackerService`); [`WsFrontend`]: the standalone server.
//! - WebRTC peers join the same swarms as HTTP and UDP peers (counts include them) in their own
//!   family ([`AddressFamily::WebRtc`](octotracker_core::AddressFamily)): they are never handed
//!   to IP peers, nor IP peers to them.
//! - A socket that closes leaves every swarm it announced in, as if it had sent `stopped`.
//! - Limits ([`WsConfig`]): message size, offers per announce, swarms per connection, messages
//!   per second, a bounded queue per peer (a slow reader is disconnected), a connection cap,
//!   ping and idle timeout, close frames on drain.
//! - [`Peers`] and [`ClusterRelay`]: where relayed messages go; a relay shares them between
//!   tracker processes (`RedisRelay`, feature `redis`: Redis pub/sub and a peer → process
//!   directory with expiry).

mod config;
mod connection;
pub mod message;
mod peers;
#[cfg(feature = "redis")]
mod redis_relay;
mod server;
mod service;

pub use config::WsConfig;
pub use peers::{ClusterRelay, PeerKey, Peers};
#[cfg(feature = "redis")]
pub use redis_relay::RedisRelay;
pub use server::WsFrontend;
pub use service::WsService;
