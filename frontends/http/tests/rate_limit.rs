//! The rate limit refuses and counts the same way on every HTTP way in: the standalone server
//! (its one-shot path and its hyper path), `RateLimitLayer` around a `TrackerService` in axum
//! (the client address from axum's `ConnectInfo`, as `into_make_service_with_connect_info`
//! provides it), and `RateLimitLayer` around a `TrackerLayer` in a hyper accept loop (the address
//! from `RemoteAddr`). Each runs on its own loopback port with its own tracker and Prometheus
//! registry; the same announces from one address get the same answers and the same metric
//! series.
//!
//! The limit's rate is so low (one request per 100 s) that no token comes back during a test,
//! however slow the machine: exactly the burst is answered.

#[allow(dead_code)]
mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use octotracker_client::{Reply, parse_announce_reply};
use octotracker_core::{Frontend, SystemClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, HttpFrontend, RateLimit, RateLimitLayer, RemoteAddr, TrackerLayer, TrackerService};
use octotracker_metrics::TrackerMetrics;
use octotracker_metrics::prometheus_client::encoding::text::encode;
use octotracker_metrics::prometheus_client::registry::Registry;
use support::{DEADLINE, announce_query, hash};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceBuilder;

/// A burst of two, then (for the length of any test) nothing.
const LIMIT: RateLimit = RateLimit { per_second: 0.01, burst: 2.0 };
/// Requests sent from one address.
const REQUESTS: usize = 10;
const REFUSAL: &str = "rate limit exceeded: at most 0.01 requests per second from one address";

/// A tracker whose metrics go to a registry of its own.
struct Metered {
    tracker: Arc<Tracker>,
    registry: Registry,
}

impl Metered {
    fn new() -> Metered {
        let mut registry = Registry::default();
        let metrics = Arc::new(TrackerMetrics::register(&mut registry));
        let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
        let intervals = Arc::new(octotracker_interval::Static::default());
        let tracker = Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(SystemClock));
        Metered { tracker: Arc::new(tracker.with_observer(metrics)), registry }
    }

    /// The request and failure counters with a value, as Prometheus text lines, sorted.
    fn counters(&self) -> Vec<String> {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("metrics encode");
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| {
                ["octotracker_announces_total", "octotracker_scrapes_total", "octotracker_failures_total"]
                    .iter()
                    .any(|m| l.starts_with(m))
            })
            .filter(|l| !l.ends_with(" 0"))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

/// How the requests travel.
#[derive(Clone, Copy, Debug)]
enum Connections {
    /// A new connection per request, `Connection: close` (the standalone server's one-shot path).
    PerRequest,
    /// One keep-alive connection for all (hyper's path everywhere).
    KeepAlive,
}

/// Sends [`REQUESTS`] announces to `http://addr{path}` and returns, for each, whether it was
/// answered (`true`) or refused with the rate limit's reason (`false`).
async fn announce_all(addr: SocketAddr, path: &str, connections: Connections) -> Vec<bool> {
    let mut kept: Option<TcpStream> = None;
    let mut answered = Vec::new();
    for n in 0..REQUESTS {
        let query = announce_query(hash(1), 7001 + n as u16);
        let close = match connections {
            Connections::PerRequest => "Connection: close\r\n",
            Connections::KeepAlive => "",
        };
        let request = format!("GET {path}?{query} HTTP/1.1\r\nHost: t\r\n{close}\r\n");
        let stream = match (&mut kept, connections) {
            (Some(stream), Connections::KeepAlive) => stream,
            _ => kept.insert(TcpStream::connect(addr).await.expect("connects")),
        };
        stream.write_all(request.as_bytes()).await.expect("request sent");
        let body = tokio::time::timeout(DEADLINE, read_response_body(stream)).await.expect("answered in time");
        answered.push(match parse_announce_reply(&body).expect("a bencoded reply") {
            Reply::Ok(_) => true,
            Reply::Failure { reason, .. } => {
                assert_eq!(reason, REFUSAL, "request {n}");
                false
            }
        });
    }
    answered
}

/// Reads one `200 OK` response with a `content-length` and returns its body.
async fn read_response_body(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed before a whole response: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no content-length in {head}"));
        if buf.len() >= end + 4 + length {
            return buf[end + 4..end + 4 + length].to_vec();
        }
    }
}

