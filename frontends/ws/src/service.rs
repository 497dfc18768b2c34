//! [`WsService`]: the WebSocket tracker as a tower `Service` that answers the upgrade request and
//! then serves the connection on its own task.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use octotracker_core::{Tracker, is_passkey};
use octotracker_http::{IpNet, client_ip, remote_addr};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::connection::{self, Shared};
use crate::{Peers, WsConfig};

/// The WebSocket tracker endpoint: a `GET` upgrade request on [`WsConfig::announce_path`] or `/`
/// (and `/<passkey>/announce` on a private tracker) is answered `101 Switching Protocols`, and
/// the connection is then served on a task of its own. Anything else gets a plain HTTP error:
/// 404 for other paths, 426 for a request that is not a WebSocket upgrade, 503 when
/// [`WsConfig::max_connections`] are open.
///
/// The client's address comes from the request's extensions as `octotracker_http::remote_addr`
/// reads them (`RemoteAddr`, which the standalone server inserts, or axum's
/// `ConnectInfo<SocketAddr>` with `octotracker-http`'s `axum` feature), then
/// [`with_trusted_proxies`] (`X-Forwarded-For` from a TLS proxy).
///
/// Clone it freely (one `Arc`); it mounts in axum with `Router::route_service`, next to
/// `octotracker_http::TrackerService`, as long as the server keeps hyper's upgrade support
/// (axum's `serve` does).
///
/// [`with_trusted_proxies`]: WsService::with_trusted_proxies
#[derive(Debug, Clone)]
pub struct WsService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    trusted_proxies: Vec<IpNet>,
    drain: watch::Sender<bool>,
}

impl WsService {
    /// A service for `tracker`, with peers connected only to this process.
    pub fn new(tracker: Arc<Tracker>, config: WsConfig) -> Self {
        Self::with_peers(tracker, config, Arc::new(Peers::new(None)))
    }

    /// A service whose connected peers are kept in `peers` (built with a
    /// [`ClusterRelay`](crate::ClusterRelay) to share swarms with other processes).
    pub fn with_peers(tracker: Arc<Tracker>, config: WsConfig, peers: Arc<Peers>) -> Self {
        let (drain, draining) = watch::channel(false);
        let slots = Arc::new(Semaphore::new(config.max_connections));
        let shared = Arc::new(Shared::new(tracker, config, peers, draining));
        WsService { inner: Arc::new(Inner { shared, slots, trusted_proxies: Vec::new(), drain }) }
    }

    /// Takes the client's address from `X-Forwarded-For` / `X-Real-IP` when the connection
    /// comes from one of `proxies` (as the HTTP frontend does).
    pub fn with_trusted_proxies(self, proxies: Vec<IpNet>) -> Self {
        let inner = Arc::into_inner(self.inner).expect("with_trusted_proxies before the service is cloned");
        WsService { inner: Arc::new(Inner { trusted_proxies: proxies, ..inner }) }
    }

    /// The peers connected through this service.
    pub fn peers(&self) -> &Arc<Peers> {
        &self.inner.shared.peers
    }

    /// How many WebSocket connections are open.
    pub fn connections(&self) -> usize {
        self.inner.shared.config.max_connections - self.inner.slots.available_permits()
    }

    /// Sends every open connection a close frame (1001, going away); the peers leave their
    /// swarms. Returns when every connection has ended.
    pub async fn drain(&self) {
        let _ = self.inner.drain.send(true);
        let all = u32::try_from(self.inner.shared.config.max_connections).unwrap_or(u32::MAX);
        let _ = self.inner.slots.acquire_many(all).await;
    }

