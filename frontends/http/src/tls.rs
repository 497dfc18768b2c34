//! HTTPS: the TLS handshake in front of the standalone server's hyper path (feature `tls`).
//!
//! The server is handed a rustls [`ServerConfig`](rustls::ServerConfig) and serves it as it is:
//! the certificate comes from its certificate resolver, so an application that swaps the
//! resolver's certificate (the `octotracker` binary does when the files change) changes what new
//! handshakes present, while connections already open keep theirs. Only ALPN is set here:
//! `http/1.1`, the one protocol this server speaks.
//!
//! A handshake is bounded by [`HttpConfig::header_read_timeout`](crate::HttpConfig) (a client
//! that opens a connection and sends nothing, or stalls half-way, is cut off as a slow request
//! head would be) and given up when the server stops.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::server::TlsStream;

use crate::connection::Shared;
use crate::phase::Phase;

/// The handshake of an HTTPS server's connections.
#[derive(Clone)]
pub(crate) struct Acceptor(TlsAcceptor);

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Acceptor(rustls)")
    }
}

impl Acceptor {
    /// The acceptor for `config`, with ALPN offering `http/1.1` (the certificate resolver, and
    /// so any certificate reload, is shared with `config`).
    pub(crate) fn new(config: &ServerConfig) -> Self {
        let mut config = config.clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Acceptor(TlsAcceptor::from(Arc::new(config)))
    }
}

/// Completes the TLS handshake on `stream`; `None` (logged at debug: a stranger's bad
/// handshake is not the operator's problem) when it fails, takes longer than the header-read
/// timeout, or the server stops first.
pub(crate) async fn handshake(
    shared: &Shared,
    acceptor: &Acceptor,
    stream: TcpStream,
    remote: SocketAddr,
) -> Option<TlsStream<TcpStream>> {
    let timeout = shared.service.config().header_read_timeout;
    tokio::select! {
        done = tokio::time::timeout(timeout, acceptor.0.accept(stream)) => match done {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "tls handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(%remote, "tls handshake not finished in time");
                None
            }
        },
        () = shared.lifecycle.reached(Phase::Stopped) => None,
    }
}
