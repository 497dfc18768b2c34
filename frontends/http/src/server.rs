//! The standalone HTTP/1.1 server: accepts connections on a listener, serves each with
//! [`TrackerService`] until shutdown, then drains.

use std::sync::Arc;

use async_trait::async_trait;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use octotracker_core::{Frontend, FrontendError, Shutdown, Tracker};
use tokio::net::{TcpListener, TcpStream};

use crate::idle::{ActivityIo, quiet_for};
use crate::{HttpConfig, RemoteAddr, TrackerService};

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
                        let conn = serve_connection(&builder, &graceful, stream, remote, service, limiter.clone(), &config);
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
        tokio::select! {
            () = graceful.shutdown() => tracing::debug!("http connections drained"),
            () = tokio::time::sleep(config.drain_timeout) => tracing::warn!("drain timeout: dropping open http connections"),
        }
        Ok(())
    }
}

/// A request refused by the rate limit, or handed to the tracker.
enum Reply<F> {
    Refused(hyper::Response<http_body_util::Full<bytes::Bytes>>),
    Handled(F),
}

fn serve_connection(
    builder: &http1::Builder,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    remote: std::net::SocketAddr,
    service: TrackerService,
    limiter: Option<Arc<crate::Limiter>>,
    config: &HttpConfig,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let trusted: Arc<[crate::IpNet]> = config.trusted_proxies.clone().into();
    let _ = stream.set_nodelay(true);
    let (io, activity) = ActivityIo::new(stream);
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
        async move {
            Ok::<_, std::convert::Infallible>(match reply {
                Reply::Refused(refusal) => refusal,
                Reply::Handled(response) => response.await,
            })
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