    /// Answers one request: the upgrade, or an HTTP error.
    pub fn handle<B>(&self, mut req: Request<B>) -> Response<Full<Bytes>> {
        let shared = &self.inner.shared;
        let Some(passkey) = passkey_of(req.uri().path(), &shared.config.announce_path, shared.tracker.private()) else {
            return plain(StatusCode::NOT_FOUND, "not found");
        };
        let Some(accept) = upgrade_accept(req.method(), req.headers()) else {
            let mut r =
                plain(StatusCode::UPGRADE_REQUIRED, "this is a WebSocket tracker: connect with ws:// or wss://");
            r.headers_mut().insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            return r;
        };
        let Some(remote) = remote_addr(req.extensions()).map(|a| a.ip()) else {
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "no client address");
        };
        let Ok(ip) = client_ip(remote, req.headers(), &self.inner.trusted_proxies) else {
            return plain(StatusCode::BAD_REQUEST, "missing X-Forwarded-For from a trusted proxy");
        };
        if *shared.draining.borrow() {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        }
        let Ok(slot) = self.inner.slots.clone().try_acquire_owned() else {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "too many connections");
        };
        let passkey = passkey.map(str::to_owned);
        let shared = shared.clone();
        let upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            let _slot = slot;
            let Ok(upgraded) = upgrade.await else { return };
            let ws =
                WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config(&shared.config)))
                    .await;
            connection::serve(shared, ws, ip, passkey).await;
        });
        let mut r = Response::new(Full::default());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        r
    }
}

/// Bytes of outgoing messages gathered before a write (a connection flushes what it has queued
/// after each batch anyway): several messages per write, not one each.
const WRITE_BATCH_BYTES: usize = 16 * 1024;

/// The tungstenite limits: messages and frames capped, a small read buffer (idle peers are many),
/// writes gathered up to [`WRITE_BATCH_BYTES`].
fn ws_config(config: &WsConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes))
        .read_buffer_size(1024)
        .write_buffer_size(WRITE_BATCH_BYTES)
        .max_write_buffer_size(WRITE_BATCH_BYTES + config.max_message_bytes * 2)
}

/// `Some(passkey)` when `path` is served: `/`, `announce_path`, or on a private tracker
/// `/<passkey>/<last segment of announce_path>`.
fn passkey_of<'p>(path: &'p str, announce_path: &str, private: bool) -> Option<Option<&'p str>> {
    if path == "/" || path == announce_path {
        return Some(None);
    }
    if !private {
        return None;
    }
    let (base, last) = announce_path.rsplit_once('/')?;
    let (key, rest) = path.strip_prefix(base)?.strip_prefix('/')?.split_once('/')?;
    (rest == last && is_passkey(key)).then_some(Some(key))
}

/// The `Sec-WebSocket-Accept` value when the request is a WebSocket upgrade (RFC 6455 §4.2.1).
fn upgrade_accept(method: &Method, headers: &HeaderMap) -> Option<HeaderValue> {
    let has = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))))
    };
    if method != Method::GET || !has(header::UPGRADE, "websocket") || !has(header::CONNECTION, "upgrade") {
        return None;
    }
    if headers.get(header::SEC_WEBSOCKET_VERSION)? != "13" {
        return None;
    }
    let key = headers.get(header::SEC_WEBSOCKET_KEY)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

impl<B> tower::Service<Request<B>> for WsService {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.handle(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_passkeys() {
        assert_eq!(passkey_of("/", "/announce", false), Some(None));
        assert_eq!(passkey_of("/announce", "/announce", false), Some(None));
        assert_eq!(passkey_of("/abc/announce", "/announce", false), None, "public: no passkey paths");
        assert_eq!(passkey_of("/abcdefghijklmnop/announce", "/announce", true), Some(Some("abcdefghijklmnop")));
        assert_eq!(passkey_of("/scrape", "/announce", true), None);
    }

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        let mut h = HeaderMap::new();
        h.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        h.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        h.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(upgrade_accept(&Method::GET, &h).unwrap(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(upgrade_accept(&Method::POST, &h), None);
        h.remove(header::SEC_WEBSOCKET_KEY);
        assert_eq!(upgrade_accept(&Method::GET, &h), None);
    }
}
