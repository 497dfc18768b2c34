//! [`Lifecycle`]: where the standalone server is in its life, one [`Phase`] value that only
//! moves forward. Every part of the server reads it here: the accept loops, each connection's
//! first read and idle wait, each response's `connection` header.
//!
//! | phase | accepting | responses | open connections |
//! |---|---|---|---|
//! | [`Serving`](Phase::Serving) | yes | as asked | kept alive, idle timeout |
//! | [`Closing`](Phase::Closing) | the accept loops end, then the listener is closed | as asked | kept alive |
//! | [`Draining`](Phase::Draining) | no (refused by the kernel) | every one says `connection: close` | each closes after its next response |
//! | [`Stopped`](Phase::Stopped) | no | the request in hand is answered | idle ones close now, the rest after the request in hand; dropped at the drain timeout |
//!
//! Cheap for connections that never wait: only a connection still open after its first poll
//! registers for a change of phase.

use std::pin::pin;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// A phase of the standalone server (see the [module docs](self)), in the order they come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Phase {
    /// Accepting and answering.
    Serving = 0,
    /// Shutdown asked: the accept loops end.
    Closing = 1,
    /// The listener is closed: responses say `connection: close` for a short grace.
    Draining = 2,
    /// The grace is over: connections finish the request in hand and close.
    Stopped = 3,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            0 => Phase::Serving,
            1 => Phase::Closing,
            2 => Phase::Draining,
            _ => Phase::Stopped,
        }
    }
}

/// The server's [`Phase`], and a wake-up for those waiting on it.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: AtomicU8,
    changed: Notify,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle { phase: AtomicU8::new(Phase::Serving as u8), changed: Notify::new() }
    }
}

impl Lifecycle {
    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::SeqCst))
    }

    /// Moves on to `phase` (never back) and wakes every waiter.
    pub(crate) fn advance(&self, phase: Phase) {
        self.phase.fetch_max(phase as u8, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Resolves once the server has reached `phase` (at once if it has).
    pub(crate) async fn reached(&self, phase: Phase) {
        loop {
            // Registered before the phase is read: an advance between the two is not missed.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            if self.phase() >= phase {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn waiters_wake_at_their_phase_and_the_phase_never_goes_back() {
        let lifecycle = Arc::new(Lifecycle::default());
        let stopped = tokio::spawn({
            let lifecycle = lifecycle.clone();
            async move { lifecycle.reached(Phase::Stopped).await }
        });
        lifecycle.reached(Phase::Serving).await;
        lifecycle.advance(Phase::Draining);
        lifecycle.reached(Phase::Closing).await;
        // One thread (tokio::test's runtime): after these yields the waiter has seen Draining.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(!stopped.is_finished(), "woken before Stopped");
        lifecycle.advance(Phase::Closing);
        assert_eq!(lifecycle.phase(), Phase::Draining, "never back");
        lifecycle.advance(Phase::Stopped);
        stopped.await.expect("the waiter for Stopped woke");
        assert_eq!(lifecycle.phase(), Phase::Stopped);
    }
}
