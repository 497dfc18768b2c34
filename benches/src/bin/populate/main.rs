//! Fills a running tracker with a known population, as fast as it takes it: `--torrents T`
//! swarms of `--peers-per-torrent K` distinct peers each, one `started` announce per peer, in
//! rounds (round k adds peer k to every swarm, the way real announces interleave), over HTTP
//! (`http://…`) or over UDP, BEP 15 (`udp://…`). For the memory rows of `benches/compare.sh`
//! and `benches/udp_fill.sh`: resident memory after − before, divided by T × K.
//!
//! ```text
//! populate http://127.0.0.1:6969/announce [--torrents 100000] [--peers-per-torrent 10]
//!          [--connections 64] [--seed 1] [--connection-per-request]
//! populate udp://127.0.0.1:6969 [--torrents 100000] [--peers-per-torrent 10] [--connections 64]
//! populate udp://[::1]:6969 …                    # IPv6 peers
//! populate --list-info-hashes [--torrents 100000] [--seed 1]   # the swarms' hashes, hex, one a line
//! ```
//!
//! Every announce comes from 127.0.0.1 (or ::1), so a peer is told apart by its port (distinct
//! within a swarm), which is how both octotracker (address + port) and opentracker identify
//! peers. Over HTTP, connections are kept alive when the server allows it and reopened when it
//! closes them. opentracker closes after every reply without saying so (HTTP/1.1, no
//! `Connection: close`): pass `--connection-per-request` (sends `Connection: close`, never
//! reuses a connection) and many connections against it. Over UDP each connection is a socket
//! that connects once (and again when its id is refused or a minute old) and then has one
//! announce in flight at a time, sent again after a second without a reply.
//! When done it prints one JSON object on stdout: announces, seconds, announces per second,
//! errors, and the peers the trackers reported in the last round (complete + incomplete), which
//! is T × K when every peer was stored.

mod http;
mod udp;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where the announces go.
#[derive(Clone)]
enum Target {
    /// An HTTP tracker: its address and the announce path.
    Http(SocketAddr, String),
    /// A UDP tracker.
    Udp(SocketAddr),
}

struct Options {
    target: Option<Target>,
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
         URL: http://127.0.0.1:PORT/announce or udp://127.0.0.1:PORT (a loopback IP address and a port)"
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
            url if url.starts_with("http://") => {
                let (addr, path) = parse_url(&url["http://".len()..]);
                o.target = Some(Target::Http(addr, if path.is_empty() { "/announce".to_owned() } else { path }));
            }
            url if url.starts_with("udp://") => o.target = Some(Target::Udp(parse_url(&url["udp://".len()..]).0)),
            _ => usage(),
        }
    }
    if o.target.is_none() && !o.list {
        usage()
    }
    o
}

/// `IP:PORT/PATH` → the address and the path. Only loopback addresses are accepted.
fn parse_url(rest: &str) -> (SocketAddr, String) {
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = authority.parse().unwrap_or_else(|_| {
        eprintln!("populate: {authority:?} is not IP:PORT");
        std::process::exit(2)
    });
    if !addr.ip().is_loopback() {
        eprintln!("populate: refusing a non-loopback target {addr}");
        std::process::exit(2)
    }
    (addr, path.to_owned())
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

/// Announce number `i` of the population, whatever carries it.
struct Announce {
    /// The swarm (`i % torrents`).
    torrent: u64,
    /// The round (`i / torrents`): this is the swarm's peer number `round`.
    round: u64,
    info_hash: [u8; 20],
    peer_id: [u8; 20],
    port: u16,
    /// Bytes left: 0 (a seeder) for 3 peers of every 10.
    left: u64,
    key: u32,
}

impl Announce {
    fn of(o: &Options, i: u64) -> Self {
        let (round, torrent) = (i / o.torrents, i % o.torrents);
        let peer = mix(o.seed.wrapping_add(i));
        let mut peer_id = *b"-PO0001-000000000000";
        peer_id[8..16].copy_from_slice(&peer.to_le_bytes());
        peer_id[16..].copy_from_slice(&mix(peer).to_le_bytes()[..4]);
        // 997 is coprime with 64,000: ports are distinct within a swarm for up to 64,000 peers.
        let port = 1024 + ((round * 997 + torrent * 13) % 64_000) as u16;
        let left = if round % 10 < 3 { 0 } else { 1 + peer % (1 << 32) };
        Announce { torrent, round, info_hash: info_hash(o.seed, torrent), peer_id, port, left, key: peer as u32 }
    }

    /// Whether this is the last round, whose replies' counts are summed.
    fn last_round(&self, o: &Options) -> bool {
        self.round == o.peers_per_torrent - 1
    }
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
        let tasks: Vec<_> = (0..o.connections)
            .map(|_| {
                let (o, next, totals) = (o.clone(), next.clone(), totals.clone());
                match o.target.clone().expect("a target") {
                    Target::Http(addr, path) => tokio::spawn(http::worker(o, addr, path, next, totals)),
                    Target::Udp(addr) => tokio::spawn(udp::worker(o, addr, next, totals)),
                }
            })
            .collect();
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
