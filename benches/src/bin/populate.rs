//! Fills a running HTTP tracker with a known population, as fast as it takes it: `--torrents T`
//! swarms of `--peers-per-torrent K` distinct peers each, one `event=started` announce per peer,
//! in rounds (round k adds peer k to every swarm, the way real announces interleave). For the
//! memory row of `benches/compare.sh`: resident memory after − before, divided by T × K.
//!
//! ```text
//! populate http://127.0.0.1:6969/announce [--torrents 100000] [--peers-per-torrent 10]
//!          [--connections 64] [--seed 1] [--connection-per-request]
//! populate --list-info-hashes [--torrents 100000] [--seed 1]   # the swarms' hashes, hex, one a line
//! ```
//!
//! Every announce comes from 127.0.0.1, so a peer is told apart by its port (distinct within a
//! swarm), which is how both octotracker (address + port) and opentracker identify peers.
//! Connections are kept alive when the server allows it and reopened when it closes them.
//! opentracker closes after every reply without saying so (HTTP/1.1, no `Connection: close`):
//! pass `--connection-per-request` (sends `Connection: close`, never reuses a connection) and
//! many connections against it.
//! When done it prints one JSON object on stdout: announces, seconds, announces per second,
//! errors, and the peers the trackers reported in the last round (complete + incomplete), which
//! is T × K when every peer was stored.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    target: Option<(SocketAddr, String)>,
    torrents: u64,
    peers_per_torrent: u64,
    connections: usize,
    seed: u64,
    list: bool,
    close: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: populate URL [--torrents N] [--peers-per-torrent K] [--connections C] [--seed S] \
         [--connection-per-request]\n       populate --list-info-hashes [--torrents N] [--seed S]\n\
         URL: http://127.0.0.1:PORT/announce (a loopback IP address and a port)"
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let mut o = Options {
        target: None,
        torrents: 100_000,
        peers_per_torrent: 10,
        connections: 64,
        seed: 1,
        list: false,
        close: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            let v = args.next().unwrap_or_else(|| usage());
            v.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("populate: {name} takes a number, not {v:?}");
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--torrents" => o.torrents = number("--torrents").max(1),
            "--peers-per-torrent" => o.peers_per_torrent = number("--peers-per-torrent").clamp(1, 64_000),
            "--connections" => o.connections = number("--connections").clamp(1, 10_000) as usize,
            "--seed" => o.seed = number("--seed"),
            "--list-info-hashes" => o.list = true,
            "--connection-per-request" => o.close = true,
            "-h" | "--help" => usage(),
            url if url.starts_with("http://") => o.target = Some(parse_url(url)),
            _ => usage(),
        }
    }
    if o.target.is_none() && !o.list {
        usage()
    }
    o
}

/// `http://IP:PORT/PATH` → the address and the path. Only loopback addresses are accepted.
fn parse_url(url: &str) -> (SocketAddr, String) {
    let rest = &url["http://".len()..];
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = authority.parse().unwrap_or_else(|_| {
        eprintln!("populate: {authority:?} is not IP:PORT");
        std::process::exit(2)
    });
    if !addr.ip().is_loopback() {
        eprintln!("populate: refusing a non-loopback target {addr}");
        std::process::exit(2)
    }
    (addr, if path.is_empty() { "/announce".to_owned() } else { path.to_owned() })
}

/// splitmix64.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Swarm `t`'s info hash under `seed`: 20 random-looking bytes.
fn info_hash(seed: u64, t: u64) -> [u8; 20] {
    let mut out = [0u8; 20];
    let base = mix(seed ^ 0x006f_7075_6c61_7465).wrapping_add(t.wrapping_mul(3));
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&mix(base.wrapping_add(i as u64)).to_le_bytes()[..chunk.len()]);
    }
    out
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

/// The request for announce number `i` (round `i / torrents`, swarm `i % torrents`).
fn request(o: &Options, path: &str, host: &SocketAddr, i: u64, out: &mut String) {
    let (k, t) = (i / o.torrents, i % o.torrents);
    let peer = mix(o.seed.wrapping_add(i));
    out.clear();
    out.push_str("GET ");
    out.push_str(path);
    out.push(if path.contains('?') { '&' } else { '?' });
    out.push_str("info_hash=");
    percent_encode(out, &info_hash(o.seed, t));
    out.push_str("&peer_id=-PO0001-");
    percent_encode(out, &peer.to_le_bytes());
    percent_encode(out, &mix(peer).to_le_bytes()[..4]);
    // 997 is coprime with 64,000: ports are distinct within a swarm for up to 64,000 peers.
    let port = 1024 + (k * 997 + t * 13) % 64_000;
    let left = if k % 10 < 3 { 0 } else { 1 + peer % (1 << 32) };
    let _ = write!(
        out,
        "&port={port}&uploaded=0&downloaded=0&left={left}&corrupt=0&key={:08X}&event=started&numwant=50&compact=1\
         &no_peer_id=1 HTTP/1.1\r\nHost: {host}\r\nUser-Agent: octotracker-populate\r\nAccept-Encoding: gzip\r\n{}\r\n",
        peer as u32,
        if o.close { "Connection: close\r\n" } else { "" }
    );
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

#[derive(Default)]
struct Totals {
    errors: AtomicU64,
    last_round_peers: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Totals {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(what);
    }
}

async fn worker(o: Arc<Options>, next: Arc<AtomicU64>, totals: Arc<Totals>) {
    let (addr, path) = o.target.clone().expect("a target");
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
                } else if i / o.torrents == o.peers_per_torrent - 1 {
                    let peers = bencoded_int(&reply.body, b"8:complete").unwrap_or(0)
                        + bencoded_int(&reply.body, b"10:incomplete").unwrap_or(0);
                    totals.last_round_peers.fetch_add(peers, Ordering::Relaxed);
                }
            }
            Err(e) => totals.error(format!("torrent {}, round {}: {e}", i % o.torrents, i / o.torrents)),
        }
    }
}

/// `s` with what JSON cannot hold as is inside a string made safe (control bytes become spaces).
fn json_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => format!("\\{c}"),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn main() {
    let o = parse_args();
    if o.list {
        let mut out = String::with_capacity(41 * o.torrents as usize);
        for t in 0..o.torrents {
            for b in info_hash(o.seed, t) {
                let _ = write!(out, "{b:02x}");
            }
            out.push('\n');
        }
        print!("{out}");
        return;
    }
    let o = Arc::new(o);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let next = Arc::new(AtomicU64::new(0));
    let totals = Arc::new(Totals::default());
    let start = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> =
            (0..o.connections).map(|_| tokio::spawn(worker(o.clone(), next.clone(), totals.clone()))).collect();
        for task in tasks {
            task.await.expect("a worker");
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let announces = o.torrents * o.peers_per_torrent;
    let first_error = totals.first_error.lock().unwrap_or_else(|e| e.into_inner()).take();
    println!(
        "{{\"announces\":{announces},\"torrents\":{},\"peers\":{announces},\"seconds\":{seconds:.3},\
         \"announces_per_second\":{:.0},\"errors\":{},\"last_round_peers\":{},\"first_error\":\"{}\"}}",
        o.torrents,
        announces as f64 / seconds,
        totals.errors.load(Ordering::Relaxed),
        totals.last_round_peers.load(Ordering::Relaxed),
        json_escape(&first_error.unwrap_or_default())
    );
}
