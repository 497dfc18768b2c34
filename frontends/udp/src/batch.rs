//! Batched datagram I/O: up to [`BATCH`] datagrams per `recvmmsg(2)` and per `sendmmsg(2)`
//! (Linux), through `nix`'s safe wrappers, into buffers allocated once per worker.
//!
//! Under load several datagrams wait in the socket's queue at once, and one system call then
//! moves them all; with a single datagram waiting it costs what `recvfrom` does. Elsewhere than
//! Linux each batch holds one datagram, moved by `recv_from`/`send_to`.
//!
//! `nix`'s header array ([`MultiHeaders`]) is not `Send`, so it cannot live in a worker's
//! future across an `.await`: each thread keeps its own in a thread local, borrowed only inside
//! the synchronous closure of one system call.

use std::io;
use std::net::SocketAddr;

use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Most datagrams moved by one system call.
pub(crate) const BATCH: usize = 32;
/// Largest datagram read; anything longer is cut (and then malformed or ignored).
pub(crate) const SLOT: usize = 2048;

/// The datagrams of one receive: up to [`BATCH`] slots of [`SLOT`] bytes, reused.
pub(crate) struct Received {
    slots: Box<[u8]>,
    /// Whether the socket is an IPv6 one (its senders' addresses are 28 bytes, not 16).
    v6: bool,
    /// Length and sender of each datagram received, in order.
    meta: Vec<(usize, SocketAddr)>,
}

impl Received {
    /// Room for `batch` (1 to [`BATCH`]) datagrams from a socket of the family of `local`.
    pub(crate) fn new(batch: usize, local: SocketAddr) -> Self {
        let batch = batch.clamp(1, BATCH);
        Received {
            slots: vec![0; batch * SLOT].into_boxed_slice(),
            v6: local.is_ipv6(),
            meta: Vec::with_capacity(batch),
        }
    }

    /// How many datagrams one receive may take.
    fn capacity(&self) -> usize {
        self.slots.len() / SLOT
    }

