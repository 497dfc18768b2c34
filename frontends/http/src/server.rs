//! The standalone HTTP/1.1 server: accepts connections on a listener (one accept loop per tokio
//! worker, see [`accept`](crate::accept)), serves each with [`TrackerService`] (see
//! [`connection`](crate::connection)) until shutdown, then drains.
//!
//! The drain walks the server's [`Phase`]s (documented in [`phase`](crate::phase)): closing (the
//! accept loops end and the listener is closed, so new connections are refused); draining (for a
//! short grace every response says `connection: close`, so each busy keep-alive client gets its
//! next request answered before its connection closes); stopped (connections still open, idle
//! ones, are shut gracefully: hyper answers a request it has started, closes the rest); whatever
//! remains at the drain timeout is dropped.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hyper::server::conn::http1;
use hyper_util::rt::TokioTimer;
use octotracker_core::{Frontend, FrontendError, Shutdown, Tracker};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::accept::accept_loop;
use crate::connection::Shared;
use crate::phase::{Lifecycle, Phase};
use crate::{HttpConfig, TrackerService, UpgradeService};

/// At most this long, at shutdown, responses say `connection: close` before idle connections
/// are closed (capped by the drain timeout). A closed-loop client sends its next request well
/// within it; a client idle through all of it may still race the close (RFC 9112 §9.3.1).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The HTTP frontend: a bound listener and its settings. Bind first (so a bad address fails
/// before anything starts), then hand it to [`Frontend::serve`].
///
/// Accepted connections have `TCP_NODELAY` (replies go out at once): it is set once, on the
/// listener, when the frontend is made, and Linux copies it to every connection accepted from
/// it, which saves a system call per connection. With [`HttpConfig::defer_accept`] (the
/// default) the listener also has `TCP_DEFER_ACCEPT`: a connection is accepted once its first
/// bytes are in (see `src/defer_accept.rs`).
#[derive(Debug)]
pub struct HttpFrontend {
    listener: TcpListener,
    config: HttpConfig,
    /// Set by [`with_tls`](Self::with_tls): every connection is a TLS one.
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::Acceptor>,
    upgrades: Option<UpgradeService>,
}

