//! `UdpConfig::rate_limit` on real sockets (127.0.0.1, 127.0.0.2, 127.0.0.3; port 0): the burst
//! answered, then announces and scrapes refused with HTTP's reason, connects over their own burst
//! dropped, other addresses unaffected, forged connection ids refused without touching the
//! budget, every refusal counted. The rate is one token per 10 s, so no token comes back while
//! the test runs (the refill itself is tested with injected time in the core).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use octotracker_core::udp_wire::*;
use octotracker_core::{
    AnnounceRequest, Event, Frontend, InfoHash, Observer, PeerId, RateLimit, SystemClock, Tracker, TrackerConfig,
};
use octotracker_udp::{UdpConfig, UdpFrontend};
use tokio::net::UdpSocket;

const REASON: &str = "rate limit exceeded: at most 0.1 requests per second from one address";

/// Counts failures by label.
#[derive(Debug, Default)]
struct Failures(Mutex<HashMap<&'static str, u64>>);

impl Observer for Failures {
    fn failure(&self, reason: &'static str) {
        *self.0.lock().unwrap().entry(reason).or_default() += 1;
    }
}

impl Failures {
    fn of(&self, reason: &str) -> u64 {
        self.0.lock().unwrap().get(reason).copied().unwrap_or(0)
    }
}

/// A limited server; stops when the sender is dropped.
async fn server(failures: Arc<Failures>) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::default());
    let intervals = Arc::new(octotracker_interval::Static::default());
    let tracker =
        Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)).with_observer(failures);
    let config =
        UdpConfig { workers: 2, rate_limit: Some(RateLimit { per_second: 0.1, burst: 3.0 }), ..UdpConfig::default() };
    let frontend = UdpFrontend::bind("127.0.0.1:0".parse().unwrap(), config).await.expect("bind");
    let addr = frontend.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = Box::pin(async move {
        let _ = stopped.await;
    });
    tokio::spawn(Box::new(frontend).serve(Arc::new(tracker), shutdown));
    (addr, stop)
}

struct Client {
    socket: UdpSocket,
}

impl Client {
    async fn on(ip: &str, server: SocketAddr) -> Client {
        let socket = UdpSocket::bind((ip.parse::<IpAddr>().unwrap(), 0)).await.unwrap();
        socket.connect(server).await.unwrap();
        Client { socket }
    }

    /// The reply to `packet`, or `None` after `wait` of silence.
    async fn exchange_within(&self, packet: &[u8], wait: Duration) -> Option<UdpReply> {
        self.socket.send(packet).await.unwrap();
        let mut buf = vec![0u8; 2048];
        let n = tokio::time::timeout(wait, self.socket.recv(&mut buf)).await.ok()?.unwrap();
        Some(parse_reply(&buf[..n], false).expect("a well-formed reply"))
    }

    /// The reply to `packet` (within a generous 5 s, for a loaded machine).
    async fn exchange(&self, packet: &[u8]) -> Option<UdpReply> {
        self.exchange_within(packet, Duration::from_secs(5)).await
    }

    async fn connect(&self) -> u64 {
        let mut p = Vec::new();
        write_connect_request(&mut p, 1);
        match self.exchange(&p).await {
            Some(UdpReply::Connect { connection_id, .. }) => connection_id,
            other => panic!("a connect reply expected: {other:?}"),
        }
    }

    /// Whether a connect goes unanswered for 500 ms.
    async fn connect_dropped(&self) -> bool {
        let mut p = Vec::new();
        write_connect_request(&mut p, 1);
        self.exchange_within(&p, Duration::from_millis(500)).await.is_none()
    }

    async fn announce(&self, cid: u64) -> UdpReply {
        let port = self.socket.local_addr().unwrap().port();
        let mut req = AnnounceRequest::new(InfoHash([1; 20]), PeerId([port as u8; 20]), port);
        req.event = Event::Started;
        let mut p = Vec::new();
        write_announce_request(&mut p, cid, 2, &req, b"");
        self.exchange(&p).await.expect("announces are always answered")
    }

    async fn scrape(&self, cid: u64) -> UdpReply {
        let mut p = Vec::new();
        write_scrape_request(&mut p, cid, 3, &[InfoHash([1; 20])]);
        self.exchange(&p).await.expect("scrapes are always answered")
    }
}

fn refused(reply: &UdpReply) -> bool {
    matches!(reply, UdpReply::Error { message, .. } if message == REASON)
}

#[tokio::test]
async fn the_burst_is_answered_then_refused_per_address_and_every_refusal_counted() {
    let failures = Arc::new(Failures::default());
    let (addr, _stop) = server(failures.clone()).await;

    let a = Client::on("127.0.0.1", addr).await;
    let cid = a.connect().await;
    for n in 0..3 {
        let reply = a.announce(cid).await;
        assert!(matches!(reply, UdpReply::Announce { .. }), "announce {n} of the burst: {reply:?}");
    }
    let over = a.announce(cid).await;
    assert!(refused(&over), "{over:?}");
    let scrape = a.scrape(cid).await;
    assert!(refused(&scrape), "scrapes share the budget: {scrape:?}");

    // Connects have a burst of their own (one used above): two more, then silence.
    a.connect().await;
    a.connect().await;
    assert!(a.connect_dropped().await, "a connect over the limit is dropped without a reply");

    // Another address is unaffected.
    let b = Client::on("127.0.0.2", addr).await;
    let cid_b = b.connect().await;
    assert!(matches!(b.announce(cid_b).await, UdpReply::Announce { .. }));

    // Forged connection ids are refused before the limit: they cost the address nothing.
    let c = Client::on("127.0.0.3", addr).await;
    for forged in 0..10 {
        let reply = c.announce(forged).await;
        assert!(matches!(&reply, UdpReply::Error { message, .. } if message.starts_with("invalid connection id")));
    }
    let cid_c = c.connect().await;
    for _ in 0..3 {
        assert!(matches!(c.announce(cid_c).await, UdpReply::Announce { .. }), "the whole burst left");
    }

    assert_eq!(failures.of("rate_limited"), 3, "an announce, a scrape and a connect");
    assert_eq!(failures.of("udp_connection_id"), 10);
}
