//! An in-process tracker for the contract tests: a real HTTP server on loopback ports of its own
//! (`127.0.0.1:0`, `[::1]:0`), the memory backend, a stopped clock, and helpers that read as the
//! requests they send. Every network wait is bounded by [`DEADLINE`].

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use octotracker_client::{AnnounceReply, HttpTrackerClient, Reply, ReplyPeer, ScrapeReply, parse_announce_reply};
use octotracker_core::bencode::{Value, decode};
use octotracker_core::{
    AnnounceRequest, Frontend, FrontendError, InfoHash, PeerId, Shutdown, StoppedClock, Tracker, TrackerConfig,
    UnixTime,
};
use octotracker_http::{HttpConfig, HttpFrontend};
use octotracker_interval::Static;
use octotracker_memory::MemoryTorrentManager;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest any single network step of a test may take.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

/// Where every server's stopped clock starts.
pub(crate) const START: UnixTime = UnixTime(1_700_000_000);

/// A server to start: tracker policy, HTTP settings and the addresses to listen on.
#[derive(Debug)]
pub(crate) struct Setup {
    tracker: TrackerConfig,
    http: HttpConfig,
    listen: Vec<&'static str>,
}

impl Setup {
    /// Defaults everywhere, one listener on `127.0.0.1:0`.
    pub(crate) fn new() -> Self {
        Setup { tracker: TrackerConfig::default(), http: HttpConfig::default(), listen: vec!["127.0.0.1:0"] }
    }

    /// Changes the tracker policy.
    pub(crate) fn tracker(mut self, change: impl FnOnce(&mut TrackerConfig)) -> Self {
        change(&mut self.tracker);
        self
    }

    /// Changes the HTTP settings.
    pub(crate) fn http(mut self, change: impl FnOnce(&mut HttpConfig)) -> Self {
        change(&mut self.http);
        self
    }

