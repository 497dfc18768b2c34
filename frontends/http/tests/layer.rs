//! `TrackerService` and `TrackerLayer` without sockets: requests built in memory, driven with
//! `tower::ServiceExt::oneshot`, bodies read back with `http-body-util`.

#[allow(dead_code)]
mod support;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use octotracker_client::{AnnounceReply, Reply, parse_announce_reply, parse_scrape_reply};
use octotracker_core::{StoppedClock, Tracker, TrackerConfig};
use octotracker_http::{HttpConfig, IpNet, RemoteAddr, TrackerLayer, TrackerService};
use support::{START, announce_query, escape, hash};
use tower::{Layer, Service, ServiceExt};

/// What an announce without any client address is told.
const NO_ADDRESS: &str = "client address unknown: the server did not provide the connection's address";

fn tracker() -> Arc<Tracker> {
    let storage = Arc::new(octotracker_memory::MemoryTorrentManager::new(Default::default()));
    let intervals = Arc::new(octotracker_interval::Static::default());
    Arc::new(Tracker::new(TrackerConfig::default(), storage, intervals, Arc::new(StoppedClock::new(START))))
}

fn service(config: HttpConfig) -> TrackerService {
    TrackerService::new(tracker(), config)
}

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

/// `GET target` with no extensions.
fn get(target: &str) -> Request<()> {
    Request::get(target).body(()).expect("a valid request")
}

/// `GET target` from `remote` (our own extension).
fn get_from(target: &str, remote: &str) -> Request<()> {
    let mut req = get(target);
    req.extensions_mut().insert(RemoteAddr(addr(remote)));
    req
}

async fn body_bytes<B>(body: B) -> Bytes
where
    B: hyper::body::Body,
    B::Error: std::fmt::Debug,
{
    body.collect().await.expect("body read").to_bytes()
}

fn announce_reply(body: &[u8]) -> AnnounceReply {
    match parse_announce_reply(body).expect("an announce reply") {
        Reply::Ok(reply) => reply,
        Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
    }
}

fn failure_reason(body: &[u8]) -> String {
    match parse_announce_reply(body).expect("a bencoded reply") {
        Reply::Failure { reason, .. } => reason,
        Reply::Ok(reply) => panic!("accepted: {reply:?}"),
    }
}

/// The one peer at port 7001 of swarm `hash(1)`.
fn announce_target(prefix: &str, port: u16) -> String {
    format!("{prefix}/announce?{}", announce_query(hash(1), port))
}

mod a_tracker_service {
    use super::*;

    /// What axum's `nest_service` and hyper's `TowerToHyperService` require of it.
    #[test]
    fn is_clone_send_sync_static_with_send_futures_and_no_errors() {
        fn mountable<S>(_: &S)
        where
            S: Service<Request<()>, Error = Infallible> + Clone + Send + Sync + 'static,
            S::Future: Send + 'static,
        {
        }
        mountable(&service(HttpConfig::default()));
    }

    #[tokio::test]
    async fn answers_an_announce_from_the_remote_addr_extension() {
        let response = service(HttpConfig::default()).oneshot(get_from(&announce_target("", 7001), "10.1.2.3:5000"));
        let response = response.await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/plain");
        let reply = announce_reply(&body_bytes(response.into_body()).await);
        assert_eq!(reply.external_ip, Some("10.1.2.3".parse::<IpAddr>().unwrap()));
        assert_eq!(reply.incomplete, Some(1));
    }

