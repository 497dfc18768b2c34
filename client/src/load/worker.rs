//! [`Worker`]: one connection's share of the population and its request loop. It picks the
//! next request (an announce by the next peer in its round, or a scrape), sends it, judges the
//! reply and counts the outcome. [`Worker::run_closed`] is the closed loop; the open loop is in
//! `open_loop.rs`.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use fastrand::Rng;
use octotracker_core::{Event, InfoHash};
use tokio::time::{Instant, Sleep};

use super::check::{Verdict, check_announce, check_scrape};
use super::connection::{Connection, ExchangeError};
use super::lifecycle::{Lifecycle, LifecycleConfig};
use super::population::{SimPeer, mix};
use super::query::{AnnounceOptions, RequestTarget};
use super::stats::{ErrorKind, Live, Stats};
use super::zipf::Zipf;

/// What every worker shares, read-only.
#[derive(Debug)]
pub struct Plan {
    /// The torrents, most popular first.
    pub info_hashes: Vec<InfoHash>,
    /// Torrent popularity, for scrapes.
    pub zipf: Zipf,
    /// The announce path with `?` or `&`.
    pub announce_prefix: String,
    /// The scrape path with `?` or `&` (present when scrapes are sent).
    pub scrape_prefix: Option<String>,
    /// How sessions unfold.
    pub lifecycle: LifecycleConfig,
    /// `numwant`, `ip`.
    pub announce: AnnounceOptions,
    /// Share of scrapes.
    pub scrape_ratio: f64,
    /// Most hashes in a scrape.
    pub scrape_max_hashes: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Seeds the workers' generators.
    pub seed: u64,
}

/// The kind of request prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An announce with this event.
    Announce(Event),
    /// A scrape.
    Scrape,
}

/// After a failed connect, wait this long before the next attempt (no hot spin on a dead target).
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// One connection and its peers.
#[derive(Debug)]
pub struct Worker {
    plan: Arc<Plan>,
    live: Arc<Live>,
    peers: Vec<(SimPeer, Lifecycle)>,
    next_peer: usize,
    rng: Rng,
    target: RequestTarget,
    body: Vec<u8>,
    conn: Connection,
    /// The request timeout: one timer for the worker's life, moved forward for each request
    /// (tokio extends a registered timer without touching its timer wheel).
    timer: Pin<Box<Sleep>>,
    /// What this worker counted.
    pub stats: Stats,
}

impl Worker {
    /// Worker `index`, owning `peers` (not empty).
    pub fn new(
        index: u32,
        plan: Arc<Plan>,
        live: Arc<Live>,
        peers: Vec<(SimPeer, Lifecycle)>,
        conn: Connection,
    ) -> Self {
        let mut rng = Rng::with_seed(mix(plan.seed, 0x776f_726b_0000_0000 | u64::from(index)));
        let next_peer = rng.usize(..peers.len().max(1));
        Worker {
            plan,
            live,
            peers,
            next_peer,
            rng,
            target: RequestTarget::new(),
            body: Vec::with_capacity(4096),
            conn,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            stats: Stats::default(),
        }
    }

    /// The shared counters.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// Closed loop: request after request until the stop flag or the request budget; returns
    /// when the last reply came in.
    pub async fn run_closed(mut self) -> (Stats, Instant) {
        while self.live.claim() {
            let kind = self.prepare();
            if self.send(kind, Instant::now()).await == Some(ErrorKind::Connect) && !self.live.stopped() {
                tokio::time::sleep(CONNECT_BACKOFF).await;
            }
        }
        self.finish()
    }

    /// The stats and the time the worker ended.
    pub fn finish(mut self) -> (Stats, Instant) {
        self.stats.connections_opened = self.conn.opened;
        (self.stats, Instant::now())
    }

    /// Writes the next request into the target buffer: a scrape with probability
    /// `scrape_ratio`, else the next peer's next announce.
    pub fn prepare(&mut self) -> Kind {
        let plan = &*self.plan;
        if let Some(prefix) = &plan.scrape_prefix
            && plan.scrape_ratio > 0.0
            && self.rng.f64() < plan.scrape_ratio
        {
            let n = self.rng.u32(1..=plan.scrape_max_hashes);
            let (rng, zipf) = (&mut self.rng, plan.zipf);
            // Indexes are below the torrent count, a u32.
            let hashes = (0..n).map(|_| &plan.info_hashes[zipf.sample_index(rng) as usize]);
            self.target.scrape(prefix, hashes);
            return Kind::Scrape;
        }
        let at = self.next_peer;
        self.next_peer = (at + 1) % self.peers.len();
        let (peer, life) = &mut self.peers[at];
        let step = life.next(&plan.lifecycle, &mut self.rng);
        let hash = &plan.info_hashes[peer.torrent as usize];
        self.target.announce(&plan.announce_prefix, hash, peer, &step, plan.announce);
        Kind::Announce(step.event)
    }

    /// Sends the prepared request and counts the outcome; latency runs from `since` (the
    /// intended send time in the open loop). Returns the error, if any.
    pub async fn send(&mut self, kind: Kind, since: Instant) -> Option<ErrorKind> {
        let request = Bytes::copy_from_slice(self.target.as_bytes());
        self.timer.as_mut().reset(Instant::now() + self.plan.timeout);
        let result = within(self.timer.as_mut(), self.conn.get(request, &mut self.body)).await;
        let latency = since.elapsed();
        match kind {
            Kind::Announce(event) => self.stats.announces.add(event),
            Kind::Scrape => self.stats.scrapes += 1,
        }
        self.stats.requests += 1;
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        let error = match result {
            None => {
                self.conn.reset();
                Some(ErrorKind::Timeout)
            }
            Some(Err(ExchangeError::Connect)) => Some(ErrorKind::Connect),
            Some(Err(ExchangeError::Io)) => {
                self.conn.reset();
                Some(ErrorKind::Io)
            }
            Some(Err(ExchangeError::TooLarge)) => {
                self.conn.reset();
                self.stats.latency.record_duration(latency);
                Some(ErrorKind::MalformedReply)
            }
            Some(Ok(status)) => {
                self.stats.latency.record_duration(latency);
                if status != http::StatusCode::OK {
                    Some(ErrorKind::HttpStatus)
                } else {
                    let verdict =
                        if kind == Kind::Scrape { check_scrape(&self.body) } else { check_announce(&self.body) };
                    match verdict {
                        Verdict::Ok => None,
                        Verdict::Failure(reason) => {
                            self.stats.failure_reason(&String::from_utf8_lossy(reason));
                            Some(ErrorKind::FailureReason)
                        }
                        Verdict::Malformed => Some(ErrorKind::MalformedReply),
                    }
                }
            }
        };
        match error {
            None => self.stats.ok += 1,
            Some(kind) => self.count_errors(kind, 1),
        }
        error
    }

    /// Counts `n` errors of `kind`.
    pub fn count_errors(&mut self, kind: ErrorKind, n: u64) {
        self.stats.errors.add(kind, n);
        self.live.errors.fetch_add(n, Ordering::Relaxed);
    }
}

/// `fut`'s output, or `None` if `timer` fires first.
async fn within<F: Future>(mut timer: Pin<&mut Sleep>, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}