    /// Listens on these addresses instead (all serving one tracker).
    pub(crate) fn listen(mut self, addrs: &[&'static str]) -> Self {
        self.listen = addrs.to_vec();
        self
    }

    /// Binds every listener, then serves each on a task of its own. Connections made after this
    /// returns are queued by the kernel, so no readiness wait is needed.
    pub(crate) async fn start(self) -> Server {
        let clock = Arc::new(StoppedClock::new(START));
        let storage = Arc::new(MemoryTorrentManager::new(Default::default()));
        let tracker = Arc::new(Tracker::new(self.tracker, storage, Arc::new(Static::default()), clock.clone()));
        let (stop, _) = watch::channel(false);
        let mut addrs = Vec::new();
        let mut tasks = Vec::new();
        for listen in self.listen {
            let listener = TcpListener::bind(listen).await.unwrap_or_else(|e| panic!("cannot bind {listen}: {e}"));
            addrs.push(listener.local_addr().expect("bound listener has an address"));
            let frontend: Box<dyn Frontend> = Box::new(HttpFrontend::new(listener, self.http.clone()));
            tasks.push(tokio::spawn(frontend.serve(tracker.clone(), stopped(stop.subscribe()))));
        }
        let client = HttpTrackerClient::new().with_timeout(DEADLINE);
        Server { tracker, clock, addrs, client, stop, tasks }
    }
}

/// A server with every default on `127.0.0.1:0`.
pub(crate) async fn server() -> Server {
    Setup::new().start().await
}

fn stopped(mut rx: watch::Receiver<bool>) -> Shutdown {
    Box::pin(async move {
        let _ = rx.wait_for(|stop| *stop).await;
    })
}

/// A running server; dropping it shuts it down.
#[derive(Debug)]
pub(crate) struct Server {
    /// The engine behind every listener.
    pub tracker: Arc<Tracker>,
    /// The engine's clock, stopped at [`START`].
    pub clock: Arc<StoppedClock>,
    addrs: Vec<SocketAddr>,
    client: HttpTrackerClient,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Result<(), FrontendError>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl Server {
    /// The first listener's address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// `http://ADDR{path}` on the first listener.
    pub(crate) fn url(&self, path: &str) -> String {
        self.url_at(0, path)
    }

    /// `http://ADDR{path}` on listener `i`.
    pub(crate) fn url_at(&self, i: usize, path: &str) -> String {
        format!("http://{}{path}", self.addrs[i])
    }

    /// An announce through the client on the first listener, which must succeed.
    pub(crate) async fn announce(&self, req: &AnnounceRequest) -> AnnounceReply {
        self.announce_at(0, req).await
    }

    /// An announce through the client on listener `i`, which must succeed.
    pub(crate) async fn announce_at(&self, i: usize, req: &AnnounceRequest) -> AnnounceReply {
        match self.client.announce(&self.url_at(i, "/announce"), req).await.expect("announce answered") {
            Reply::Ok(reply) => reply,
            Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
        }
    }

    /// An announce through the client that must be refused: its `failure reason`.
    pub(crate) async fn announce_refused(&self, req: &AnnounceRequest) -> String {
        let reply = self.client.announce(&self.url("/announce"), req).await.expect("announce answered");
        reply.failure_reason().map(str::to_owned).unwrap_or_else(|| panic!("announce accepted: {reply:?}"))
    }

    /// A scrape through the client, which must succeed. No hashes asks for a full scrape.
    pub(crate) async fn scrape(&self, hashes: &[InfoHash]) -> ScrapeReply {
        match self.client.scrape(&self.url("/scrape"), hashes).await.expect("scrape answered") {
            Reply::Ok(reply) => reply,
            Reply::Failure { reason, .. } => panic!("scrape refused: {reason}"),
        }
    }

    /// A scrape through the client that must be refused: its `failure reason`.
    pub(crate) async fn scrape_refused(&self, hashes: &[InfoHash]) -> String {
        let reply = self.client.scrape(&self.url("/scrape"), hashes).await.expect("scrape answered");
        reply.failure_reason().map(str::to_owned).unwrap_or_else(|| panic!("scrape accepted: {reply:?}"))
    }

    /// `GET target` on a connection of its own, closed after the reply.
    pub(crate) async fn get(&self, target: &str) -> Response {
        self.get_with(target, &[]).await
    }

    /// `GET target` with extra headers, on a connection of its own.
    pub(crate) async fn get_with(&self, target: &str, headers: &[(&str, &str)]) -> Response {
        let mut extra = String::new();
        for (name, value) in headers {
            extra.push_str(&format!("{name}: {value}\r\n"));
        }
        let request = format!("GET {target} HTTP/1.1\r\nHost: tracker\r\n{extra}Connection: close\r\n\r\n");
        self.connect().await.send(&request).await
    }

    /// A raw connection to the first listener.
    pub(crate) async fn connect(&self) -> Connection {
        Connection::open(self.addr()).await
    }

    /// Triggers shutdown and waits (bounded) until every listener's `serve` has returned.
    pub(crate) async fn stop(mut self) -> Vec<Result<(), FrontendError>> {
        let _ = self.stop.send(true);
        let mut results = Vec::new();
        for task in std::mem::take(&mut self.tasks) {
            let joined = tokio::time::timeout(DEADLINE, task).await.expect("serve returns after shutdown");
            results.push(joined.expect("serve task did not panic"));
        }
        results
    }
}

/// A raw HTTP/1.1 connection: write the bytes yourself, read whole responses.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `addr`.
    pub(crate) async fn open(addr: SocketAddr) -> Connection {
        let stream = tokio::time::timeout(DEADLINE, TcpStream::connect(addr))
            .await
            .expect("connect within the deadline")
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        Connection { stream: BufReader::new(stream) }
    }

    /// Writes `bytes` as they are.
    pub(crate) async fn write(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.expect("request written");
    }

    /// Writes one request and reads one response.
    pub(crate) async fn send(&mut self, request: &str) -> Response {
        self.write(request.as_bytes()).await;
        self.read_response().await
    }

    /// A keep-alive `GET target`.
    pub(crate) async fn get(&mut self, target: &str) -> Response {
        self.send(&format!("GET {target} HTTP/1.1\r\nHost: tracker\r\n\r\n")).await
    }

    /// Reads one response (status line, headers, a `Content-Length` body).
    pub(crate) async fn read_response(&mut self) -> Response {
        tokio::time::timeout(DEADLINE, self.read_response_inner()).await.expect("response within the deadline")
    }

