//! `WsService` mounted in an axum app next to its own routes: the upgrade goes through axum's
//! server (which keeps hyper's upgrades) and the client address comes from `ConnectInfo`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use octotracker_core::{SystemClock, Tracker, TrackerConfig};
use octotracker_interval::Static;
use octotracker_memory::MemoryTorrentManager;
use octotracker_ws::{WsConfig, WsService};
use serde_json::{Value, json};
use tokio_tungstenite::client_async;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn an_axum_app_serves_the_websocket_tracker_beside_its_own_routes() {
    let storage = Arc::new(MemoryTorrentManager::new(Default::default()));
    let tracker =
        Arc::new(Tracker::new(TrackerConfig::default(), storage, Arc::new(Static::default()), Arc::new(SystemClock)));
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/announce", WsService::new(tracker, WsConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });

    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut ws, _) = client_async(format!("ws://{addr}/announce"), stream).await.expect("upgraded through axum");
    let hash: String = std::iter::repeat_n('h', 20).collect();
    let announce = json!({"action": "announce", "info_hash": hash, "peer_id": "-OT0001-aaaaaaaaaaaa", "left": 0});
    ws.send(Message::text(announce.to_string())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a reply").unwrap().unwrap();
    let reply: Value = serde_json::from_str(reply.to_text().unwrap()).unwrap();
    assert_eq!(reply["complete"], 1, "{reply}");
    assert_eq!(reply["info_hash"], hash);
    server.abort();
}
