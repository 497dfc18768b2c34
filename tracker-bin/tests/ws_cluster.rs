//! WebSocket peers of two `octotracker` processes sharing a 3-master Redis Cluster
//! (`OCTOTRACKER_TEST_REDIS_CLUSTER_URLS`, from `scripts/test.sh`): a process that dies (SIGKILL:
//! no `stopped` for its sockets) takes its sockets' peers out of the swarms within the peer
//! timeout, as the other process sees it. All traffic stays on 127.0.0.1; every wait is bounded.

mod common;
mod redis_support;

use std::time::{Duration, Instant};

use common::{LoggedServer, octotracker};
use futures_util::{SinkExt, StreamExt};
use octotracker_client::{HttpTrackerClient, Reply};
use octotracker_core::InfoHash;
use redis_support::{cluster_backend, prefix, purge, runtime};
use tokio_tungstenite::tungstenite::Message;

const STARTUP: Duration = Duration::from_secs(10);
/// The peer timeout the processes run with, in seconds (short, so that the test is).
const PEER_TIMEOUT: u64 = 4;

/// A process serving HTTP and WebSocket on the cluster: (server, HTTP address, WebSocket address).
fn process(backend: &str, prefix: &str) -> (LoggedServer, String, String) {
    let mut cmd = octotracker();
    cmd.args(["--http", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--backend", backend, "--redis-prefix", prefix])
        .args(["--interval", "2", "--min-interval", "1", "--peer-timeout", &PEER_TIMEOUT.to_string()])
        .args(["--expiry-interval", "1"]);
    let mut server = LoggedServer::spawn(&mut cmd);
    let http = server.await_after("listening on http://", STARTUP);
    let ws = server.await_after("listening on ws://", STARTUP);
    assert!(server.log.iter().any(|l| l.contains("relayed between processes")), "the relay runs: {:#?}", server.log);
    (server, http, ws)
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[test]
fn a_killed_process_takes_its_websocket_peers_out_within_the_peer_timeout() {
    let backend = cluster_backend();
    let prefix = prefix("ws-dies");
    let (mut a, _, ws_a) = process(&backend, &prefix);
    let (b, http_b, _) = process(&backend, &prefix);
    let hash = InfoHash([0xd1; 20]);
    runtime().block_on(async {
        let client = HttpTrackerClient::new().with_timeout(Duration::from_secs(10));
        let b_counts = || async {
            let reply = client.scrape(&format!("http://{http_b}/scrape"), &[hash]).await.expect("B scrapes");
            let Reply::Ok(reply) = reply else { panic!("scrape failed: {reply:?}") };
            let file = reply.files.iter().find(|(h, _)| *h == hash).map(|(_, f)| *f).unwrap_or_default();
            (file.complete, file.incomplete, file.downloaded)
        };

        // A WebRTC leecher on A: B counts it.
        let stream = tokio::net::TcpStream::connect(&ws_a).await.expect("connect to A");
        let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{ws_a}"), stream).await.expect("upgrade");
        let announce = serde_json::json!({"action": "announce", "info_hash": latin1(&hash.0),
            "peer_id": latin1(b"-WW0208-dies00000000"), "left": 5, "event": "started", "numwant": 0});
        ws.send(Message::text(announce.to_string())).await.expect("send");
        let reply = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a reply in time");
        let Some(Ok(Message::Text(reply))) = reply else { panic!("no reply: {reply:?}") };
        assert!(reply.contains("\"incomplete\":1"), "{reply}");
        assert_eq!(b_counts().await, (0, 1, 0), "B counts A's WebSocket peer");

        // A dies without a word: its socket's peer goes with the peer timeout.
        let killed = Instant::now();
        a.child.kill().expect("kill A");
        a.child.wait().expect("A exits");
        drop(ws);
        let deadline = killed + Duration::from_secs(PEER_TIMEOUT + 15);
        loop {
            let counts = b_counts().await;
            if counts == (0, 0, 0) {
                break;
            }
            assert!(Instant::now() < deadline, "A's peer is still counted {:?} after A died", killed.elapsed());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        println!("A's peer left the swarm {:?} after A was killed", killed.elapsed());
        purge(octotracker_redis::RedisTarget::parse(&backend).expect("the cluster"), &prefix, "auto").await;
    });
    drop(b);
}