/// The standalone server with `rate_limit` set: (answers, counters).
async fn standalone(connections: Connections) -> (Vec<bool>, Vec<String>) {
    let metered = Metered::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    let config = HttpConfig { rate_limit: Some(LIMIT), ..HttpConfig::default() };
    let frontend: Box<dyn Frontend> = Box::new(HttpFrontend::new(listener, config));
    let server = tokio::spawn(frontend.serve(metered.tracker.clone(), Box::pin(std::future::pending())));
    let answered = announce_all(addr, "/announce", connections).await;
    server.abort();
    (answered, metered.counters())
}

/// `RateLimitLayer` around a `TrackerService` in axum, with `ConnectInfo`: (answers, counters).
async fn axum_with_connect_info() -> (Vec<bool>, Vec<String>) {
    let metered = Metered::new();
    let service = TrackerService::new(metered.tracker.clone(), HttpConfig::default().with_prefix("/tracker"));
    let limited = ServiceBuilder::new().layer(RateLimitLayer::new(&service, LIMIT)).service(service);
    let app = axum::Router::new()
        .route_service("/tracker/announce", limited.clone())
        .route_service("/tracker/scrape", limited);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    let server =
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );
    let answered = announce_all(addr, "/tracker/announce", Connections::KeepAlive).await;
    server.abort();
    (answered, metered.counters())
}

/// `RateLimitLayer` around a `TrackerLayer` around an app in a hyper accept loop that inserts
/// `RemoteAddr`: (answers, counters).
async fn hyper_with_tracker_layer() -> (Vec<bool>, Vec<String>) {
    let metered = Metered::new();
    let service = TrackerService::new(metered.tracker.clone(), HttpConfig::default().with_prefix("/tracker"));
    let rate_limit = RateLimitLayer::new(&service, LIMIT);
    let tracker_layer = TrackerLayer::from_service(service);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, remote)) = listener.accept().await else { continue };
            let service = ServiceBuilder::new()
                .map_request(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(RemoteAddr(remote));
                    req
                })
                .layer(rate_limit.clone())
                .layer(tracker_layer.clone())
                .service_fn(|_req: Request<Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"the app"))))
                });
            tokio::spawn(async move {
                let builder = auto::Builder::new(TokioExecutor::new());
                let _ = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).await;
            });
        }
    });
    let answered = announce_all(addr, "/tracker/announce", Connections::KeepAlive).await;
    server.abort();
    (answered, metered.counters())
}

fn expected_answers() -> Vec<bool> {
    let mut expected = vec![false; REQUESTS];
    expected[..2].fill(true);
    expected
}

/// The standalone server is the reference: the burst answered, the rest refused with the
/// reason, each refusal counted as a refused announce and the failure `rate_limited`.
#[tokio::test]
async fn the_standalone_server_answers_the_burst_and_counts_each_refusal() {
    let (answered, counters) = standalone(Connections::PerRequest).await;
    assert_eq!(answered, expected_answers());
    let refused = (REQUESTS - 2).to_string();
    assert!(
        counters.contains(&format!("octotracker_failures_total{{reason=\"rate_limited\"}} {refused}")),
        "{counters:#?}"
    );
    assert!(
        counters.iter().any(|l| l.contains("outcome=\"refused\"") && l.ends_with(&format!(" {refused}"))),
        "{counters:#?}"
    );
    assert_eq!(
        standalone(Connections::KeepAlive).await,
        (answered, counters),
        "hyper's path counts as the one-shot path"
    );
}

/// The case: axum's `ConnectInfo` used to leave the layer without an address, and it
/// refused nothing.
#[tokio::test]
async fn rate_limit_layer_in_axum_with_connect_info_refuses_and_counts_as_the_standalone_server() {
    let reference = standalone(Connections::KeepAlive).await;
    assert_eq!(axum_with_connect_info().await, reference);
}

#[tokio::test]
async fn rate_limit_layer_around_tracker_layer_in_hyper_refuses_and_counts_as_the_standalone_server() {
    let reference = standalone(Connections::KeepAlive).await;
    assert_eq!(hyper_with_tracker_layer().await, reference);
}
