//! Binding listeners before anything starts, so a bad or busy address stops the binary cleanly.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Binds a TCP listener. IPv6 sockets are IPv6-only, so `0.0.0.0:P` and `[::]:P` can both be
/// listed.
pub(crate) fn bind_tcp(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
