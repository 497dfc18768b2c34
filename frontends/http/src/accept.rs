//! The accept loop: takes connections off the listener and serves each. The standalone server runs
//! one per tokio worker, all on the same listener, so connections are taken and answered on every
//! core.
//!
//! A connection is polled once right here, before any task exists for it. A client that opens a
//! connection per announce (most do) has its request waiting by then: it is answered and closed
//! within that poll, and costs no task. Only a connection still open after it (keep-alive, a
//! request not yet arrived, a storage backend still answering) is spawned as a task of its own.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::connection::{self, Shared};
use crate::phase::Phase;

/// Accepts until the server is [`Phase::Closing`], holding one of `slots` per connection served
/// (at the limit it waits for one to free up before accepting again).
pub(crate) async fn accept_loop(listener: Arc<TcpListener>, shared: Arc<Shared>, slots: Arc<Semaphore>) {
    let mut closing = std::pin::pin!(shared.lifecycle.reached(Phase::Closing));
    let mut at_limit_since: Option<Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if at_limit_since.is_none() {
                    tracing::warn!(limit = shared.max_connections, "connection limit reached; new connections wait");
                    at_limit_since = Some(Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => return,
                    },
                    () = closing.as_mut() => return,
                }
            }
        };
        if let Some(since) = at_limit_since.take() {
            tracing::info!(waited_ms = since.elapsed().as_millis() as u64, "below the connection limit again");
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    // Boxed: a connection's state is kilobytes, and it moves into a task if it
                    // outlives this poll.
                    let mut conn = Box::pin(connection::serve(shared.clone(), stream, remote));
                    // A panic while serving would end this loop, where in a task it would end one
                    // connection: caught, it drops (closes) just the connection.
                    let first = std::future::poll_fn(|cx| {
                        Poll::Ready(panic::catch_unwind(AssertUnwindSafe(|| conn.as_mut().poll(cx))))
                    })
                    .await;
                    let Ok(first) = first else {
                        tracing::error!(%remote, "http connection panicked; closed");
                        continue;
                    };
                    if first.is_pending() {
                        tokio::spawn(async move {
                            conn.await;
                            drop(slot);
                        });
                    }
                }
                // Out of descriptors or a connection reset before accept: keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            () = closing.as_mut() => return,
        }
    }
}
