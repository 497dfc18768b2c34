//! Closing keep-alive connections that have gone quiet: an I/O wrapper that counts activity,
//! and a watchdog that ends the connection when a whole period passes without any. The wrapper
//! is the standalone server's own: over plain TCP its `poll_shutdown` leaves the closing to the
//! drop that follows; over TLS it passes the shutdown on (the TLS stream sends its
//! `close_notify` alert).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Wraps a connection's I/O and bumps a counter on every read and write that moves bytes.
/// Bytes already read from the connection (by [`one_shot`](crate::one_shot)) are read again
/// first.
#[derive(Debug)]
pub(crate) struct ActivityIo<T> {
    inner: T,
    activity: Arc<AtomicU64>,
    read_first: Option<bytes::Bytes>,
    /// Whether `poll_shutdown` shuts `inner` down (TLS) or only flushes it (plain TCP).
    pass_shutdown: bool,
}

impl<T> ActivityIo<T> {
    /// Wraps `inner`; reads return `read_first` (when given) before anything from `inner`.
    pub(crate) fn new(inner: T, read_first: Option<bytes::Bytes>) -> (Self, Arc<AtomicU64>) {
        let activity = Arc::new(AtomicU64::new(0));
        (ActivityIo { inner, activity: activity.clone(), read_first, pass_shutdown: false }, activity)
    }

    /// The same wrapper with `poll_shutdown` passed on to `inner`: a TLS stream ends with its
    /// `close_notify` alert, which some clients expect before the TCP close.
    #[cfg(feature = "tls")]
    pub(crate) fn passing_shutdown(mut self) -> Self {
        self.pass_shutdown = true;
        self
    }

    fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(first) = self.read_first.as_mut()
            && buf.remaining() > 0
        {
            let n = first.len().min(buf.remaining());
            buf.put_slice(&first.split_to(n));
            if first.is_empty() {
                self.read_first = None;
            }
            self.touch();
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() != before {
            self.touch();
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    /// Flushes and leaves the write side open: hyper shuts a connection down only when it is done
    /// with it, and the standalone server drops (closes) the connection right after, which sends
    /// the FIN behind everything written just as `shutdown(SHUT_WR)` would, one system call fewer
    /// per connection. A TLS stream (see [`passing_shutdown`](Self::passing_shutdown)) is shut
    /// down for real.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pass_shutdown {
            return Pin::new(&mut self.inner).poll_shutdown(cx);
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
}

/// Resolves once a whole `period` passes in which `activity` did not move.
pub(crate) async fn quiet_for(activity: &AtomicU64, period: Duration) {
    let mut seen = activity.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(period);
    tick.tick().await; // the first tick is immediate
    loop {
        tick.tick().await;
        let now = activity.load(Ordering::Relaxed);
        if now == seen {
            return;
        }
        seen = now;
    }
}
