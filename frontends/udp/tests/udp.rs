//! The UDP frontend on real sockets (127.0.0.1 and ::1, port 0), driven packet by packet with
//! the core's codec: every packet type, every error case, IPv4 and IPv6 replies, passkeys from
//! BEP 41 URL data.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use octotracker_core::udp_wire::*;
use octotracker_core::{
    AccessList, AccessPolicy, AnnounceRequest, Event, Frontend, InfoHash, PeerId, SystemClock, Tracker, TrackerConfig,
};
use octotracker_udp::{UdpConfig, UdpFrontend};
use tokio::net::UdpSocket;

const WAIT: Duration = Duration::from_secs(5);

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn server_with(bind: &str, access: Option<AccessPolicy>) -> Server {
    server_configured(bind, access, UdpConfig { workers: 2, rate_limit: None, ..UdpConfig::default() }).await
}

async fn server_configured(bind: &str, access: Option<AccessPolicy>, config: UdpConfig) -> Server {
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::default());
    let mut tracker = Tracker::new(
        TrackerConfig::default(),
        storage,
        Arc::new(octotracker_interval::Static::default()),
        Arc::new(SystemClock),
    );
    if let Some(policy) = access {
        tracker = tracker.with_access(Arc::new(AccessList::new(policy)));
    }
    let frontend = UdpFrontend::bind(bind.parse().unwrap(), config).await.expect("bind");
    let addr = frontend.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = Box::pin(async move {
        let _ = stopped.await;
    });
    tokio::spawn(Box::new(frontend).serve(Arc::new(tracker), shutdown));
    Server { addr, stop: Some(stop) }
}

async fn server() -> Server {
    server_with("127.0.0.1:0", None).await
}

/// A client socket of the server's family.
struct Client {
    socket: UdpSocket,
    v6: bool,
}

impl Client {
    async fn to(server: &Server) -> Client {
        let v6 = server.addr.is_ipv6();
        let socket = UdpSocket::bind(if v6 { "[::1]:0" } else { "127.0.0.1:0" }).await.unwrap();
        socket.connect(server.addr).await.unwrap();
        Client { socket, v6 }
    }

    fn port(&self) -> u16 {
        self.socket.local_addr().unwrap().port()
    }

    async fn exchange(&self, packet: &[u8]) -> UdpReply {
        self.socket.send(packet).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(WAIT, self.socket.recv(&mut buf)).await.expect("a reply in time").unwrap();
        parse_reply(&buf[..n], self.v6).expect("a well-formed reply")
    }

    /// Whether anything comes back within a short, bounded wait.
    async fn silence(&self, packet: &[u8]) -> bool {
        self.socket.send(packet).await.unwrap();
        let mut buf = vec![0u8; 4096];
        tokio::time::timeout(Duration::from_millis(300), self.socket.recv(&mut buf)).await.is_err()
    }

    async fn connect(&self) -> u64 {
        let mut p = Vec::new();
        write_connect_request(&mut p, 41);
        match self.exchange(&p).await {
            UdpReply::Connect { transaction_id: 41, connection_id } => connection_id,
            other => panic!("{other:?}"),
        }
    }

    async fn announce(&self, cid: u64, req: &AnnounceRequest, url: &[u8]) -> UdpReply {
        let mut p = Vec::new();
        write_announce_request(&mut p, cid, 42, req, url);
        self.exchange(&p).await
    }
}

fn request(hash: u8, port: u16, left: u64) -> AnnounceRequest {
    let mut req = AnnounceRequest::new(InfoHash([hash; 20]), PeerId([port as u8; 20]), port);
    req.left = left;
    req.event = Event::Started;
    req
}

#[tokio::test]
async fn connect_announce_and_scrape_over_ipv4() {
    let server = server().await;
    let (a, b) = (Client::to(&server).await, Client::to(&server).await);
    let (ca, cb) = (a.connect().await, b.connect().await);
    assert_ne!(ca, cb, "ids are per address");

    let first = a.announce(ca, &request(1, a.port(), 0), b"").await;
    let UdpReply::Announce { transaction_id: 42, interval: 2700, stats, peers } = first else { panic!("{first:?}") };
    assert_eq!((stats.complete, stats.incomplete), (1, 0));
    assert!(peers.is_empty());
    let second = b.announce(cb, &request(1, b.port(), 100), b"").await;
    let UdpReply::Announce { stats, peers, .. } = second else { panic!("{second:?}") };
    assert_eq!((stats.complete, stats.incomplete), (1, 1));
    let addrs: Vec<SocketAddr> = peers.iter().map(|p| p.addr).collect();
    assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 1], a.port()))], "the seeder, 6 bytes each");

    let mut p = Vec::new();
    write_scrape_request(&mut p, ca, 43, &[InfoHash([1; 20]), InfoHash([2; 20])]);
    let UdpReply::Scrape { transaction_id: 43, stats } = a.exchange(&p).await else { panic!() };
    assert_eq!(stats.len(), 2);
    assert_eq!((stats[0].complete, stats[0].incomplete), (1, 1));
    assert_eq!((stats[1].complete, stats[1].incomplete), (0, 0));
}

