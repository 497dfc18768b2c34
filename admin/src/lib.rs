//! # octotracker-admin
//!
//! Running a tracker as a service:
//!
//! - [`AdminApi`], a tower `Service` an embedder mounts in its router (the `octotracker` binary
//!   serves it on `--admin ADDR`, never on a tracker port): bearer-token auth, JSON in and out,
//!   `GET /v1/stats`, `GET /v1/torrents?sort=peers|seeders|leechers|downloaded&limit=N` (through
//!   [`TorrentManager::top_swarms`]), `GET /v1/torrents/{info_hash}`, passkeys (`/v1/keys`) and the
//!   allow and deny lists (`/v1/allow/{info_hash}`, `/v1/deny/{info_hash}`) through a [`ListStore`].
//! - Health checks ([`health_response`]): `GET /health` and `GET /ready`, served by the admin API
//!   and by the binary's metrics listener alike.
//!
//! ```
//! use std::sync::Arc;
//! use octotracker_admin::AdminApi;
//! use octotracker_memory::MemoryTorrentManager;
//!
//! let api = AdminApi::new(Arc::new(MemoryTorrentManager::new(Default::default())), "a long random token");
//! # let _ = api;
//! ```
//!
//! [`TorrentManager::top_swarms`]: octotracker_core::TorrentManager::top_swarms

mod api;
mod auth;
mod health;
mod json;
mod lists;

pub use api::{AdminApi, DEFAULT_LIMIT, MAX_BODY, MAX_LIMIT, random_passkey};
pub use health::{READY_DEADLINE, health_response, storage_ready};
pub use lists::ListStore;
pub use octotracker_core::HashList;