    /// tower-http's trace and timeout layers and tower's concurrency limit wrap it unchanged:
    /// the same reply, no compression, the client address still read from the extension.
    #[tokio::test]
    async fn composes_with_tower_http_trace_timeout_and_a_concurrency_limit() {
        let layered = tower::ServiceBuilder::new()
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                std::time::Duration::from_secs(10),
            ))
            .layer(tower::limit::ConcurrencyLimitLayer::new(2))
            .service(service(HttpConfig::default()));
        // tower-http's layers want a request body that is an `http_body::Body`.
        let request = |port, remote| get_from(&announce_target("", port), remote).map(|()| Full::<Bytes>::default());
        let response = layered.clone().oneshot(request(7001, "10.1.2.3:5000")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert!(response.headers().get("content-encoding").is_none(), "bencode goes out as it is");
        let reply = announce_reply(&body_bytes(response.into_body()).await);
        assert_eq!(reply.external_ip, Some("10.1.2.3".parse::<IpAddr>().unwrap()));
        let response = layered.oneshot(request(7002, "10.1.2.4:5000")).await.unwrap();
        assert_eq!(announce_reply(&body_bytes(response.into_body()).await).incomplete, Some(2));
    }

    #[tokio::test]
    async fn answers_a_scrape() {
        let svc = service(HttpConfig::default());
        svc.clone().oneshot(get_from(&announce_target("", 7001), "10.1.2.3:5000")).await.unwrap();
        let target = format!("/scrape?info_hash={}", escape(&hash(1).0));
        let response = svc.oneshot(get(&target)).await.unwrap();
        let body = body_bytes(response.into_body()).await;
        let Reply::Ok(reply) = parse_scrape_reply(&body).expect("a scrape reply") else { panic!("refused") };
        assert_eq!(reply.get(&hash(1)).map(|f| f.incomplete), Some(1));
    }

    #[tokio::test]
    async fn gives_a_failure_reason_not_a_panic_when_no_address_is_known() {
        let response = service(HttpConfig::default()).oneshot(get(&announce_target("", 7001))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(failure_reason(&body_bytes(response.into_body()).await), NO_ADDRESS);
    }

    #[tokio::test]
    async fn gives_failure_reasons_for_bad_requests() {
        // (target, failure reason)
        let table = [
            ("/announce?port=1", "missing info_hash"),
            ("/announce", "missing info_hash"),
            ("/scrape", "missing info_hash: full scrape is disabled on this tracker"),
        ];
        for (target, reason) in table {
            let response = service(HttpConfig::default()).oneshot(get_from(target, "10.1.2.3:5000")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{target}");
            assert_eq!(failure_reason(&body_bytes(response.into_body()).await), reason, "{target}");
        }
    }

    #[tokio::test]
    async fn answers_only_at_its_configured_paths() {
        let config = HttpConfig { announce_path: "/a".into(), scrape_path: "/s".into(), ..HttpConfig::default() };
        let svc = service(config);
        // (target, status)
        let table = [("/a?port=1", 200), ("/s", 200), ("/announce", 404), ("/scrape", 404), ("/a/", 404), ("/", 404)];
        for (target, status) in table {
            let response = svc.clone().oneshot(get_from(target, "10.1.2.3:5000")).await.unwrap();
            assert_eq!(response.status(), status, "{target}");
        }
    }

    #[tokio::test]
    async fn refuses_other_methods_with_405() {
        let req = Request::post("/announce").body(Full::new(Bytes::from_static(b"x"))).unwrap();
        let response = service(HttpConfig::default()).oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET, HEAD");
    }

    #[tokio::test]
    async fn believes_forwarded_headers_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let svc = service(HttpConfig { trusted_proxies: trusted, ..HttpConfig::default() });
        // (connection, X-Forwarded-For, external ip)
        let table = [("10.0.0.1:80", "203.0.113.9", "203.0.113.9"), ("192.0.2.1:80", "203.0.113.9", "192.0.2.1")];
        for (i, (remote, forwarded, expected)) in table.into_iter().enumerate() {
            let mut req = get_from(&announce_target("", 7001 + i as u16), remote);
            req.headers_mut().insert("x-forwarded-for", forwarded.parse().unwrap());
            let response = svc.clone().oneshot(req).await.unwrap();
            let reply = announce_reply(&body_bytes(response.into_body()).await);
            assert_eq!(reply.external_ip, Some(expected.parse().unwrap()), "{remote} forwarding {forwarded}");
        }
    }

    /// With the `axum` feature, `ConnectInfo<SocketAddr>` (what
    /// `into_make_service_with_connect_info` inserts) is a client address too.
    #[cfg(feature = "axum")]
    mod with_the_axum_feature {
        use super::*;
        use axum::extract::ConnectInfo;

        fn get_via_axum(target: &str, remote: &str) -> Request<()> {
            let mut req = get(target);
            req.extensions_mut().insert(ConnectInfo(addr(remote)));
            req
        }

        #[tokio::test]
        async fn reads_the_client_address_from_connect_info() {
            let response =
                service(HttpConfig::default()).oneshot(get_via_axum(&announce_target("", 7001), "10.9.8.7:1"));
            let reply = announce_reply(&body_bytes(response.await.unwrap().into_body()).await);
            assert_eq!(reply.external_ip, Some("10.9.8.7".parse().unwrap()));
        }

        #[tokio::test]
        async fn prefers_remote_addr_to_connect_info() {
            let mut req = get_via_axum(&announce_target("", 7001), "10.9.8.7:1");
            req.extensions_mut().insert(RemoteAddr(addr("10.1.1.1:1")));
            let response = service(HttpConfig::default()).oneshot(req).await.unwrap();
            let reply = announce_reply(&body_bytes(response.into_body()).await);
            assert_eq!(reply.external_ip, Some("10.1.1.1".parse().unwrap()));
        }

        #[tokio::test]
        async fn applies_the_trusted_proxy_rules_to_connect_info() {
            let trusted = vec!["127.0.0.1".parse().unwrap()];
            let svc = service(HttpConfig { trusted_proxies: trusted, ..HttpConfig::default() });
            let mut req = get_via_axum(&announce_target("", 7001), "127.0.0.1:40000");
            req.headers_mut().insert("x-real-ip", "198.51.100.4".parse().unwrap());
            let reply = announce_reply(&body_bytes(svc.clone().oneshot(req).await.unwrap().into_body()).await);
            assert_eq!(reply.external_ip, Some("198.51.100.4".parse().unwrap()));
            // A trusted proxy that vouches for nobody: a failure reason.
            let req = get_via_axum(&announce_target("", 7002), "127.0.0.1:40000");
            let body = body_bytes(svc.oneshot(req).await.unwrap().into_body()).await;
            assert_eq!(
                failure_reason(&body),
                "client address unknown: the proxy sent no valid X-Forwarded-For or X-Real-IP"
            );
        }
    }
}

