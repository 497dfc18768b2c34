//! `octotracker load ws://…`: simulated WebTorrent peers against a WebSocket tracker. Each
//! connection is one peer of one of `--torrents` swarms (a leecher); it announces with `--offers`
//! offers, answers every offer relayed to it, and announces again as soon as its reply came
//! (closed loop), until `--duration` ends. With `--idle`, each announces once and stays silent. Reports announces/s, offers and answers relayed,
//! failures, and the generator's own CPU time.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::json;
use serde_json::value::RawValue;
use tokio::net::TcpStream;
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::Message;

use crate::Failure;
use crate::load_command::LoadArgs;

#[derive(Default)]
struct Counts {
    announces: AtomicU64,
    offers_received: AtomicU64,
    answers_received: AtomicU64,
    failures: AtomicU64,
    errors: AtomicU64,
    /// The first few distinct errors, for the report.
    error_examples: std::sync::Mutex<Vec<String>>,
}

/// Runs the WebSocket load described by `args` against `url` (`ws://HOST:PORT[/path]`).
pub(crate) fn run(args: &LoadArgs, url: &str) -> Result<(), Failure> {
    let rest = url.strip_prefix("ws://").ok_or_else(|| Failure::Usage("expected a ws:// URL".into()))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let addr: SocketAddr = hostport
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Failure::Usage(format!("cannot resolve {hostport:?}")))?;
    if !addr.ip().is_loopback() && !args.allow_remote {
        return Err(Failure::Usage(format!("{addr} is not a loopback address: load only loopback trackers")));
    }
    if args.duration <= 0.0 || args.duration > 3600.0 {
        return Err(Failure::Usage("--duration must be in (0, 3600] seconds".into()));
    }
    let duration = Duration::from_secs_f64(args.duration);
    let connections = args.connections.max(1);
    let torrents = args.torrents.max(1);
    let idle = args.idle;
    let offers = if idle { 0 } else { args.numwant.unwrap_or(5).min(50) as usize };
    let counts = Arc::new(Counts::default());
    let cpu_before = own_cpu_ticks();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let started = Instant::now();
    let opened = runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + duration;
        let mut tasks = tokio::task::JoinSet::new();
        let opened = Arc::new(AtomicU64::new(0));
        for i in 0..connections {
            let (counts, opened) = (counts.clone(), opened.clone());
            let url = url.to_owned();
            let hash = info_hash(i % torrents, args.seed);
            tasks.spawn(async move {
                if let Err(e) = peer(&url, addr, hash, i, offers, idle, deadline, &counts, &opened).await {
                    counts.errors.fetch_add(1, Ordering::Relaxed);
                    let mut examples = counts.error_examples.lock().unwrap_or_else(|p| p.into_inner());
                    let e = e.to_string();
                    if examples.len() < 3 && !examples.contains(&e) {
                        examples.push(e);
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        opened.load(Ordering::Relaxed)
    });
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = own_cpu_ticks().saturating_sub(cpu_before);
    let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let report = json!({
        "url": url,
        "connections": connections,
        "connected": opened,
        "seconds": elapsed,
        "announces": n(&counts.announces),
        "announces_per_second": n(&counts.announces) as f64 / elapsed,
        "offers_received": n(&counts.offers_received),
        "answers_received": n(&counts.answers_received),
        "failures": n(&counts.failures),
        "errors": n(&counts.errors),
        "error_examples": *counts.error_examples.lock().unwrap_or_else(|p| p.into_inner()),
        "generator_cpu_seconds": cpu as f64 / 100.0,
    });
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    }
    Ok(())
}

/// The latin-1 string of `bytes` (the wire form of ids).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn info_hash(n: u32, seed: u64) -> String {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(&n.to_be_bytes());
    h[4..12].copy_from_slice(&seed.to_be_bytes());
    latin1(&h)
}

/// The fields of a tracker message the generator looks at, as their JSON text (read without
/// building a document: the generator shares the cores with the tracker it measures).
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(borrow, rename = "failure reason")]
    failure: Option<&'a RawValue>,
    #[serde(borrow)]
    offer: Option<&'a RawValue>,
    #[serde(borrow)]
    answer: Option<&'a RawValue>,
    #[serde(borrow)]
    complete: Option<&'a RawValue>,
    #[serde(borrow)]
    peer_id: Option<&'a RawValue>,
    #[serde(borrow)]
    offer_id: Option<&'a RawValue>,
}

#[allow(clippy::too_many_arguments)]
async fn peer(
    url: &str,
    addr: SocketAddr,
    info_hash: String,
    n: u32,
    offers: usize,
    idle: bool,
    deadline: tokio::time::Instant,
    counts: &Counts,
    opened: &AtomicU64,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut ws, _) = client_async(url, stream).await?;
    opened.fetch_add(1, Ordering::Relaxed);
    let mut id = *b"-OT0001-000000000000";
    id[8..16].copy_from_slice(format!("{n:08x}").as_bytes());
    let (hash, peer_id) = (json_string(&info_hash), json_string(&latin1(&id)));
    let sdp = json_string(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
    );
    let mut round = 0u64;
    while tokio::time::Instant::now() < deadline {
        round += 1;
        let list: Vec<String> = (0..offers)
            .map(|k| format!(r#"{{"offer":{{"type":"offer","sdp":{sdp}}},"offer_id":"{n:x}.{round:x}.{k}"}}"#))
            .collect();
        let event = if round == 1 { "started" } else { "" };
        let announce = format!(
            r#"{{"action":"announce","info_hash":{hash},"peer_id":{peer_id},"numwant":{offers},"uploaded":0,"downloaded":0,"left":1000,"event":"{event}","offers":[{}]}}"#,
            list.join(",")
        );
        ws.send(Message::text(announce)).await?;
        // Until this announce's reply: answer every offer that arrives meanwhile. Answers are
        // written together when no more frames are waiting (as a browser's would be, nearly).
        let mut unsent = false;
        loop {
            let frame = match ws.next().now_or_never() {
                Some(frame) => frame,
                None => {
                    if unsent {
                        ws.flush().await?;
                        unsent = false;
                    }
                    let Ok(frame) = tokio::time::timeout_at(deadline + Duration::from_secs(5), ws.next()).await else {
                        return Ok(());
                    };
                    frame
                }
            };
            let Some(frame) = frame else { return Ok(()) };
            let text = match frame? {
                Message::Text(text) => text,
                Message::Close(close) => return Err(format!("closed by the tracker: {close:?}").into()),
                _ => continue,
            };
            let m: Incoming<'_> = serde_json::from_str(&text)?;
            if m.failure.is_some() {
                counts.failures.fetch_add(1, Ordering::Relaxed);
                break;
            }
            if let (Some(_), Some(from), Some(offer_id)) = (m.offer, m.peer_id, m.offer_id) {
                counts.offers_received.fetch_add(1, Ordering::Relaxed);
                let answer = format!(
                    r#"{{"action":"announce","info_hash":{hash},"peer_id":{peer_id},"to_peer_id":{},"offer_id":{},"answer":{{"type":"answer","sdp":{sdp}}}}}"#,
                    from.get(),
                    offer_id.get()
                );
                ws.feed(Message::text(answer)).await?;
                unsent = true;
            } else if m.answer.is_some() {
                counts.answers_received.fetch_add(1, Ordering::Relaxed);
            } else if m.complete.is_some() {
                counts.announces.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        if unsent {
            ws.flush().await?;
        }
        if idle {
            // Stay connected, silent, until the end (answering the tracker's pings).
            while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, ws.next()).await {}
            break;
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

/// This process's user + system CPU time, in clock ticks (1/100 s).
fn own_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}
