//! Tracker replies as the client reads them: every field of BEP 3, 7, 23, 24, 48 and the
//! common extensions, parsed from bencode with any tracker's quirks in mind.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use octotracker_core::bencode::{Value, decode};
use octotracker_core::{InfoHash, PeerId};

/// A reply: what the tracker answered, or the failure it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<T> {
    /// A successful reply.
    Ok(T),
    /// The tracker refused: `failure reason`, and `retry in` minutes (BEP 31) when sent.
    Failure {
        /// The `failure reason`.
        reason: String,
        /// `retry in`, minutes.
        retry_in: Option<i64>,
    },
}

impl<T> Reply<T> {
    /// The successful reply, or `None` for a failure.
    pub fn ok(self) -> Option<T> {
        match self {
            Reply::Ok(t) => Some(t),
            Reply::Failure { .. } => None,
        }
    }

    /// The failure reason, if this is a failure.
    pub fn failure_reason(&self) -> Option<&str> {
        match self {
            Reply::Ok(_) => None,
            Reply::Failure { reason, .. } => Some(reason),
        }
    }
}

/// A peer from a reply: compact entries have no peer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyPeer {
    /// Where the peer listens.
    pub addr: SocketAddr,
    /// Its peer id, in the non-compact form when sent.
    pub id: Option<PeerId>,
}

/// A successful announce reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnounceReply {
    /// `interval`, seconds.
    pub interval: i64,
    /// `min interval`, seconds.
    pub min_interval: Option<i64>,
    /// `complete`: seeders.
    pub complete: Option<i64>,
    /// `incomplete`: leechers.
    pub incomplete: Option<i64>,
    /// `downloaded`: completed downloads.
    pub downloaded: Option<i64>,
    /// Peers from `peers` (compact IPv4, or the dict list of any family).
    pub peers: Vec<ReplyPeer>,
    /// Peers from `peers6` (compact IPv6, BEP 7).
    pub peers6: Vec<ReplyPeer>,
    /// `tracker id`.
    pub tracker_id: Option<Vec<u8>>,
    /// `warning message`.
    pub warning: Option<String>,
    /// `external ip` (BEP 24).
    pub external_ip: Option<IpAddr>,
    /// Whether `peers` came in compact form.
    pub compact: bool,
}

/// The counts of one swarm in a scrape reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScrapeFile {
    /// `complete`: seeders.
    pub complete: i64,
    /// `incomplete`: leechers.
    pub incomplete: i64,
    /// `downloaded`: completed downloads.
    pub downloaded: i64,
}

/// A successful scrape reply (BEP 48).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScrapeReply {
    /// Each hash in `files`, in the order the tracker sent them.
    pub files: Vec<(InfoHash, ScrapeFile)>,
}

impl ScrapeReply {
    /// The counts for one hash, if the reply has it.
    pub fn get(&self, hash: &InfoHash) -> Option<&ScrapeFile> {
        self.files.iter().find(|(h, _)| h == hash).map(|(_, f)| f)
    }
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// Not bencode.
    #[error("reply is not bencode: {0}")]
    Bencode(#[from] octotracker_core::bencode::DecodeError),
    /// Bencode, but not the shape the protocol prescribes.
    #[error("malformed reply: {0}")]
    Shape(String),
}

fn shape(msg: impl Into<String>) -> ReplyError {
    ReplyError::Shape(msg.into())
}

fn failure_of<T>(root: &Value<'_>) -> Option<Reply<T>> {
    let reason = root.get("failure reason")?;
    Some(Reply::Failure {
        reason: String::from_utf8_lossy(reason.as_bytes().unwrap_or(b"")).into_owned(),
        retry_in: root.get("retry in").and_then(Value::as_int),
    })
}

/// Parses a bencoded announce reply.
pub fn parse_announce_reply(body: &[u8]) -> Result<Reply<AnnounceReply>, ReplyError> {
    let root = decode(body)?;
    if !matches!(root, Value::Dict(_)) {
        return Err(shape("top level is not a dictionary"));
    }
    if let Some(failure) = failure_of(&root) {
        return Ok(failure);
    }
    let int = |k: &str| root.get(k).and_then(Value::as_int);
    let mut reply = AnnounceReply {
        interval: int("interval").ok_or_else(|| shape("no interval"))?,
        min_interval: int("min interval"),
        complete: int("complete"),
        incomplete: int("incomplete"),
        downloaded: int("downloaded"),
        tracker_id: root.get("tracker id").and_then(Value::as_bytes).map(<[u8]>::to_vec),
        warning: root.get("warning message").and_then(Value::as_bytes).map(|w| String::from_utf8_lossy(w).into_owned()),
        external_ip: root.get("external ip").and_then(Value::as_bytes).and_then(ip_from_bytes),
        compact: true,
        ..AnnounceReply::default()
    };
    match root.get("peers") {
        Some(Value::Bytes(b)) => reply.peers = compact_peers(b, 6)?,
        Some(Value::List(list)) => {
            reply.compact = false;
            reply.peers = list.iter().map(dict_peer).collect::<Result<_, _>>()?;
        }
        Some(_) => return Err(shape("peers is neither a string nor a list")),
        None => {}
    }
    match root.get("peers6") {
        Some(Value::Bytes(b)) => reply.peers6 = compact_peers(b, 18)?,
        Some(Value::List(list)) => reply.peers6 = list.iter().map(dict_peer).collect::<Result<_, _>>()?,
        Some(_) => return Err(shape("peers6 is neither a string nor a list")),
        None => {}
    }
    Ok(Reply::Ok(reply))
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))),
        _ => None,
    }
}

