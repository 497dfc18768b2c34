//! Mapping Redis errors to [`StorageError`]: what may heal by itself is `Unavailable`.

use octotracker_core::StorageError;
use redis::{ErrorKind, RedisError, ServerErrorKind};

/// `Unavailable` for a connection, timeout or cluster-state problem; `Internal` for the rest
/// (a script bug, a protocol surprise).
pub(crate) fn storage_error(e: RedisError) -> StorageError {
    let transient = matches!(
        e.kind(),
        ErrorKind::Io
            | ErrorKind::ClusterConnectionNotFound
            | ErrorKind::Server(
                ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::BusyLoading
                    | ServerErrorKind::ReadOnly
                    | ServerErrorKind::Moved
                    | ServerErrorKind::Ask
            )
    ) || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal();
    if transient {
        StorageError::Unavailable(format!("redis: {e}"))
    } else {
        StorageError::Internal(format!("redis: {e}"))
    }
}

/// The error for an operation that outlived its bound.
pub(crate) fn timed_out(what: &str) -> StorageError {
    StorageError::Unavailable(format!("redis: {what} timed out"))
}

/// The error for a reply of an unexpected shape.
pub(crate) fn bad_reply(what: &str) -> StorageError {
    StorageError::Internal(format!("redis: unexpected reply to {what}"))
}
