//! [`UdpConnection`]: one worker's BEP 15 "connection" — a UDP socket connected to the target,
//! and the connection id obtained with a connect request.
//!
//! The id is renewed before it expires (BEP 15: a client may use it for one minute after asking
//! for it; [`RENEW_AFTER`] counts from the moment the connect request went out), when the
//! tracker answers "invalid connection id" (then the request is sent once more with a fresh
//! id), or every N requests with `--udp-connect-every N` (the aquatic-style connect/announce
//! mix). Replies are matched by transaction id: a late reply to a request that timed out is
//! read and dropped. No allocation per request: the packet is written by the worker into its
//! own buffer and patched here with the connection and transaction ids.

use std::io::ErrorKind as IoKind;
use std::net::SocketAddr;
use std::time::Duration;

use octotracker_core::udp_wire::{ACTION_CONNECT, ACTION_ERROR, write_connect_request};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::connection::ExchangeError;

/// How long a connection id is used: BEP 15 lets a client use one for a minute after asking.
pub const RENEW_AFTER: Duration = Duration::from_secs(60);

/// Largest datagram read; a reply filling it may be truncated and is judged malformed.
pub(super) const MAX_REPLY: usize = 8192;

/// One worker's UDP socket and connection id.
pub(super) struct UdpConnection {
    addr: SocketAddr,
    socket: Option<UdpSocket>,
    /// The connection id and when its connect request was sent.
    id: Option<(u64, Instant)>,
    /// Connect again after this many requests on one id (`None`: only when it expires).
    connect_every: Option<u32>,
    /// Requests sent on the current id.
    uses: u32,
    next_tid: u32,
    buf: Box<[u8]>,
    /// Sockets opened so far.
    pub opened: u64,
    /// Connect requests sent so far (answered or not).
    pub connects: u64,
}

impl UdpConnection {
    /// Not connected yet: the first request opens the socket and connects. Transaction ids
    /// count up from `first_tid`.
    pub(super) fn new(addr: SocketAddr, connect_every: Option<u32>, first_tid: u32) -> Self {
        UdpConnection {
            addr,
            socket: None,
            id: None,
            connect_every,
            uses: 0,
            next_tid: first_tid,
            buf: vec![0u8; MAX_REPLY].into_boxed_slice(),
            opened: 0,
            connects: 0,
        }
    }

    /// Whether replies carry IPv6 peers (the family of the target).
    pub(super) fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The reply of the last successful [`exchange`](Self::exchange), `len` bytes.
    pub(super) fn reply(&self, len: usize) -> &[u8] {
        &self.buf[..len]
    }

    fn tid(&mut self) -> u32 {
        let tid = self.next_tid;
        self.next_tid = tid.wrapping_add(1);
        tid
    }

    /// Sends `packet` (an announce or scrape whose connection id, bytes 0..8, and transaction
    /// id, bytes 12..16, are filled in here) and waits for the reply with its transaction id;
    /// returns the reply's length (see [`reply`](Self::reply)). Connects first when there is no
    /// valid connection id. Not bounded in time: the caller puts a timeout around it
    /// (cancelling is safe: a late reply is skipped by the next exchange).
    pub(super) async fn exchange(&mut self, packet: &mut [u8]) -> Result<usize, ExchangeError> {
        if packet.len() < 16 {
            return Err(ExchangeError::Io);
        }
        if self.socket.is_none() {
            self.open().await?;
        }
        let expired = match self.id {
            Some((_, at)) => at.elapsed() >= RENEW_AFTER || self.connect_every.is_some_and(|n| self.uses >= n),
            None => true,
        };
        if expired {
            self.connect().await?;
        }
        for attempt in 0..2 {
            let Some((id, _)) = self.id else { return Err(ExchangeError::Connect) };
            let tid = self.tid();
            packet[0..8].copy_from_slice(&id.to_be_bytes());
            packet[12..16].copy_from_slice(&tid.to_be_bytes());
            self.uses += 1;
            let n = self.round_trip(packet, tid).await?;
            // An id the tracker no longer accepts (restarted, rotated its key): connect again
            // and resend, once.
            if attempt == 0 && is_invalid_id_error(&self.buf[..n]) {
                self.connect().await?;
                continue;
            }
            return Ok(n);
        }
        Err(ExchangeError::Io)
    }

    async fn open(&mut self) -> Result<(), ExchangeError> {
        let local: SocketAddr =
            if self.addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().map_err(|_| ExchangeError::Connect)?;
        let socket = UdpSocket::bind(local).await.map_err(|_| ExchangeError::Connect)?;
        socket.connect(self.addr).await.map_err(|_| ExchangeError::Connect)?;
        self.socket = Some(socket);
        self.id = None;
        self.opened += 1;
        Ok(())
    }

    /// Asks for a new connection id.
    async fn connect(&mut self) -> Result<(), ExchangeError> {
        self.id = None;
        let tid = self.tid();
        let mut packet = Vec::with_capacity(16);
        write_connect_request(&mut packet, tid);
        let sent = Instant::now();
        self.connects += 1;
        let n = self.round_trip(&packet, tid).await?;
        let reply = &self.buf[..n];
        if n != 16 || be32(reply, 0) != ACTION_CONNECT {
            return Err(ExchangeError::Connect);
        }
        let id = u64::from_be_bytes(reply[8..16].try_into().map_err(|_| ExchangeError::Connect)?);
        self.id = Some((id, sent));
        self.uses = 0;
        Ok(())
    }

