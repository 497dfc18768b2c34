//! The UDP side of `populate` (BEP 15): one socket per worker, one announce in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use octotracker_core::udp_wire::{UdpReply, parse_reply, write_announce_request, write_connect_request};
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use crate::{Announce, Options, Totals};

/// How long a reply may take before the request is sent again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Sends of one request before it counts as an error.
const ATTEMPTS: u32 = 5;
/// A connection id is used this long, then a new one is asked for (BEP 15: ids last two
/// minutes at least).
const ID_LIFETIME: Duration = Duration::from_secs(60);

/// One socket's loop: takes the next announce number until all are sent.
pub(crate) async fn worker(o: Arc<Options>, addr: SocketAddr, next: Arc<AtomicU64>, totals: Arc<Totals>) {
    let local: SocketAddr = if addr.is_ipv6() { "[::1]:0" } else { "127.0.0.1:0" }.parse().expect("an address");
    let socket = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => return totals.error(format!("bind {local}: {e}")),
    };
    if let Err(e) = socket.connect(addr).await {
        return totals.error(format!("connect {addr}: {e}"));
    }
    let mut client =
        Client { socket, v6: addr.is_ipv6(), id: None, buf: vec![0; 2048], packet: Vec::with_capacity(128), tid: 0 };
    let total = o.torrents * o.peers_per_torrent;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return;
        }
        let a = Announce::of(&o, i);
        match client.announce(&a).await {
            Ok(UdpReply::Announce { stats, .. }) => {
                if a.last_round(&o) {
                    totals.last_round_peers.fetch_add(u64::from(stats.complete + stats.incomplete), Ordering::Relaxed);
                }
            }
            Ok(other) => totals.error(format!("torrent {}, round {}: {other:?}", a.torrent, a.round)),
            Err(e) => totals.error(format!("torrent {}, round {}: {e}", a.torrent, a.round)),
        }
    }
}

struct Client {
    socket: UdpSocket,
    v6: bool,
    /// The connection id and when it was given.
    id: Option<(u64, Instant)>,
    buf: Vec<u8>,
    packet: Vec<u8>,
    /// The last transaction id used.
    tid: u32,
}

impl Client {
    /// Announces `a`, connecting first when the id is missing, old or refused.
    async fn announce(&mut self, a: &Announce) -> Result<UdpReply, String> {
        let mut req = AnnounceRequest::new(InfoHash(a.info_hash), PeerId(a.peer_id), a.port);
        req.left = a.left;
        req.event = Event::Started;
        req.key = Some(a.key);
        req.numwant = Some(50);
        for _ in 0..2 {
            let id = match self.id {
                Some((id, at)) if at.elapsed() < ID_LIFETIME => id,
                _ => self.connect().await?,
            };
            let tid = self.next_tid();
            self.packet.clear();
            write_announce_request(&mut self.packet, id, tid, &req, &[]);
            match self.round_trip(tid).await? {
                UdpReply::Error { message, .. } if message.contains("connection id") => self.id = None,
                reply => return Ok(reply),
            }
        }
        Err("the connection id was refused twice".to_owned())
    }

    async fn connect(&mut self) -> Result<u64, String> {
        let tid = self.next_tid();
        self.packet.clear();
        write_connect_request(&mut self.packet, tid);
        match self.round_trip(tid).await? {
            UdpReply::Connect { connection_id, .. } => {
                self.id = Some((connection_id, Instant::now()));
                Ok(connection_id)
            }
            other => Err(format!("reply to connect: {other:?}")),
        }
    }

    fn next_tid(&mut self) -> u32 {
        self.tid = self.tid.wrapping_add(1);
        self.tid
    }

    /// Sends `self.packet` until a reply with `tid` arrives, [`ATTEMPTS`] times at most.
    async fn round_trip(&mut self, tid: u32) -> Result<UdpReply, String> {
        for _ in 0..ATTEMPTS {
            self.socket.send(&self.packet).await.map_err(|e| format!("send: {e}"))?;
            let until = Instant::now() + RETRY_AFTER;
            while let Ok(received) = tokio::time::timeout_at(until, self.socket.recv(&mut self.buf)).await {
                let n = received.map_err(|e| format!("receive: {e}"))?;
                let reply = parse_reply(&self.buf[..n], self.v6).map_err(|e| e.to_string())?;
                if reply.transaction_id() == tid {
                    return Ok(reply);
                }
            }
        }
        Err(format!("no reply after {ATTEMPTS} sends"))
    }
}
