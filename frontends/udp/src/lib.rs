//! # octotracker-udp
//!
//! The UDP tracker protocol (BEP 15, with BEP 41 URL data) for an octotracker
//! [`Tracker`](octotracker_core::Tracker): most public tracker traffic.
//!
//! - [`UdpFrontend`]: a [`Frontend`](octotracker_core::Frontend) on one socket (IPv4 or IPv6),
//!   served by several receive workers; no global lock on the path, no per-client state. Each
//!   worker moves up to 32 datagrams per system call (`recvmmsg`/`sendmmsg` on Linux,
//!   [`UdpConfig::batch`]) through buffers it allocates once; with [`UdpConfig::reuse_port`]
//!   each worker reads a socket of its own.
//! - [`bind_socket`]: binds a socket as the config asks (IPv6-only for IPv6, `SO_REUSEPORT`,
//!   [`UdpConfig::recv_buffer`]).
//! - [`ConnectionIds`]: stateless connection ids, a keyed hash of the client's address and a
//!   coarse clock, valid one to two minutes, with a key that rotates every ten minutes.
//! - [`UdpConfig::rate_limit`]: the core's per-address token buckets, as over HTTP. Announces
//!   and scrapes over the limit get the error packet `rate limit exceeded: at most N requests
//!   per second from one address` (counted as `octotracker_failures_total{reason="rate_limited"}`);
//!   connects over it are dropped without a reply: their reply is no larger than the request
//!   (no amplification), and an error packet would be. Off by default.
//!
//! Packets are parsed and written by `octotracker_core::udp_wire`; every rule (numwant, access
//! control, passkeys from BEP 41 URL data) is the engine's. Malformed packets get an error
//! packet when they carry a transaction id, and are dropped otherwise; they are counted in
//! metrics (`octotracker_failures_total{reason="udp_malformed"}`) and never panic.
//!
//! ```no_run
//! # async fn demo(tracker: std::sync::Arc<octotracker_core::Tracker>) -> std::io::Result<()> {
//! use octotracker_core::Frontend;
//! use octotracker_udp::{UdpConfig, UdpFrontend};
//! let frontend = UdpFrontend::bind("0.0.0.0:6969".parse().unwrap(), UdpConfig::default()).await?;
//! let shutdown = Box::pin(async { let _ = tokio::signal::ctrl_c().await; });
//! Box::new(frontend).serve(tracker, shutdown).await.ok();
//! # Ok(()) }
//! ```

mod batch;
mod connection_id;
mod limits;
mod server;
mod socket;

pub use connection_id::{ConnectionIds, KeysAt};
pub use server::{UdpConfig, UdpFrontend};
pub use socket::bind_socket;
