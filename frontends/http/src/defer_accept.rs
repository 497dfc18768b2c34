//! `TCP_DEFER_ACCEPT` on the listener: the kernel hands a connection to `accept` once its first
//! data has arrived, not at the end of the handshake. A BitTorrent client always speaks first,
//! so a connection per announce is then accepted with its request already in: it is read,
//! answered and closed in one go ([`one_shot`](crate::one_shot)), with no readiness wait, no
//! task and no wake-up in between. Connections that send nothing stay in the kernel (they take
//! no slot and no descriptor) until the given number of seconds has passed; Linux then accepts
//! them as usual, and the header-read timeout applies.
//!
//! The measure behind it (`benches/conn_counts.sh octotracker cpu close`, alternating with
//! opentracker, see docs/benchmarks.md): server CPU per request with a connection per request
//! went from 20.3–21.3 µs to 14.5–19.0 µs, where opentracker used 18.5–19.8 µs.
//!
//! Neither std (its `set_deferaccept` is unstable), socket2, nix nor rustix has a safe call for
//! this option, so this module holds the crate's only `unsafe` block: one `setsockopt(2)`.

use std::io;

/// Sets `TCP_DEFER_ACCEPT` to `seconds` on `listener` (Linux; elsewhere nothing happens).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub(crate) fn set(listener: &impl std::os::fd::AsFd, seconds: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = listener.as_fd();
    let value = libc::c_int::try_from(seconds).unwrap_or(libc::c_int::MAX);
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4);
    // SAFETY: `fd` is borrowed from an open socket for the whole call; the option value is a
    // `c_int` on this stack frame, and `len` is its size, so the kernel reads only that int.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            std::ptr::from_ref(&value).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Sets `TCP_DEFER_ACCEPT` to `seconds` on `listener` (Linux; elsewhere nothing happens).
#[cfg(not(target_os = "linux"))]
pub(crate) fn set(_listener: &impl std::os::fd::AsFd, _seconds: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The option reads back (Linux rounds the seconds to its SYN-ACK retransmission steps).
    #[test]
    fn the_listener_reads_the_option_back() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        super::set(&listener, 10).unwrap();
        let value = read_back(&listener);
        assert!(value >= 10, "TCP_DEFER_ACCEPT reads back as {value}");
        super::set(&listener, 0).unwrap();
        assert_eq!(read_back(&listener), 0);
    }

    #[allow(unsafe_code)]
    fn read_back(listener: &std::net::TcpListener) -> libc::c_int {
        use std::os::fd::AsRawFd;
        let mut value: libc::c_int = -1;
        let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap();
        // SAFETY: an open socket, and an int with its size for the kernel to write.
        let rc = unsafe {
            libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                std::ptr::from_mut(&mut value).cast::<libc::c_void>(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "getsockopt: {}", std::io::Error::last_os_error());
        value
    }
}
