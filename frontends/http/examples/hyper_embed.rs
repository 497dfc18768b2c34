//! A plain hyper application (`service_fn`) with the tracker in front of it as a
//! [`TrackerLayer`]: `/tracker/announce` and `/tracker/scrape` are answered by the tracker,
//! everything else by the application (`GET /hello`, 404 otherwise).
//!
//! ```sh
//! cargo run --release -p octotracker-http --example hyper_embed -- 127.0.0.1:3000
//! curl http://127.0.0.1:3000/hello
//! ```
//!
//! The accept loop inserts each connection's [`RemoteAddr`] into its requests: that is where the
//! tracker reads the client address.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use octotracker_core::{SystemClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, RemoteAddr, TrackerLayer};
use tokio::signal::unix::{SignalKind, signal};
use tower::ServiceBuilder;

/// The application: `GET /hello`, 404 for everything else.
async fn app(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/hello") => Response::new(Full::new(Bytes::from_static(b"hello from the app\n"))),
        _ => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    Ok(response)
}

// The allocator the `octotracker` binary uses (see its src/main.rs), so that this example and the
// standalone server compare like with like in benches/embed_compare.sh. An embedding app picks
// its own; the tracker works with any.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".to_owned());

    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    let tracker = Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock)));
    let layer = TrackerLayer::new(tracker, HttpConfig::default().with_prefix("/tracker"));

    // Ctrl-c (SIGINT) is watched from here on, before the "listening on" line: a supervisor may
    // send it the moment it reads that line. (`tokio::signal::ctrl_c()` would start watching only
    // when first polled, in the loop below, and a SIGINT before that kills the process.)
    let mut interrupt = signal(SignalKind::interrupt())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        eprintln!("accept failed: {e}");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // Per connection: the application behind the tracker, and the peer's address.
                let service = ServiceBuilder::new()
                    .map_request(move |mut req: Request<Incoming>| {
                        req.extensions_mut().insert(RemoteAddr(remote));
                        req
                    })
                    .layer(layer.clone())
                    .service_fn(app);
                let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let conn = graceful.watch(conn.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        eprintln!("connection from {remote} failed: {e}");
                    }
                });
            }
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
