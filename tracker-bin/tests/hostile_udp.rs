//! Hostile UDP traffic against the real binary. The whole 127.0.0.0/8 is loopback, so sockets
//! bound to 127.1.x.y stand for spoofed internet sources: thousands of distinct addresses, several
//! ports each. Every count and wait is bounded; run with `--nocapture` for the figures.
//!
//! - A connect flood from 25,000 addresses (200,000 connects) with forged and stolen connection
//!   ids: resident memory stays flat (connection ids are stateless), forged ids get error
//!   packets and store nothing, a legitimate client is answered during and after.
//! - `--rate-limit` over UDP: the burst and the rate answered, the rest refused with HTTP's
//!   reason (announces) or dropped (connects), other addresses unaffected, and a connect flood
//!   from many addresses with the limit on stays within a small memory bound.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod common;
mod udp_packets;

use common::{LoggedServer, octotracker};
use udp_packets::{Reply, announce, connect, scrape};

const DEADLINE: Duration = Duration::from_secs(30);
const LEGIT_HASH: [u8; 20] = [0xab; 20];
const FLOOD_HASH: [u8; 20] = [0xcd; 20];
const LEGIT_PEER: [u8; 20] = *b"-OT0001-legitimate01";
const MIB: i64 = 1024;

/// The binary with a UDP listener on 127.0.0.1 and metrics.
struct Tracker {
    server: LoggedServer,
    udp: SocketAddr,
    metrics: String,
}

impl Tracker {
    fn start(extra: &[&str]) -> Tracker {
        let mut server = LoggedServer::spawn(
            octotracker().args(["--udp", "127.0.0.1:0", "--udp-workers", "2", "--metrics", "127.0.0.1:0"]).args(extra),
        );
        let port = server.await_after("listening on udp://127.0.0.1", DEADLINE);
        let metrics = server.await_after("metrics on http://", DEADLINE);
        let metrics = metrics.strip_suffix("/metrics").expect("the metrics line names /metrics").to_owned();
        let udp = format!("127.0.0.1{port}").parse().expect("the UDP address");
        Tracker { server, udp, metrics }
    }

    /// Resident memory in KiB (`VmRSS`).
    fn rss_kib(&self) -> i64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server.child.id())).expect("status");
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number of kB")
    }

    fn alive(&mut self) -> bool {
        self.server.child.try_wait().expect("try_wait").is_none()
    }

    /// `octotracker_failures_total{reason=REASON}` (0 when never counted).
    fn failures(&self, reason: &str) -> u64 {
        let mut stream = std::net::TcpStream::connect(&self.metrics).expect("metrics endpoint");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("metrics text");
        let series = format!("octotracker_failures_total{{reason=\"{reason}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&series)).map_or(0, |v| v.trim().parse().expect("a count"))
    }
}

/// A well-behaved client on one address: every exchange retried (as BEP 15 clients do) up to
/// five times, two seconds each (generous: a loaded machine may be slow to answer).
struct Client {
    socket: UdpSocket,
    next_tid: u32,
}

impl Client {
    fn on(ip: Ipv4Addr, tracker: SocketAddr) -> Client {
        let socket = UdpSocket::bind((ip, 0)).expect("bind a client");
        socket.connect(tracker).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        Client { socket, next_tid: 1 }
    }

    fn exchange(&mut self, packet: impl Fn(u32) -> Vec<u8>) -> Option<Reply> {
        let mut buf = [0u8; 2048];
        for _ in 0..5 {
            self.next_tid += 1;
            let tid = self.next_tid;
            self.socket.send(&packet(tid)).ok()?;
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                match self.socket.recv(&mut buf) {
                    Ok(n) => match Reply::parse(&buf[..n]) {
                        Some(reply) if reply.transaction_id == tid => return Some(reply),
                        _ => continue,
                    },
                    Err(_) => break,
                }
            }
        }
        None
    }

    fn connect(&mut self) -> Option<u64> {
        self.exchange(connect)?.connection_id()
    }

    /// Connects, then announces the legitimate peer: its reply.
    fn connect_and_announce(&mut self) -> Option<Reply> {
        let cid = self.connect()?;
        self.exchange(|tid| announce(cid, tid, LEGIT_HASH, LEGIT_PEER, 7001))
    }
}

