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
//!  PostgresTorrentManager::announce ──► lane (by info hash) ──► octotracker_announce_set(arrays)
//!                                        what queued up, ≤ 64,     one statement applies the batch,
//!                                        each peer at most once    one query answers every announce
//!  torrents (logged)        info_hash PK, downloaded, first_seen, last_seen
//!  peers (UNLOGGED)         (info_hash, ip, port) PK, peer_id, seeder, last_seen, slot, prev_seeder
//!                           index (info_hash, slot) selection
//!  swarm_counts (UNLOGGED)  info_hash PK, seeders, leechers: kept by triggers on peers
//! ```
//!
//! - **Announces are grouped**: each goes to a lane chosen by its info hash; a lane sends what
//!   has queued up while its previous call ran as one call (one round trip, one transaction).
//!   An idle tracker sends each announce alone, at once. A second announce of a peer already in
//!   the batch waits for the next one. A swarm always uses the same lane, so two calls of one
//!   process never lock the same rows; calls of two processes can meet, and a call rolled back
//!   by a deadlock is retried (a [`StorageError::Conflict`](octotracker_core::StorageError::Conflict),
//!   told by its SQLSTATE, not its message).
//! - **Set-based and atomic**: `octotracker_announce_set` refreshes, deletes and inserts the
//!   batch's peers with one statement over the arrays; each refresh returns the role it
//!   replaced, read in the row it locked (a concurrent announce of the same peer waits, then sees
//!   this one's result, so a retried `completed` counts once). Each reply holds the counts just
//!   after its own announce, as if the batch had been applied one announce at a time; its peers
//!   are chosen from the swarm as it is after the whole batch.
//! - **Counts are stored and cannot drift**: `swarm_counts` is kept by row triggers on `peers`,
//!   in the same transaction as every change of a peer row, whoever makes it (announces,
//!   expiry, an older octotracker, an operator's SQL): O(1) counts, scrapes and totals.
//! - **Choosing peers is O(`want`)**: a swarm no larger than `want` is read in one index range;
//!   a larger one gives a window of consecutive `slot`s (drawn when the peer is stored) from a
//!   random start, wrapping around.
//! - **Refreshes are cheap**: no index covers what a re-announce changes, so PostgreSQL writes
//!   the new row version on the same page without index entries (a HOT update).
//! - **Durability per kind of data**: peers are in an `UNLOGGED` table (no WAL per announce;
//!   emptied only if PostgreSQL itself crashes, after which peers re-announce within an
//!   interval); download counts are in the logged `torrents` table.
//! - **Expiry** deletes stale peers (a scan of the table: there is no index on `last_seen`, so
//!   that refreshes stay HOT), then empty swarms, in statements of at most 10,000 rows, skipping
//!   rows an announce holds locked (they are being refreshed).
//! - **Errors**: an unreachable server, an exhausted pool, a restarting server or a statement
//!   timeout are [`StorageError::Unavailable`](octotracker_core::StorageError::Unavailable);
//!   a deadlock or serialization failure (SQLSTATE 40P01, 40001) is `Conflict` (retried at
//!   once); other failures are `Internal`.
//!
//! [`TorrentManager`]: octotracker_core::TorrentManager

mod batch;
mod config;
mod connect;
mod error;
mod hash_lists;
mod manager;
mod passkeys;

pub use config::PostgresConfig;
pub use error::PostgresError;
pub use manager::PostgresTorrentManager;
