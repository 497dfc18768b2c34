//! # octotracker-http
//!
//! The HTTP tracker protocol over hyper 1.x, as a tower `Service` that runs standalone or
//! inside another web application (see [`embedding`]).
//!
//! - [`TrackerService`]: `GET /announce` and `GET /scrape` (paths configurable) as a tower
//!   `Service` over `http` requests (any body type), answering with bencode. Every other path
//!   is 404. Mount it in axum with `Router::route_service` (or `nest_service`).
//! - [`TrackerLayer`]: a tower `Layer` that puts the tracker in front of an application's own
//!   service: the tracker's paths are answered by the tracker, everything else passes through.
//! - [`HttpFrontend`]: the standalone server ([`Frontend`](octotracker_core::Frontend)): HTTP/1.1
//!   with keep-alive, header-read and idle timeouts, graceful drain on shutdown, built on
//!   [`TrackerService`]; over TLS too with the `tls` feature (`HttpFrontend::with_tls`).
//! - [`RateLimitLayer`]: a per-address rate limit in front of the tracker (or a whole app),
//!   refusing and counting as the standalone server's
//!   [`HttpConfig::rate_limit`](HttpConfig::rate_limit) does.
//! - [`client_ip`]: the client's address, from the connection (the standalone server's own;
//!   for embedders [`RemoteAddr`], or axum's `ConnectInfo<SocketAddr>` with the `axum` feature)
//!   or from a trusted reverse proxy's `X-Forwarded-For` / `X-Real-IP`, decided once per request.
//!
//! Parsing and encoding come from `octotracker_core::http_wire`, and every rule from the
//! [`Tracker`](octotracker_core::Tracker) engine: this crate only moves bytes.
//!
//! ## One path per request
//! Every way in ends in the same steps, each decided in one place: the client address
//! (`client_ip.rs`: once per request, whatever provides the connection's address), the rate
//! limit (`rate_limit.rs`: one refusal, counted as UDP counts it), the answer
//! (`TrackerService::answer` in `service.rs`), the response head (`reply.rs`, also for the
//! standalone server's hand-written one-shot replies). The standalone server's shutdown is one
//! phase value (`phase.rs`: serving, closing, draining, stopped).
//!
//! ## Features
//! - `tls` (off by default; the `octotracker` binary turns it on for `--https`):
//!   `HttpFrontend::with_tls` serves HTTPS with rustls (ring provider); `rustls` is re-exported.
//! - `axum` (on by default; the `octotracker` binary turns it off): [`TrackerService`] also
//!   reads the client address from axum's `ConnectInfo<SocketAddr>`
//!   (`Router::into_make_service_with_connect_info::<SocketAddr>()`).

mod accept;
mod client_ip;
mod config;
mod connection;
mod defer_accept;
mod idle;
mod layer;
mod one_shot;
mod phase;
mod rate_limit;
mod reply;
mod server;
mod service;
#[cfg(feature = "tls")]
mod tls;
mod upgrade;

pub use client_ip::{ClientIpError, IpNet, IpNetParseError, RemoteAddr, client_ip, remote_addr};
pub use config::HttpConfig;
pub use layer::{MiddlewareFuture, TrackerLayer, TrackerMiddleware};
pub use rate_limit::{RateLimit, RateLimitLayer, RateLimited};
pub use server::HttpFrontend;
pub use service::{ResponseFuture, TrackerService};
/// The rustls this crate serves HTTPS with (feature `tls`): build the
/// [`ServerConfig`](rustls::ServerConfig) for [`HttpFrontend::with_tls`] with it.
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;
pub use upgrade::UpgradeService;

/// For the fuzz targets only (fuzz/fuzz_targets/http_head.rs); not part of the crate's API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::one_shot::{Head, parse_head};
}

#[doc = include_str!("../../../docs/embedding.md")]
pub mod embedding {}
