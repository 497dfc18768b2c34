//! `--https`: the HTTP tracker over TLS, beside the plain listener, with a throwaway CA.
//!
//! - announce and scrape over https and over http reach the same swarms; keep-alive works over
//!   TLS; request durations are labelled `frontend="https"`;
//! - a certificate that cannot serve is refused at start with exit code 2 and a message naming
//!   the problem (missing flags, unreadable files, a key of another pair, expired, not yet valid);
//! - the certificate files replaced under traffic, through half-written states, with no failed
//!   request: the served certificate changes only once both files match.

mod common;
mod tls_support;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{LoggedServer, TempDir, octotracker};
use tls_support::{DAY, Leaf, TestCa, announce_target, connect, connector, get, presented, time_now};

const STARTUP: Duration = Duration::from_secs(20);

/// Writes the pair's two files (each atomically) and returns their paths.
fn write_pair(dir: &TempDir, leaf: &Leaf) -> (String, String) {
    (dir.write("cert.pem", &leaf.cert_pem), dir.write("key.pem", &leaf.key_pem))
}

/// `octotracker --https 127.0.0.1:0 --tls-cert CERT --tls-key KEY ARGS…`.
fn tracker(cert: &str, key: &str, args: &[&str]) -> Command {
    let mut cmd = octotracker();
    cmd.args(["--https", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]).args(args);
    cmd
}

fn addr_after(server: &mut LoggedServer, marker: &str) -> SocketAddr {
    server.await_after(marker, STARTUP).split('/').next().unwrap_or("").parse().expect("a listening address")
}