#[tokio::test]
async fn ipv6_replies_carry_18_byte_peers() {
    let server = server_with("[::1]:0", None).await;
    let (a, b) = (Client::to(&server).await, Client::to(&server).await);
    let (ca, cb) = (a.connect().await, b.connect().await);
    a.announce(ca, &request(1, a.port(), 0), b"").await;
    let UdpReply::Announce { peers, .. } = b.announce(cb, &request(1, b.port(), 10), b"").await else { panic!() };
    let addrs: Vec<SocketAddr> = peers.iter().map(|p| p.addr).collect();
    assert_eq!(addrs, [format!("[::1]:{}", a.port()).parse::<SocketAddr>().unwrap()]);
}

#[tokio::test]
async fn errors_name_the_problem_and_keep_the_transaction_id() {
    let server = server().await;
    let c = Client::to(&server).await;
    let error = |reply: UdpReply| match reply {
        UdpReply::Error { transaction_id, message } => (transaction_id, message),
        other => panic!("not an error: {other:?}"),
    };
    // A connection id that was never handed out.
    let reply = c.announce(12345, &request(1, c.port(), 0), b"").await;
    assert_eq!(error(reply), (42, "invalid connection id: connect again".to_owned()));
    let mut p = Vec::new();
    write_scrape_request(&mut p, 12345, 7, &[InfoHash([1; 20])]);
    assert_eq!(error(c.exchange(&p).await).1, "invalid connection id: connect again");

    let cid = c.connect().await;
    let mut bad = Vec::new();
    write_announce_request(&mut bad, cid, 9, &request(1, c.port(), 0), b"");
    bad[83] = 7; // event 7
    assert_eq!(error(c.exchange(&bad).await), (9, "invalid event".to_owned()));
    let mut p = Vec::new();
    write_scrape_request(&mut p, cid, 8, &vec![InfoHash([1; 20]); 75]);
    assert_eq!(error(c.exchange(&p).await), (8, "too many info_hash values: at most 74 per scrape".to_owned()));
    let mut p = Vec::new();
    write_connect_request(&mut p, 5);
    p[11] = 9; // action 9
    assert_eq!(error(c.exchange(&p).await), (5, "unknown action".to_owned()));

    // Too short to carry a transaction id: dropped, and the server still answers afterwards.
    assert!(c.silence(&[1, 2, 3]).await, "a 3-byte packet gets no reply");
    let UdpReply::Announce { .. } = c.announce(cid, &request(2, c.port(), 0), b"").await else { panic!() };
}

#[tokio::test]
async fn numwant_minus_one_means_the_default_and_replies_fit_one_datagram() {
    let server = server().await;
    let c = Client::to(&server).await;
    let cid = c.connect().await;
    // 300 seeders announced from distinct ports (the tracker sees each as a peer).
    for port in 1000..1300u16 {
        let mut req = request(1, port, 0);
        req.peer_id = PeerId([(port % 251) as u8; 20]);
        c.announce(cid, &req, b"").await;
    }
    let mut leecher = request(1, 2000, 5);
    leecher.numwant = None; // written as -1
    let UdpReply::Announce { peers, .. } = c.announce(cid, &leecher, b"").await else { panic!() };
    assert_eq!(peers.len(), 50, "the tracker's default numwant");
    leecher.numwant = Some(10_000);
    let UdpReply::Announce { peers, .. } = c.announce(cid, &leecher, b"").await else { panic!() };
    assert_eq!(peers.len(), 200, "capped: 20 + 200 × 6 bytes fit one datagram");
}

#[tokio::test]
async fn a_private_tracker_reads_the_passkey_from_bep41_url_data() {
    let keys = ["k3y0000000000001".to_owned()].into_iter().collect();
    let server =
        server_with("127.0.0.1:0", Some(AccessPolicy { passkeys: Some(keys), ..AccessPolicy::default() })).await;
    let c = Client::to(&server).await;
    let cid = c.connect().await;
    let req = request(1, c.port(), 0);
    let ok = c.announce(cid, &req, b"/k3y0000000000001/announce").await;
    assert!(matches!(ok, UdpReply::Announce { .. }), "{ok:?}");
    let UdpReply::Error { message, .. } = c.announce(cid, &req, b"/wrong0000000000/announce").await else { panic!() };
    assert_eq!(message, "unknown passkey");
    let UdpReply::Error { message, .. } = c.announce(cid, &req, b"").await else { panic!() };
    assert!(message.starts_with("missing passkey"), "{message}");
}

