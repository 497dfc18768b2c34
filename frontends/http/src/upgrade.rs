//! [`UpgradeService`]: WebSocket upgrades on the HTTP listener. The npm `bittorrent-tracker`
//! server answers HTTP announces and WebSocket (WebTorrent) upgrades on one port, so its users
//! list `http://host:port/announce` and `ws://host:port` side by side; a server given an
//! `UpgradeService` does the same, handing every `Upgrade: websocket` request to it.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use tower::util::BoxCloneSyncService;

/// Answers the WebSocket upgrade requests that reach an [`HttpFrontend`](crate::HttpFrontend)
/// (`octotracker-ws`'s `WsService`, boxed). The request carries the connection's
/// [`RemoteAddr`](crate::RemoteAddr); the service answers `101` and serves the upgraded
/// connection on a task of its own, or answers an HTTP error. Upgrades skip the HTTP rate limit
/// (the WebSocket tracker has its own, per connection).
pub type UpgradeService = BoxCloneSyncService<Request<Incoming>, Response<Full<Bytes>>, Infallible>;

/// Whether the request asks for a WebSocket (`Upgrade: websocket`, any case). The service
/// checks the rest of the handshake.
pub(crate) fn wants_websocket(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|token| token.trim().eq_ignore_ascii_case("websocket"))))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn only_a_websocket_upgrade_goes_to_the_upgrade_service() {
        let mut h = HeaderMap::new();
        assert!(!wants_websocket(&h));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        assert!(!wants_websocket(&h));
        h.insert(header::UPGRADE, HeaderValue::from_static("WebSocket"));
        assert!(wants_websocket(&h));
    }
}
