//! The HTTP side of `populate`: one keep-alive connection per worker (or one per request).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Announce, Options, Totals};

/// The HTTP request for announce number `i`.
fn request(o: &Options, path: &str, host: &SocketAddr, i: u64, out: &mut String) {
    let a = Announce::of(o, i);
    out.clear();
    out.push_str("GET ");
    out.push_str(path);
    out.push(if path.contains('?') { '&' } else { '?' });
    out.push_str("info_hash=");
    percent_encode(out, &a.info_hash);
    out.push_str("&peer_id=");
    percent_encode(out, &a.peer_id);
    let _ = write!(
        out,
        "&port={}&uploaded=0&downloaded=0&left={}&corrupt=0&key={:08X}&event=started&numwant=50&compact=1\
         &no_peer_id=1 HTTP/1.1\r\nHost: {host}\r\nUser-Agent: octotracker-populate\r\nAccept-Encoding: gzip\r\n{}\r\n",
        a.port,
        a.left,
        a.key,
        if o.close { "Connection: close\r\n" } else { "" }
    );
}

fn percent_encode(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// One HTTP response read off a connection.
struct Reply {
    body: Vec<u8>,
    keep_alive: bool,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one response: headers, then `Content-Length` bytes or, without it, up to the close.
async fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Reply> {
    buf.clear();
    let header_end = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let http10 = head.starts_with("http/1.0");
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    let close = head.lines().any(|l| l.starts_with("connection:") && l.contains("close"));
    match length {
        Some(len) => {
            while buf.len() < header_end + len {
                let mut chunk = [0u8; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            stream.read_to_end(buf).await?;
        }
    }
    let end = length.map_or(buf.len(), |len| header_end + len);
    Ok(Reply { body: buf[header_end..end].to_vec(), keep_alive: length.is_some() && !close && !http10 })
}

/// The integer after `key` in a bencoded reply (`8:completei12e` → 12).
fn bencoded_int(body: &[u8], key: &[u8]) -> Option<u64> {
    let at = find(body, key)? + key.len();
    let rest = body.get(at..)?.strip_prefix(b"i")?;
    let end = rest.iter().position(|&b| b == b'e')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// One connection's loop: takes the next announce number until all are sent.
pub(crate) async fn worker(o: Arc<Options>, addr: SocketAddr, path: String, next: Arc<AtomicU64>, totals: Arc<Totals>) {
    let total = o.torrents * o.peers_per_torrent;
    let mut conn: Option<TcpStream> = None;
    let mut req = String::with_capacity(512);
    let mut buf = Vec::with_capacity(8192);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return;
        }
        request(&o, &path, &addr, i, &mut req);
        // A kept-alive connection may have been closed by the server meanwhile: retry once on a
        // fresh one.
        let mut attempt = 0;
        let reply = loop {
            attempt += 1;
            let reused = conn.is_some();
            let stream = match conn.as_mut() {
                Some(s) => s,
                None => match TcpStream::connect(addr).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        conn.insert(s)
                    }
                    Err(e) => break Err(format!("connect: {e}")),
                },
            };
            let result = async {
                stream.write_all(req.as_bytes()).await?;
                read_reply(stream, &mut buf).await
            }
            .await;
            match result {
                Ok(reply) => break Ok(reply),
                Err(e) => {
                    conn = None;
                    if !(reused && attempt == 1) {
                        break Err(format!("request: {e}"));
                    }
                }
            }
        };
        match reply {
            Ok(reply) => {
                if !reply.keep_alive || o.close {
                    conn = None;
                }
                if find(&reply.body, b"failure reason").is_some() {
                    let (k, t) = (i / o.torrents, i % o.torrents);
                    totals.error(format!("torrent {t}, round {k}: {}", String::from_utf8_lossy(&reply.body)));
                } else if Announce::of(&o, i).last_round(&o) {
                    let peers = bencoded_int(&reply.body, b"8:complete").unwrap_or(0)
                        + bencoded_int(&reply.body, b"10:incomplete").unwrap_or(0);
                    totals.last_round_peers.fetch_add(peers, Ordering::Relaxed);
                }
            }
            Err(e) => totals.error(format!("torrent {}, round {}: {e}", i % o.torrents, i / o.torrents)),
        }
    }
}
