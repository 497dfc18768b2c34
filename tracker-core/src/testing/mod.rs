//! The conformance suite: every rule of the [storage contract](crate::storage), as checks that
//! every [`TorrentManager`] runs.
//!
//! # Running the whole suite
//!
//! A backend enables this crate's `testing` feature as a dev-dependency and calls
//! [`conformance_tests!`](crate::conformance_tests) once, in an integration test, with a factory
//! that makes a **fresh, isolated** store:
//!
//! ```toml
//! [dev-dependencies]
//! octotracker-core = { workspace = true, features = ["testing"] }
//! ```
//!
//! ```text
//! // backends/memory/tests/conformance.rs
//! use octotracker_memory::MemoryTorrentManager;
//!
//! octotracker_core::conformance_tests!(|| async { MemoryTorrentManager::new(Default::default()) });
//! ```
//!
//! The macro expands to one `#[test]` per check, grouped in modules named after the part of the
//! contract they check, so a failure names the rule that broke, for example
//! `counts::a_second_completed_counts_nothing`. Each test runs on its own multi-thread tokio
//! runtime (the backend needs no tokio dev-dependency of its own) and calls the factory once, so
//! each test gets a new store. The factory is an `async` closure because remote stores connect
//! asynchronously: a Redis backend would connect with a key prefix of its own, a PostgreSQL
//! backend would create a schema of its own, inside the future the factory returns (add `move`
//! when it captures anything):
//!
//! ```text
//! octotracker_core::conformance_tests!(|| async move {
//!     let prefix = format!("conformance-{}", fastrand::u64(..));
//!     RedisTorrentManager::connect(redis_url(), &prefix).await.expect("redis is running")
//! });
//! ```
//!
//! Invoke the macro once per module (it defines a private function and one module per group).
//!
//! # Using single checks
//!
//! Every check is also a plain `pub async fn` taking `&dyn TorrentManager` (the [`concurrency`]
//! checks take an `Arc<dyn TorrentManager>`, as they spawn tasks), so a backend can run one
//! against a store it configured specially:
//!
//! ```
//! # async fn demo(store: &dyn octotracker_core::TorrentManager) {
//! use octotracker_core::testing::counts;
//! counts::a_second_completed_counts_nothing(store).await;
//! # }
//! ```
//!
//! A check panics, naming the broken rule, when the store breaks it; a [`StorageError`] from the
//! store fails the check too. Checks never sleep: time is the [`PeerAnnounce::now`] they pass
//! and the cutoff they give [`TorrentManager::expire`]. Only [`scrape_all`]'s checks accept
//! [`StorageError::Unsupported`], since the contract lets a backend decline a full scrape.
//!
//! [`scrape_all`]: TorrentManager::scrape_all
//! [`PeerAnnounce::now`]: crate::PeerAnnounce::now
//!
//! # Groups
//!
//! - [`announce`]: adding, updating and removing peers; identity is address and port.
//! - [`counts`]: seeders, leechers and downloads after each announce.
//! - [`selection`]: which peers an announce hands out, and how many.
//! - [`families`]: IPv4 and IPv6 peers kept apart (BEP 7).
//! - [`expiry`]: [`TorrentManager::expire`] with a stopped clock.
//! - [`scrape`]: [`TorrentManager::scrape`] and [`TorrentManager::scrape_all`].
//! - [`concurrency`]: many tasks announcing at once lose no update.
//! - [`peers`]: the helpers the checks build announces with, for a backend's own tests.

use std::future::Future;
use std::sync::Arc;

use crate::{StorageError, TorrentManager};

pub mod announce;
pub mod concurrency;
pub mod counts;
pub mod expiry;
pub mod families;
mod macros;
pub mod peers;
pub mod scrape;
pub mod selection;

/// Worker threads of the runtime each conformance test runs on: more than this machine's cores,
/// so concurrent checks interleave.
const WORKER_THREADS: usize = 4;

/// Runs one check against a fresh store on a new multi-thread tokio runtime: builds the store
/// with `store` (inside the runtime, so it may connect to a server), then awaits `check`.
/// Used by [`conformance_tests!`](crate::conformance_tests); a backend may call it directly.
///
/// # Panics
///
/// When the runtime cannot be built, or when the check fails.
pub fn run<M, S, C, F>(store: S, check: C)
where
    M: TorrentManager,
    S: Future<Output = M>,
    C: FnOnce(Arc<dyn TorrentManager>) -> F,
    F: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance test");
    runtime.block_on(async move {
        let store: Arc<dyn TorrentManager> = Arc::new(store.await);
        check(store).await;
    });
}

/// Whether a result is the backend declining the operation ([`StorageError::Unsupported`]).
fn unsupported<T>(result: &Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::Unsupported(_)))
}
