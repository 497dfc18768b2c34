//! Binding the UDP sockets: IPv6 sockets IPv6-only (so `0.0.0.0:P` and `[::]:P` can both be
//! served), an optional larger receive buffer, and `SO_REUSEPORT` when each worker gets a
//! socket of its own ([`UdpConfig::reuse_port`]).

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

use crate::UdpConfig;

/// Binds a non-blocking UDP socket at `addr` as `config` asks (see the module docs).
///
/// ```
/// let config = octotracker_udp::UdpConfig { recv_buffer: Some(1 << 20), ..Default::default() };
/// let socket = octotracker_udp::bind_socket("127.0.0.1:0".parse().unwrap(), &config).unwrap();
/// assert!(socket.local_addr().unwrap().port() > 0);
/// ```
pub fn bind_socket(addr: SocketAddr, config: &UdpConfig) -> std::io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if config.reuse_port {
        socket.set_reuse_port(true)?;
    }
    if let Some(bytes) = config.recv_buffer {
        // The kernel doubles the value and caps it at net.core.rmem_max.
        socket.set_recv_buffer_size(bytes)?;
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The receive buffer the kernel gave `socket`, in bytes.
pub(crate) fn recv_buffer_size(socket: &tokio::net::UdpSocket) -> Option<usize> {
    socket2::SockRef::from(socket).recv_buffer_size().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receive_buffer_is_asked_for_and_reuse_port_lets_a_second_socket_join() {
        let config = UdpConfig { recv_buffer: Some(64 * 1024), reuse_port: true, ..UdpConfig::default() };
        let first = bind_socket("127.0.0.1:0".parse().unwrap(), &config).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
        let _guard = rt.enter();
        let first = tokio::net::UdpSocket::from_std(first).unwrap();
        let got = recv_buffer_size(&first).unwrap();
        assert!(got >= 64 * 1024, "the kernel gave {got} bytes (it doubles what is asked, up to rmem_max)");
        let addr = first.local_addr().unwrap();
        assert!(bind_socket(addr, &config).is_ok(), "a second SO_REUSEPORT socket binds the same address");
        let plain = UdpConfig::default();
        assert!(bind_socket(addr, &plain).is_err(), "a socket without SO_REUSEPORT cannot join");
    }
}
