//! # octotracker-postgres
//!
//! A [`TorrentManager`] on PostgreSQL (through sqlx): swarms and download counts survive a
//! restart of octotracker, several octotracker processes share one state, and other systems can
//! query the tables.
//!
//! ```no_run
//! use octotracker_core::{InfoHash, TorrentManager};
//! use octotracker_postgres::{PostgresConfig, PostgresTorrentManager};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = PostgresConfig::new("postgres://octotracker@127.0.0.1:5432/octotracker");
//! config.pool_size = 32;
//! // Connects once (a wrong address or wrong credentials fail here) and applies the migrations.
//! let store = PostgresTorrentManager::connect(&config).await?;
//! let stats = store.scrape(&[InfoHash([0xab; 20])]).await?;
//! assert_eq!(stats[0].peers(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! ## How it is laid out
//!
//! ```text
//!  PostgresTorrentManager::announce ──► lane (by info hash) ──► octotracker_announce_batch(arrays)
//!                                        what queued up, ≤ 64     └─ octotracker_announce(…) per announce
//!  torrents (logged)   info_hash PK, downloaded, first_seen, last_seen
//!  peers (UNLOGGED)    (info_hash, ip, port) PK, peer_id, seeder, last_seen, slot
//!                      indexes (info_hash, seeder) counts · (info_hash, slot) selection · (last_seen) expiry
//! ```
//!
//! - **Announces are grouped**: each goes to a lane chosen by its info hash; a lane sends what
//!   has queued up while its previous call ran as one call (one round trip, one transaction).
//!   An idle tracker sends each announce alone, at once. A swarm always uses the same lane, so
//!   two calls of one process never lock the same rows; calls of two processes can meet, and a
//!   call rolled back by a deadlock is retried.
//! - **Each announce is atomic**: `octotracker_announce` updates the announcer's row reading its
//!   previous role from the same row locked `FOR UPDATE` (a concurrent announce of the same
//!   peer waits, then sees this one's result, so a retried `completed` counts once), or inserts
//!   or deletes it; raises `downloaded` when a stored leecher completes; then counts the swarm
//!   and picks the peers.
//! - **Counts are derived** from the peers (`count(*)` on the `(info_hash, seeder)` index): they
//!   cannot drift, at O(swarm) per announce.
//! - **Choosing peers is O(`want`)**: each announce draws a random `slot` for its peer; the
//!   choice is a window of consecutive slots from a random start, wrapping around.
//! - **Durability per kind of data**: peers are in an `UNLOGGED` table (no WAL per announce;
//!   emptied only if PostgreSQL itself crashes, after which peers re-announce within an
//!   interval); download counts are in the logged `torrents` table.
//! - **Expiry** deletes stale peers, then empty swarms, in statements of at most 10,000 rows,
//!   skipping rows an announce holds locked (they are being refreshed).
//! - **Errors**: an unreachable server, an exhausted pool, a restarting server or a statement
//!   timeout are [`StorageError::Unavailable`](octotracker_core::StorageError::Unavailable);
//!   other failures are `Internal`.
//!
//! [`TorrentManager`]: octotracker_core::TorrentManager

mod batch;
mod config;
mod connect;
mod error;
mod manager;
mod passkeys;

pub use config::PostgresConfig;
pub use error::PostgresError;
pub use manager::PostgresTorrentManager;
