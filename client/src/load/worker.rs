//! [`Worker`]: one connection's share of the population and its request loop. It picks the
//! next request (an announce by the next peer in its round, or a scrape), sends it, judges the
//! reply and counts the outcome. [`Worker::run_closed`] is the closed loop; the open loop is in
//! `open_loop.rs`. The transport is an enum ([`Transport`]): an HTTP/1.1 connection or a UDP
//! socket with its connection id; each request takes one branch, no dynamic dispatch.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use fastrand::Rng;
use octotracker_core::udp_wire::{write_announce_request, write_scrape_request};
use octotracker_core::{AnnounceRequest, Event, InfoHash};
use tokio::time::{Instant, Sleep};

use super::check::{Verdict, check_announce, check_scrape, check_udp_announce, check_udp_scrape};
use super::connection::{Connection, ExchangeError};
use super::lifecycle::{Lifecycle, LifecycleConfig};
use super::population::{SimPeer, mix, peer_id};
use super::query::{AnnounceOptions, RequestTarget};
use super::stats::{ErrorKind, Live, Stats};
use super::target::Scheme;
use super::udp::UdpConnection;
use super::zipf::Zipf;

/// What every worker shares, read-only.
#[derive(Debug)]
pub(super) struct Plan {
    /// The torrents, most popular first.
    pub info_hashes: Vec<InfoHash>,
    /// Torrent popularity, for scrapes.
    pub zipf: Zipf,
    /// HTTP or UDP.
    pub scheme: Scheme,
    /// HTTP: the announce path with `?` or `&`. UDP: the BEP 41 URL data.
    pub announce_prefix: String,
    /// HTTP: the scrape path with `?` or `&`; UDP: empty (present when scrapes are sent).
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
pub(super) enum Kind {
    /// An announce with this event.
    Announce(Event),
    /// A scrape.
    Scrape,
}

/// How a worker reaches the tracker.
#[derive(Debug)]
pub(super) enum Transport {
    /// An HTTP/1.1 connection.
    Http(Connection),
    /// A UDP socket and connection id.
    Udp(UdpConnection),
}

/// After a failed connect, wait this long before the next attempt (no hot spin on a dead target).
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// One connection and its peers.
#[derive(Debug)]
pub(super) struct Worker {
    plan: Arc<Plan>,
    live: Arc<Live>,
    peers: Vec<(SimPeer, Lifecycle)>,
    next_peer: usize,
    rng: Rng,
    target: RequestTarget,
    body: Vec<u8>,
    /// UDP: the prepared packet (connection and transaction ids filled in at send time).
    packet: Vec<u8>,
    /// Hashes in the prepared scrape.
    scrape_hashes: usize,
    conn: Transport,
    /// The request timeout: one timer for the worker's life, moved forward for each request
    /// (tokio extends a registered timer without touching its timer wheel).
    timer: Pin<Box<Sleep>>,
    /// What this worker counted.
    pub stats: Stats,
}

impl Worker {
    /// Worker `index`, owning `peers` (not empty).
    pub(super) fn new(
        index: u32,
        plan: Arc<Plan>,
        live: Arc<Live>,
        peers: Vec<(SimPeer, Lifecycle)>,
        conn: Transport,
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
            packet: Vec::with_capacity(2048),
            scrape_hashes: 0,
            conn,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            stats: Stats::default(),
        }
    }

    /// The shared counters.
    pub(super) fn live(&self) -> &Live {
        &self.live
    }

    /// Closed loop: request after request until the stop flag or the request budget; returns
    /// when the last reply came in.
    pub(super) async fn run_closed(mut self) -> (Stats, Instant) {
        while self.live.claim() {
            let kind = self.prepare();
            if self.send(kind, Instant::now()).await == Some(ErrorKind::Connect) && !self.live.stopped() {
                tokio::time::sleep(CONNECT_BACKOFF).await;
            }
        }
        self.finish()
    }

    /// The stats and the time the worker ended.
    pub(super) fn finish(mut self) -> (Stats, Instant) {
        match &self.conn {
            Transport::Http(conn) => self.stats.connections_opened = conn.opened,
            Transport::Udp(conn) => {
                self.stats.connections_opened = conn.opened;
                self.stats.udp_connects = conn.connects;
            }
        }
        (self.stats, Instant::now())
    }

