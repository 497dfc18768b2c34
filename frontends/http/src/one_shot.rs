//! The one-request connection, answered without hyper: what most BitTorrent clients send (a new
//! connection per announce, `Connection: close` or HTTP/1.0), read in one `read(2)`, answered by
//! `TrackerService::answer` (the code every HTTP path of the crate shares; the connection decides
//! the client and the rate limit, see [`connection`](crate::connection)) and written in one
//! `writev(2)` with the head from [`reply`](crate::reply). This module only parses the request
//! and writes the reply: it takes nothing of the server but what it is given.
//!
//! It takes only requests it can answer exactly as hyper would: a complete `GET` head for the
//! announce or scrape path, read whole in the connection's first read with nothing after it, that
//! asks for the connection to close, has no body or upgrade, a request target of plain URI
//! characters, from a client that is not a trusted proxy. Everything else (keep-alive, a head
//! still arriving, HEAD, other paths, bodies, odd bytes) goes to hyper with the bytes read so far,
//! and hyper decides. The reply is the same bytes hyper writes (`tests/one_shot.rs` compares them).

use std::io::{self, IoSlice};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::TrackerService;
use crate::reply::{HEAD_CAPACITY, write_head};
use crate::service::Endpoint;

/// Most headers a one-shot request may have (more: hyper's path, which allows 100).
const MAX_HEADERS: usize = 24;

/// The head of a request this path answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OneShot<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) passkey: Option<&'a str>,
    pub(crate) query: &'a [u8],
    /// HTTP/1.0 (answered as 1.0, no `connection` header), else HTTP/1.1 with `Connection: close`.
    pub(crate) http10: bool,
}

/// `bytes` as a request this path answers, or `None` for hyper.
pub(crate) fn parse<'a>(bytes: &'a [u8], service: &TrackerService) -> Option<OneShot<'a>> {
    let head = parse_head(bytes)?;
    let (endpoint, passkey) = service.endpoint(head.path)?;
    Some(OneShot { endpoint, passkey, query: head.query, http10: head.http10 })
}

/// A request head the one-shot path can answer, whatever its path: see [`parse_head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    /// The path of the request target (before any `?`), plain URI characters only.
    pub path: &'a str,
    /// The query (after the first `?`; empty without one).
    pub query: &'a [u8],
    /// HTTP/1.0 without keep-alive; else HTTP/1.1 with `Connection: close`.
    pub http10: bool,
}

/// `bytes` as exactly one complete `GET` request head that asks to close the connection, with no
/// body, expectation or upgrade, and an origin-form target of plain URI characters; `None` for
/// anything else. Public for the fuzz target only (not part of the crate's API).
#[doc(hidden)]
pub fn parse_head(bytes: &[u8]) -> Option<Head<'_>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) if len == bytes.len() => {}
        _ => return None,
    }
    if request.method != Some("GET") {
        return None;
    }
    let http10 = match request.version {
        Some(0) => true,
        Some(1) => false,
        _ => return None,
    };
    let mut close = false;
    let mut keep_alive = false;
    for header in request.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                if !token.eq_ignore_ascii_case(b"close") && !token.eq_ignore_ascii_case(b"keep-alive") {
                    return None;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
            || name.eq_ignore_ascii_case("expect")
            || name.eq_ignore_ascii_case("upgrade")
        {
            return None;
        }
    }
    let closes = if http10 { !keep_alive } else { close };
    if !closes {
        return None;
    }
    let target = request.path?;
    if !target.starts_with('/') || !target.bytes().all(plain_uri_byte) {
        return None;
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, query.as_bytes()),
        None => (target, &b""[..]),
    };
    Some(Head { path, query, http10 })
}

/// Unreserved and sub-delimiter characters, `%`, `/`, `?`, `:` and `@`: what announce and scrape
/// URLs are made of, all of which the `http` crate's URI parser accepts as they are.
fn plain_uri_byte(b: u8) -> bool {
    PLAIN_URI[usize::from(b)]
}

/// [`plain_uri_byte`] as a table (a request target is a few hundred bytes).
static PLAIN_URI: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let others = b"-._~!$&'()*+,;=%/?:@";
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
};

