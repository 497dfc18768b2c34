//! The `octotracker` binary's HTTP announce path (memory backend, default policy, hyper frontend,
//! mimalloc, tokio's multi-thread runtime) with an engine event subscriber of the kind
//! `EVENTS_SUBSCRIBER` names, for `benches/events_overhead.sh`:
//!
//! - `none` (default): nobody subscribes;
//! - `stalled`: one subscription of 1,024 events never read: after the first 1,024 announces
//!   every event is built, refused by the full ring and counted as lost;
//! - `draining`: one subscription read by a task that drops what it reads.
//!
//! `events_server [--http ADDR] [--log …]` (the flags `benches/conn_counts.sh` passes to
//! `octotracker`; `--log` is ignored) prints `listening on http://ADDR` and serves until SIGINT or
//! SIGTERM, then prints the events lost on stderr.

use std::net::SocketAddr;
use std::sync::Arc;

use octotracker_core::{Frontend, SystemClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, HttpFrontend};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http" => listen = args.next().and_then(|a| a.parse().ok()).expect("--http IP:PORT"),
            "--log" => {
                args.next();
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let subscriber = std::env::var("EVENTS_SUBSCRIBER").unwrap_or_else(|_| "none".into());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async move {
        let config = TrackerConfig::default();
        let memory = octotracker_memory::MemoryConfig { peer_ids: config.allow_non_compact, ..Default::default() };
        let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(memory));
        let intervals = Arc::new(octotracker_interval::Static::default());
        let tracker = Tracker::new(config, storage, intervals, Arc::new(SystemClock));
        let _stalled = match subscriber.as_str() {
            "none" => None,
            "stalled" => Some(tracker.events().subscribe(1_024)),
            "draining" => {
                let mut events = tracker.events().subscribe(1_024);
                tokio::spawn(async move {
                    let mut batch = Vec::with_capacity(256);
                    while events.recv_many(&mut batch, 256).await > 0 {
                        batch.clear();
                    }
                });
                None
            }
            other => panic!("EVENTS_SUBSCRIBER is none, stalled or draining, not {other}"),
        };
        let tracker = Arc::new(tracker);
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        let frontend = HttpFrontend::new(listener, HttpConfig::default());
        eprintln!("listening on http://{}", frontend.local_addr().expect("an address"));
        let shutdown = Box::pin(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        let frontend: Box<dyn Frontend> = Box::new(frontend);
        frontend.serve(tracker.clone(), shutdown).await.expect("served");
        eprintln!("subscriber {subscriber}: {} events lost", tracker.events().lost());
    });
}
