//! Errors: what goes wrong opening the store ([`PostgresError`]) and how a failed query becomes a
//! [`StorageError`].

use octotracker_core::StorageError;

/// Why [`PostgresTorrentManager::connect`](crate::PostgresTorrentManager::connect) failed.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// The URL cannot be parsed, or the configuration is invalid.
    #[error("invalid postgres url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, its password removed.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server could not be reached, or refused the connection (credentials, database).
    #[error("cannot connect to postgres at {url}: {reason}")]
    Connect {
        /// The URL, its password removed.
        url: String,
        /// What the driver or the server said.
        reason: String,
    },
    /// The schema could not be created or migrated.
    #[error("cannot prepare the schema in postgres at {url}: {reason}")]
    Migrate {
        /// The URL, its password removed.
        url: String,
        /// What the driver or the server said.
        reason: String,
    },
}

/// SQLSTATE classes and codes that mean "the server cannot serve now; retry later".
const UNAVAILABLE_STATES: &[&str] = &[
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now (starting up, shutting down, recovering)
    "57014", // query_canceled (statement_timeout)
    "53300", // too_many_connections
    "55P03", // lock_not_available
];

/// SQLSTATE codes of a transaction that lost to a concurrent one and was rolled back whole:
/// trying it again at once may succeed ([`StorageError::Conflict`]). Codes, not message text:
/// the text changes with the server's `lc_messages`.
const CONFLICT_STATES: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
];

/// Maps a driver error to the contract's error: a deadlock or serialization failure is
/// [`StorageError::Conflict`]; connection trouble, pool exhaustion and an overloaded or
/// restarting server are [`StorageError::Unavailable`]; the rest `Internal`.
pub(crate) fn storage_error(e: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &e
        && db.code().is_some_and(|c| CONFLICT_STATES.contains(&c.as_ref()))
    {
        return StorageError::Conflict(e.to_string());
    }
    let unavailable = match &e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || UNAVAILABLE_STATES.contains(&c.as_ref()))
        }
        _ => false,
    };
    if unavailable { StorageError::Unavailable(e.to_string()) } else { StorageError::Internal(e.to_string()) }
}

/// A driver error for an operator: the server's own message and SQLSTATE for database errors,
/// the I/O error (such as "connection refused") otherwise.
pub(crate) fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// `url` without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, tail) = rest.split_once('/').map_or((rest, ""), |(a, t)| (a, t));
    let Some((user_info, host)) = authority.rsplit_once('@') else { return url.to_owned() };
    let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
    let slash = if rest.contains('/') { "/" } else { "" };
    let password = if user_info.contains(':') { ":***" } else { "" };
    format!("{scheme}://{user}{password}@{host}{slash}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h"), "postgres://h");
    }

    /// A server error as the driver reports it: a SQLSTATE and a message in the server's
    /// `lc_messages` language.
    #[derive(Debug)]
    struct ServerError {
        code: &'static str,
        message: &'static str,
    }

    impl std::fmt::Display for ServerError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.message)
        }
    }

    impl std::error::Error for ServerError {}

    impl sqlx::error::DatabaseError for ServerError {
        fn message(&self) -> &str {
            self.message
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.code.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn server_error(code: &'static str, message: &'static str) -> StorageError {
        storage_error(sqlx::Error::Database(Box::new(ServerError { code, message })))
    }

    /// By SQLSTATE, whatever the language: `lc_messages = 'fr_FR'` words a deadlock
    /// "interblocage détecté", and a serialization failure has no "serializ" in it.
    #[test]
    fn deadlocks_and_serialization_failures_are_conflicts_in_any_language() {
        let deadlock = server_error("40P01", "interblocage détecté");
        assert!(matches!(deadlock, StorageError::Conflict(_)) && deadlock.retry_at_once(), "{deadlock:?}");
        let serialization = server_error("40001", "n'a pas pu sérialiser un accès");
        assert!(matches!(serialization, StorageError::Conflict(_)) && serialization.retry_at_once());
        let shutdown = server_error("57P01", "arrêt du serveur");
        assert!(matches!(shutdown, StorageError::Unavailable(_)) && !shutdown.retry_at_once(), "{shutdown:?}");
        let deadlock_in_text = server_error("23505", "deadlock serialization (a unique violation)");
        assert!(matches!(deadlock_in_text, StorageError::Internal(_)), "{deadlock_in_text:?}");
    }

    /// A real deadlock on the test server: two sessions each hold an advisory lock and ask for
    /// the other's; PostgreSQL rolls one back with SQLSTATE 40P01, which is a conflict.
    /// Needs `OCTOTRACKER_TEST_POSTGRES_URL` (scripts/test.sh provides a server).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deadlock_on_a_real_server_is_a_conflict() {
        use sqlx::{Connection, Executor};
        let url = std::env::var("OCTOTRACKER_TEST_POSTGRES_URL").expect(
            "OCTOTRACKER_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL and sets it",
        );
        let mut first = sqlx::PgConnection::connect(&url).await.expect("postgres is running");
        let mut second = sqlx::PgConnection::connect(&url).await.expect("postgres is running");
        // Keys of this test alone (advisory locks are per database).
        let (a, b) = (fastrand::i64(..), fastrand::i64(..));
        let lock = |key: i64| sqlx::AssertSqlSafe(format!("SELECT pg_advisory_xact_lock({key})"));
        for (conn, key) in [(&mut first, a), (&mut second, b)] {
            conn.execute("SET deadlock_timeout = '20ms'").await.unwrap();
            conn.execute("BEGIN").await.unwrap();
            conn.execute(lock(key)).await.unwrap();
        }
        // Each now waits for the other: a cycle, whichever asks first.
        let both = async { tokio::join!(first.execute(lock(b)), second.execute(lock(a))) };
        let (one, other) =
            tokio::time::timeout(std::time::Duration::from_secs(20), both).await.expect("deadlock detected");
        let errors: Vec<StorageError> = [one.err(), other.err()].into_iter().flatten().map(storage_error).collect();
        assert_eq!(errors.len(), 1, "one session is rolled back, the other goes on: {errors:?}");
        assert!(matches!(errors[0], StorageError::Conflict(_)) && errors[0].retry_at_once(), "{errors:?}");
        first.execute("ROLLBACK").await.unwrap();
        second.execute("ROLLBACK").await.unwrap();
    }

    #[test]
    fn a_pool_timeout_is_unavailable_and_a_decode_error_internal() {
        assert!(matches!(storage_error(sqlx::Error::PoolTimedOut), StorageError::Unavailable(_)));
        assert!(matches!(storage_error(sqlx::Error::RowNotFound), StorageError::Internal(_)));
    }
}
