//! The standalone server's connection path, as clients that open a connection per request see
//! it: `TCP_NODELAY` on every accepted connection (set once, on the listener), a `Connection:
//! close` or HTTP/1.0 request answered in full before the close (no truncation, with the reply
//! larger than the client's receive buffer), keep-alive and pipelining unchanged, and a request in
//! progress at shutdown still answered before `serve` returns. 127.0.0.1 only, every wait bounded.

#[allow(dead_code)]
mod support;

use std::time::Duration;

use octotracker_client::{Reply, parse_announce_reply};
use octotracker_http::{HttpConfig, HttpFrontend};
use socket2::SockRef;
use support::{DEADLINE, Setup, announce_query, hash, leecher, server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Peers in the swarm of the big replies: 200 non-compact entries make a reply of about 12 KB.
const PEERS: u16 = 200;

/// Splits a raw response into its head (text) and body; panics without a blank line.
fn split(raw: &[u8]) -> (String, &[u8]) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
        panic!("no end of head in {} bytes: {:?}", raw.len(), String::from_utf8_lossy(&raw[..raw.len().min(200)]))
    });
    (String::from_utf8_lossy(&raw[..end]).into_owned(), &raw[end + 4..])
}

/// The value of a header in a response head (names compared case-insensitively).
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A connection with a small receive buffer (so a big reply cannot all be in flight at once).
async fn small_buffer_connection(addr: std::net::SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    tokio::time::timeout(DEADLINE, socket.connect(addr)).await.expect("connect in time").expect("connect")
}

/// Sends `request` on a fresh connection, waits a little before reading (the server has written
/// and closed by then), and reads until EOF; returns everything received.
async fn one_shot(addr: std::net::SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = small_buffer_connection(addr).await;
    stream.write_all(request.as_bytes()).await.expect("request written");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut raw = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw))
        .await
        .expect("the server closes after the reply")
        .expect("read until EOF without a reset");
    raw
}

/// A server whose swarm `hash(1)` holds [`PEERS`] leechers.
async fn crowded_server() -> support::Server {
    let server = server().await;
    for port in 0..PEERS {
        server.announce(&leecher(hash(1), 10_000 + port)).await;
    }
    server
}

/// Checks a complete announce reply of all [`PEERS`] peers plus the asker, then EOF.
fn assert_whole_reply(raw: &[u8], status_lines: &[&str]) {
    let (head, body) = split(raw);
    assert!(status_lines.iter().any(|line| head.starts_with(line)), "{head}");
    let length: usize = header(&head, "content-length").expect("a content-length").parse().expect("a number");
    assert!(length > 8 * 1024, "the reply is meant to be bigger than the client's buffer: {length} bytes");
    assert_eq!(body.len(), length, "the whole body, then EOF (head: {head})");
    match parse_announce_reply(body).expect("a valid announce reply") {
        Reply::Ok(reply) => assert_eq!(reply.peers.len(), usize::from(PEERS), "every peer of the swarm"),
        Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
    }
}

/// Linux copies `TCP_NODELAY` from a listening socket to the connections accepted from it; the
/// frontend sets it on its listener, so every connection it accepts has it without a system call
/// of its own.
#[tokio::test]
async fn connections_accepted_from_the_frontend_listener_have_tcp_nodelay() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    std_listener.set_nonblocking(true).expect("nonblocking");
    let same_socket = std_listener.try_clone().expect("a second descriptor of the listener");
    assert!(!SockRef::from(&same_socket).tcp_nodelay().expect("getsockopt"), "off by default");

    let frontend =
        HttpFrontend::new(TcpListener::from_std(std_listener).expect("tokio listener"), HttpConfig::default());
    assert!(SockRef::from(&same_socket).tcp_nodelay().expect("getsockopt"), "set on the listener");

    // Accept one connection from that listener here (the frontend is not serving).
    let addr = frontend.local_addr().expect("an address");
    let listener = TcpListener::from_std(same_socket).expect("tokio listener");
    let mut client = TcpStream::connect(addr).await.expect("connect");
    // The listener defers accepting until data arrives (TCP_DEFER_ACCEPT): send a byte.
    client.write_all(b"G").await.expect("a byte written");
    let (accepted, _) =
        tokio::time::timeout(DEADLINE, listener.accept()).await.expect("accept in time").expect("accept");
    assert!(accepted.nodelay().expect("getsockopt"), "an accepted connection inherits TCP_NODELAY");
    drop(frontend);
}