    /// The datagrams received, with their senders.
    pub(crate) fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.meta.iter().enumerate().map(|(i, &(len, from))| (&self.slots[i * SLOT..i * SLOT + len], from))
    }

    /// Waits for datagrams on `socket` and receives as many as are queued, up to the capacity.
    pub(crate) async fn receive(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.meta.clear();
        if self.capacity() == 1 {
            let (len, from) = socket.recv_from(&mut self.slots[..SLOT]).await?;
            self.meta.push((len, from));
            return Ok(1);
        }
        loop {
            socket.readable().await?;
            match socket
                .try_io(Interest::READABLE, || sys::recv_batch(socket, self.v6, &mut self.slots, &mut self.meta))
            {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// The replies of one batch: one reusable buffer per datagram, and where each goes.
pub(crate) struct Replies {
    buffers: Vec<Vec<u8>>,
    to: Vec<SocketAddr>,
}

impl Replies {
    /// Room for `batch` replies (1 to [`BATCH`]).
    pub(crate) fn new(batch: usize) -> Self {
        let batch = batch.clamp(1, BATCH);
        Replies { buffers: (0..batch).map(|_| Vec::with_capacity(1500)).collect(), to: Vec::with_capacity(batch) }
    }

    /// Forgets the replies of the previous batch (keeping their buffers).
    pub(crate) fn clear(&mut self) {
        self.to.clear();
    }

    /// The next empty reply buffer, for a datagram from `from`; [`Replies::commit`] keeps it.
    pub(crate) fn next(&mut self) -> &mut Vec<u8> {
        let buffer = &mut self.buffers[self.to.len()];
        buffer.clear();
        buffer
    }

    /// Keeps the buffer last handed out by [`Replies::next`] as the reply to `to`, unless it
    /// stayed empty (no reply).
    pub(crate) fn commit(&mut self, to: SocketAddr) {
        if !self.buffers[self.to.len()].is_empty() {
            self.to.push(to);
        }
    }

    /// Sends every kept reply; a reply the socket refuses is logged and dropped (UDP: the
    /// client asks again), so one bad destination does not hold back the others.
    pub(crate) async fn send(&self, socket: &UdpSocket) {
        let mut sent = 0;
        while sent < self.to.len() {
            if self.to.len() - sent == 1 || self.buffers.len() == 1 {
                if let Err(e) = socket.send_to(&self.buffers[sent], self.to[sent]).await {
                    tracing::debug!(error = %e, to = %self.to[sent], "udp send failed");
                }
                sent += 1;
                continue;
            }
            if let Err(e) = socket.writable().await {
                tracing::debug!(error = %e, "udp socket not writable");
                return;
            }
            let (buffers, to) = (&self.buffers[sent..self.to.len()], &self.to[sent..]);
            match socket.try_io(Interest::WRITABLE, || sys::send_batch(socket, buffers, to)) {
                Ok(n) => sent += n.max(1),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    // The first datagram failed (a later failure only shortens the count).
                    tracing::debug!(error = %e, to = %self.to[sent], "udp send failed");
                    sent += 1;
                }
            }
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod sys {
    //! `recvmmsg`/`sendmmsg` through `nix`.

    use std::cell::RefCell;
    use std::io::{self, IoSlice, IoSliceMut};
    use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
    use std::os::fd::AsRawFd;

    use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg};
    use tokio::net::UdpSocket;

    use super::{BATCH, SLOT};

    thread_local! {
        /// This thread's headers for receiving on IPv4 sockets and on IPv6 sockets, and for
        /// sending. `recvmmsg` leaves in each header the length of the address it received, and
        /// `nix` reuses that length as the room for the next address: a header that last held
        /// an IPv4 address (16 bytes) would cut an IPv6 one (28) short. A socket of one family
        /// always receives addresses of one length, so one set per family keeps them whole.
        static RECV_V4: RefCell<MultiHeaders<SockaddrStorage>> = RefCell::new(MultiHeaders::preallocate(BATCH, None));
        static RECV_V6: RefCell<MultiHeaders<SockaddrStorage>> = RefCell::new(MultiHeaders::preallocate(BATCH, None));
        static SEND: RefCell<MultiHeaders<SockaddrStorage>> = RefCell::new(MultiHeaders::preallocate(BATCH, None));
    }

    /// One non-blocking `recvmmsg` into `slots`; appends each datagram's length and sender.
    pub(super) fn recv_batch(
        socket: &UdpSocket,
        v6: bool,
        slots: &mut [u8],
        meta: &mut Vec<(usize, SocketAddr)>,
    ) -> io::Result<usize> {
        let headers = if v6 { &RECV_V6 } else { &RECV_V4 };
        headers.with_borrow_mut(|headers| {
            let mut chunks = slots.chunks_exact_mut(SLOT);
            let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] =
                std::array::from_fn(|_| [IoSliceMut::new(chunks.next().unwrap_or_default())]);
            let count = (slots_len(&iovs)).min(BATCH);
            let results =
                recvmmsg(socket.as_raw_fd(), headers, iovs[..count].iter_mut(), MsgFlags::MSG_DONTWAIT, None)?;
            for msg in results {
                // A datagram without a usable sender address cannot be answered: give it an
                // unspecified one, which the worker drops (it never sends to port 0).
                let from = msg.address.and_then(|a| std_addr(&a)).unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
                meta.push((msg.bytes.min(SLOT), from));
            }
            Ok(meta.len())
        })
    }

    /// How many of the receive slots are backed by buffer space.
    fn slots_len(iovs: &[[IoSliceMut<'_>; 1]; BATCH]) -> usize {
        iovs.iter().take_while(|iov| !iov[0].is_empty()).count()
    }

    /// One non-blocking `sendmmsg` of `buffers[i]` to `to[i]`; returns how many were sent.
    pub(super) fn send_batch(socket: &UdpSocket, buffers: &[Vec<u8>], to: &[SocketAddr]) -> io::Result<usize> {
        SEND.with_borrow_mut(|headers| {
            let count = buffers.len().min(to.len()).min(BATCH);
            let iovs: [[IoSlice<'_>; 1]; BATCH] =
                std::array::from_fn(|i| [IoSlice::new(buffers.get(i).filter(|_| i < count).map_or(&[], |b| b))]);
            let addrs: [Option<SockaddrStorage>; BATCH] =
                std::array::from_fn(|i| to.get(i).filter(|_| i < count).map(|a| SockaddrStorage::from(*a)));
            let results = sendmmsg(
                socket.as_raw_fd(),
                headers,
                iovs[..count].iter(),
                &addrs[..count],
                [],
                MsgFlags::MSG_DONTWAIT,
            )?;
            Ok(results.count())
        })
    }

    fn std_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
        if let Some(v4) = a.as_sockaddr_in() {
            return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
        }
        a.as_sockaddr_in6().map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod sys {
    //! One datagram per system call where `recvmmsg`/`sendmmsg` are not available.

    use std::io;
    use std::net::SocketAddr;

    use tokio::net::UdpSocket;

    use super::SLOT;

    pub(super) fn recv_batch(
        socket: &UdpSocket,
        _v6: bool,
        slots: &mut [u8],
        meta: &mut Vec<(usize, SocketAddr)>,
    ) -> io::Result<usize> {
        let (len, from) = socket.try_recv_from(&mut slots[..SLOT])?;
        meta.push((len, from));
        Ok(1)
    }

    pub(super) fn send_batch(socket: &UdpSocket, buffers: &[Vec<u8>], to: &[SocketAddr]) -> io::Result<usize> {
        socket.try_send_to(&buffers[0], to[0])?;
        Ok(1)
    }
}