impl HttpFrontend {
    /// A frontend that will serve on `listener` (which gets `TCP_NODELAY`, inherited by the
    /// connections accepted from it).
    pub fn new(listener: TcpListener, config: HttpConfig) -> Self {
        if let Err(e) = socket2::SockRef::from(&listener).set_tcp_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY on the http listener");
        }
        if config.defer_accept {
            // Accept a connection once its request is in: see `defer_accept`.
            let seconds = config.header_read_timeout.as_secs_f64().ceil().clamp(1.0, 3600.0) as u32;
            if let Err(e) = crate::defer_accept::set(&listener, seconds) {
                tracing::warn!(error = %e, "cannot set TCP_DEFER_ACCEPT on the http listener");
            }
        }
        HttpFrontend {
            listener,
            config,
            #[cfg(feature = "tls")]
            tls: None,
            upgrades: None,
        }
    }

    /// The same frontend serving HTTPS: every connection starts with a TLS handshake under
    /// `tls` (its certificate resolver decides the certificate of each handshake; ALPN is set to
    /// `http/1.1`), then is served exactly as a plain one, keep-alive, timeouts, rate limit,
    /// drain and all. Request durations are labelled `https` instead of `http`.
    ///
    /// ```no_run
    /// # async fn run(tracker: std::sync::Arc<octotracker_core::Tracker>) -> Result<(), Box<dyn std::error::Error>> {
    /// use octotracker_core::Frontend;
    /// use octotracker_http::rustls::pki_types::pem::PemObject;
    /// use octotracker_http::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    /// use octotracker_http::{HttpConfig, HttpFrontend, rustls};
    ///
    /// let chain = CertificateDer::pem_file_iter("fullchain.pem")?.collect::<Result<Vec<_>, _>>()?;
    /// let key = PrivateKeyDer::from_pem_file("privkey.pem")?;
    /// // A fixed certificate; a `ResolvesServerCert` of your own can swap it at run time.
    /// let tls = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key)?;
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:443").await?;
    /// let frontend = HttpFrontend::new(listener, HttpConfig::default()).with_tls(&tls);
    /// let forever: octotracker_core::Shutdown = Box::pin(std::future::pending());
    /// Box::new(frontend).serve(tracker, forever).await?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    pub fn with_tls(mut self, tls: &crate::rustls::ServerConfig) -> Self {
        self.tls = Some(crate::tls::Acceptor::new(tls));
        self
    }

    /// Hands WebSocket upgrade requests (`Upgrade: websocket`) to `service` (see
    /// [`UpgradeService`]): one port for HTTP announces and WebTorrent peers.
    pub fn with_upgrades(mut self, service: UpgradeService) -> Self {
        self.upgrades = Some(service);
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

#[async_trait]
impl Frontend for HttpFrontend {
    async fn serve(self: Box<Self>, tracker: Arc<Tracker>, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        #[cfg(feature = "tls")]
        let HttpFrontend { listener, config, tls, upgrades } = *self;
        #[cfg(not(feature = "tls"))]
        let HttpFrontend { listener, config, upgrades } = *self;
        #[cfg(feature = "tls")]
        let frontend = if tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "tls"))]
        let frontend = "http";
        let mut builder = http1::Builder::new();
        // writev(false): the body is copied behind the head and sent with one write(2); fewer
        // instructions per reply than queueing both for writev(2) (tracker replies are small).
        builder.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout).keep_alive(true).writev(false);
        // One permit per connection served at once; the drain takes them all back.
        let limit = u32::try_from(config.max_connections).unwrap_or(u32::MAX).max(1);
        let slots = Arc::new(Semaphore::new(limit as usize));
        let shared = Arc::new(Shared {
            builder,
            service: TrackerService::labelled(tracker, config.clone(), frontend),
            limiter: config.rate_limit.map(crate::rate_limit::Limiter::new),
            max_connections: config.max_connections,
            lifecycle: Lifecycle::default(),
            #[cfg(feature = "tls")]
            tls,
            upgrades,
        });
        // One accept loop per tokio worker, all on the same listener (see `accept`).
        let listener = Arc::new(listener);
        let workers = tokio::runtime::Handle::current().metrics().num_workers().max(1);
        let mut acceptors = tokio::task::JoinSet::new();
        for _ in 0..workers {
            acceptors.spawn(accept_loop(listener.clone(), shared.clone(), slots.clone()));
        }
        tokio::select! {
            () = &mut shutdown => {}
            // An accept loop ends only when closed: one gone early is a bug, not a stop.
            Some(ended) = acceptors.join_next() => {
                if let Err(e) = ended {
                    tracing::error!(error = %e, "http accept loop failed");
                }
            }
        }
        shared.lifecycle.advance(Phase::Closing);
        while acceptors.join_next().await.is_some() {}
        drop(listener);
        // Only after the listener is gone: a client told `close` reconnects to a refusal, not
        // into an accept queue that is about to be dropped. Every connection holds a slot until
        // it ends, so all slots back means all connections closed.
        shared.lifecycle.advance(Phase::Draining);
        let grace = CLOSE_GRACE.min(config.drain_timeout);
        if tokio::time::timeout(grace, slots.acquire_many(limit)).await.is_ok() {
            tracing::debug!("http connections closed within the grace");
            return Ok(());
        }
        // Idle connections close now, busy ones after the request in hand.
        shared.lifecycle.advance(Phase::Stopped);
        tokio::select! {
            _ = slots.acquire_many(limit) => tracing::debug!("http connections drained"),
            () = tokio::time::sleep(config.drain_timeout.saturating_sub(grace)) => {
                tracing::warn!("drain timeout: dropping open http connections");
            }
        }
        Ok(())
    }
}
