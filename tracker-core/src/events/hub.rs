//! [`EventHub`] and [`Subscription`]: one bounded lock-free ring per subscriber.

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;

use arc_swap::ArcSwap;
use atomic_waker::AtomicWaker;
use crossbeam_queue::ArrayQueue;

use super::TrackerEvent;

/// One subscriber's ring.
struct Ring {
    queue: ArrayQueue<TrackerEvent>,
    /// The subscriber's task while it waits in `recv`; taken by the first push after.
    waker: AtomicWaker,
    lost: AtomicU64,
    /// The hub is gone: nothing more will come.
    closed: AtomicBool,
}

impl Ring {
    fn push(&self, event: TrackerEvent) {
        if self.queue.push(event).is_err() {
            self.lost.fetch_add(1, Ordering::Relaxed);
        } else {
            self.waker.wake();
        }
    }
}

/// What the hub and its subscriptions share.
struct Shared {
    /// How many rings are attached: the publisher's one check when nobody listens.
    count: AtomicUsize,
    rings: ArcSwap<Vec<Arc<Ring>>>,
    /// Events lost by subscriptions since dropped.
    lost_by_gone: AtomicU64,
}

impl Shared {
    fn detach(&self, ring: &Arc<Ring>) {
        self.rings.rcu(|rings| rings.iter().filter(|r| !Arc::ptr_eq(r, ring)).cloned().collect::<Vec<_>>());
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.lost_by_gone.fetch_add(ring.lost.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Where the engine publishes its [`TrackerEvent`]s; see the [module tour](crate::events).
///
/// ```
/// use octotracker_core::events::{EventHub, ExpiryEvent, TrackerEvent};
/// use octotracker_core::UnixTime;
/// let hub = EventHub::new();
/// let mut events = hub.subscribe(2);
/// let pass = |n| TrackerEvent::Expiry(ExpiryEvent { cutoff: UnixTime(n), peers_removed: 0, swarms_removed: 0, now: UnixTime(n) });
/// for n in 0..3 {
///     hub.publish(|| pass(n));
/// }
/// assert_eq!(events.try_recv(), Some(pass(0)));
/// assert_eq!(events.try_recv(), Some(pass(1)));
/// assert_eq!(events.try_recv(), None);
/// assert_eq!(events.lost(), 1, "the third did not fit");
/// ```
pub struct EventHub {
    shared: Arc<Shared>,
}

impl fmt::Debug for EventHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHub").field("subscribers", &self.subscribers()).field("lost", &self.lost()).finish()
    }
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    /// A hub without subscribers.
    pub fn new() -> Self {
        EventHub {
            shared: Arc::new(Shared {
                count: AtomicUsize::new(0),
                rings: ArcSwap::from_pointee(Vec::new()),
                lost_by_gone: AtomicU64::new(0),
            }),
        }
    }

    /// A new subscriber that receives every event published from now on, holding at most
    /// `capacity` (at least 1) not yet received; more are lost and counted. Each slot takes
    /// `size_of::<TrackerEvent>()` plus a word, allocated here.
    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let ring = Arc::new(Ring {
            queue: ArrayQueue::new(capacity.max(1)),
            waker: AtomicWaker::new(),
            lost: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        });
        self.shared.rings.rcu(|rings| {
            let mut rings = Vec::clone(rings);
            rings.push(ring.clone());
            rings
        });
        self.shared.count.fetch_add(1, Ordering::Relaxed);
        Subscription { ring, shared: self.shared.clone() }
    }

    /// How many subscriptions are attached.
    pub fn subscribers(&self) -> usize {
        self.shared.count.load(Ordering::Relaxed)
    }

    /// Events lost so far by every subscriber, present and gone, because their ring was full.
    pub fn lost(&self) -> u64 {
        let live: u64 = self.shared.rings.load().iter().map(|r| r.lost.load(Ordering::Relaxed)).sum();
        live + self.shared.lost_by_gone.load(Ordering::Relaxed)
    }

    /// Hands the event `make` builds to every subscriber, never waiting; `make` runs only when
    /// there is one.
    #[inline]
    pub fn publish(&self, make: impl FnOnce() -> TrackerEvent) {
        if self.shared.count.load(Ordering::Relaxed) != 0 {
            self.offer(make());
        }
    }

    /// The slow path, out of line so the request path stays small when nobody subscribes.
    #[cold]
    #[inline(never)]
    fn offer(&self, event: TrackerEvent) {
        let rings = self.shared.rings.load();
        let Some((last, others)) = rings.split_last() else {
            return;
        };
        for ring in others {
            ring.push(event.clone());
        }
        last.push(event);
    }
}

impl Drop for EventHub {
    fn drop(&mut self) {
        for ring in self.shared.rings.load().iter() {
            ring.closed.store(true, Ordering::Release);
            ring.waker.wake();
        }
    }
}

/// One subscriber's end: events in the order they were published. Dropping it detaches it.
pub struct Subscription {
    ring: Arc<Ring>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("waiting", &self.ring.queue.len())
            .field("capacity", &self.ring.queue.capacity())
            .field("lost", &self.lost())
            .finish()
    }
}

impl Subscription {
    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<TrackerEvent> {
        self.ring.queue.pop()
    }

    /// The next event, waiting for one; `None` once the hub (the engine) is gone and every
    /// event was received. Works on any executor.
    pub async fn recv(&mut self) -> Option<TrackerEvent> {
        poll_fn(|cx| {
            if let Some(event) = self.ring.queue.pop() {
                return Poll::Ready(Some(event));
            }
            self.ring.waker.register(cx.waker());
            // A push between the first pop and the registration woke nobody: look again.
            if let Some(event) = self.ring.queue.pop() {
                return Poll::Ready(Some(event));
            }
            if self.ring.closed.load(Ordering::Acquire) {
                return Poll::Ready(self.ring.queue.pop());
            }
            Poll::Pending
        })
        .await
    }

    /// Waits for at least one event, then moves up to `max` waiting ones into `into`; returns
    /// how many (0 once the hub is gone and the ring is empty).
    pub async fn recv_many(&mut self, into: &mut Vec<TrackerEvent>, max: usize) -> usize {
        let Some(first) = self.recv().await else {
            return 0;
        };
        into.push(first);
        let mut n = 1;
        while n < max {
            let Some(event) = self.ring.queue.pop() else { break };
            into.push(event);
            n += 1;
        }
        n
    }

    /// Events this subscriber lost because its ring was full.
    pub fn lost(&self) -> u64 {
        self.ring.lost.load(Ordering::Relaxed)
    }

    /// Events waiting to be received.
    pub fn len(&self) -> usize {
        self.ring.queue.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.ring.queue.is_empty()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.shared.detach(&self.ring);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring slot is one event: what `subscribe`'s capacity costs (the binary's subscribers
    /// document ~200 bytes a slot).
    #[test]
    fn an_event_fits_in_200_bytes() {
        assert!(std::mem::size_of::<TrackerEvent>() <= 200, "{}", std::mem::size_of::<TrackerEvent>());
    }
}