fn is_announce_reply(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.starts_with('d') && text.contains("8:intervali") && !text.contains("failure reason")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announces_over_https_and_http_reach_one_swarm() {
    let dir = TempDir::new("https", "one-swarm");
    let ca = TestCa::new();
    let leaf = ca.leaf("tracker one");
    // A full chain, leaf first (certbot's fullchain.pem).
    let cert = dir.write("fullchain.pem", &format!("{}{}", leaf.cert_pem, ca.pem));
    let key = dir.write("key.pem", &leaf.key_pem);
    let mut server =
        LoggedServer::spawn(&mut tracker(&cert, &key, &["--http", "127.0.0.1:0", "--metrics", "127.0.0.1:0"]));
    let plain = addr_after(&mut server, "listening on http://");
    let https = addr_after(&mut server, "listening on https://");
    let metrics = addr_after(&mut server, "metrics on http://");

    let connector = connector(&ca.pem);
    let mut conn = connect(&connector, https).await.expect("a TLS handshake against the test CA");
    assert_eq!(conn.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]), "ALPN chose HTTP/1.1");
    assert_eq!(conn.get_ref().1.peer_certificates().map(<[_]>::len), Some(2), "the whole chain is sent");
    let (status, body) = get(&mut conn, &announce_target(7, 1, 6001)).await.expect("an announce over https");
    assert_eq!(status, 200);
    assert!(is_announce_reply(&body), "{}", String::from_utf8_lossy(&body));
    // Keep-alive over TLS: a second request on the same connection.
    let (status, body) =
        get(&mut conn, "/scrape?info_hash=%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07%07")
            .await
            .expect("a scrape on the same TLS connection");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("10:incompletei1e"), "{}", String::from_utf8_lossy(&body));

    // A plain-HTTP peer of the same torrent gets the https peer (127.0.0.1:6001, compact).
    let reply = plain_get(plain, &announce_target(7, 2, 6002)).await;
    let peer = [127u8, 0, 0, 1, (6001u16 >> 8) as u8, (6001u16 & 0xff) as u8];
    assert!(reply.windows(peer.len()).any(|w| w == peer), "the https peer is in the http reply: {reply:?}");

    let scraped = plain_get(metrics, "/metrics").await;
    let scraped = String::from_utf8_lossy(&scraped);
    assert!(
        scraped.contains(r#"request_duration_seconds_count{frontend="https",request="announce"} 1"#),
        "https requests are labelled: {scraped}"
    );
    assert!(scraped.contains(r#"request_duration_seconds_count{frontend="http",request="announce"} 1"#));

    // Plain HTTP on the TLS port is not answered as HTTP (the handshake fails), and the
    // listener goes on serving.
    let garbage = plain_get(https, "/announce").await;
    assert!(!garbage.starts_with(b"HTTP/"), "plain HTTP answered on the TLS port");
    let mut again = connect(&connector, https).await.expect("a handshake after a bad one");
    assert_eq!(get(&mut again, &announce_target(7, 3, 6003)).await.expect("announce").0, 200);

    // SIGTERM: the TLS listeners drain like the plain ones and the process exits 0.
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| server.child.wait()).expect("the tracker exits");
    assert!(exit.success(), "exit {exit:?}: {:#?}", server.log);
}

/// `GET target` over plain TCP with `connection: close`: the whole response (head and body),
/// or what came before the server closed.
async fn plain_get(addr: SocketAddr, target: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    out
}

/// Each certificate that cannot serve, and the words the operator is told.
#[test]
fn unusable_certificates_are_refused_at_start_with_exit_code_2() {
    let dir = TempDir::new("https", "refused");
    let ca = TestCa::new();
    let good = ca.leaf("good");
    let other = ca.leaf("other");
    let now = time_now();
    let expired = ca.leaf_valid("expired", now - 400 * DAY, now - DAY);
    let future = ca.leaf_valid("future", now + DAY, now + 400 * DAY);
    let good_cert = dir.write("good.pem", &good.cert_pem);
    let good_key = dir.write("good.key", &good.key_pem);
    let other_key = dir.write("other.key", &other.key_pem);
    let expired_cert = dir.write("expired.pem", &expired.cert_pem);
    let expired_key = dir.write("expired.key", &expired.key_pem);
    let future_cert = dir.write("future.pem", &future.cert_pem);
    let future_key = dir.write("future.key", &future.key_pem);
    let garbage = dir.write("garbage.pem", "not a certificate\n");
    let half = dir.write("half.pem", &good.cert_pem[..good.cert_pem.len() / 2]);
    let missing = dir.0.join("missing.pem").to_string_lossy().into_owned();

    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("no certificate flag", vec!["--https", "127.0.0.1:0", "--tls-key", &good_key], "--tls-cert"),
        ("no key flag", vec!["--https", "127.0.0.1:0", "--tls-cert", &good_cert], "--tls-key"),
        ("a missing certificate file", tls_args(&missing, &good_key), "cannot read the TLS certificate"),
        ("a missing key file", tls_args(&good_cert, &missing), "cannot read the TLS key"),
        ("a certificate file without a certificate", tls_args(&garbage, &good_key), "no certificate in"),
        ("a half-written certificate", tls_args(&half, &good_key), "TLS certificate"),
        ("a key file without a key", tls_args(&good_cert, &garbage), "no usable private key"),
        ("the key of another certificate", tls_args(&good_cert, &other_key), "does not match the certificate"),
        ("an expired certificate", tls_args(&expired_cert, &expired_key), "expired on"),
        ("a certificate not valid yet", tls_args(&future_cert, &future_key), "is not valid before"),
    ];
    for (case, args, words) in cases {
        let out = octotracker().args(&args).output().expect("octotracker runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{case}: exit {:?}, stderr {stderr}", out.status);
        assert!(stderr.contains(words), "{case}: {words:?} not in {stderr}");
        assert!(!stderr.contains("listening on"), "{case}: nothing may listen: {stderr}");
    }
    // The good pair starts (and is stopped at once).
    let mut server = LoggedServer::spawn(&mut tracker(&good_cert, &good_key, &[]));
    addr_after(&mut server, "listening on https://");
}

fn tls_args<'a>(cert: &'a str, key: &'a str) -> Vec<&'a str> {
    vec!["--https", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]
}

