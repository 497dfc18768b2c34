//! Hostile HTTP clients against the real binary (127.0.0.1 only, every wait bounded): a
//! connection flood past `--max-connections`, a request trickled a byte at a time, an oversized
//! head, pipelined requests, and an announce with two `info_hash` values.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

mod common;

use common::{LoggedServer, octotracker};

const DEADLINE: Duration = Duration::from_secs(30);
const QUERY: &str = "info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-qB4650-abcdefghijkl&port=6881&left=0";

fn start(extra: &[&str]) -> (LoggedServer, String) {
    let mut server = LoggedServer::spawn(octotracker().args(["--http", "127.0.0.1:0"]).args(extra));
    let addr = server.await_after("listening on http://", DEADLINE);
    (server, addr)
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// Reads one HTTP/1.1 response (head and a Content-Length body) from a keep-alive stream.
fn read_response(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("a response head in time");
        assert_eq!(n, 1, "connection closed mid-head: {:?}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head[9..12].parse().expect("a status code");
    let len: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).expect("the body");
    (status, body)
}

fn announce_on(stream: &mut TcpStream, query: &str) -> (u16, Vec<u8>) {
    write!(stream, "GET /announce?{query} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    read_response(stream)
}

#[test]
fn a_connection_flood_waits_at_the_limit_and_held_connections_keep_being_answered() {
    let (mut server, addr) = start(&["--max-connections", "16", "--idle-timeout", "60"]);
    let mut held = connect(&addr);
    assert_eq!(announce_on(&mut held, QUERY).0, 200);

    // 200 connections that send the start of a request and stall: 15 take the remaining slots,
    // the rest wait in the kernel's queue. (Connections that send nothing at all are not even
    // accepted: the listener has TCP_DEFER_ACCEPT; see frontends/http/tests/one_shot.rs.)
    let flood: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = TcpStream::connect(&addr).expect("the kernel queues it");
            stream.write_all(b"GET /announce?").expect("a partial request written");
            stream
        })
        .collect();
    server.await_after("connection limit reached", DEADLINE);
    for _ in 0..20 {
        let (status, body) = announce_on(&mut held, QUERY);
        assert_eq!(status, 200);
        assert!(body.starts_with(b"d8:complete"), "{}", String::from_utf8_lossy(&body));
    }
    // A new connection gets no answer while the flood holds every slot…
    let mut late = connect(&addr);
    late.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    write!(late, "GET /announce?{QUERY} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut byte = [0u8; 1];
    assert!(late.read(&mut byte).is_err(), "answered beyond the limit");
    // …and is answered once the flood is gone.
    drop(flood);
    late.set_read_timeout(Some(DEADLINE)).unwrap();
    let (status, _) = read_response(&mut late);
    assert_eq!(status, 200);
    server.await_after("below the connection limit again", DEADLINE);
}

#[test]
fn a_request_trickled_byte_by_byte_is_cut_off_and_blocks_no_one() {
    let (_server, addr) = start(&["--header-read-timeout", "1"]);
    let mut slow = connect(&addr);
    let request = format!("GET /announce?{QUERY} HTTP/1.1\r\nHost: t\r\n\r\n");
    let started = Instant::now();
    let mut cut_off = false;
    for b in request.bytes() {
        if slow.write_all(&[b]).is_err() {
            cut_off = true;
            break;
        }
        // Meanwhile another client is answered at once.
        let mut other = connect(&addr);
        assert_eq!(announce_on(&mut other, QUERY).0, 200);
        std::thread::sleep(Duration::from_millis(100));
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    if !cut_off {
        // Closed by the server: reading gives EOF (or a 408) within the bound.
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut rest = Vec::new();
        let _ = slow.read_to_end(&mut rest);
        let text = String::from_utf8_lossy(&rest);
        assert!(rest.is_empty() || text.starts_with("HTTP/1.1 408"), "a trickled request got: {text}");
    }
    assert!(started.elapsed() < Duration::from_secs(8), "the slow client was not cut off in time");
}

#[test]
fn oversized_heads_are_refused_and_the_server_goes_on() {
    let (_server, addr) = start(&[]);
    let mut big = connect(&addr);
    let huge = "x".repeat(1_000_000);
    let _ = write!(big, "GET /announce?{huge} HTTP/1.1\r\nHost: t\r\n\r\n");
    let mut reply = Vec::new();
    let _ = big.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || text.starts_with("HTTP/1.1 4"),
        "a 1 MB request line got: {}",
        &text[..text.len().min(200)]
    );
    let mut flood = connect(&addr);
    let headers: String = (0..10_000).map(|i| format!("X-H{i}: {}\r\n", "v".repeat(50))).collect();
    let _ = write!(flood, "GET /announce?{QUERY} HTTP/1.1\r\nHost: t\r\n{headers}\r\n");
    let mut reply = Vec::new();
    let _ = flood.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(reply.is_empty() || text.starts_with("HTTP/1.1 4"), "a header flood got: {}", &text[..text.len().min(200)]);
    let mut ok = connect(&addr);
    assert_eq!(announce_on(&mut ok, QUERY).0, 200, "still serving");
}

#[test]
fn pipelined_requests_http10_and_bodies_on_get_are_answered_in_order() {
    let (_server, addr) = start(&[]);
    let mut stream = connect(&addr);
    let scrape = "info_hash=aaaaaaaaaaaaaaaaaaaa";
    write!(
        stream,
        "GET /announce?{QUERY} HTTP/1.1\r\nHost: t\r\n\r\nGET /scrape?{scrape} HTTP/1.1\r\nHost: t\r\n\r\n\
         GET /announce?{QUERY}&event=stopped HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    )
    .unwrap();
    let (s1, b1) = read_response(&mut stream);
    let (s2, b2) = read_response(&mut stream);
    let (s3, b3) = read_response(&mut stream);
    assert_eq!((s1, s2, s3), (200, 200, 200));
    assert!(b1.starts_with(b"d8:completei1e"), "{}", String::from_utf8_lossy(&b1));
    assert!(b2.starts_with(b"d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1e"), "{}", String::from_utf8_lossy(&b2));
    assert!(b3.starts_with(b"d8:completei0e"), "the stop applied: {}", String::from_utf8_lossy(&b3));

    let mut old = connect(&addr);
    write!(old, "GET /announce?{QUERY} HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    old.read_to_end(&mut reply).expect("HTTP/1.0: answered, then closed");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"), "{text}");
}

#[test]
fn bad_escapes_and_a_repeated_info_hash_name_the_parameter() {
    let (_server, addr) = start(&[]);
    let mut stream = connect(&addr);
    let (_, body) = announce_on(&mut stream, &format!("{QUERY}&info_hash=bbbbbbbbbbbbbbbbbbbb"));
    assert!(String::from_utf8_lossy(&body).contains("invalid info_hash: given more than once"), "{body:?}");
    let (_, body) = announce_on(&mut stream, "info_hash=%zz&peer_id=-qB4650-abcdefghijkl&port=1&left=0");
    assert!(String::from_utf8_lossy(&body).contains("invalid info_hash: bad percent-encoding"), "{body:?}");
}

#[test]
fn a_rate_limit_refuses_an_address_over_its_budget_with_a_reason() {
    let (_server, addr) = start(&["--rate-limit", "5", "--rate-limit-burst", "10"]);
    let mut stream = connect(&addr);
    let reason = "rate limit exceeded: at most 5 requests per second from one address";
    let started = Instant::now();
    let refused =
        (0..40).filter(|_| String::from_utf8_lossy(&announce_on(&mut stream, QUERY).1).contains(reason)).count();
    let elapsed = started.elapsed().as_secs_f64();
    // A burst of 10, then 5 per second over the time the 40 requests took.
    let answered = 40 - refused;
    let most = 10 + (elapsed * 5.0).ceil() as usize;
    assert!(answered >= 10 && answered <= most, "{answered} answered in {elapsed:.2} s (at most {most})");
    assert!(refused > 0, "nothing refused in {elapsed:.2} s");
}