    /// Sends `packet` once and reads datagrams until one carries `tid`.
    async fn round_trip(&mut self, packet: &[u8], tid: u32) -> Result<usize, ExchangeError> {
        let Some(socket) = &self.socket else { return Err(ExchangeError::Connect) };
        socket.send(packet).await.map_err(io_error)?;
        loop {
            let n = socket.recv(&mut self.buf).await.map_err(io_error)?;
            if n >= 8 && be32(&self.buf, 4) == tid {
                return Ok(n);
            }
        }
    }
}

/// A refused datagram (ICMP port unreachable: nothing listens) is a connect failure, so that a
/// closed loop backs off instead of spinning on a dead target; anything else is I/O.
fn io_error(e: std::io::Error) -> ExchangeError {
    match e.kind() {
        IoKind::ConnectionRefused | IoKind::ConnectionReset | IoKind::NotConnected => ExchangeError::Connect,
        _ => ExchangeError::Io,
    }
}

fn be32(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}

/// An error packet whose message is about the connection id.
fn is_invalid_id_error(reply: &[u8]) -> bool {
    reply.len() >= 8
        && be32(reply, 0) == ACTION_ERROR
        && reply[8..].windows(13).any(|w| w.eq_ignore_ascii_case(b"connection id"))
}

impl std::fmt::Debug for UdpConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpConnection")
            .field("addr", &self.addr)
            .field("connected", &self.id.is_some())
            .field("opened", &self.opened)
            .field("connects", &self.connects)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket as StdSocket;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex};

    use octotracker_core::udp_wire::{UdpRequest, parse_request, write_connect, write_error};

    use super::*;

    /// A fake tracker on 127.0.0.1: hands out ids 1, 2, 3…; answers a scrape of any id with an
    /// empty scrape reply, except that id 1 is refused once with "invalid connection id" when
    /// `refuse_first` is set. Records the connection id of every scrape.
    fn fake_tracker(refuse_first: bool) -> (SocketAddr, Arc<Mutex<Vec<u64>>>) {
        let socket = StdSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let addr = socket.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ids = AtomicU32::new(0);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut refused = !refuse_first;
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let mut out = Vec::new();
                match parse_request(&buf[..n]) {
                    Ok(UdpRequest::Connect { transaction_id }) => {
                        let id = u64::from(ids.fetch_add(1, Ordering::Relaxed) + 1);
                        write_connect(&mut out, transaction_id, id);
                    }
                    Ok(UdpRequest::Scrape { connection_id, transaction_id, .. }) => {
                        log.lock().unwrap().push(connection_id);
                        if !refused {
                            refused = true;
                            write_error(&mut out, transaction_id, "invalid connection id: connect again");
                        } else {
                            out.extend_from_slice(&2u32.to_be_bytes());
                            out.extend_from_slice(&transaction_id.to_be_bytes());
                        }
                    }
                    _ => continue,
                }
                let _ = socket.send_to(&out, from);
            }
        });
        (addr, seen)
    }

    fn scrape_packet() -> Vec<u8> {
        let mut p = Vec::new();
        octotracker_core::udp_wire::write_scrape_request(&mut p, 0, 0, &[octotracker_core::InfoHash([7; 20])]);
        p
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn one_connect_serves_many_requests() {
        let (addr, seen) = fake_tracker(false);
        block_on(async {
            let mut conn = UdpConnection::new(addr, None, 77);
            let mut packet = scrape_packet();
            for _ in 0..5 {
                let n = conn.exchange(&mut packet).await.unwrap();
                assert_eq!(n, 8);
                assert_eq!(be32(conn.reply(n), 0), 2);
            }
            assert_eq!((conn.opened, conn.connects), (1, 1));
        });
        assert_eq!(*seen.lock().unwrap(), [1, 1, 1, 1, 1]);
    }

    #[test]
    fn connect_every_n_requests() {
        let (addr, seen) = fake_tracker(false);
        block_on(async {
            let mut conn = UdpConnection::new(addr, Some(2), 0);
            let mut packet = scrape_packet();
            for _ in 0..5 {
                conn.exchange(&mut packet).await.unwrap();
            }
            assert_eq!(conn.connects, 3);
        });
        assert_eq!(*seen.lock().unwrap(), [1, 1, 2, 2, 3]);
    }

    #[test]
    fn an_invalid_connection_id_is_renewed_and_the_request_resent() {
        let (addr, seen) = fake_tracker(true);
        block_on(async {
            let mut conn = UdpConnection::new(addr, None, u32::MAX);
            let mut packet = scrape_packet();
            let n = conn.exchange(&mut packet).await.unwrap();
            assert_eq!(be32(conn.reply(n), 0), 2, "the resent request's reply");
            assert_eq!(conn.connects, 2);
        });
        assert_eq!(*seen.lock().unwrap(), [1, 2]);
    }

    #[test]
    fn a_dead_target_is_a_connect_error() {
        let addr = StdSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        block_on(async {
            let mut conn = UdpConnection::new(addr, None, 0);
            let mut packet = scrape_packet();
            let got = tokio::time::timeout(Duration::from_secs(5), conn.exchange(&mut packet)).await;
            assert_eq!(got.expect("ICMP port unreachable surfaces at once"), Err(ExchangeError::Connect));
        });
    }

    #[test]
    fn invalid_id_errors_are_recognised() {
        let mut e = Vec::new();
        write_error(&mut e, 1, "invalid connection id: connect again");
        assert!(is_invalid_id_error(&e));
        e.clear();
        write_error(&mut e, 1, "torrent not whitelisted");
        assert!(!is_invalid_id_error(&e));
    }
}
