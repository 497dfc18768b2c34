//! The ceiling: the least an HTTP/1.1 server built on the same stack as octotracker (hyper 1.x,
//! hyper-util's `TokioIo`, tokio's multi-thread runtime, keep-alive, `TCP_NODELAY`, mimalloc)
//! can do per request. It answers every request, whatever its path and query, with the same
//! 100-byte body (shaped like a bencoded announce reply). `benches/compare.sh` measures
//! octotracker against it.
//!
//! `ceiling [--listen 127.0.0.1:0]` prints `listening on http://ADDR` on stderr once it accepts
//! connections (the convention of `octotracker`), and runs until killed.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

// The `octotracker` binary's allocator: the ceiling is its stack without the tracker.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A bencoded dict of exactly 100 bytes: counts, intervals and 3 compact peers.
const BODY: &[u8; 100] = b"d8:completei1234e10:incompletei345e8:intervali2700e12:min intervali600e5:peers18:\
\x7f\x00\x00\x01\x1a\xe1\x7f\x00\x00\x02\x1a\xe1\x7f\x00\x00\x03\x1a\xe1e";

fn usage() -> ! {
    eprintln!("usage: ceiling [--listen ADDR]   (default 127.0.0.1:0)");
    std::process::exit(2)
}

fn parse_args() -> SocketAddr {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--listen" => args.next().unwrap_or_else(|| usage()),
            a if a.starts_with("--listen=") => a.trim_start_matches("--listen=").to_owned(),
            "-h" | "--help" => {
                eprintln!("ceiling: answers every HTTP request with a fixed 100-byte body");
                usage()
            }
            _ => usage(),
        };
        listen = value.parse().unwrap_or_else(|e| {
            eprintln!("ceiling: bad address {value:?}: {e}");
            std::process::exit(2)
        });
    }
    listen
}

async fn answer(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

fn main() {
    let listen = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap_or_else(|e| {
            eprintln!("ceiling: cannot listen on {listen}: {e}");
            std::process::exit(1)
        });
        let addr = listener.local_addr().expect("a local address");
        eprintln!("listening on http://{addr}");
        let mut builder = http1::Builder::new();
        builder.keep_alive(true);
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                // Out of descriptors, or a connection reset before accept: keep serving.
                Err(_) => continue,
            };
            let _ = stream.set_nodelay(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service_fn(answer));
            tokio::spawn(async move {
                let _ = conn.await;
            });
        }
    });
}