/// An inner service that records every request it sees and answers `inner` (or fails).
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    ready: Arc<Mutex<bool>>,
    fail: bool,
}

/// One request as the inner service saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    marker: Option<Marker>,
    body: Bytes,
}

/// An extension set by the test, to check extensions pass through.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Marker(u32);

impl Recorder {
    fn ready() -> Self {
        Recorder { ready: Arc::new(Mutex::new(true)), ..Recorder::default() }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Service<Request<Full<Bytes>>> for Recorder {
    type Response = Response<Full<Bytes>>;
    type Error = &'static str;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if *self.ready.lock().unwrap() { Poll::Ready(Ok(())) } else { Poll::Pending }
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let seen = self.seen.clone();
        let fail = self.fail;
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let headers = parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect();
            let body = body_bytes(body).await;
            let marker = parts.extensions.get::<Marker>().copied();
            let request = Seen { method: parts.method, uri: parts.uri.to_string(), headers, marker, body };
            seen.lock().unwrap().push(request);
            if fail {
                return Err("inner failed");
            }
            let mut response = Response::new(Full::new(Bytes::from_static(b"inner")));
            response.headers_mut().insert("x-inner", "yes".parse().unwrap());
            Ok(response)
        })
    }
}

fn request(method: Method, target: &str, body: &'static [u8]) -> Request<Full<Bytes>> {
    Request::builder().method(method).uri(target).body(Full::new(Bytes::from_static(body))).unwrap()
}

fn layer() -> TrackerLayer {
    TrackerLayer::new(tracker(), HttpConfig::default().with_prefix("/tracker"))
}

mod a_tracker_layer {
    use super::*;

    #[tokio::test]
    async fn answers_the_tracker_paths_with_the_tracker() {
        let inner = Recorder::ready();
        let svc = layer().layer(inner.clone());
        let mut req = request(Method::GET, &announce_target("/tracker", 7001), b"");
        req.extensions_mut().insert(RemoteAddr(addr("10.1.2.3:5000")));
        let response = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let Either::Left(body) = response.into_body() else { panic!("the inner service answered") };
        let reply = announce_reply(&body_bytes(body).await);
        assert_eq!(reply.external_ip, Some("10.1.2.3".parse().unwrap()));

        let target = format!("/tracker/scrape?info_hash={}", escape(&hash(1).0));
        let response = svc.oneshot(request(Method::GET, &target, b"")).await.unwrap();
        let Either::Left(body) = response.into_body() else { panic!("the inner service answered") };
        let Reply::Ok(scrape) = parse_scrape_reply(&body_bytes(body).await).unwrap() else { panic!("refused") };
        assert_eq!(scrape.get(&hash(1)).map(|f| f.incomplete), Some(1));
        assert!(inner.seen().is_empty(), "the inner service saw {:?}", inner.seen());
    }

    #[tokio::test]
    async fn gives_failure_reasons_for_bad_requests_and_unknown_addresses() {
        let svc = layer().layer(Recorder::ready());
        let announce = announce_target("/tracker", 7001);
        // (target, remote, failure reason)
        let table = [
            ("/tracker/announce?port=1", Some("10.1.2.3:5000"), "missing info_hash".to_owned()),
            ("/tracker/scrape", None, "missing info_hash: full scrape is disabled on this tracker".to_owned()),
            (announce.as_str(), None, NO_ADDRESS.to_owned()),
        ];
        for (target, remote, reason) in table {
            let mut req = request(Method::GET, target, b"");
            if let Some(remote) = remote {
                req.extensions_mut().insert(RemoteAddr(addr(remote)));
            }
            let response = svc.clone().oneshot(req).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{target}");
            let Either::Left(body) = response.into_body() else { panic!("{target}: the inner service answered") };
            assert_eq!(failure_reason(&body_bytes(body).await), reason, "{target}");
        }
    }

