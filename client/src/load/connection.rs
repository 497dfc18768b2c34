//! [`Connection`]: one worker's HTTP/1.1 connection, made with hyper's low-level
//! `client::conn::http1` (no pool, no per-request connector lookups), reopened when the server
//! closes it; or, in connection-per-request mode, a fresh connection for every request.
//!
//! hyper's connection future (which does the I/O) is not spawned: the worker polls it alongside
//! each exchange ([`drive`]), so a request costs no wake-up of another task. Between exchanges
//! nothing polls it; a close by the server is noticed at the next request, which then reconnects.

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::{Pin, pin};

use bytes::Bytes;
use http::header::{CONNECTION, HOST};
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Largest reply body read; a longer one is malformed for a tracker.
const MAX_BODY: usize = 1 << 20;

/// How an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExchangeError {
    /// TCP connect or the HTTP/1.1 handshake failed.
    Connect,
    /// The request or reply broke on an open connection.
    Io,
    /// The reply body exceeds [`MAX_BODY`].
    TooLarge,
}

/// hyper's half of a connection: the future that reads and writes the socket.
type Io = Pin<Box<http1::Connection<TokioIo<TcpStream>, Empty<Bytes>>>>;

/// One HTTP/1.1 connection to the target (or none yet).
pub(super) struct Connection {
    addr: SocketAddr,
    host: HeaderValue,
    per_request: bool,
    sender: Option<SendRequest<Empty<Bytes>>>,
    io: Option<Io>,
    /// TCP connections opened so far.
    pub opened: u64,
}

impl Connection {
    /// Not connected yet: the first request connects. `host` must be a valid header value.
    pub(super) fn new(addr: SocketAddr, host: &str, per_request: bool) -> Option<Self> {
        let host = HeaderValue::from_str(host).ok()?;
        Some(Connection { addr, host, per_request, sender: None, io: None, opened: 0 })
    }

    /// Forgets the connection (after a timeout its state is unknown); the next request reconnects.
    pub(super) fn reset(&mut self) {
        self.sender = None;
        self.io = None;
    }

    /// GETs `target` (origin form: path and query), reading the body into `body`. A keep-alive
    /// connection the server closed is replaced transparently, once.
    pub(super) async fn get(&mut self, target: Bytes, body: &mut Vec<u8>) -> Result<StatusCode, ExchangeError> {
        let uri = Uri::from_maybe_shared(target).map_err(|_| ExchangeError::Io)?;
        for _ in 0..2 {
            let fresh = match &self.sender {
                Some(s) if !s.is_closed() => false,
                _ => {
                    self.reset();
                    self.connect().await?;
                    true
                }
            };
            let (Some(sender), io) = (&mut self.sender, &mut self.io) else { return Err(ExchangeError::Io) };
            if drive(io, sender.ready()).await.is_err() {
                self.reset();
                if fresh {
                    return Err(ExchangeError::Io);
                }
                continue;
            }
            let mut req = Request::new(Empty::new());
            *req.uri_mut() = uri.clone();
            req.headers_mut().insert(HOST, self.host.clone());
            if self.per_request {
                req.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            }
            let exchange = async {
                let resp = sender.send_request(req).await?;
                let status = resp.status();
                Ok::<_, hyper::Error>((status, read_body(resp.into_body(), body).await))
            };
            match drive(io, exchange).await {
                Ok((status, read)) => {
                    if self.per_request || read.is_err() {
                        self.reset();
                    }
                    return read.map(|()| status);
                }
                // The server closed the idle connection before the request went out: retry on a
                // new one.
                Err(e) if e.is_canceled() && !fresh => self.reset(),
                Err(_) => {
                    self.reset();
                    return Err(ExchangeError::Io);
                }
            }
        }
        Err(ExchangeError::Io)
    }

    async fn connect(&mut self) -> Result<(), ExchangeError> {
        let stream = TcpStream::connect(self.addr).await.map_err(|_| ExchangeError::Connect)?;
        stream.set_nodelay(true).map_err(|_| ExchangeError::Connect)?;
        let (sender, io) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| ExchangeError::Connect)?;
        self.sender = Some(sender);
        self.io = Some(Box::pin(io));
        self.opened += 1;
        Ok(())
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("per_request", &self.per_request)
            .field("connected", &self.sender.is_some())
            .field("opened", &self.opened)
            .finish()
    }
}

/// Runs `fut` while polling the connection's I/O future, in the same task. When the I/O future
/// ends (the server closed, or an error), it is dropped, which fails what `fut` waits for.
async fn drive<F: Future>(io: &mut Option<Io>, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Some(conn) = io
            && conn.as_mut().poll(cx).is_ready()
        {
            *io = None;
        }
        fut.as_mut().poll(cx)
    })
    .await
}

async fn read_body(mut incoming: hyper::body::Incoming, body: &mut Vec<u8>) -> Result<(), ExchangeError> {
    body.clear();
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|_| ExchangeError::Io)?;
        if let Ok(data) = frame.into_data() {
            if body.len() + data.len() > MAX_BODY {
                return Err(ExchangeError::TooLarge);
            }
            body.extend_from_slice(&data);
        }
    }
    Ok(())
}
