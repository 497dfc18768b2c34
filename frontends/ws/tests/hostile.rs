//! Hostile and broken input against a real `WsFrontend` on 127.0.0.1: every case ends in a
//! failure reason or a close frame, never a panic, and the tracker keeps serving others.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use octotracker_core::{Frontend, SystemClock, Tracker, TrackerConfig};
use octotracker_interval::Static;
use octotracker_memory::MemoryTorrentManager;
use octotracker_ws::{WsConfig, WsFrontend};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{WebSocketStream, client_async};

type Ws = WebSocketStream<TcpStream>;

/// Bounds every wait of these tests: a hang fails instead of blocking the suite.
const WAIT: Duration = Duration::from_secs(10);

struct Server {
    addr: std::net::SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
    tracker: Arc<Tracker>,
}

async fn server(config: WsConfig) -> Server {
    let storage = Arc::new(MemoryTorrentManager::new(Default::default()));
    let tracker =
        Arc::new(Tracker::new(TrackerConfig::default(), storage, Arc::new(Static::default()), Arc::new(SystemClock)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let frontend: Box<dyn Frontend> = Box::new(WsFrontend::new(listener, config));
    let t = tracker.clone();
    let done = tokio::spawn(async move {
        frontend
            .serve(
                t,
                Box::pin(async move {
                    let _ = stopped.await;
                }),
            )
            .await
            .unwrap();
    });
    Server { addr, stop: Some(stop), done, tracker }
}

async fn connect(addr: std::net::SocketAddr) -> Ws {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = client_async(format!("ws://{addr}/announce"), stream).await.expect("upgrade");
    ws
}

async fn next_text(ws: &mut Ws) -> Value {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("a message in time") {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON from the tracker"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Waits for the close frame (or the end of the stream) and returns its code.
async fn closed(ws: &mut Ws) -> Option<CloseCode> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

fn id(n: u8) -> String {
    std::iter::repeat_n(char::from(n), 20).collect()
}

fn announce(hash: u8, peer: u8, offers: usize) -> String {
    let offers: Vec<Value> =
        (0..offers).map(|i| json!({"offer": {"type": "offer", "sdp": "v=0"}, "offer_id": format!("o{i}")})).collect();
    json!({"action": "announce", "info_hash": id(hash), "peer_id": id(peer), "left": 1, "event": "started",
           "numwant": offers.len(), "offers": offers})
    .to_string()
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::text(text)).await.unwrap();
}

#[tokio::test]
async fn bad_json_wrong_types_and_wide_code_points_get_failure_reasons_and_the_socket_stays() {
    let s = server(WsConfig::default()).await;
    let mut ws = connect(s.addr).await;
    let cases = [
        ("{not json".to_owned(), "invalid message"),
        (json!({"action": 5}).to_string(), "invalid action"),
        (json!({"action": "announce", "info_hash": 7, "peer_id": id(1)}).to_string(), "invalid info_hash"),
        (
            json!({"action": "announce", "info_hash": "\u{100}".repeat(20), "peer_id": id(1)}).to_string(),
            "invalid info_hash",
        ),
        (
            json!({"action": "announce", "info_hash": id(1), "peer_id": id(1), "uploaded": "x"}).to_string(),
            "invalid uploaded",
        ),
        (
            json!({"action": "announce", "info_hash": id(1), "peer_id": id(1), "offers": "x"}).to_string(),
            "invalid offers",
        ),
        (json!({"action": "scrape", "info_hash": [id(1), "short"]}).to_string(), "invalid info_hash"),
    ];
    for (text, want) in cases {
        send(&mut ws, text.clone()).await;
        let reply = next_text(&mut ws).await;
        let reason = reply["failure reason"].as_str().unwrap_or_else(|| panic!("no failure for {text}: {reply}"));
        assert!(reason.starts_with(want), "{text}: {reason:?}");
    }
    send(&mut ws, announce(1, 1, 0)).await;
    let ok = next_text(&mut ws).await;
    assert_eq!(ok["incomplete"], 1, "the same socket still announces: {ok}");
    let stats = s.tracker.storage().scrape(&[octotracker_core::InfoHash([1; 20])]).await.unwrap();
    assert_eq!(stats[0].incomplete, 1, "nothing but the good announce was stored");
}

#[tokio::test]
async fn huge_frames_and_binary_frames_close_the_connection() {
    let s = server(WsConfig { max_message_bytes: 4096, ..WsConfig::default() }).await;
    let mut ws = connect(s.addr).await;
    let _ = ws.send(Message::text("x".repeat(10_000))).await;
    assert_eq!(closed(&mut ws).await, Some(CloseCode::Size), "a message over the cap: 1009");

    let mut ws = connect(s.addr).await;
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(closed(&mut ws).await, Some(CloseCode::Unsupported), "binary frames: 1003");

    let mut ws = connect(s.addr).await;
    send(&mut ws, announce(2, 2, 0)).await;
    assert_eq!(next_text(&mut ws).await["incomplete"], 1, "others are still served");
}

#[tokio::test]
async fn an_offer_flood_relays_at_most_the_cap_and_answers_to_unknown_peers_are_dropped() {
    let s = server(WsConfig { max_offers: 3, ..WsConfig::default() }).await;
    let mut receivers = Vec::new();
    for peer in 10..20 {
        let mut ws = connect(s.addr).await;
        send(&mut ws, announce(3, peer, 0)).await;
        next_text(&mut ws).await;
        receivers.push(ws);
    }
    let mut flooder = connect(s.addr).await;
    send(&mut flooder, announce(3, 99, 500)).await;
    assert_eq!(next_text(&mut flooder).await["incomplete"], 11);
    // An answer to a peer nobody holds: no reply, no error; the socket keeps working.
    let answer = json!({"action": "announce", "info_hash": id(3), "peer_id": id(99), "to_peer_id": id(200),
                        "answer": {"type": "answer", "sdp": "v=0"}, "offer_id": "o1"});
    send(&mut flooder, answer.to_string()).await;
    send(&mut flooder, json!({"action": "scrape", "info_hash": id(3)}).to_string()).await;
    let scrape = next_text(&mut flooder).await;
    assert_eq!(scrape["action"], "scrape", "the answer got no reply; the scrape is next: {scrape}");

    // Exactly three receivers got an offer, each one offer, from the flooder.
    let mut offered = 0;
    for ws in &mut receivers {
        send(ws, json!({"action": "scrape", "info_hash": id(3)}).to_string()).await;
        let first = next_text(ws).await;
        if first.get("offer").is_some() {
            assert_eq!(first["peer_id"], id(99));
            offered += 1;
            assert_eq!(next_text(ws).await["action"], "scrape", "one offer per receiver");
        } else {
            assert_eq!(first["action"], "scrape");
        }
    }
    assert_eq!(offered, 3, "the cap of offers per announce");
}

#[tokio::test]
async fn a_connection_over_its_message_rate_is_closed() {
    let s = server(WsConfig { burst: 5, rate: 1, ..WsConfig::default() }).await;
    let mut ws = connect(s.addr).await;
    for _ in 0..20 {
        if ws.send(Message::text(announce(4, 4, 0))).await.is_err() {
            break;
        }
    }
    let mut replies = 0;
    let code = loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("closed in time") {
            Some(Ok(Message::Text(_))) => replies += 1,
            Some(Ok(Message::Close(frame))) => break frame.map(|f| f.code),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break None,
        }
    };
    assert_eq!(code, Some(CloseCode::Policy), "1008 after the burst");
    assert!(replies <= 6, "at most the burst was answered: {replies}");
}

#[tokio::test]
async fn a_peer_that_does_not_read_is_disconnected_not_buffered() {
    let config = WsConfig {
        outbound_queue: 4,
        write_timeout: Duration::from_millis(300),
        burst: 10_000,
        rate: 10_000,
        ..WsConfig::default()
    };
    let s = server(config).await;
    let mut sleeper = connect(s.addr).await;
    send(&mut sleeper, announce(5, 1, 0)).await;
    next_text(&mut sleeper).await;
    // From here on the sleeper never reads; the sender's offers (60 KB each) pile up for it.
    let mut sender = connect(s.addr).await;
    let big = "v".repeat(60_000);
    let mut gone = false;
    for i in 0..400 {
        let text = json!({"action": "announce", "info_hash": id(5), "peer_id": id(2), "left": 1, "numwant": 1,
                          "offers": [{"offer": {"type": "offer", "sdp": big}, "offer_id": format!("o{i}")}]});
        send(&mut sender, text.to_string()).await;
        let reply = next_text(&mut sender).await;
        if reply["incomplete"] == 1 {
            // Only the sender is left: the sleeper was disconnected and left the swarm.
            gone = true;
            break;
        }
    }
    assert!(gone, "the sleeper was never disconnected");
}

#[tokio::test]
async fn the_connection_cap_answers_503_and_upgrades_never_completed_are_dropped() {
    let config = WsConfig { max_connections: 2, header_timeout: Duration::from_millis(300), ..WsConfig::default() };
    let s = server(config).await;
    let _a = connect(s.addr).await;
    let _b = connect(s.addr).await;
    let stream = TcpStream::connect(s.addr).await.unwrap();
    let refused = client_async(format!("ws://{}/", s.addr), stream).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a third connection was upgraded: {refused:?}")
    };
    assert_eq!(response.status(), 503);

    // Half a request head, never finished: the server hangs up after the header timeout.
    let mut half = TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(WAIT, half.read(&mut buf)).await.expect("the server hangs up in time");
    assert!(n.is_ok(), "read ends with EOF or a timeout response, not an error: {n:?}");

    // A plain HTTP request to the WebSocket port: 426.
    let mut plain = TcpStream::connect(s.addr).await.unwrap();
    plain.write_all(b"GET /announce HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut text = Vec::new();
    let _ = tokio::time::timeout(WAIT, plain.read_to_end(&mut text)).await;
    assert!(String::from_utf8_lossy(&text).starts_with("HTTP/1.1 426"), "{}", String::from_utf8_lossy(&text));
}

#[tokio::test]
async fn shutdown_sends_every_connection_a_close_frame_and_they_leave_their_swarms() {
    let mut s = server(WsConfig::default()).await;
    let mut ws = connect(s.addr).await;
    send(&mut ws, announce(6, 6, 0)).await;
    next_text(&mut ws).await;
    let _ = s.stop.take().unwrap().send(());
    assert_eq!(closed(&mut ws).await, Some(CloseCode::Away), "1001 going away");
    tokio::time::timeout(WAIT, &mut s.done).await.expect("the frontend returns after draining").unwrap();
    let stats = s.tracker.storage().scrape(&[octotracker_core::InfoHash([6; 20])]).await.unwrap();
    assert_eq!(stats[0].peers(), 0, "the drained peer left its swarm");
}