#[tokio::test]
async fn a_scrape_answers_refused_hashes_as_zeros_in_their_place() {
    let mut policy = AccessPolicy { mode: octotracker_core::AccessMode::Deny, ..AccessPolicy::default() };
    policy.denied.insert(InfoHash([2; 20]));
    let server = server_with("127.0.0.1:0", Some(policy)).await;
    let c = Client::to(&server).await;
    let cid = c.connect().await;
    for hash in [1, 3] {
        c.announce(cid, &request(hash, c.port(), 0), b"").await;
    }
    let mut p = Vec::new();
    write_scrape_request(&mut p, cid, 44, &[InfoHash([1; 20]), InfoHash([2; 20]), InfoHash([3; 20])]);
    let UdpReply::Scrape { stats, .. } = c.exchange(&p).await else { panic!("not a scrape reply") };
    let seeders: Vec<u32> = stats.iter().map(|s| s.complete).collect();
    assert_eq!(seeders, [1, 0, 1], "the denied hash reads as zeros, the others keep their place");
}

/// Sends `count` connects back to back (they queue up, so a worker takes many per receive),
/// with malformed datagrams between them, and checks every connect is answered exactly once.
async fn burst_is_answered(config: UdpConfig) {
    let server = server_configured("127.0.0.1:0", None, config).await;
    let client = Client::to(&server).await;
    let count = 300u32;
    for tid in 0..count {
        let mut p = Vec::new();
        write_connect_request(&mut p, tid);
        client.socket.send(&p).await.unwrap();
        if tid % 50 == 0 {
            // Too short to carry a transaction id: dropped without a reply.
            client.socket.send(&[1, 2, 3]).await.unwrap();
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut buf = vec![0u8; 4096];
    while seen.len() < count as usize {
        let n = tokio::time::timeout(WAIT, client.socket.recv(&mut buf)).await.expect("every reply in time").unwrap();
        match parse_reply(&buf[..n], false).expect("a well-formed reply") {
            UdpReply::Connect { transaction_id, .. } => assert!(seen.insert(transaction_id), "one reply per request"),
            other => panic!("{other:?}"),
        }
    }
    assert!(client.silence(&[1, 2, 3]).await, "nothing more came back");
}

#[tokio::test]
async fn a_burst_is_answered_once_per_request_in_batches() {
    burst_is_answered(UdpConfig { workers: 2, ..UdpConfig::default() }).await;
}

#[tokio::test]
async fn a_burst_is_answered_once_per_request_one_datagram_per_call() {
    burst_is_answered(UdpConfig { workers: 1, batch: 1, ..UdpConfig::default() }).await;
}

#[tokio::test]
async fn with_reuse_port_every_worker_socket_answers() {
    let config = UdpConfig { workers: 4, reuse_port: true, ..UdpConfig::default() };
    let server = server_configured("127.0.0.1:0", None, config).await;
    // Clients from many ports land on different sockets of the group (the kernel hashes the
    // source address); every one is answered.
    for _ in 0..16 {
        let client = Client::to(&server).await;
        let cid = client.connect().await;
        match client.announce(cid, &request(9, client.port(), 0), b"").await {
            UdpReply::Announce { transaction_id: 42, .. } => {}
            other => panic!("{other:?}"),
        }
    }
}

/// Both families served by one thread (a current-thread runtime), so their workers share the
/// thread's batch headers: an IPv6 sender's address must come through whole after IPv4 traffic.
#[tokio::test(flavor = "current_thread")]
async fn ipv4_and_ipv6_sockets_on_one_thread_keep_whole_addresses() {
    let v4 = server().await;
    let v6 = server_with("[::1]:0", None).await;
    let c4 = Client::to(&v4).await;
    let cid = c4.connect().await;
    c4.announce(cid, &request(7, c4.port(), 0), b"").await;
    let (first, second) = (Client::to(&v6).await, Client::to(&v6).await);
    let cid = first.connect().await;
    first.announce(cid, &request(7, first.port(), 0), b"").await;
    let cid = second.connect().await;
    match second.announce(cid, &request(7, second.port(), 10), b"").await {
        UdpReply::Announce { peers, .. } => {
            let expected: SocketAddr = format!("[::1]:{}", first.port()).parse().unwrap();
            let addrs: Vec<SocketAddr> = peers.iter().map(|p| p.addr).collect();
            assert_eq!(addrs, vec![expected], "the IPv6 seeder's whole address");
        }
        other => panic!("{other:?}"),
    }
}
