//! One WebSocket connection: reads requests, answers them, relays offers and answers, writes
//! what other peers relay to it, and leaves its swarms when it closes.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::{FutureExt, SinkExt, StreamExt};
use octotracker_core::{AnnounceRequest, Event, RequestKind, ScrapeRequest, Tracker};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use crate::WsConfig;
use crate::message::{self, Announce, Answer, ClientMessage, Context};
use crate::peers::{Mailbox, Outbox, PeerKey, Peers};

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub tracker: Arc<Tracker>,
    pub config: WsConfig,
    pub peers: Arc<Peers>,
    /// Turns true when the frontend drains: connections send a close frame and end.
    pub draining: watch::Receiver<bool>,
    next_conn: AtomicU64,
}

impl Shared {
    pub(crate) fn new(
        tracker: Arc<Tracker>,
        config: WsConfig,
        peers: Arc<Peers>,
        draining: watch::Receiver<bool>,
    ) -> Self {
        Shared { tracker, config, peers, draining, next_conn: AtomicU64::new(1) }
    }
}

/// Why a connection ends on the tracker's side.
enum End {
    /// The peer closed, or the socket failed.
    Gone,
    /// Sent with a close frame.
    Close(CloseCode, &'static str),
}

/// A token bucket of messages, refilled by elapsed time.
struct Budget {
    tokens: f64,
    at: Instant,
}

/// Serves one upgraded connection until it ends; then the peer leaves every swarm it announced
/// in (as if it had sent `stopped`).
pub(crate) async fn serve<S>(shared: Arc<Shared>, ws: WebSocketStream<S>, client_ip: IpAddr, passkey: Option<String>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let outbox = Arc::new(Outbox::new(shared.config.outbound_queue));
    let mut c = Connection {
        shared: shared.clone(),
        conn,
        client_ip,
        passkey,
        mailbox: Mailbox { conn, outbox: outbox.clone() },
        joined: HashSet::new(),
    };
    c.run(ws, &outbox).await;
    c.leave_all().await;
}

struct Connection {
    shared: Arc<Shared>,
    conn: u64,
    client_ip: IpAddr,
    passkey: Option<String>,
    mailbox: Mailbox,
    /// The swarms (and peer ids) this connection announced in.
    joined: HashSet<PeerKey>,
}

/// What woke a connection up.
enum Step {
    /// A frame from the peer (or the end of its stream).
    Frame(Option<Result<Message, WsError>>),
    /// A message another peer relayed to this one.
    Relayed(Utf8Bytes),
    /// Time to ping a silent peer.
    Ping,
}

/// Messages written with one flush at most (then the socket is written and the loop goes on).
const BATCH: usize = 64;

impl Connection {
    async fn run<S>(&mut self, mut ws: WebSocketStream<S>, outbox: &Outbox)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let config = self.shared.config.clone();
        let mut draining = self.shared.draining.clone();
        let mut budget = Budget { tokens: f64::from(config.burst), at: Instant::now() };
        let mut last_heard = tokio::time::Instant::now();
        let mut pinged = false;
        let end = 'connection: loop {
            if *draining.borrow() {
                break End::Close(CloseCode::Away, "tracker shutting down");
            }
            let ping_at = last_heard + config.ping_after;
            let idle_at = last_heard + config.idle_timeout;
            let woke = tokio::select! {
                frame = ws.next() => Step::Frame(frame),
                () = outbox.ready() => {
                    if outbox.overflowed() {
                        break End::Close(CloseCode::Policy, "reading too slowly");
                    }
                    // Already taken by an earlier batch: nothing new.
                    let Some(out) = outbox.pop() else { continue };
                    Step::Relayed(out)
                }
                () = sleep_until(ping_at), if !pinged => Step::Ping,
                () = sleep_until(idle_at) => break End::Close(CloseCode::Away, "idle"),
                changed = draining.changed() => {
                    // The service is gone (an embedder dropped it): nobody can drain us later.
                    if changed.is_err() {
                        break End::Close(CloseCode::Away, "tracker shutting down");
                    }
                    continue;
                }
            };
            // The step that woke us, then whatever else is ready without waiting (frames that
            // came in the same read, messages relayed meanwhile): their replies go out in one
            // write instead of one write each.
            let mut step = Some(woke);
            let mut queued = 0;
            let mut yielded = false;
            while let Some(now) = step.take() {
                let out = match now {
                    Step::Frame(frame) => match self.on_frame(frame, &mut budget, &config).await {
                        Ok(reply) => {
                            last_heard = tokio::time::Instant::now();
                            pinged = false;
                            reply.map(Message::Text)
                        }
                        Err(end) => break 'connection end,
                    },
                    Step::Relayed(text) => Some(Message::Text(text)),
                    Step::Ping => {
                        pinged = true;
                        Some(Message::Ping(Default::default()))
                    }
                };
                if let Some(message) = out {
                    // Buffered; written here only when the buffer is full.
                    match timeout(config.write_timeout, ws.feed(message)).await {
                        Ok(Ok(())) => queued += 1,
                        _ => break 'connection End::Gone,
                    }
                }
                if queued < BATCH {
                    step = match outbox.pop() {
                        Some(relayed) => Some(Step::Relayed(relayed)),
                        None => ws.next().now_or_never().map(Step::Frame),
                    };
                    // Before writing: let the tasks already waiting to run go first, once (they
                    // may relay more to this peer), so that more goes out in the one write.
                    if step.is_none() && queued > 0 && !yielded {
                        yielded = true;
                        tokio::task::yield_now().await;
                        step = outbox.pop().map(Step::Relayed);
                    }
                }
            }
            if queued > 0 {
                match timeout(config.write_timeout, ws.flush()).await {
                    Ok(Ok(())) => {}
                    _ => break End::Gone,
                }
            }
        };
        if let End::Close(code, reason) = end {
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = timeout(config.write_timeout, ws.close(Some(frame))).await;
        }
    }

    /// What a frame from the peer asks for: a reply for it (if any), or the end of the
    /// connection.
    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, WsError>>,
        budget: &mut Budget,
        config: &WsConfig,
    ) -> Result<Option<Utf8Bytes>, End> {
        match frame {
            Some(Ok(Message::Text(text))) => {
                if !spend(budget, config) {
                    return Err(End::Close(CloseCode::Policy, "too many messages"));
                }
                Ok(self.handle(&text).await)
            }
            Some(Ok(Message::Binary(_))) => Err(End::Close(CloseCode::Unsupported, "text frames only")),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(None),
            Some(Err(WsError::Capacity(_))) => Err(End::Close(CloseCode::Size, "message too big")),
            Some(Err(WsError::Protocol(_) | WsError::Utf8(_))) => {
                Err(End::Close(CloseCode::Protocol, "protocol error"))
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => Err(End::Gone),
        }
    }

    /// Answers one text frame; returns the reply for this peer, if any.
    async fn handle(&mut self, text: &str) -> Option<Utf8Bytes> {
        let started = Instant::now();
        let shared = self.shared.clone();
        let tracker = &shared.tracker;
        let (kind, reply) = match message::parse(text) {
            Ok(ClientMessage::Announce(a)) => (RequestKind::Announce, Some(self.announce(a).await)),
            Ok(ClientMessage::Answer(a)) => {
                self.answer(a);
                (RequestKind::Announce, None)
            }
            Ok(ClientMessage::Scrape(hashes)) => (RequestKind::Scrape, Some(self.scrape(hashes).await)),
            Err((bad, cx)) => {
                let kind = if cx.scrape { RequestKind::Scrape } else { RequestKind::Announce };
                tracker.record_rejected(kind, bad.label());
                return Some(message::failure_reply(cx, &bad.to_string()).into());
            }
        };
        if let Some(obs) = tracker.observer() {
            obs.request("ws", kind, started.elapsed());
        }
        reply.map(Utf8Bytes::from)
    }

    async fn announce(&mut self, a: Announce<'_>) -> String {
        let key = (a.info_hash, a.peer_id);
        let cx = Context { scrape: false, info_hash: Some(a.info_hash) };
        let shared = self.shared.clone();
        let config = &shared.config;
        if a.event != Event::Stopped
            && !self.joined.contains(&key)
            && self.joined.len() >= config.max_swarms_per_connection
        {
            let reason = format!("too many swarms on one connection: at most {}", config.max_swarms_per_connection);
            return message::failure_reply(cx, &reason);
        }
        let offers = &a.offers[..a.offers.len().min(config.max_offers)];
        let req = AnnounceRequest {
            uploaded: a.uploaded,
            downloaded: a.downloaded,
            // Unknown (a magnet leecher): a leecher.
            left: a.left.unwrap_or(u64::MAX),
            event: a.event,
            numwant: Some(u32::try_from(offers.len()).unwrap_or(u32::MAX)),
            ..AnnounceRequest::new(a.info_hash, a.peer_id, 1)
        };
        let passkey = self.passkey.as_deref();
        let response = match self.shared.tracker.announce_webrtc(&req, self.client_ip, passkey).await {
            Ok(r) => r,
            Err(e) => return message::failure_reply(cx, &e.failure_reason()),
        };
        if a.event == Event::Stopped {
            self.leave(key);
        } else {
            // Every announce, not only the first: it refreshes a cluster directory entry.
            self.joined.insert(key);
            self.shared.peers.insert(key, &self.mailbox);
        }
        for (peer, offer) in response.peers6.iter().zip(offers) {
            let relayed = message::offer_message(&a.info_hash, &a.peer_id, offer);
            self.shared.peers.deliver((a.info_hash, peer.id), relayed.into());
        }
        let interval = response.interval.min(config.max_interval);
        message::announce_reply(&a.info_hash, interval, response.stats.complete, response.stats.incomplete)
    }

    /// Relays an answer to the peer that made the offer; nothing goes back to the answerer, and
    /// an answer for a peer that is not there is dropped.
    fn answer(&self, a: Answer<'_>) {
        let relayed = message::answer_message(&a);
        self.shared.peers.deliver((a.info_hash, a.to_peer_id), relayed.into());
    }

    async fn scrape(&self, info_hashes: Vec<octotracker_core::InfoHash>) -> String {
        let req = ScrapeRequest { info_hashes };
        match self.shared.tracker.scrape_via("ws", &req, self.passkey.as_deref()).await {
            Ok(r) => message::scrape_reply(&r.files),
            Err(e) => message::failure_reply(Context { scrape: true, info_hash: None }, &e.failure_reason()),
        }
    }

    fn leave(&mut self, key: PeerKey) {
        if self.joined.remove(&key) {
            self.shared.peers.remove(key, self.conn);
        }
    }

    /// The socket closed: every swarm it announced in gets a `stopped` for its peer.
    async fn leave_all(&mut self) {
        for key in std::mem::take(&mut self.joined) {
            self.shared.peers.remove(key, self.conn);
            let req = AnnounceRequest { event: Event::Stopped, ..AnnounceRequest::new(key.0, key.1, 1) };
            if let Err(e) = self.shared.tracker.announce_webrtc(&req, self.client_ip, self.passkey.as_deref()).await {
                tracing::debug!(error = %e, "stopped on close");
            }
        }
    }
}

/// Takes one message from the budget; false when it is spent.
fn spend(budget: &mut Budget, config: &WsConfig) -> bool {
    let now = Instant::now();
    let refill = now.duration_since(budget.at).as_secs_f64() * f64::from(config.rate);
    budget.tokens = (budget.tokens + refill).min(f64::from(config.burst));
    budget.at = now;
    if budget.tokens < 1.0 {
        return false;
    }
    budget.tokens -= 1.0;
    true
}