/// What one announce on a fresh connection saw.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    /// The step of the replacement when the connection was opened.
    step: usize,
    /// The step when its announce was answered.
    end: usize,
    /// Whether the handshake presented the new certificate.
    new_cert: bool,
    /// Whether the announce was answered with a tracker reply.
    ok: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_files_replaced_under_traffic_fail_no_request() {
    let dir = TempDir::new("https", "reload");
    let ca = TestCa::new();
    let old = ca.leaf("old certificate");
    let new = ca.leaf("new certificate");
    let (cert, key) = write_pair(&dir, &old);
    let mut server = LoggedServer::spawn(&mut tracker(&cert, &key, &["--tls-reload-interval", "1"]));
    let https = addr_after(&mut server, "listening on https://");
    let connector = connector(&ca.pem);

    let step = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let progress = Arc::new(tokio::sync::Notify::new());
    // A client opening a connection per announce: every handshake shows the served certificate.
    let fresh = {
        let (connector, step, stop, seen, progress, new_der) =
            (connector.clone(), step.clone(), stop.clone(), seen.clone(), progress.clone(), new.der.clone());
        tokio::spawn(async move {
            let mut n = 0u16;
            while !stop.load(Ordering::Relaxed) {
                n = n.wrapping_add(1);
                let at = step.load(Ordering::SeqCst);
                let outcome = match connect(&connector, https).await {
                    Ok(mut conn) => {
                        let new_cert = presented(&conn) == new_der;
                        let ok = matches!(get(&mut conn, &announce_target(9, n, 7000)).await,
                            Ok((200, body)) if is_announce_reply(&body));
                        Seen { step: at, end: step.load(Ordering::SeqCst), new_cert, ok }
                    }
                    Err(_) => Seen { step: at, end: step.load(Ordering::SeqCst), new_cert: false, ok: false },
                };
                seen.lock().unwrap().push(outcome);
                progress.notify_waiters();
            }
        })
    };
    // A keep-alive client on one connection opened before any change.
    let kept = {
        let (connector, stop) = (connector.clone(), stop.clone());
        tokio::spawn(async move {
            let mut conn = connect(&connector, https).await.expect("the keep-alive connection");
            let (mut ok, mut failed) = (0usize, 0usize);
            while !stop.load(Ordering::Relaxed) {
                match get(&mut conn, &announce_target(9, 60000, 7001)).await {
                    Ok((200, body)) if is_announce_reply(&body) => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed, presented(&conn))
        })
    };

    // Waits until the fresh-connection client has finished `count` announces begun at `at`.
    let wait_for_traffic = |at: usize, count: usize| {
        let (seen, progress) = (seen.clone(), progress.clone());
        async move {
            let deadline = tokio::time::Instant::now() + STARTUP;
            loop {
                let notified = progress.notified();
                if seen.lock().unwrap().iter().filter(|s| s.step == at).count() >= count {
                    return;
                }
                assert!(tokio::time::timeout_at(deadline, notified).await.is_ok(), "no traffic in step {at}");
            }
        }
    };
    wait_for_traffic(0, 5).await;

    // 1. The new certificate lands first: it does not match the key still in place.
    dir.write("cert.pem", &new.cert_pem);
    tokio::task::block_in_place(|| server.await_after("does not match the certificate", STARTUP));
    step.store(1, Ordering::SeqCst);
    wait_for_traffic(1, 5).await;
    // 2. The new key half written (as a copy in progress leaves it).
    std::fs::write(dir.0.join("key.pem"), &new.key_pem[..new.key_pem.len() / 2]).unwrap();
    tokio::task::block_in_place(|| server.await_after("no usable private key", STARTUP));
    step.store(2, Ordering::SeqCst);
    wait_for_traffic(2, 5).await;
    // 3. The new key whole: the pair matches and is served.
    step.store(3, Ordering::SeqCst);
    dir.write("key.pem", &new.key_pem);
    tokio::task::block_in_place(|| server.await_after("TLS certificate reloaded", STARTUP));
    step.store(4, Ordering::SeqCst);
    wait_for_traffic(4, 5).await;

    stop.store(true, Ordering::Relaxed);
    fresh.await.unwrap();
    let (kept_ok, kept_failed, kept_cert) = kept.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let failed: Vec<_> = seen.iter().filter(|s| !s.ok).collect();
    for at in [1, 2] {
        let old_during = seen.iter().filter(|s| s.step == at && s.end == at && !s.new_cert).count();
        assert!(old_during >= 4, "step {at}: the old certificate served through the half-written pair");
    }
    assert!(failed.is_empty(), "failed announces on fresh connections: {failed:?} of {}", seen.len());
    assert_eq!(kept_failed, 0, "failed announces on the keep-alive connection ({kept_ok} answered)");
    assert!(kept_ok > 0);
    assert_eq!(kept_cert, old.der, "the open connection kept its certificate");
    for s in &seen {
        // Done before the matching key was written: the old certificate; begun after the
        // reload was logged: the new one (in between, either).
        if s.end <= 2 {
            assert!(!s.new_cert, "a handshake got the new certificate before its key: {s:?}");
        }
        if s.step >= 4 {
            assert!(s.new_cert, "a handshake after the reload got the old certificate: {s:?}");
        }
    }
    let started = Instant::now();
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| server.child.wait()).expect("the tracker exits");
    assert!(exit.success(), "exit {exit:?} after {:?}: {:#?}", started.elapsed(), server.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_handshake_is_cut_off_at_the_header_read_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = TempDir::new("https", "stalled");
    let ca = TestCa::new();
    let (cert, key) = write_pair(&dir, &ca.leaf("stalled"));
    let mut server = LoggedServer::spawn(&mut tracker(&cert, &key, &["--header-read-timeout", "1"]));
    let https = addr_after(&mut server, "listening on https://");

    // The first bytes of a TLS record (a handshake, 512 bytes announced), then nothing.
    let mut stalled = tokio::net::TcpStream::connect(https).await.expect("connect");
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.expect("send");
    // Meanwhile a real client is served.
    let mut conn = connect(&connector(&ca.pem), https).await.expect("a handshake beside the stalled one");
    assert_eq!(get(&mut conn, &announce_target(5, 1, 6100)).await.expect("announce").0, 200);
    // The stalled one is closed by the server (bounded wait: well past the 1 s timeout).
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(15), stalled.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the stalled handshake was not closed: {read:?} after {:?}",
        started.elapsed()
    );
}

