//! The standalone server answers a one-request connection (`Connection: close`, HTTP/1.0) without
//! hyper: these tests hold that path to hyper's own replies, byte for byte apart from the date,
//! for the requests it takes and for those it leaves to hyper, and show what `TCP_DEFER_ACCEPT`
//! changes: a connection that sends nothing takes no slot. 127.0.0.1 only, every wait bounded.

#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use octotracker_http::{HttpConfig, RemoteAddr, TrackerService};
use support::{DEADLINE, Setup, announce_query, hash, server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A plain hyper HTTP/1.1 server over `service` on 127.0.0.1:0 (the reference: what hyper
/// writes for the same tracker), serving until the test ends.
async fn hyper_reference(service: TrackerService) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, remote)) = listener.accept().await else { return };
            let service = service.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(RemoteAddr(remote));
                    let service = service.clone();
                    async move { Ok::<_, std::convert::Infallible>(service.handle(req.into_parts().0).await) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, svc).await;
            });
        }
    });
    addr
}

/// Sends `request` on a new connection and reads until the server closes it.
async fn exchange(addr: SocketAddr, request: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("request written");
    let mut raw = Vec::new();
    tokio::time::timeout(DEADLINE, stream.read_to_end(&mut raw)).await.expect("closed in time").expect("read");
    raw
}

/// `raw` with the value of its `date` header blanked (it is the only part that may differ).
fn without_date(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw).into_owned();
    match text.find("\r\ndate: ") {
        Some(at) => {
            let start = at + "\r\ndate: ".len();
            let end = start + text[start..].find("\r\n").expect("the date line ends");
            format!("{}<date>{}", &text[..start], &text[end..])
        }
        None => text,
    }
}

#[tokio::test]
async fn one_request_connections_get_the_bytes_hyper_writes() {
    let server = server().await;
    let reference = hyper_reference(TrackerService::new(server.tracker.clone(), HttpConfig::default())).await;
    // Two peers in the swarm, so that replies list one; the same requests go to both servers,
    // each is the same peer announcing again, so the swarm looks the same to both.
    let seed = announce_query(hash(1), 7001);
    let query = announce_query(hash(1), 7002);
    let scrape = format!("info_hash={}", &seed["info_hash=".len()..seed.find('&').unwrap()]);
    let requests = [
        format!("GET /announce?{seed} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        format!("GET /announce?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        format!("GET /announce?{query}&compact=0 HTTP/1.0\r\n\r\n"),
        format!("GET /announce?{query} HTTP/1.0\r\nConnection: close\r\nUser-Agent: t/1\r\n\r\n"),
        format!("GET /announce?{query} HTTP/1.1\r\nconnection: Close\r\n\r\n"),
        format!("GET /scrape?{scrape} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        // a tracker-level failure: a bencoded failure reason
        "GET /announce?info_hash=%01 HTTP/1.1\r\nConnection: close\r\n\r\n".to_owned(),
        // left to hyper by the standalone server: 404, 405, HEAD, odd targets
        "GET /elsewhere HTTP/1.1\r\nConnection: close\r\n\r\n".to_owned(),
        format!("POST /announce?{query} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        format!("HEAD /announce?{query} HTTP/1.1\r\nConnection: close\r\n\r\n"),
        format!("GET /announce?{query}&x={{}} HTTP/1.1\r\nConnection: close\r\n\r\n"),
    ];
    // Warm both up with the first request (the seeder joins the swarm).
    exchange(server.addr(), &requests[0]).await;
    for request in &requests {
        let ours = exchange(server.addr(), request).await;
        let hypers = exchange(reference, request).await;
        assert_eq!(without_date(&ours), without_date(&hypers), "request: {request:?}");
        assert!(ours.starts_with(b"HTTP/1."), "{request:?}: {}", String::from_utf8_lossy(&ours));
    }
}

/// With `TCP_DEFER_ACCEPT` a connection that sends nothing stays in the kernel: it takes none of
/// the server's slots, so with a single slot the next client is answered at once.
#[tokio::test]
async fn a_connection_that_sends_nothing_takes_no_slot() {
    let server = Setup::new().http(|h| h.max_connections = 1).start().await;
    let silent = TcpStream::connect(server.addr()).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request =
        format!("GET /announce?{} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", announce_query(hash(3), 7003));
    let raw = tokio::time::timeout(Duration::from_secs(2), exchange(server.addr(), &request))
        .await
        .expect("answered while a silent connection is open");
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw));
    drop(silent);
}

/// Without it (`defer_accept: false`) the silent connection is accepted and holds the only slot
/// until the header-read timeout: the control for the test above.
#[tokio::test]
async fn without_defer_accept_a_silent_connection_holds_its_slot() {
    let server = Setup::new()
        .http(|h| {
            h.max_connections = 1;
            h.defer_accept = false;
            h.header_read_timeout = Duration::from_secs(30);
        })
        .start()
        .await;
    let silent = TcpStream::connect(server.addr()).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let request =
        format!("GET /announce?{} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", announce_query(hash(3), 7004));
    let waited = tokio::time::timeout(Duration::from_secs(1), exchange(server.addr(), &request)).await;
    assert!(waited.is_err(), "answered although the only slot was held");
    drop(silent);
    let raw = exchange(server.addr(), &request).await;
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw));
}

/// Over the rate limit, a one-request connection gets the refusal hyper's path gives (the same
/// bytes, a `failure reason`), and both paths draw on the same budget.
#[tokio::test]
async fn the_rate_limit_refuses_one_request_connections_as_it_refuses_the_others() {
    let server = Setup::new()
        .http(|h| h.rate_limit = Some(octotracker_http::RateLimit { per_second: 0.01, burst: 2.0 }))
        .start()
        .await;
    let query = announce_query(hash(4), 7005);
    let one_shot = format!("GET /announce?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    // `Content-Length: 0` sends the same announce down hyper's path.
    let via_hyper =
        format!("GET /announce?{query} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    let first = exchange(server.addr(), &one_shot).await;
    let second = exchange(server.addr(), &via_hyper).await;
    for (name, raw) in [("first", &first), ("second", &second)] {
        assert!(without_date(raw).contains("\r\n\r\nd8:complete"), "{name} within the budget: {}", without_date(raw));
    }
    let refused = exchange(server.addr(), &one_shot).await;
    assert!(without_date(&refused).contains("failure reason"), "{}", without_date(&refused));
    assert!(without_date(&refused).contains("rate limit exceeded"), "{}", without_date(&refused));
    let refused_by_hyper = exchange(server.addr(), &via_hyper).await;
    assert_eq!(without_date(&refused), without_date(&refused_by_hyper));
}
