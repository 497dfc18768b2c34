//! One accepted connection served to its end: hyper's HTTP/1.1 over the tracker service.
//!
//! The connection path is what a tracker pays for every client that opens a connection per
//! announce (most BitTorrent clients do, and opentracker closes after every reply), so it does no
//! more than it must. The request of such a client is usually waiting when the connection is
//! first polled: it is answered and the connection closed within that first poll, without a
//! timer, a shutdown registration or a `shutdown(2)` before `close(2)` (see
//! [`ActivityIo`]). A connection still open after its first poll (keep-alive, or a request not
//! yet arrived) gets the idle watchdog and listens for the server's [`StopSignal`].

use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::idle::{ActivityIo, quiet_for};
use crate::one_shot;
use crate::rate_limit::limited_ip;
use crate::stop::StopSignal;
use crate::{IpNet, Limiter, TrackerService};

/// What every connection of one server shares (one `Arc` clone per connection).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) builder: http1::Builder,
    pub(crate) service: TrackerService,
    pub(crate) limiter: Option<Limiter>,
    pub(crate) trusted_proxies: Box<[IpNet]>,
    pub(crate) idle_timeout: Duration,
    /// How long a connection may take to send its first request head.
    pub(crate) header_read_timeout: Duration,
    /// Connections served at once, at most (for the accept loops' log lines).
    pub(crate) max_connections: usize,
    /// Raised when the server stops accepting: every accept loop ends.
    pub(crate) closing: StopSignal,
    /// Set at shutdown: every response then says `connection: close`.
    pub(crate) draining: AtomicBool,
    /// Raised once the grace is over: connections still open finish the request in hand.
    pub(crate) stop: StopSignal,
}

impl Shared {
    /// The rate limiter, when a request from `ip` (computed only if there is a limiter) is over
    /// its limit; such a request is counted as the failure `rate_limited`.
    pub(crate) fn over_limit(&self, ip: impl FnOnce() -> IpAddr) -> Option<&Limiter> {
        let limiter = self.limiter.as_ref()?;
        if limiter.allow(ip(), Instant::now()) {
            return None;
        }
        if let Some(obs) = self.service.tracker().observer() {
            obs.failure("rate_limited");
        }
        Some(limiter)
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
        let deadline = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + shared.header_read_timeout);
        let (stopping, already) = shared.stop.subscribe();
        if already {
            return None;
        }
        tokio::select! {
            ready = tokio::time::timeout_at(deadline, stream.readable()) => {
                if !matches!(ready, Ok(Ok(()))) {
                    tracing::debug!(%remote, "http connection sent no request in time");
                    return None;
                }
            }
            () = stopping => return None,
        }
    }
}

/// A request refused by the rate limit, or handed to the tracker.
enum Reply<F> {
    Refused(hyper::Response<Full<Bytes>>),
    Handled(F),
}

/// Serves `stream` until the client or the server ends it, the idle watchdog fires, or (after
/// [`StopSignal::raise`]) the request in hand is answered.
pub(crate) async fn serve(shared: Arc<Shared>, mut stream: TcpStream, remote: SocketAddr) {
    // The first read: a one-request connection is answered from it without hyper (`one_shot`);
    // otherwise hyper reads these bytes again first.
    let mut first = [0u8; FIRST_READ];
    let Some(n) = first_read(&shared, &stream, &mut first, remote).await else { return };
    let head = &first[..n];
    let proxied = shared.trusted_proxies.iter().any(|net| net.contains(remote.ip()));
    let one_shot =
        if proxied || shared.draining.load(Ordering::Relaxed) { None } else { one_shot::parse(head, &shared.service) };
    if let Some(request) = one_shot {
        one_shot::answer(&shared, &mut stream, remote, request).await;
        return;
    }
    let read_first = Some(Bytes::copy_from_slice(head));
    let (io, activity) = ActivityIo::new(stream, read_first);
    let for_requests = shared.clone();
    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let shared = &*for_requests;
        let limited = || limited_ip(remote.ip(), req.headers(), &shared.trusted_proxies);
        let reply = match shared.over_limit(limited) {
            Some(limiter) => Reply::Refused(limiter.refusal()),
            None => Reply::Handled(shared.service.handle_from(req.into_parts().0, remote)),
        };
        let shared = for_requests.clone();
        async move {
            let mut response = match reply {
                Reply::Refused(refusal) => refusal,
                Reply::Handled(response) => response.await,
            };
            if shared.draining.load(Ordering::SeqCst) {
                let close = hyper::header::HeaderValue::from_static("close");
                response.headers_mut().insert(hyper::header::CONNECTION, close);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    // Pinned in place: the accept loop boxes this whole future (see `accept`).
    let mut conn = pin!(shared.builder.serve_connection(TokioIo::new(io), svc));

    // The first poll: a request already in is answered, and with `Connection: close` (or
    // HTTP/1.0) the connection is done.
    let first = std::future::poll_fn(|cx| Poll::Ready(conn.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(result) => result,
        Poll::Pending => {
            let (stopping, already) = shared.stop.subscribe();
            let mut stopping = pin!(stopping);
            let mut asked_to_stop = already;
            if already {
                conn.as_mut().graceful_shutdown();
            }
            let mut idle = pin!(quiet_for(&activity, shared.idle_timeout));
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
