//! [`UdpTrackerClient`]: announce and scrape over BEP 15 (`udp://HOST:PORT[/path?query]`), the
//! path and query sent as BEP 41 URL data (how a private tracker's passkey travels).

use std::net::SocketAddr;
use std::time::Duration;

use octotracker_core::udp_wire::{
    UdpReply, parse_reply, write_announce_request, write_connect_request, write_scrape_request,
};
use octotracker_core::{AnnounceRequest, InfoHash};
use tokio::net::UdpSocket;

use crate::{AnnounceReply, ClientError, Reply, ReplyPeer, ScrapeFile, ScrapeReply};

/// A UDP tracker client. Each request connects first (a fresh connection id), then sends its
/// packet; lost packets are sent again after 1, 2, 4… seconds, within the overall timeout.
#[derive(Debug, Clone)]
pub struct UdpTrackerClient {
    timeout: Duration,
}

impl Default for UdpTrackerClient {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed `udp://` URL.
struct Target {
    addr: SocketAddr,
    url_data: Vec<u8>,
}

async fn target(url: &str) -> Result<Target, ClientError> {
    let bad = |why| ClientError::Url { url: url.to_owned(), why };
    let rest = url.strip_prefix("udp://").ok_or(bad("expected udp://HOST:PORT"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let addr = tokio::net::lookup_host(authority)
        .await
        .map_err(|_| bad("cannot resolve HOST:PORT"))?
        .next()
        .ok_or(bad("cannot resolve HOST:PORT"))?;
    Ok(Target { addr, url_data: path.as_bytes().to_vec() })
}

impl UdpTrackerClient {
    /// A client giving each request 15 seconds.
    pub fn new() -> Self {
        UdpTrackerClient { timeout: Duration::from_secs(15) }
    }

    /// The same client with another overall timeout per request.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends `packet(connection_id)` after connecting, and returns the reply to it.
    async fn exchange(&self, target: &Target, packet: impl Fn(u64, u32) -> Vec<u8>) -> Result<UdpReply, ClientError> {
        let local = if target.addr.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" };
        let socket = UdpSocket::bind(local).await.map_err(|e| ClientError::Transport(e.to_string()))?;
        socket.connect(target.addr).await.map_err(|e| ClientError::Transport(e.to_string()))?;
        let v6 = target.addr.is_ipv6();
        let deadline = tokio::time::Instant::now() + self.timeout;
        let connect_tid = fastrand::u32(..);
        let mut connect = Vec::new();
        write_connect_request(&mut connect, connect_tid);
        let connection_id = match self.round_trip(&socket, &connect, connect_tid, v6, deadline).await? {
            UdpReply::Connect { connection_id, .. } => connection_id,
            UdpReply::Error { message, .. } => return Err(ClientError::Transport(format!("tracker error: {message}"))),
            other => return Err(ClientError::Transport(format!("unexpected reply to connect: {other:?}"))),
        };
        let tid = fastrand::u32(..);
        self.round_trip(&socket, &packet(connection_id, tid), tid, v6, deadline).await
    }

    /// Sends `packet` until a reply with `tid` arrives or the deadline passes.
    async fn round_trip(
        &self,
        socket: &UdpSocket,
        packet: &[u8],
        tid: u32,
        v6: bool,
        deadline: tokio::time::Instant,
    ) -> Result<UdpReply, ClientError> {
        let mut wait = Duration::from_secs(1);
        let mut buf = vec![0u8; 65_536];
        loop {
            socket.send(packet).await.map_err(|e| ClientError::Transport(e.to_string()))?;
            let until = (tokio::time::Instant::now() + wait).min(deadline);
            loop {
                match tokio::time::timeout_at(until, socket.recv(&mut buf)).await {
                    Err(_) => break,
                    Ok(Err(e)) => return Err(ClientError::Transport(e.to_string())),
                    Ok(Ok(n)) => {
                        let reply = parse_reply(&buf[..n], v6).map_err(|e| ClientError::Transport(e.to_string()))?;
                        if reply.transaction_id() == tid {
                            return Ok(reply);
                        }
                    }
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::Timeout(self.timeout));
            }
            wait *= 2;
        }
    }

    /// Announces `req` to `url` (`udp://HOST:PORT[/path]`).
    pub async fn announce(&self, url: &str, req: &AnnounceRequest) -> Result<Reply<AnnounceReply>, ClientError> {
        let target = target(url).await?;
        let reply = self
            .exchange(&target, |cid, tid| {
                let mut p = Vec::new();
                write_announce_request(&mut p, cid, tid, req, &target.url_data);
                p
            })
            .await?;
        match reply {
            UdpReply::Announce { interval, stats, peers, .. } => {
                let peers: Vec<ReplyPeer> = peers.into_iter().map(|p| ReplyPeer { addr: p.addr, id: None }).collect();
                let (peers, peers6) = peers.into_iter().partition(|p| p.addr.is_ipv4());
                Ok(Reply::Ok(AnnounceReply {
                    interval: i64::from(interval),
                    complete: Some(i64::from(stats.complete)),
                    incomplete: Some(i64::from(stats.incomplete)),
                    peers,
                    peers6,
                    compact: true,
                    ..AnnounceReply::default()
                }))
            }
            UdpReply::Error { message, .. } => Ok(Reply::Failure { reason: message, retry_in: None }),
            other => Err(ClientError::Transport(format!("unexpected reply to announce: {other:?}"))),
        }
    }

    /// Scrapes `hashes` (at most 74) at `url`.
    pub async fn scrape(&self, url: &str, hashes: &[InfoHash]) -> Result<Reply<ScrapeReply>, ClientError> {
        let target = target(url).await?;
        let reply = self
            .exchange(&target, |cid, tid| {
                let mut p = Vec::new();
                write_scrape_request(&mut p, cid, tid, hashes);
                p
            })
            .await?;
        match reply {
            UdpReply::Scrape { stats, .. } if stats.len() == hashes.len() => {
                let files = hashes
                    .iter()
                    .zip(stats)
                    .map(|(h, s)| {
                        let file = ScrapeFile {
                            complete: i64::from(s.complete),
                            incomplete: i64::from(s.incomplete),
                            downloaded: i64::try_from(s.downloaded).unwrap_or(i64::MAX),
                        };
                        (*h, file)
                    })
                    .collect();
                Ok(Reply::Ok(ScrapeReply { files }))
            }
            UdpReply::Error { message, .. } => Ok(Reply::Failure { reason: message, retry_in: None }),
            other => Err(ClientError::Transport(format!("unexpected reply to scrape: {other:?}"))),
        }
    }
}
