//! [`WsFrontend`]: the standalone WebSocket tracker server (`octotracker serve --ws ADDR`).

use std::sync::Arc;

use async_trait::async_trait;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use octotracker_core::{Frontend, FrontendError, Shutdown, Tracker};
use octotracker_http::RemoteAddr;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::{Peers, WsConfig, WsService};

/// Accepts TCP connections, answers each one's upgrade request with [`WsService`], and serves
/// the WebSocket connections. On shutdown it stops accepting, sends every connection a close
/// frame (1001, going away: clients reconnect elsewhere) and returns once they have ended.
#[derive(Debug)]
pub struct WsFrontend {
    listener: TcpListener,
    config: WsConfig,
    peers: Option<Arc<Peers>>,
    trusted_proxies: Vec<octotracker_http::IpNet>,
}

impl WsFrontend {
    /// A server on `listener`.
    pub fn new(listener: TcpListener, config: WsConfig) -> Self {
        WsFrontend { listener, config, peers: None, trusted_proxies: Vec::new() }
    }

    /// Keeps the connected peers in `peers` (a cluster's, see [`ClusterRelay`](crate::ClusterRelay)).
    pub fn with_peers(mut self, peers: Arc<Peers>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// Reads the client's address from `X-Forwarded-For` when the connection comes from one of
    /// `proxies` (a TLS proxy in front, for `wss://`).
    pub fn with_trusted_proxies(mut self, proxies: Vec<octotracker_http::IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

#[async_trait]
impl Frontend for WsFrontend {
    async fn serve(self: Box<Self>, tracker: Arc<Tracker>, mut shutdown: Shutdown) -> Result<(), FrontendError> {
        let WsFrontend { listener, config, peers, trusted_proxies } = *self;
        let header_timeout = config.header_timeout;
        let peers = peers.unwrap_or_else(|| Arc::new(Peers::new(None)));
        let service = WsService::with_peers(tracker, config, peers).with_trusted_proxies(trusted_proxies);
        let mut handshakes = JoinSet::new();
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "ws accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
                Some(_) = handshakes.join_next() => continue,
            };
            let _ = stream.set_nodelay(true);
            let service = service.clone();
            handshakes.spawn(async move {
                let svc = tower::ServiceBuilder::new()
                    .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(RemoteAddr(remote));
                        req
                    })
                    .service(service);
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                    .with_upgrades();
                // Bounded: the header read times out; after the upgrade hyper hands the socket over.
                let _ = conn.await;
            });
        }
        drop(listener);
        handshakes.abort_all();
        service.drain().await;
        Ok(())
    }
}