fn compact_peers(b: &[u8], size: usize) -> Result<Vec<ReplyPeer>, ReplyError> {
    if !b.len().is_multiple_of(size) {
        return Err(shape(format!("compact peer list of {} bytes is not a multiple of {size}", b.len())));
    }
    Ok(b.chunks_exact(size)
        .filter_map(|c| {
            let (ip, port) = c.split_at(size - 2);
            let ip = ip_from_bytes(ip)?;
            Some(ReplyPeer { addr: SocketAddr::new(ip, u16::from_be_bytes([port[0], port[1]])), id: None })
        })
        .collect())
}

fn dict_peer(v: &Value<'_>) -> Result<ReplyPeer, ReplyError> {
    let ip = v
        .get("ip")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<IpAddr>().ok())
        .ok_or_else(|| shape("peer without a valid ip"))?;
    let port = v
        .get("port")
        .and_then(Value::as_int)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| shape("peer without a valid port"))?;
    let id = match v.get("peer id").and_then(Value::as_bytes) {
        Some(b) => Some(PeerId(<[u8; 20]>::try_from(b).map_err(|_| shape("peer id is not 20 bytes"))?)),
        None => None,
    };
    Ok(ReplyPeer { addr: SocketAddr::new(ip, port), id })
}

/// Parses a bencoded scrape reply.
pub fn parse_scrape_reply(body: &[u8]) -> Result<Reply<ScrapeReply>, ReplyError> {
    let root = decode(body)?;
    if let Some(failure) = failure_of(&root) {
        return Ok(failure);
    }
    let Some(Value::Dict(files)) = root.get("files") else {
        return Err(shape("no files dictionary"));
    };
    let mut reply = ScrapeReply::default();
    for entry in files {
        let hash = <[u8; 20]>::try_from(entry.key).map_err(|_| shape("files key is not 20 bytes"))?;
        let int = |k: &str| entry.value.get(k).and_then(Value::as_int).unwrap_or(0);
        let file =
            ScrapeFile { complete: int("complete"), incomplete: int("incomplete"), downloaded: int("downloaded") };
        reply.files.push((InfoHash(hash), file));
    }
    Ok(Reply::Ok(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compact_v4_and_v6_peers() {
        let mut body = b"d8:intervali900e5:peers6:\x7f\x00\x00\x01\x1a\xe16:peers618:".to_vec();
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1a, 0xe2]);
        body.push(b'e');
        let reply = parse_announce_reply(&body).unwrap().ok().unwrap();
        assert_eq!(reply.peers[0].addr.to_string(), "127.0.0.1:6881");
        assert_eq!(reply.peers6[0].addr.to_string(), "[::1]:6882");
    }

    #[test]
    fn reads_failures_and_rejects_bad_shapes() {
        let f = parse_announce_reply(b"d14:failure reason4:nopee").unwrap();
        assert_eq!(f.failure_reason(), Some("nope"));
        assert!(parse_announce_reply(b"d5:peers5:abcdee").is_err());
        assert!(parse_announce_reply(b"d8:intervali1e5:peers5:abcdee").is_err());
        assert!(parse_announce_reply(b"le").is_err());
    }
}