/// Writes the reply to `request` (`body`, the bencoded answer) on `stream`, with
/// `connection: close` also for HTTP/1.0 when `close` (the server drains). A client that does
/// not take the reply within `timeout` is dropped (the caller drops the connection after this).
pub(crate) async fn reply(stream: &TcpStream, request: &OneShot<'_>, close: bool, body: &[u8], timeout: Duration) {
    let mut head = [0u8; HEAD_CAPACITY];
    let head_len = write_head(&mut head, request.http10, close, body.len());
    let whole = head_len + body.len();
    let written = match stream.try_write_vectored(&[IoSlice::new(&head[..head_len]), IoSlice::new(body)]) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(_) => return,
    };
    if written < whole {
        // A reply bigger than the socket's send buffer: the rest as the client takes it.
        let mut rest = Vec::with_capacity(whole - written);
        rest.extend_from_slice(head.get(written..head_len).unwrap_or_default());
        rest.extend_from_slice(&body[written.saturating_sub(head_len)..]);
        let _ = tokio::time::timeout(timeout, write_all(stream, &rest)).await;
    }
}

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use octotracker_core::{SystemClock, Tracker, TrackerConfig};

    use super::*;
    use crate::HttpConfig;

    fn service() -> TrackerService {
        let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
        let intervals = Arc::new(octotracker_interval::Static::default());
        let tracker = Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock));
        TrackerService::new(Arc::new(tracker), HttpConfig::default())
    }

    fn taken(raw: &str) -> Option<(Endpoint, String, bool)> {
        let service = service();
        parse(raw.as_bytes(), &service).map(|r| (r.endpoint, String::from_utf8(r.query.to_vec()).unwrap(), r.http10))
    }

    #[test]
    fn one_request_connections_for_the_tracker_are_taken() {
        let q = "info_hash=%01%02&port=6881";
        assert_eq!(
            taken(&format!("GET /announce?{q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")),
            Some((Endpoint::Announce, q.to_owned(), false))
        );
        assert_eq!(
            taken(&format!("GET /announce?{q} HTTP/1.0\r\n\r\n")),
            Some((Endpoint::Announce, q.to_owned(), true))
        );
        assert_eq!(
            taken(&format!("GET /scrape?{q} HTTP/1.0\r\nConnection: close\r\n\r\n")),
            Some((Endpoint::Scrape, q.to_owned(), true))
        );
        assert_eq!(
            taken("GET /announce HTTP/1.1\r\nconnection: Close\r\nUser-Agent: x/1.0\r\n\r\n"),
            Some((Endpoint::Announce, String::new(), false))
        );
        assert_eq!(
            taken("GET /announce?a HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"),
            Some((Endpoint::Announce, "a".to_owned(), false))
        );
    }

    #[test]
    fn everything_else_is_left_to_hyper() {
        for raw in [
            // keep-alive (the default of HTTP/1.1, asked for in HTTP/1.0)
            "GET /announce?a HTTP/1.1\r\nHost: t\r\n\r\n",
            "GET /announce?a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            // other methods, paths and versions
            "HEAD /announce?a HTTP/1.1\r\nConnection: close\r\n\r\n",
            "POST /announce?a HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /other?a HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET http://t/announce?a HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /announce?a HTTP/2.0\r\nConnection: close\r\n\r\n",
            // bodies, expectations, upgrades, other connection options
            "GET /announce?a HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            "GET /announce?a HTTP/1.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /announce?a HTTP/1.1\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n",
            "GET /announce?a HTTP/1.1\r\nConnection: close, upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET /announce?a HTTP/1.1\r\nConnection: close, te\r\n\r\n",
            // incomplete, followed by more, malformed
            "GET /announce?a HTTP/1.1\r\nConnection: close\r\n",
            "GET /announce?a HTTP/1.1\r\nConnection: close\r\n\r\nGET /",
            "GET /announce?a HTTP/1.1\r\nConnection : close\r\n\r\n",
            "GET /announce?a b HTTP/1.1\r\nConnection: close\r\n\r\n",
            // request targets with characters outside the plain set
            "GET /announce?a=\"b\" HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /announce?a#b HTTP/1.1\r\nConnection: close\r\n\r\n",
            "GET /announce?a={b} HTTP/1.1\r\nConnection: close\r\n\r\n",
            "",
        ] {
            assert_eq!(taken(raw), None, "{raw:?}");
        }
        let many = "X-A: b\r\n".repeat(MAX_HEADERS);
        assert_eq!(taken(&format!("GET /announce HTTP/1.1\r\nConnection: close\r\n{many}\r\n")), None);
        let bytes = b"GET /announce?\xff HTTP/1.1\r\nConnection: close\r\n\r\n";
        assert!(parse(bytes, &service()).is_none(), "a byte above 0x7f");
    }
}
