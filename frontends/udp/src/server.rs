//! [`UdpFrontend`]: receive workers on one socket, each answering packets in a loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use octotracker_core::udp_wire::{
    UdpRequest, max_peers, parse_request, write_announce, write_connect, write_error, write_scrape,
};
use octotracker_core::{
    Frontend, FrontendError, RateLimit, RequestKind, ScrapeRequest, Shutdown, Tracker, TrackerError,
};
use tokio::net::UdpSocket;

use crate::batch::{BATCH, Received, Replies};
use crate::limits::UdpLimits;
use crate::{ConnectionIds, KeysAt};

/// Settings of the UDP frontend.
#[derive(Debug, Clone)]
pub struct UdpConfig {
    /// Receive workers sharing the socket (default: one per core).
    pub workers: usize,
    /// Per-address request limit (`None`, the default: no limit). Announces and scrapes over it
    /// get an error packet with the same reason as HTTP's; connects over it are dropped (see
    /// the crate docs).
    pub rate_limit: Option<RateLimit>,
    /// Datagrams moved per system call, 1 to 32 (default 32): a worker takes every datagram
    /// queued, up to this many, with one `recvmmsg` and sends their replies with one
    /// `sendmmsg` (Linux; elsewhere, and with 1, one `recv_from`/`send_to` each).
    pub batch: usize,
    /// Give each worker a socket of its own, all bound to the address with `SO_REUSEPORT`
    /// (the kernel spreads clients over them by address), instead of one socket shared by
    /// every worker (default: off). Needs the first socket bound with `SO_REUSEPORT` too, as
    /// [`bind_socket`](crate::bind_socket) and [`UdpFrontend::bind`] do when this is on;
    /// otherwise the workers share it.
    pub reuse_port: bool,
    /// `SO_RCVBUF` of the sockets, in bytes (`None`, the default: the system's,
    /// `net.core.rmem_default`). A larger buffer absorbs bursts that the workers would
    /// otherwise drop (counted in `/proc/net/snmp` as `Udp: RcvbufErrors`); the kernel caps it
    /// at `net.core.rmem_max`.
    pub recv_buffer: Option<usize>,
}

impl Default for UdpConfig {
    fn default() -> Self {
        UdpConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            rate_limit: None,
            batch: BATCH,
            reuse_port: false,
            recv_buffer: None,
        }
    }
}

/// The BEP 15 tracker on one UDP socket.
#[derive(Debug)]
pub struct UdpFrontend {
    socket: Arc<UdpSocket>,
    config: UdpConfig,
}

impl UdpFrontend {
    /// Serves on an already bound socket.
    pub fn new(socket: UdpSocket, config: UdpConfig) -> Self {
        UdpFrontend { socket: Arc::new(socket), config }
    }

    /// Binds `addr` (with [`bind_socket`](crate::bind_socket)) and serves on it.
    pub async fn bind(addr: SocketAddr, config: UdpConfig) -> std::io::Result<Self> {
        let socket = UdpSocket::from_std(crate::bind_socket(addr, &config)?)?;
        Ok(Self::new(socket, config))
    }

    /// The socket of worker `n`: the frontend's own for the first, and with
    /// [`UdpConfig::reuse_port`] a new one bound to the same address for each other (the
    /// shared one when that fails: the first socket was bound without `SO_REUSEPORT`).
    fn worker_socket(&self, n: usize) -> Arc<UdpSocket> {
        if n == 0 || !self.config.reuse_port {
            return self.socket.clone();
        }
        let bound = self
            .socket
            .local_addr()
            .and_then(|addr| crate::bind_socket(addr, &self.config))
            .and_then(UdpSocket::from_std);
        match bound {
            Ok(socket) => Arc::new(socket),
            Err(e) => {
                tracing::warn!(error = %e, "udp: no SO_REUSEPORT socket for worker {n}; it shares the first socket");
                self.socket.clone()
            }
        }
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }
}

#[async_trait]
impl Frontend for UdpFrontend {
    async fn serve(self: Box<Self>, tracker: Arc<Tracker>, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        let ids = Arc::new(ConnectionIds::default());
        let limits = self.config.rate_limit.map(|limit| Arc::new(UdpLimits::new(limit)));
        if let Some(bytes) = crate::socket::recv_buffer_size(&self.socket) {
            tracing::debug!(bytes, "udp receive buffer");
        }
        let mut workers = tokio::task::JoinSet::new();
        for n in 0..self.config.workers.max(1) {
            let worker = Worker {
                socket: self.worker_socket(n),
                tracker: tracker.clone(),
                ids: ids.clone(),
                limits: limits.clone(),
                batch: self.config.batch,
            };
            workers.spawn(worker.run());
        }
        // Datagrams need no draining: stop the workers when asked.
        (&mut shutdown).await;
        workers.abort_all();
        while workers.join_next().await.is_some() {}
        Ok(())
    }
}

/// One receive loop.
struct Worker {
    socket: Arc<UdpSocket>,
    tracker: Arc<Tracker>,
    ids: Arc<ConnectionIds>,
    limits: Option<Arc<UdpLimits>>,
    batch: usize,
}

