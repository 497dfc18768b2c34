//! Per-passkey transfer totals: one subscriber of the engine's events that writes the
//! announces carrying a passkey to the backend in batches (PostgreSQL keeps them; see
//! `PasskeyStore::record_transfers`). The announce never waits for the write; when the
//! subscriber's ring is full (the database slow or down) events are lost, counted in
//! `octotracker_events_lost_total`, and the log says how many.

use std::sync::Arc;
use std::time::Duration;

use octotracker_core::events::{Subscription, TrackerEvent};
use octotracker_core::{FrontendError, Shutdown, TorrentManager, Tracker, Transfer};

/// Events waiting to be written, at most (each slot is one event, ~200 bytes).
const RING: usize = 16_384;
/// Events per write, at most.
const BATCH: usize = 1_000;

/// The writing side.
pub(crate) struct TransferWriter {
    storage: Arc<dyn TorrentManager>,
    events: Subscription,
}

/// When `tracker`'s storage keeps transfer totals: a writer subscribed to its events, to run.
pub(crate) async fn subscribe(tracker: &Tracker) -> Option<TransferWriter> {
    tracker.storage().passkeys()?.record_transfers(&[]).await.ok()?;
    Some(TransferWriter { storage: tracker.storage().clone(), events: tracker.events().subscribe(RING) })
}

impl TransferWriter {
    /// Drains the events in batches until `shutdown`, then writes what is left.
    pub(crate) async fn run(mut self, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        let mut events = Vec::with_capacity(BATCH);
        let mut batch = Vec::with_capacity(BATCH);
        let mut lost = 0;
        loop {
            tokio::select! {
                n = self.events.recv_many(&mut events, BATCH) => {
                    if n == 0 {
                        return Ok(());
                    }
                }
                () = &mut shutdown => {
                    while let Some(event) = self.events.try_recv() {
                        events.push(event);
                    }
                    transfers_of(&mut events, &mut batch);
                    self.write(&mut batch).await;
                    return Ok(());
                }
            }
            transfers_of(&mut events, &mut batch);
            self.write(&mut batch).await;
            let now_lost = self.events.lost();
            if now_lost > lost {
                tracing::warn!(lost = now_lost - lost, "the passkey transfer subscriber fell behind; events lost");
                lost = now_lost;
            }
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
    }
}

/// Moves the transfers of the announces among `events` into `batch`.
fn transfers_of(events: &mut Vec<TrackerEvent>, batch: &mut Vec<Transfer>) {
    batch.extend(events.drain(..).filter_map(|event| match event {
        TrackerEvent::Announce(a) => Transfer::of(&a),
        _ => None,
    }));
}
