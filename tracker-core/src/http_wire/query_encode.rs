//! Writing query strings: what a client sends. The inverse of `query.rs`.

use std::fmt::Write as _;

use crate::{AnnounceRequest, Event, InfoHash};

/// Builds a query string, percent-encoding every byte outside RFC 3986's unreserved set.
///
/// ```
/// use octotracker_core::http_wire::QueryEncoder;
/// let mut q = QueryEncoder::new();
/// q.bytes("info_hash", &[0x00, b'a', 0xff]).number("port", 6881);
/// assert_eq!(q.as_str(), "info_hash=%00a%FF&port=6881");
/// ```
#[derive(Debug, Default, Clone)]
pub struct QueryEncoder {
    out: String,
}

impl QueryEncoder {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `name=value`, percent-encoding the value's bytes.
    pub fn bytes(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.separator(name);
        for &b in value {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                self.out.push(char::from(b));
            } else {
                let _ = write!(self.out, "%{b:02X}");
            }
        }
        self
    }

    /// Appends `name=value` for a number.
    pub fn number(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.separator(name);
        let _ = write!(self.out, "{value}");
        self
    }

    /// Appends the parameters of an announce (`compact`, `numwant`, `event` only when they
    /// differ from the protocol's defaults).
    pub fn announce(&mut self, req: &AnnounceRequest) -> &mut Self {
        self.bytes("info_hash", &req.info_hash.0)
            .bytes("peer_id", &req.peer_id.0)
            .number("port", req.port)
            .number("uploaded", req.uploaded)
            .number("downloaded", req.downloaded)
            .number("left", req.left)
            .number("compact", u8::from(req.compact));
        if req.no_peer_id {
            self.number("no_peer_id", 1);
        }
        if req.event != Event::None {
            self.bytes("event", req.event.as_str().as_bytes());
        }
        if let Some(n) = req.numwant {
            self.number("numwant", n);
        }
        if let Some(key) = req.key {
            self.number("key", format_args!("{key:08X}"));
        }
        if let Some(ip) = req.ip {
            self.number("ip", ip);
        }
        self
    }

    /// Appends one `info_hash` per hash (a scrape).
    pub fn scrape(&mut self, hashes: &[InfoHash]) -> &mut Self {
        for h in hashes {
            self.bytes("info_hash", &h.0);
        }
        self
    }

    /// The query so far, without a leading `?`.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The query, without a leading `?`.
    pub fn into_string(self) -> String {
        self.out
    }

    fn separator(&mut self, name: &str) {
        if !self.out.is_empty() {
            self.out.push('&');
        }
        self.out.push_str(name);
        self.out.push('=');
    }
}