    async fn read_response_inner(&mut self) -> Response {
        let mut line = String::new();
        self.stream.read_line(&mut line).await.expect("status line read");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).await.expect("header line read");
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or_else(|| panic!("bad header line {header:?}"));
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length = headers.iter().find(|(n, _)| n == "content-length").map(|(_, v)| v.parse::<usize>());
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n.expect("numeric content-length"), 0);
                self.stream.read_exact(&mut body).await.expect("body read");
            }
            None => {
                self.stream.read_to_end(&mut body).await.expect("body read");
            }
        }
        Response { status, headers, body }
    }

    /// Waits (bounded) for the server to close the connection, discarding anything it sends;
    /// returns what it sent before closing.
    pub(crate) async fn closed_by_server(&mut self, within: Duration) -> Vec<u8> {
        let mut rest = Vec::new();
        match tokio::time::timeout(within, self.stream.read_to_end(&mut rest)).await {
            Ok(_) => rest,
            Err(_) => panic!("the server kept the connection open for {within:?}"),
        }
    }
}

/// A response read off the wire.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The body as bencode.
    pub(crate) fn bencode(&self) -> Value<'_> {
        decode(&self.body).unwrap_or_else(|e| panic!("body is not bencode ({e}): {:?}", self.body.escape_ascii()))
    }

    /// The top-level keys of the bencoded dictionary, in the order sent.
    pub(crate) fn keys(&self) -> Vec<String> {
        match self.bencode() {
            Value::Dict(entries) => entries.iter().map(|e| String::from_utf8_lossy(e.key).into_owned()).collect(),
            other => panic!("body is not a dictionary: {other:?}"),
        }
    }

    /// The raw bytes of a top-level byte-string value.
    pub(crate) fn bytes_of(&self, key: &str) -> Vec<u8> {
        let value = self.bencode();
        value
            .get(key)
            .and_then(Value::as_bytes)
            .unwrap_or_else(|| panic!("no byte string {key:?} in {value:?}"))
            .to_vec()
    }

    /// The `failure reason` of a `200 OK` bencoded failure.
    pub(crate) fn failure_reason(&self) -> String {
        assert_eq!(self.status, 200, "failures are 200 OK; body {:?}", self.body.escape_ascii());
        let value = self.bencode();
        let reason = value.get("failure reason").and_then(Value::as_str);
        reason.unwrap_or_else(|| panic!("not a failure: {value:?}")).to_owned()
    }

    /// The successful announce reply in the body.
    pub(crate) fn announce(&self) -> AnnounceReply {
        assert_eq!(self.status, 200, "body {:?}", self.body.escape_ascii());
        match parse_announce_reply(&self.body).expect("a valid announce reply") {
            Reply::Ok(reply) => reply,
            Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
        }
    }
}

/// A swarm key made of one repeated byte.
pub(crate) fn hash(n: u8) -> InfoHash {
    InfoHash([n; 20])
}

/// The peer id of the test peer listening on `port` (`-OT0001-` and the port, 20 bytes).
pub(crate) fn peer_id(port: u16) -> PeerId {
    let text = format!("-OT0001-{port:012}");
    PeerId(text.as_bytes().try_into().expect("20 bytes"))
}

/// A leecher (1000 bytes left) listening on `port`.
pub(crate) fn leecher(hash: InfoHash, port: u16) -> AnnounceRequest {
    AnnounceRequest { left: 1000, ..AnnounceRequest::new(hash, peer_id(port), port) }
}

/// A seeder (nothing left) listening on `port`.
pub(crate) fn seeder(hash: InfoHash, port: u16) -> AnnounceRequest {
    AnnounceRequest::new(hash, peer_id(port), port)
}

/// Every byte percent-encoded, upper-case hex.
pub(crate) fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// The query of a minimal valid announce of a leecher: `info_hash`, `peer_id`, `port`, `left`.
pub(crate) fn announce_query(hash: InfoHash, port: u16) -> String {
    format!("info_hash={}&peer_id={}&port={port}&left=1000", escape(&hash.0), escape(&peer_id(port).0))
}

/// `127.0.0.1:port`.
pub(crate) fn v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// `[::1]:port`.
pub(crate) fn v6(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv6Addr::LOCALHOST, port))
}

/// The addresses of a peer list, sorted.
pub(crate) fn addrs(peers: &[ReplyPeer]) -> Vec<SocketAddr> {
    let mut out: Vec<_> = peers.iter().map(|p| p.addr).collect();
    out.sort();
    out
}