    /// Writes the next request into the target buffer: a scrape with probability
    /// `scrape_ratio`, else the next peer's next announce.
    pub(super) fn prepare(&mut self) -> Kind {
        let plan = &*self.plan;
        if let Some(prefix) = &plan.scrape_prefix
            && plan.scrape_ratio > 0.0
            && self.rng.f64() < plan.scrape_ratio
        {
            let n = self.rng.u32(1..=plan.scrape_max_hashes);
            let (rng, zipf) = (&mut self.rng, plan.zipf);
            // Indexes are below the torrent count, a u32.
            let hashes = (0..n).map(|_| &plan.info_hashes[zipf.sample_index(rng) as usize]);
            self.scrape_hashes = n as usize;
            match plan.scheme {
                Scheme::Http => self.target.scrape(prefix, hashes),
                Scheme::Udp => {
                    self.packet.clear();
                    write_scrape_request(&mut self.packet, 0, 0, &[]);
                    for h in hashes {
                        self.packet.extend_from_slice(&h.0);
                    }
                }
            }
            return Kind::Scrape;
        }
        let at = self.next_peer;
        self.next_peer = (at + 1) % self.peers.len();
        let (peer, life) = &mut self.peers[at];
        let step = life.next(&plan.lifecycle, &mut self.rng);
        let hash = &plan.info_hashes[peer.torrent as usize];
        match plan.scheme {
            Scheme::Http => self.target.announce(&plan.announce_prefix, hash, peer, &step, plan.announce),
            Scheme::Udp => {
                let mut req = AnnounceRequest::new(*hash, peer_id(peer.index, step.generation), peer.port);
                req.uploaded = step.uploaded;
                req.downloaded = step.downloaded;
                req.left = step.left;
                req.event = step.event;
                req.numwant = plan.announce.numwant;
                req.key = Some(peer.index);
                req.ip = plan.announce.send_ip.then(|| std::net::IpAddr::V4(peer.session_ip(step.generation)));
                self.packet.clear();
                write_announce_request(&mut self.packet, 0, 0, &req, plan.announce_prefix.as_bytes());
            }
        }
        Kind::Announce(step.event)
    }

    /// Sends the prepared request and counts the outcome; latency runs from `since` (the
    /// intended send time in the open loop). Returns the error, if any.
    pub(super) async fn send(&mut self, kind: Kind, since: Instant) -> Option<ErrorKind> {
        self.timer.as_mut().reset(Instant::now() + self.plan.timeout);
        let error = match &mut self.conn {
            Transport::Http(conn) => {
                let request = Bytes::copy_from_slice(self.target.as_bytes());
                let result = within(self.timer.as_mut(), conn.get(request, &mut self.body)).await;
                let latency = since.elapsed();
                match result {
                    None => {
                        conn.reset();
                        Some(ErrorKind::Timeout)
                    }
                    Some(Err(ExchangeError::Connect)) => Some(ErrorKind::Connect),
                    Some(Err(ExchangeError::Io)) => {
                        conn.reset();
                        Some(ErrorKind::Io)
                    }
                    Some(Err(ExchangeError::TooLarge)) => {
                        conn.reset();
                        self.stats.latency.record_duration(latency);
                        Some(ErrorKind::MalformedReply)
                    }
                    Some(Ok(status)) => {
                        self.stats.latency.record_duration(latency);
                        if status != http::StatusCode::OK {
                            Some(ErrorKind::HttpStatus)
                        } else {
                            let verdict = if kind == Kind::Scrape {
                                check_scrape(&self.body)
                            } else {
                                check_announce(&self.body)
                            };
                            judge(&mut self.stats, verdict)
                        }
                    }
                }
            }
            Transport::Udp(conn) => {
                let result = within(self.timer.as_mut(), conn.exchange(&mut self.packet)).await;
                let latency = since.elapsed();
                match result {
                    // The socket and id stay: a late reply is skipped by transaction id.
                    None => Some(ErrorKind::Timeout),
                    Some(Err(ExchangeError::Connect)) => Some(ErrorKind::Connect),
                    Some(Err(_)) => Some(ErrorKind::Io),
                    Some(Ok(n)) => {
                        self.stats.latency.record_duration(latency);
                        let reply = conn.reply(n);
                        let verdict = if kind == Kind::Scrape {
                            check_udp_scrape(reply, self.scrape_hashes)
                        } else {
                            check_udp_announce(reply, conn.is_v6())
                        };
                        judge(&mut self.stats, verdict)
                    }
                }
            }
        };
        match kind {
            Kind::Announce(event) => self.stats.announces.add(event),
            Kind::Scrape => self.stats.scrapes += 1,
        }
        self.stats.requests += 1;
        self.live.requests.fetch_add(1, Ordering::Relaxed);
        match error {
            None => self.stats.ok += 1,
            Some(kind) => self.count_errors(kind, 1),
        }
        error
    }