impl Worker {
    /// Receives a batch, answers each datagram into its own reusable buffer, sends the replies
    /// as a batch; the loop allocates nothing per datagram once its buffers have grown.
    async fn run(self) {
        let local = self.socket.local_addr().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        let mut received = Received::new(self.batch, local);
        let mut replies = Replies::new(self.batch);
        loop {
            if let Err(e) = received.receive(&self.socket).await {
                // ICMP errors of earlier sends surface here on some platforms: not fatal.
                tracing::debug!(error = %e, "udp receive failed");
                continue;
            }
            replies.clear();
            // One reading of the clock and of the keys per batch, for connection ids (the engine
            // reads its own clock).
            let now = self.tracker.now();
            let ids = self.ids.at(now);
            for (packet, from) in received.datagrams() {
                if from.port() == 0 {
                    // No one to answer (a sender address the socket could not read).
                    continue;
                }
                self.answer(packet, from, &ids, replies.next()).await;
                replies.commit(from);
            }
            replies.send(&self.socket).await;
        }
    }

    /// Writes the reply to `packet` from `from` into `out` (nothing: drop it).
    async fn answer(&self, packet: &[u8], from: SocketAddr, ids: &KeysAt, out: &mut Vec<u8>) {
        let started = self.tracker.observer().map(|_| Instant::now());
        let request = match parse_request(packet) {
            Ok(request) => request,
            Err(e) => {
                if let Some(obs) = self.tracker.observer() {
                    obs.failure("udp_malformed");
                }
                if let Some(tid) = e.transaction_id {
                    write_error(out, tid, e.reason);
                }
                return;
            }
        };
        let kind = match request {
            UdpRequest::Connect { transaction_id } => {
                if !self.allowed_connect(&from) {
                    return;
                }
                write_connect(out, transaction_id, ids.make(&from));
                return;
            }
            UdpRequest::Announce(announce) => {
                if !ids.check(announce.connection_id, &from) {
                    self.tracker.record_rejected(RequestKind::Announce, "udp_connection_id");
                    write_error(out, announce.transaction_id, "invalid connection id: connect again");
                    return;
                }
                if !self.allowed(RequestKind::Announce, &from, announce.transaction_id, out) {
                    return;
                }
                let mut req = announce.request.clone();
                // Replies always fit one datagram.
                let cap = max_peers(from.is_ipv6() && !is_v4_mapped(&from)) as u32;
                req.numwant = Some(req.numwant.unwrap_or(self.tracker.config().numwant_default).min(cap));
                match self.tracker.announce_via("udp", &req, from.ip(), announce.passkey()).await {
                    Ok(response) => write_announce(out, announce.transaction_id, &response),
                    Err(e) => fail(out, announce.transaction_id, &e),
                }
                RequestKind::Announce
            }
            UdpRequest::Scrape { connection_id, transaction_id, info_hashes } => {
                if !ids.check(connection_id, &from) {
                    self.tracker.record_rejected(RequestKind::Scrape, "udp_connection_id");
                    write_error(out, transaction_id, "invalid connection id: connect again");
                    return;
                }
                if !self.allowed(RequestKind::Scrape, &from, transaction_id, out) {
                    return;
                }
                // A UDP scrape answers every hash asked, in order: refused ones as zeros.
                let request = ScrapeRequest { info_hashes };
                match self.tracker.scrape_via("udp", &request, None).await {
                    Ok(mut response) => {
                        // Access control left some out: put every hash asked back, in order.
                        if response.files.len() != request.info_hashes.len() {
                            let served: std::collections::HashMap<_, _> = response.files.into_iter().collect();
                            response.files = request
                                .info_hashes
                                .iter()
                                .map(|h| (*h, served.get(h).copied().unwrap_or_default()))
                                .collect();
                        }
                        write_scrape(out, transaction_id, &response);
                    }
                    Err(e) => fail(out, transaction_id, &e),
                }
                RequestKind::Scrape
            }
        };
        if let (Some(obs), Some(started)) = (self.tracker.observer(), started) {
            obs.request("udp", kind, started.elapsed());
        }
    }
}

impl Worker {
    /// Whether a connect from `from` is within the rate limit (counted as `rate_limited` if not;
    /// no reply is written, see the crate docs).
    fn allowed_connect(&self, from: &SocketAddr) -> bool {
        let Some(limits) = &self.limits else { return true };
        if limits.allow_connect(from.ip(), Instant::now()) {
            return true;
        }
        self.tracker.record_rate_limited(None);
        false
    }

    /// Whether an announce or scrape from `from` is within the rate limit; if not, the error
    /// packet is written into `out` and the refusal counted.
    fn allowed(&self, kind: RequestKind, from: &SocketAddr, transaction_id: u32, out: &mut Vec<u8>) -> bool {
        let Some(limits) = &self.limits else { return true };
        if limits.allow_request(from.ip(), Instant::now()) {
            return true;
        }
        self.tracker.record_rate_limited(Some(kind));
        write_error(out, transaction_id, limits.reason());
        false
    }
}

fn fail(out: &mut Vec<u8>, transaction_id: u32, e: &TrackerError) {
    if let TrackerError::Storage(s) = e {
        tracing::warn!(error = %s, "storage failure");
    }
    out.clear();
    write_error(out, transaction_id, &e.failure_reason());
}

fn is_v4_mapped(addr: &SocketAddr) -> bool {
    matches!(addr, SocketAddr::V6(a) if a.ip().to_ipv4_mapped().is_some())
}