/// Packets sent per batch at most: the server's receive buffer (the default 208 KiB) holds
/// between 160 and 270 small datagrams (by the kernel's accounting), and a bigger burst loses
/// some when the server is slow to read.
const BATCH_PACKETS: u32 = 120;

/// The `n`th spoofed source: 127.1.x.y (n below 64,000).
fn source(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// The shape of a flood.
struct Flood {
    /// Sources `first..first + sources`.
    first: u32,
    sources: u32,
    /// Sockets (ports) per source.
    ports: u32,
    /// Connects per socket.
    connects: u32,
    /// A connection id made for someone else (127.0.0.1), sent by every source.
    stolen: u64,
    /// The rate limit's burst, if one is on: connects per source answered at most (about).
    burst: Option<u32>,
}

/// What came back.
#[derive(Debug, Default)]
struct Tally {
    connects_sent: u64,
    announces_sent: u64,
    connect_replies: u64,
    /// Error packets by message.
    errors: HashMap<String, u64>,
    /// Announce replies to forged or stolen ids (must stay 0).
    announced: u64,
    other: u64,
    /// Replies expected but not received (lost in a full receive buffer).
    lost: u64,
    elapsed: Duration,
}

impl Flood {
    /// Sends the flood in batches of at most [`BATCH_PACKETS`] (each batch's replies are read
    /// before the next, which paces it), with a forged and a stolen connection id announced from
    /// every source.
    fn run(&self, tracker: SocketAddr) -> Tally {
        let started = Instant::now();
        let mut tally = Tally::default();
        let mut rng = fastrand::Rng::with_seed(u64::from(self.first) + 1);
        let batch_sources = (BATCH_PACKETS / (self.ports * self.connects + 2)).max(1);
        for batch in (self.first..self.first + self.sources).step_by(batch_sources as usize) {
            let mut sockets = Vec::new();
            let mut expected = 0u64;
            for n in batch..(batch + batch_sources).min(self.first + self.sources) {
                let all = self.ports * self.connects;
                expected += u64::from(self.burst.map_or(all, |burst| burst.min(all)));
                for port in 0..self.ports {
                    let socket = UdpSocket::bind((source(n), 0)).expect("bind a 127.1.x.y source");
                    socket.set_nonblocking(true).unwrap();
                    for c in 0..self.connects {
                        tally.connects_sent += 1;
                        socket.send_to(&connect(n * 64 + port * 8 + c), tracker).expect("send a connect");
                    }
                    if port == 0 {
                        let forged = rng.u64(..);
                        for cid in [forged, self.stolen] {
                            tally.announces_sent += 1;
                            let packet = announce(cid, n, FLOOD_HASH, [n as u8; 20], 6881);
                            socket.send_to(&packet, tracker).expect("send an announce");
                            expected += 1;
                        }
                    }
                    sockets.push(socket);
                }
            }
            tally.lost += expected.saturating_sub(drain(&sockets, expected, &mut tally));
        }
        tally.elapsed = started.elapsed();
        tally
    }
}

/// Reads replies until `expected` came or nothing came for 30 ms (lost packets); returns how
/// many came.
fn drain(sockets: &[UdpSocket], expected: u64, tally: &mut Tally) -> u64 {
    let mut buf = [0u8; 2048];
    let mut received = 0u64;
    let mut last = Instant::now();
    while received < expected && last.elapsed() < Duration::from_millis(30) {
        let mut progress = false;
        for socket in sockets {
            while let Ok((n, _)) = socket.recv_from(&mut buf) {
                progress = true;
                received += 1;
                match Reply::parse(&buf[..n]) {
                    Some(r) if r.connection_id().is_some() => tally.connect_replies += 1,
                    Some(r) if r.error().is_some() => *tally.errors.entry(r.error().unwrap()).or_default() += 1,
                    Some(r) if r.announced().is_some() => tally.announced += 1,
                    _ => tally.other += 1,
                }
            }
        }
        if progress {
            last = Instant::now();
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    received
}

/// A legitimate client connecting and announcing from 127.0.0.1 until `done`: (rounds
/// answered, rounds not answered after every retry).
fn legit_loop(tracker: SocketAddr, done: Arc<AtomicBool>) -> std::thread::JoinHandle<(u32, u32)> {
    std::thread::spawn(move || {
        let (mut ok, mut failed) = (0, 0);
        while !done.load(Ordering::Relaxed) {
            let mut client = Client::on(Ipv4Addr::LOCALHOST, tracker);
            match client.connect_and_announce().and_then(|r| r.announced()) {
                Some(_) => ok += 1,
                None => failed += 1,
            }
            // About three rounds a second: within a `--rate-limit 5` budget.
            std::thread::sleep(Duration::from_millis(300));
        }
        (ok, failed)
    })
}

/// Floods `tracker` after a warm-up, with a legitimate client running throughout; returns the
/// tally and the resident memory (KiB) after the warm-up and after the flood.
fn flood_with_a_legit_client(tracker: &Tracker, flood: &Flood) -> (Tally, i64, i64) {
    // Warm-up: the same traffic from other sources, so buffers and allocator arenas exist.
    Flood { first: 60_000, sources: 1_000, ..*flood }.run(tracker.udp);
    let mut client = Client::on(Ipv4Addr::LOCALHOST, tracker.udp);
    assert!(client.connect_and_announce().and_then(|r| r.announced()).is_some(), "answered before the flood");
    std::thread::sleep(Duration::from_millis(300));
    let before = tracker.rss_kib();

    let done = Arc::new(AtomicBool::new(false));
    let legit = legit_loop(tracker.udp, done.clone());
    let tally = flood.run(tracker.udp);
    done.store(true, Ordering::Relaxed);
    let (ok, failed) = legit.join().expect("the legitimate client");
    assert!(ok >= 1 && failed == 0, "legitimate rounds during the flood: {ok} answered, {failed} not");

    std::thread::sleep(Duration::from_millis(300));
    let after = tracker.rss_kib();
    eprintln!(
        "flood: {} sources × {} ports, {} connects and {} forged/stolen announces in {:.1} s; \
         {} connect replies, errors {:?}, {} other, {} lost; legitimate rounds during it: {ok}; RSS {before} KiB → {after} KiB",
        flood.sources,
        flood.ports,
        tally.connects_sent,
        tally.announces_sent,
        tally.elapsed.as_secs_f64(),
        tally.connect_replies,
        tally.errors,
        tally.other,
        tally.lost,
    );
    (tally, before, after)
}

/// After a flood: a legitimate client is answered, the flood's swarm is empty, the process lives.
fn assert_healthy_after(tracker: &mut Tracker, tally: &Tally) {
    assert_eq!(tally.announced, 0, "a forged or stolen connection id was accepted");
    assert_eq!(tally.other, 0, "unexpected replies");
    let mut client = Client::on(Ipv4Addr::LOCALHOST, tracker.udp);
    let cid = client.connect().expect("a connect is answered after the flood");
    let reply = client.exchange(|tid| announce(cid, tid, LEGIT_HASH, LEGIT_PEER, 7001)).expect("an announce reply");
    assert!(reply.announced().is_some(), "{reply:?}");
    let reply = client.exchange(|tid| scrape(cid, tid, &[LEGIT_HASH, FLOOD_HASH])).expect("a scrape reply");
    // (seeders, completed, leechers): the one legitimate leecher; nothing from the flood.
    assert_eq!(reply.scraped(), Some(vec![(0, 0, 1), (0, 0, 0)]), "{reply:?}");
    assert!(tracker.alive(), "the tracker died");
}

#[test]
fn a_spoofed_connect_flood_from_thousands_of_addresses_leaves_memory_flat() {
    let mut tracker = Tracker::start(&[]);
    let stolen = Client::on(Ipv4Addr::LOCALHOST, tracker.udp).connect().expect("a connection id");
    let flood = Flood { first: 0, sources: 25_000, ports: 2, connects: 4, stolen, burst: None };
    let (tally, before, after) = flood_with_a_legit_client(&tracker, &flood);

    assert_eq!(tally.connects_sent, 200_000);
    assert_eq!(tally.announces_sent, 50_000);
    assert!(tally.connect_replies > 0, "no connect answered");
    let refused = tally.errors.get("invalid connection id: connect again").copied().unwrap_or(0);
    assert!(refused > 0 && tally.errors.len() == 1, "forged ids get error packets: {:?}", tally.errors);
    // The server counted at least every refusal that reached us, at most every one sent.
    let counted = tracker.failures("udp_connection_id");
    assert!(counted >= refused && counted <= tally.announces_sent + 1_000 * 2, "{counted} counted");
    assert!(after - before <= 4 * MIB, "RSS grew from {before} KiB to {after} KiB");
    assert_healthy_after(&mut tracker, &tally);
}

#[test]
fn a_connect_flood_with_the_rate_limit_on_stays_within_a_small_bound() {
    let mut tracker = Tracker::start(&["--rate-limit", "5", "--rate-limit-burst", "10"]);
    let stolen = Client::on(Ipv4Addr::LOCALHOST, tracker.udp).connect().expect("a connection id");
    // 12 connects per source within its batch: over a burst of 10, so every source gets a bucket
    // and some connects are dropped.
    let flood = Flood { first: 0, sources: 12_800, ports: 2, connects: 6, stolen, burst: Some(10) };
    let (tally, before, after) = flood_with_a_legit_client(&tracker, &flood);

    let limited = tracker.failures("rate_limited");
    eprintln!("rate-limited connects (dropped, no reply): {limited}");
    assert!(limited > 0, "no connect over the burst was dropped");
    assert!(tally.connect_replies < tally.connects_sent, "every connect answered despite the limit");
    // Dropped connects get no reply; forged ids are refused before the limit is consulted.
    assert_eq!(tally.errors.keys().collect::<Vec<_>>(), ["invalid connection id: connect again"]);
    // 13,800 addresses with a connect bucket (about 50 bytes each, in maps that at most double).
    assert!(after - before <= 6 * MIB, "RSS grew from {before} KiB to {after} KiB");
    assert_healthy_after(&mut tracker, &tally);
}

#[test]
fn a_udp_rate_limit_answers_the_burst_and_the_rate_and_refuses_the_rest() {
    let mut tracker = Tracker::start(&["--rate-limit", "5", "--rate-limit-burst", "10"]);
    let reason = "rate limit exceeded: at most 5 requests per second from one address";

    // Announces from one address, back to back, each awaiting its reply.
    let mut client = Client::on(Ipv4Addr::LOCALHOST, tracker.udp);
    let cid = client.connect().expect("a connection id");
    let started = Instant::now();
    let mut answered = 0;
    let mut refused = 0;
    for _ in 0..40 {
        let reply = client.exchange(|tid| announce(cid, tid, LEGIT_HASH, LEGIT_PEER, 7001)).expect("a reply");
        match (reply.announced(), reply.error()) {
            (Some(_), _) => answered += 1,
            (_, Some(e)) if e == reason => refused += 1,
            other => panic!("{other:?}"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let most = 10 + (elapsed * 5.0).ceil() as usize;
    assert!(answered >= 10 && answered <= most, "{answered} answered in {elapsed:.2} s (at most {most})");
    assert!(refused > 0, "nothing refused in {elapsed:.2} s");

    // Another address is unaffected.
    let mut other = Client::on(Ipv4Addr::new(127, 0, 0, 2), tracker.udp);
    let reply = other.connect_and_announce().expect("another address is answered");
    assert!(reply.announced().is_some(), "{reply:?}");

    // Connects from a third address, back to back: the burst and the rate answered, the rest
    // dropped without a reply (an error packet would be a larger reflection).
    let third = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 3), 0)).unwrap();
    // Replies until two quiet seconds: every answered connect has come by then.
    third.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let started = Instant::now();
    for tid in 0..30 {
        third.send_to(&connect(tid), tracker.udp).unwrap();
    }
    let mut buf = [0u8; 64];
    let mut connected = 0;
    let mut last_reply = started;
    while let Ok(n) = third.recv(&mut buf) {
        let reply = Reply::parse(&buf[..n]).expect("a reply");
        assert!(reply.connection_id().is_some(), "only connect replies: {reply:?}");
        connected += 1;
        last_reply = Instant::now();
    }
    let window = last_reply.duration_since(started).as_secs_f64();
    let most = 10 + (window * 5.0).ceil() as usize;
    assert!(connected >= 10 && connected <= most, "{connected} connects answered in {window:.2} s");

    // Every refusal counted: the announces refused and the connects dropped.
    assert_eq!(tracker.failures("rate_limited"), (refused + 30 - connected) as u64);
    assert!(tracker.alive());
}
