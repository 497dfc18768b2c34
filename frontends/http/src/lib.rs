//! # octotracker-http
//!
//! The HTTP tracker protocol over hyper 1.x.
//!
//! - [`TrackerService`]: `GET /announce` and `GET /scrape` as a tower `Service` over `http`
//!   requests (any body type), answering with bencode. Every other path is 404.
//! - [`HttpFrontend`]: the standalone server ([`Frontend`](octotracker_core::Frontend)): HTTP/1.1
//!   with keep-alive, header-read and idle timeouts, graceful drain on shutdown.
//! - [`client_ip`]: the client's address, from the connection or from a trusted reverse proxy's
//!   `X-Forwarded-For` / `X-Real-IP`.
//!
//! Parsing and encoding come from `octotracker_core::http_wire`, and every rule from the
//! [`Tracker`](octotracker_core::Tracker) engine: this crate only moves bytes.

mod client_ip;
mod config;
mod idle;
mod server;
mod service;

pub use client_ip::{ClientIpError, IpNet, IpNetParseError, RemoteAddr, client_ip};
pub use config::HttpConfig;
pub use server::HttpFrontend;
pub use service::{ResponseFuture, TrackerService};
