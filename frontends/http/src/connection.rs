//! One accepted connection served to its end: hyper's HTTP/1.1 over the tracker service.
//!
//! The connection path is what a tracker pays for every client that opens a connection per
//! announce (most BitTorrent clients do, and opentracker closes after every reply), so it does no
//! more than it must. The request of such a client is usually waiting when the connection is
//! first polled: it is answered and the connection closed within that first poll, without a
//! timer, a shutdown registration or a `shutdown(2)` before `close(2)` (see
//! [`ActivityIo`]). A connection still open after its first poll (keep-alive, or a request not
//! yet arrived) gets the idle watchdog and listens for the server's [`Phase`].
//!
//! Over TLS (`HttpFrontend::with_tls`, feature `tls`) the handshake comes first (see
//! [`tls`](crate::tls)), then the same hyper path serves the decrypted stream: the same client
//! address decision, rate limit, service, drain and idle watchdog.

use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use tower::ServiceExt;
use tower::util::Oneshot;

use crate::client_ip::{Client, RemoteAddr};
use crate::idle::{ActivityIo, quiet_for};
use crate::one_shot;
use crate::phase::{Lifecycle, Phase};
use crate::rate_limit::Limiter;
use crate::upgrade::wants_websocket;
use crate::{TrackerService, UpgradeService, reply};

/// What every connection of one server shares (one `Arc` clone per connection).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) builder: http1::Builder,
    pub(crate) service: TrackerService,
    pub(crate) limiter: Option<Limiter>,
    /// Connections served at once, at most (for the accept loops' log lines).
    pub(crate) max_connections: usize,
    /// Serving, closing, draining, stopped: see [`phase`](crate::phase).
    pub(crate) lifecycle: Lifecycle,
    /// The TLS handshake every connection goes through first, when the server is HTTPS.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::Acceptor>,
    /// Where WebSocket upgrade requests go, if anywhere (see [`UpgradeService`]).
    pub(crate) upgrades: Option<UpgradeService>,
}

impl Shared {
    /// The rate limit's refusal of a request of `client` (for `endpoint()`), if it is over the
    /// limit (see [`Limiter::refuses`]).
    fn refusal(&self, client: &Client, endpoint: impl FnOnce() -> Option<crate::service::Endpoint>) -> Option<Bytes> {
        self.limiter.as_ref()?.refuses(client, self.service.tracker(), endpoint)
    }

    /// Whether responses now say `connection: close` (the server drains).
    fn draining(&self) -> bool {
        self.lifecycle.phase() >= Phase::Draining
    }
}

/// Bytes of the first read: a request head of a one-request connection fits (announce URLs are
/// a few hundred bytes); a longer one goes to hyper, which reads the rest.
const FIRST_READ: usize = 2048;

/// Reads the connection's first bytes into `buf`: at once when they are in (the usual case for a
/// connection per request), else when they arrive. `None` when the connection ends first, sends
/// nothing within the header-read timeout, or the server stops while it waits.
async fn first_read(shared: &Shared, stream: &TcpStream, buf: &mut [u8], remote: SocketAddr) -> Option<usize> {
    let mut deadline = None;
    loop {
        match stream.try_read(buf) {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                tracing::debug!(%remote, error = %e, "http connection failed before its first request");
                return None;
            }
        }
        // Not in yet (`try_read`'s `WouldBlock` cleared the readiness, so this waits for news).
        let timeout = shared.service.config().header_read_timeout;
        let deadline = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + timeout);
        tokio::select! {
            ready = tokio::time::timeout_at(deadline, stream.readable()) => {
                if !matches!(ready, Ok(Ok(()))) {
                    tracing::debug!(%remote, "http connection sent no request in time");
                    return None;
                }
            }
            () = shared.lifecycle.reached(Phase::Stopped) => return None,
        }
    }
}

/// A request refused by the rate limit, handed to the tracker, or a WebSocket upgrade.
enum Reply<F> {
    Refused(Bytes),
    Handled(F),
    /// Boxed: rare, and it would make every request's future several times larger.
    Upgrade(Pin<Box<Oneshot<UpgradeService, hyper::Request<hyper::body::Incoming>>>>),
}

