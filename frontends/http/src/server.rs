//! The standalone HTTP/1.1 server: accepts connections on a listener, serves each with
//! [`TrackerService`] until shutdown, then drains.
//!
//! The drain, in order: the listener is closed (new connections are refused); for a short
//! grace every response says `connection: close`, so each busy keep-alive client gets its next
//! request answered before its connection closes; then connections still open (idle ones) are
//! shut gracefully (hyper answers a request it has started, closes the rest), and whatever
//! remains at the drain timeout is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use octotracker_core::{Frontend, FrontendError, Shutdown, Tracker};
use tokio::net::{TcpListener, TcpStream};

use crate::idle::{ActivityIo, quiet_for};
use crate::{HttpConfig, RemoteAddr, TrackerService};

/// At most this long, at shutdown, responses say `connection: close` before idle connections
/// are closed (capped by the drain timeout). A closed-loop client sends its next request well
/// within it; a client idle through all of it may still race the close (RFC 9112 §9.3.1).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The HTTP frontend: a bound listener and its settings. Bind first (so a bad address fails
/// before anything starts), then hand it to [`Frontend::serve`].
#[derive(Debug)]
pub struct HttpFrontend {
    listener: TcpListener,
    config: HttpConfig,
}

impl HttpFrontend {
    /// A frontend that will serve on `listener`.
    pub fn new(listener: TcpListener, config: HttpConfig) -> Self {
        HttpFrontend { listener, config }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

#[async_trait]
impl Frontend for HttpFrontend {
    async fn serve(self: Box<Self>, tracker: Arc<Tracker>, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        let HttpFrontend { listener, config } = *self;
        let service = TrackerService::new(tracker, config.clone());
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout).keep_alive(true);
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
        let limiter = config.rate_limit.map(|limit| Arc::new(crate::Limiter::new(limit)));
        let mut at_limit_since: Option<std::time::Instant> = None;
        let shared = Shared { limiter, draining: Arc::new(AtomicBool::new(false)) };

        loop {
            // A slot first: at the limit, stop accepting until a connection closes.
            let slot = match slots.clone().try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    if at_limit_since.is_none() {
                        tracing::warn!(
                            limit = config.max_connections,
                            "connection limit reached; new connections wait"
                        );
                        at_limit_since = Some(std::time::Instant::now());
                    }
                    tokio::select! {
                        slot = slots.clone().acquire_owned() => match slot {
                            Ok(slot) => slot,
                            Err(_) => break,
                        },
                        () = &mut shutdown => break,
                    }
                }
            };
            if let Some(since) = at_limit_since.take() {
                tracing::info!(waited_ms = since.elapsed().as_millis() as u64, "below the connection limit again");
            }
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, remote)) => {
                        let service = service.clone();
                        let conn = serve_connection(&builder, &graceful, stream, remote, service, shared.clone(), &config);
                        tokio::spawn(async move {
                            conn.await;
                            drop(slot);
                        });
                    }
                    // Out of descriptors or a connection reset before accept: keep serving.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        // Only after the listener is gone: a client told `close` reconnects to a refusal, not
        // into an accept queue that is about to be dropped.
        shared.draining.store(true, Ordering::SeqCst);
        let grace = CLOSE_GRACE.min(config.drain_timeout);
        let every_slot = u32::try_from(config.max_connections.max(1)).unwrap_or(u32::MAX);
        let all_closed = tokio::time::timeout(grace, slots.acquire_many(every_slot)).await;
        if all_closed.is_ok() {
            tracing::debug!("http connections closed within the grace");
        }
        tokio::select! {
            () = graceful.shutdown() => tracing::debug!("http connections drained"),
            () = tokio::time::sleep(config.drain_timeout.saturating_sub(grace)) => {
                tracing::warn!("drain timeout: dropping open http connections");
            }
        }
        Ok(())
    }
}

/// A request refused by the rate limit, or handed to the tracker.
enum Reply<F> {
    Refused(hyper::Response<http_body_util::Full<bytes::Bytes>>),
    Handled(F),
}

/// What the connections of one server share besides the service.
#[derive(Clone)]
struct Shared {
    limiter: Option<Arc<crate::Limiter>>,
    /// Set at shutdown: every response then says `connection: close`.
    draining: Arc<AtomicBool>,
}

fn serve_connection(
    builder: &http1::Builder,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    remote: std::net::SocketAddr,
    service: TrackerService,
    shared: Shared,
    config: &HttpConfig,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let trusted: Arc<[crate::IpNet]> = config.trusted_proxies.clone().into();
    let _ = stream.set_nodelay(true);
    let (io, activity) = ActivityIo::new(stream);
    let Shared { limiter, draining } = shared;
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(RemoteAddr(remote));
        let refused = limiter.as_ref().and_then(|limiter| {
            let ip = crate::rate_limit::request_ip(req.extensions(), req.headers(), &trusted)?;
            (!limiter.allow(ip, std::time::Instant::now())).then(|| limiter.refusal())
        });
        if refused.is_some()
            && let Some(obs) = service.tracker().observer()
        {
            obs.failure("rate_limited");
        }
        let reply = match refused {
            Some(refusal) => Reply::Refused(refusal),
            None => Reply::Handled(service.handle_parts(req.into_parts().0)),
        };
        let draining = draining.clone();
        async move {
            let mut response = match reply {
                Reply::Refused(refusal) => refusal,
                Reply::Handled(response) => response.await,
            };
            if draining.load(Ordering::SeqCst) {
                let close = hyper::header::HeaderValue::from_static("close");
                response.headers_mut().insert(hyper::header::CONNECTION, close);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = graceful.watch(builder.serve_connection(TokioIo::new(io), svc));
    let idle = config.idle_timeout;
    async move {
        tokio::select! {
            result = conn => if let Err(e) = result {
                tracing::debug!(%remote, error = %e, "http connection ended with an error");
            },
            () = quiet_for(&activity, idle) => tracing::debug!(%remote, "idle http connection closed"),
        }
    }
}