    #[tokio::test]
    async fn passes_every_other_request_to_the_inner_service_untouched() {
        let inner = Recorder::ready();
        let svc = layer().layer(inner.clone());
        // Not the tracker's paths: near misses included (the layer matches whole paths).
        let table = [
            (Method::GET, "/hello", &b""[..]),
            (Method::POST, "/tracker/announce/more?x=1", b"payload"),
            (Method::GET, "/announce?info_hash=x", b""),
            (Method::GET, "/tracker", b""),
            (Method::PUT, "/tracker/x", b"body bytes"),
            (Method::GET, "/tracker/scrape/", b""),
        ];
        let mut expected = Vec::new();
        for (i, (method, target, body)) in table.into_iter().enumerate() {
            let mut req = request(method.clone(), target, body);
            req.headers_mut().insert("x-app", format!("header {i}").parse().unwrap());
            req.extensions_mut().insert(Marker(i as u32));
            let response = svc.clone().oneshot(req).await.unwrap();
            assert_eq!(response.headers()["x-inner"], "yes", "{target}");
            let Either::Right(answer) = response.into_body() else { panic!("{target}: the tracker answered") };
            assert_eq!(body_bytes(answer).await, "inner", "{target}");
            expected.push(Seen {
                method,
                uri: target.to_owned(),
                headers: vec![("x-app".to_owned(), format!("header {i}"))],
                marker: Some(Marker(i as u32)),
                body: Bytes::from_static(body),
            });
        }
        assert_eq!(inner.seen(), expected);
    }

    #[tokio::test]
    async fn is_ready_exactly_when_the_inner_service_is() {
        let inner = Recorder::default();
        let mut svc = layer().layer(inner.clone());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(svc.poll_ready(&mut cx).is_pending());
        *inner.ready.lock().unwrap() = true;
        assert!(matches!(svc.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    }

    #[tokio::test]
    async fn returns_the_inner_service_errors_as_they_are() {
        let inner = Recorder { fail: true, ..Recorder::ready() };
        let svc = layer().layer(inner);
        let error = svc.clone().oneshot(request(Method::GET, "/hello", b"")).await.unwrap_err();
        assert_eq!(error, "inner failed");
        // The tracker's paths never reach the failing inner service.
        let response = svc.oneshot(request(Method::GET, "/tracker/scrape", b"")).await;
        assert!(response.is_ok());
    }

    #[tokio::test]
    async fn serves_at_the_default_paths_without_a_prefix() {
        let inner = Recorder::ready();
        let svc = TrackerLayer::new(tracker(), HttpConfig::default()).layer(inner.clone());
        let response = svc.clone().oneshot(request(Method::GET, "/scrape", b"")).await.unwrap();
        assert!(matches!(response.into_body(), Either::Left(_)));
        let response = svc.oneshot(request(Method::GET, "/tracker/scrape", b"")).await.unwrap();
        assert!(matches!(response.into_body(), Either::Right(_)));
        assert_eq!(inner.seen().len(), 1);
    }

    /// What hyper's `TowerToHyperService` and axum need of an application service.
    #[test]
    fn keeps_the_service_clone_and_send() {
        fn mountable<S>(_: &S)
        where
            S: Service<Request<Full<Bytes>>> + Clone + Send + Sync + 'static,
            S::Future: Send + 'static,
        {
        }
        mountable(&layer().layer(Recorder::ready()));
    }
}

/// `RateLimitLayer` (the core's buckets behind the HTTP API embedders use): the burst answered,
/// then the reason; another address has its own budget.
#[tokio::test]
async fn the_rate_limit_layer_refuses_an_address_over_its_burst() {
    use octotracker_http::{RateLimit, RateLimitLayer};
    let tracker_service = service(HttpConfig::default());
    let limited =
        RateLimitLayer::new(&tracker_service, RateLimit { per_second: 0.1, burst: 2.0 }).layer(tracker_service);
    let target = format!("/announce?{}", announce_query(hash(1), 6881));
    let mut answered = Vec::new();
    for _ in 0..3 {
        let resp = limited.clone().oneshot(get_from(&target, "10.0.0.1:6881")).await.unwrap();
        let body = body_bytes(resp.into_body()).await;
        answered.push(parse_announce_reply(&body).map(|r| matches!(r, Reply::Ok(_))).unwrap());
    }
    assert_eq!(answered, [true, true, false], "two answered, the third refused");
    let resp = limited.clone().oneshot(get_from(&target, "10.0.0.1:6881")).await.unwrap();
    assert_eq!(
        failure_reason(&body_bytes(resp.into_body()).await),
        "rate limit exceeded: at most 0.1 requests per second from one address"
    );
    let resp = limited.oneshot(get_from(&target, "10.0.0.2:6881")).await.unwrap();
    announce_reply(&body_bytes(resp.into_body()).await);
}
