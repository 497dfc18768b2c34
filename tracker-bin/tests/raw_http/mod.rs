//! HTTP/1.1 announces over a plain `TcpStream`, with every way a response can end told apart
//! (complete, closed or reset before a byte, cut short): what a shutdown test needs to count,
//! where a client library would retry or merge these cases.

#![allow(dead_code)] // each test file uses a part

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use octotracker_client::{Reply, parse_announce_reply};
use octotracker_core::http_wire::QueryEncoder;
use octotracker_core::{AnnounceRequest, Event, InfoHash, PeerId};

/// How one response ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Response {
    /// A whole response: status, body, and whether it said `connection: close`.
    Complete { status: u16, body: Vec<u8>, close: bool },
    /// The connection ended (EOF) before any byte of a response.
    ClosedUnanswered,
    /// The connection was reset before any byte of a response.
    ResetUnanswered,
    /// Some bytes of a response, then the connection ended: never acceptable.
    Truncated(Vec<u8>),
    /// Nothing within the read timeout.
    TimedOut,
}

impl Response {
    /// A complete 200 whose body is a valid bencoded announce success.
    pub(crate) fn is_announce_success(&self) -> bool {
        match self {
            Response::Complete { status: 200, body, .. } => matches!(parse_announce_reply(body), Ok(Reply::Ok(_))),
            _ => false,
        }
    }
}

/// `GET /announce?…` of a `started` leecher on 127.0.0.1:`port` in swarm `hash`.
pub(crate) fn announce_request(hash: InfoHash, port: u16) -> Vec<u8> {
    let mut id = *b"-OT0001-sigterm00000";
    id[18..].copy_from_slice(&port.to_be_bytes());
    let mut req = AnnounceRequest::new(hash, PeerId(id), port);
    req.left = 1000;
    req.event = Event::Started;
    req.numwant = Some(5);
    let mut query = QueryEncoder::new();
    query.announce(&req);
    format!("GET /announce?{} HTTP/1.1\r\nHost: t\r\n\r\n", query.as_str()).into_bytes()
}

/// Connects with a read timeout of `timeout`.
pub(crate) fn connect(addr: &str, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes `request` whole.
pub(crate) fn send(stream: &mut TcpStream, request: &[u8]) -> std::io::Result<()> {
    stream.write_all(request)
}

/// Reads one response (head, then a `content-length` body).
pub(crate) fn read_response(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Response::ClosedUnanswered,
            Ok(0) => return Response::Truncated(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return ended(e, buf),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse::<u16>().ok());
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()));
    let (Some(status), Some(length)) = (status, length) else { return Response::Truncated(buf) };
    let close = head.lines().any(|l| l.starts_with("connection:") && l.contains("close"));
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(0) => return Response::Truncated(buf),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return ended(e, buf),
        }
    }
    if buf.len() > head_end + length {
        return Response::Truncated(buf); // more bytes than one response: garbled
    }
    Response::Complete { status, body: buf.split_off(head_end), close }
}

fn ended(e: std::io::Error, buf: Vec<u8>) -> Response {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Response::TimedOut,
        _ if !buf.is_empty() => Response::Truncated(buf),
        _ => Response::ResetUnanswered,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
