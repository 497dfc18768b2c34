//! [`StopSignal`]: the standalone server asking its open connections to finish (graceful
//! shutdown). Cheap for connections that never wait: only a connection still open after its
//! first poll registers for it.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// Raised once, when the server stops accepting; connections then finish the request in hand and
/// close (hyper's `graceful_shutdown`).
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    raised: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    /// Raises the signal: every registered waiter wakes, and later registrations see it at once.
    pub(crate) fn raise(&self) {
        self.raised.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// A future that resolves once the signal is raised, registered from the moment it is made
    /// (so a raise between this call and its first poll is not missed), and whether the signal
    /// was already raised when it was made.
    pub(crate) fn subscribe(&self) -> (Notified<'_>, bool) {
        let notified = self.notify.notified();
        (notified, self.raised.load(Ordering::SeqCst))
    }
}
