//! [`PostgresConfig`]: where the database is and how the pool behaves.

use std::time::Duration;

/// How to reach PostgreSQL and how many connections to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (libpq URL parameters allowed).
    pub url: String,
    /// Connections in the pool; concurrent announces beyond it wait up to `acquire_timeout`.
    pub pool_size: u32,
    /// Longest a statement may run before PostgreSQL cancels it (`statement_timeout`); the
    /// request then fails as "storage unavailable". Zero: no limit.
    pub statement_timeout: Duration,
    /// Longest a request waits for a pooled connection (or a new one) before it fails as
    /// "storage unavailable": short, so that nothing queues without bound during an outage.
    pub acquire_timeout: Duration,
    /// The schema holding octotracker's tables, created if missing; `None`: the server's
    /// default `search_path` (normally `public`).
    pub schema: Option<String>,
}

impl PostgresConfig {
    /// The defaults for `url`: 4 connections (= announce lanes; best measured on two cores: raise
    /// it for a database with more cores or a long round trip), 5 s statement timeout, 3 s
    /// acquire timeout.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            pool_size: 4,
            statement_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(3),
            schema: None,
        }
    }
}