/// Serves `stream` until the client or the server ends it, the idle watchdog fires, or (once the
/// server is [`Phase::Stopped`]) the request in hand is answered.
pub(crate) async fn serve(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    #[cfg(feature = "tls")]
    if let Some(acceptor) = &shared.tls {
        let Some(stream) = crate::tls::handshake(&shared, acceptor, stream, remote).await else { return };
        let (io, activity) = ActivityIo::new(stream, None);
        return serve_hyper(shared, io.passing_shutdown(), activity, remote).await;
    }
    // The first read: a one-request connection is answered from it without hyper (`one_shot`);
    // otherwise hyper reads these bytes again first.
    let mut first = [0u8; FIRST_READ];
    let Some(n) = first_read(&shared, &stream, &mut first, remote).await else { return };
    let head = &first[..n];
    let trusted = &shared.service.config().trusted_proxies;
    // A trusted proxy's requests name their client in headers: they go to hyper, which reads them.
    if let Some(client) = Client::without_headers(remote, trusted)
        && let Some(request) = one_shot::parse(head, &shared.service)
    {
        let (refusal, answer);
        let body: &[u8] = match shared.refusal(&client, || Some(request.endpoint)) {
            Some(refused) => {
                refusal = refused;
                &refusal
            }
            None => {
                let service = &shared.service;
                answer = service.answer(request.endpoint, request.passkey, request.query, &client).await;
                &answer
            }
        };
        let timeout = shared.service.config().idle_timeout;
        one_shot::reply(&stream, &request, shared.draining(), body, timeout).await;
        return;
    }
    let read_first = Some(Bytes::copy_from_slice(head));
    let (io, activity) = ActivityIo::new(stream, read_first);
    serve_hyper(shared, io, activity, remote).await;
}

/// Serves `io` (a TCP connection, or the decrypted side of a TLS one) with hyper until the
/// client or the server ends it, the idle watchdog (on `activity`) fires, or (once the server is
/// [`Phase::Stopped`]) the request in hand is answered.
async fn serve_hyper<I>(shared: Arc<Shared>, io: ActivityIo<I>, activity: Arc<AtomicU64>, remote: SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let for_requests = shared.clone();
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let shared = &*for_requests;
        let reply = match &shared.upgrades {
            Some(upgrades) if wants_websocket(req.headers()) => {
                req.extensions_mut().insert(RemoteAddr(remote));
                Reply::Upgrade(Box::pin(upgrades.clone().oneshot(req)))
            }
            _ => {
                let client = Client::of_connection(remote, req.headers(), &shared.service.config().trusted_proxies);
                let endpoint = || shared.service.endpoint(req.uri().path()).map(|(endpoint, _)| endpoint);
                match shared.refusal(&client, endpoint) {
                    Some(refusal) => Reply::Refused(refusal),
                    None => Reply::Handled(shared.service.handle_from(req.into_parts().0, client)),
                }
            }
        };
        let shared = for_requests.clone();
        async move {
            let mut response: hyper::Response<Full<Bytes>> = match reply {
                Reply::Refused(refusal) => reply::bencoded(refusal),
                Reply::Handled(response) => response.await,
                Reply::Upgrade(answer) => match answer.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
            };
            if shared.draining() {
                reply::close_after(&mut response);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    // Pinned in place: the accept loop boxes this whole future (see `accept`).
    // With upgrades: a WebSocket upgrade's connection is handed to the upgrade service's task.
    let mut conn = pin!(shared.builder.serve_connection(TokioIo::new(io), svc).with_upgrades());

    // The first poll: a request already in is answered, and with `Connection: close` (or
    // HTTP/1.0) the connection is done.
    let first = std::future::poll_fn(|cx| Poll::Ready(conn.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(result) => result,
        Poll::Pending => {
            let mut stopping = pin!(shared.lifecycle.reached(Phase::Stopped));
            let mut asked_to_stop = false;
            let mut idle = pin!(quiet_for(&activity, shared.service.config().idle_timeout));
            loop {
                tokio::select! {
                    biased;
                    result = conn.as_mut() => break result,
                    () = stopping.as_mut(), if !asked_to_stop => {
                        asked_to_stop = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    () = idle.as_mut() => {
                        tracing::debug!(%remote, "idle http connection closed");
                        return;
                    }
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%remote, error = %e, "http connection ended with an error");
    }
}