/// `Connection: close`: the whole reply (bigger than the client's receive buffer), then EOF, not
/// a reset.
#[tokio::test]
async fn a_connection_close_request_gets_its_whole_reply_then_eof() {
    let server = crowded_server().await;
    let query = format!("{}&numwant={PEERS}&compact=0", announce_query(hash(1), 9_000));
    let raw =
        one_shot(server.addr(), &format!("GET /announce?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
            .await;
    assert_whole_reply(&raw, &["HTTP/1.1 200"]);
    assert_eq!(header(&split(&raw).0, "connection"), Some("close"));
}

/// HTTP/1.0 without keep-alive: the same.
#[tokio::test]
async fn an_http_1_0_request_gets_its_whole_reply_then_eof() {
    let server = crowded_server().await;
    let query = format!("{}&numwant={PEERS}&compact=0", announce_query(hash(1), 9_001));
    let raw = one_shot(server.addr(), &format!("GET /announce?{query} HTTP/1.0\r\n\r\n")).await;
    assert_whole_reply(&raw, &["HTTP/1.0 200", "HTTP/1.1 200"]);
}

/// Pipelined keep-alive requests ending with a `Connection: close` one: every reply in order,
/// then EOF.
#[tokio::test]
async fn pipelined_requests_ending_with_connection_close_are_answered_in_order_then_closed() {
    let server = server().await;
    let mut conn = server.connect().await;
    let mut requests = String::new();
    for (port, close) in [(7001, ""), (7002, ""), (7003, "Connection: close\r\n")] {
        requests
            .push_str(&format!("GET /announce?{} HTTP/1.1\r\nHost: t\r\n{close}\r\n", announce_query(hash(1), port)));
    }
    conn.write(requests.as_bytes()).await;
    for incomplete in 1..=3 {
        assert_eq!(conn.read_response().await.announce().incomplete, Some(incomplete));
    }
    assert!(conn.closed_by_server(DEADLINE).await.is_empty(), "nothing after the last reply");
}

/// A keep-alive connection stays open after a reply and serves the next request.
#[tokio::test]
async fn a_keep_alive_connection_serves_request_after_request() {
    let server = server().await;
    let mut conn = server.connect().await;
    for (port, incomplete) in [(7001, 1), (7002, 2), (7003, 3)] {
        let reply = conn.get(&format!("/announce?{}", announce_query(hash(1), port))).await;
        assert_eq!(reply.announce().incomplete, Some(incomplete));
        assert_ne!(reply.header("connection"), Some("close"));
    }
}

/// A request whose head is still arriving when shutdown starts is answered (with `Connection:
/// close`) before `serve` returns: the drain waits for every open connection.
#[tokio::test]
async fn a_request_in_progress_at_shutdown_is_answered_before_serve_returns() {
    let server = Setup::new().http(|h| h.drain_timeout = Duration::from_secs(60)).start().await;
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let head = format!("GET /announce?{} HTTP/1.1\r\nHost: t\r\n", announce_query(hash(1), 7001));
    stream.write_all(head.as_bytes()).await.expect("first part written");
    // Let the server read the first part, so that the connection is busy, not idle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stopping.is_finished(), "serve returned with a request in progress");

    stream.write_all(b"\r\n").await.expect("end of head written");
    let mut raw = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw)).await.expect("closed after the reply").expect("read");
    let (head, body) = split(&raw);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "connection"), Some("close"));
    assert!(body.starts_with(b"d8:complete"), "{:?}", body.escape_ascii());
    for result in tokio::time::timeout(DEADLINE, stopping).await.expect("serve returns").expect("no panic") {
        result.expect("serve ends without error");
    }
}

/// With several tokio workers there is an accept loop per worker on the one listener: many
/// clients each opening a connection per announce at once are all answered, in full, and every
/// peer is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn concurrent_connection_per_request_clients_are_all_answered_with_several_accept_loops() {
    const CLIENTS: u16 = 200;
    let server = server().await;
    let addr = server.addr();
    let mut clients = tokio::task::JoinSet::new();
    for port in 0..CLIENTS {
        clients.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let request = format!(
                "GET /announce?{} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                announce_query(hash(2), 20_000 + port)
            );
            stream.write_all(request.as_bytes()).await.expect("request written");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.expect("read until EOF");
            raw
        });
    }
    let mut answered = 0;
    while let Some(raw) = tokio::time::timeout(DEADLINE, clients.join_next()).await.expect("all answered in time") {
        let raw = raw.expect("client task");
        let (head, body) = split(&raw);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(body.starts_with(b"d8:complete"), "{:?}", body.escape_ascii());
        answered += 1;
    }
    assert_eq!(answered, CLIENTS);
    let query = format!("{}&numwant={}&compact=0", announce_query(hash(2), 9_999), CLIENTS + 1);
    let raw = one_shot(addr, &format!("GET /announce?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).await;
    match parse_announce_reply(split(&raw).1).expect("a valid announce reply") {
        Reply::Ok(reply) => assert_eq!(reply.peers.len(), usize::from(CLIENTS), "every client stored once"),
        Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
    }
}
