//! Per-passkey transfer totals: the engine's [`TransferRecorder`] hook feeds a bounded queue
//! that one task writes to the backend in batches (PostgreSQL keeps them; see
//! `PasskeyStore::record_transfers`). The announce never waits for the write; when the queue is
//! full (the database slow or down) transfers are dropped, and the log says how many.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use octotracker_core::{FrontendError, Shutdown, TorrentManager, Transfer, TransferRecorder};
use tokio::sync::mpsc;

/// Transfers waiting to be written, at most.
const QUEUE: usize = 65_536;
/// Transfers per write, at most.
const BATCH: usize = 1_000;

/// The engine's side: queue and go.
#[derive(Debug)]
pub(crate) struct QueuedTransfers {
    queue: mpsc::Sender<Transfer>,
    dropped: Arc<AtomicU64>,
}

impl TransferRecorder for QueuedTransfers {
    fn record(&self, transfer: Transfer) {
        if self.queue.try_send(transfer).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The writing side.
pub(crate) struct TransferWriter {
    storage: Arc<dyn TorrentManager>,
    receive: mpsc::Receiver<Transfer>,
    dropped: Arc<AtomicU64>,
}

/// When `storage` keeps transfer totals: the recorder for the engine and the writer to run.
pub(crate) async fn recorder(storage: Arc<dyn TorrentManager>) -> Option<(QueuedTransfers, TransferWriter)> {
    storage.passkeys()?.record_transfers(&[]).await.ok()?;
    let (queue, receive) = mpsc::channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    Some((QueuedTransfers { queue, dropped: dropped.clone() }, TransferWriter { storage, receive, dropped }))
}

impl TransferWriter {
    /// Drains the queue in batches until `shutdown`, then writes what is left.
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                n = self.receive.recv_many(&mut batch, BATCH) => {
                    if n == 0 {
                        return Ok(());
                    }
                }
                () = &mut shutdown => {
                    while let Ok(t) = self.receive.try_recv() {
                        batch.push(t);
                    }
                    self.write(&mut batch).await;
                    return Ok(());
                }
            }
            self.write(&mut batch).await;
        }
    }

    async fn write(&self, batch: &mut Vec<Transfer>) {
        if batch.is_empty() {
            return;
        }
        if let Some(store) = self.storage.passkeys()
            && let Err(e) = store.record_transfers(batch).await
        {
            tracing::warn!(error = %e, transfers = batch.len(), "cannot record passkey transfers; dropped");
            // No spinning through an outage.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        batch.clear();
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "the passkey transfer queue was full; transfers dropped");
        }
    }
}