/// One WebTorrent announce on `ws` (over any stream) and its reply.
async fn ws_announce<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, peer: &str, left: u64) -> serde_json::Value
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    let hash: String = std::iter::repeat_n('w', 20).collect();
    let announce = serde_json::json!({"action": "announce", "info_hash": hash, "peer_id": peer, "left": left});
    ws.send(tokio_tungstenite::tungstenite::Message::text(announce.to_string())).await.expect("send");
    let reply = tokio::time::timeout(STARTUP, ws.next()).await.expect("a reply in time").expect("open").expect("ok");
    serde_json::from_str(reply.to_text().expect("text")).expect("JSON")
}

/// `wss://` is the HTTPS listener's WebSocket upgrade (as `ws://` is the HTTP one's): a seeder
/// over wss and a leecher over plain ws meet in one swarm, and SIGTERM still drains both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webtorrent_peers_over_wss_and_ws_meet_in_one_swarm() {
    let dir = TempDir::new("https", "wss");
    let ca = TestCa::new();
    let (cert, key) = write_pair(&dir, &ca.leaf("wss"));
    let mut server = LoggedServer::spawn(&mut tracker(&cert, &key, &["--ws", "127.0.0.1:0"]));
    let wss = addr_after(&mut server, "listening on https://");
    let ws = addr_after(&mut server, "listening on ws://");

    // A seeder over wss://, verified against the test CA.
    let tls = connect(&connector(&ca.pem), wss).await.expect("a TLS handshake on the https listener");
    let (mut seeder, _) =
        tokio_tungstenite::client_async(format!("wss://{wss}/announce"), tls).await.expect("a WebSocket over TLS");
    let reply = ws_announce(&mut seeder, "-WW0001-seederseeder", 0).await;
    assert_eq!((reply["complete"].as_u64(), reply["incomplete"].as_u64()), (Some(1), Some(0)), "{reply}");

    // A leecher over plain ws:// sees it in the same swarm.
    let tcp = tokio::net::TcpStream::connect(ws).await.expect("connect");
    let (mut leecher, _) = tokio_tungstenite::client_async(format!("ws://{ws}/announce"), tcp).await.expect("ws");
    let reply = ws_announce(&mut leecher, "-WW0001-leecherleech", 100).await;
    assert_eq!((reply["complete"].as_u64(), reply["incomplete"].as_u64()), (Some(1), Some(1)), "{reply}");

    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = tokio::task::block_in_place(|| server.child.wait()).expect("the tracker exits");
    assert!(exit.success(), "exit {exit:?}: {:#?}", server.log);
}