    /// Counts `n` errors of `kind`.
    pub(super) fn count_errors(&mut self, kind: ErrorKind, n: u64) {
        self.stats.errors.add(kind, n);
        self.live.errors.fetch_add(n, Ordering::Relaxed);
    }
}

/// Counts a failure reason; the error a verdict makes, if any.
fn judge(stats: &mut Stats, verdict: Verdict<'_>) -> Option<ErrorKind> {
    match verdict {
        Verdict::Ok => None,
        Verdict::Failure(reason) => {
            stats.failure_reason(&String::from_utf8_lossy(reason));
            Some(ErrorKind::FailureReason)
        }
        Verdict::Malformed => Some(ErrorKind::MalformedReply),
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

#[cfg(test)]
mod tests {
    use octotracker_core::udp_wire::{UdpRequest, parse_request};

    use super::*;
    use crate::load::population::info_hashes;

    fn udp_worker(numwant: Option<u32>, scrape_ratio: f64) -> Worker {
        let plan = Plan {
            info_hashes: info_hashes(10, 1).collect(),
            zipf: Zipf::new(10, 1.0).unwrap(),
            scheme: Scheme::Udp,
            announce_prefix: "/key/announce".into(),
            scrape_prefix: Some(String::new()),
            lifecycle: LifecycleConfig::default(),
            announce: AnnounceOptions { numwant, send_ip: false },
            scrape_ratio,
            scrape_max_hashes: 5,
            timeout: Duration::from_secs(1),
            seed: 1,
        };
        let peers = vec![(SimPeer { index: 3, torrent: 7, port: 1030 }, Lifecycle::new())];
        let conn = Transport::Udp(UdpConnection::new("127.0.0.1:9".parse().unwrap(), None, 0));
        Worker::new(0, Arc::new(plan), Arc::new(Live::new(None)), peers, conn)
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn udp_announces_carry_the_peer_its_step_numwant_and_url_data() {
        let _rt = runtime().enter();
        let mut worker = udp_worker(Some(30), 0.0);
        assert_eq!(worker.prepare(), Kind::Announce(Event::Started));
        let Ok(UdpRequest::Announce(a)) = parse_request(&worker.packet) else { panic!("not an announce") };
        assert_eq!(a.request.info_hash, worker.plan.info_hashes[7]);
        assert_eq!(a.request.peer_id.0[..16], peer_id(3, 0).0[..16], "the peer slot's id");
        assert_eq!(a.request.port, 1030);
        assert_eq!(a.request.event, Event::Started);
        assert_eq!(a.request.numwant, Some(30));
        assert_eq!(a.request.ip, None);
        assert_eq!(a.url_data, b"/key/announce");
        assert_eq!(worker.prepare(), Kind::Announce(Event::None));
        let Ok(UdpRequest::Announce(a)) = parse_request(&worker.packet) else { panic!("not an announce") };
        assert_eq!(a.request.event, Event::None);
        let mut worker = udp_worker(None, 0.0);
        worker.prepare();
        let Ok(UdpRequest::Announce(a)) = parse_request(&worker.packet) else { panic!("not an announce") };
        assert_eq!(a.request.numwant, None, "no --numwant: -1, the tracker's default");
    }

    #[test]
    fn udp_scrapes_name_their_hashes() {
        let _rt = runtime().enter();
        let mut worker = udp_worker(None, 1.0);
        for _ in 0..20 {
            assert_eq!(worker.prepare(), Kind::Scrape);
            let Ok(UdpRequest::Scrape { info_hashes, .. }) = parse_request(&worker.packet) else {
                panic!("not a scrape")
            };
            assert_eq!(info_hashes.len(), worker.scrape_hashes);
            assert!((1..=5).contains(&info_hashes.len()));
            assert!(info_hashes.iter().all(|h| worker.plan.info_hashes.contains(h)));
        }
    }
}
