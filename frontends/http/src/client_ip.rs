//! Which address a request comes from: the connection's, or, behind a trusted reverse proxy,
//! the one the proxy reports in `X-Forwarded-For` / `X-Real-IP`.
//!
//! Decided once per request, here, into a [`Client`] that every later step uses: the rate limit
//! (the standalone server's and [`RateLimitLayer`](crate::RateLimitLayer)'s), the one-shot path
//! and [`TrackerService`](crate::TrackerService). Where the connection's address comes from:
//! - the standalone server hands it over directly ([`Client::of_connection`], and for the
//!   one-shot path, which reads no headers, [`Client::without_headers`]);
//! - an embedding app's requests carry it in their extensions ([`Client::of_request`]):
//!   [`RemoteAddr`] (a hyper accept loop inserts it), or, with the `axum` feature, axum's
//!   `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info::<SocketAddr>()`). A
//!   [`RateLimitLayer`](crate::RateLimitLayer) in front of the service leaves the [`Client`] it
//!   decided in the extensions, and the service uses that one.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use http::HeaderMap;
use octotracker_core::normalize_ip;

/// The address of the connection a request arrived on, in the request's extensions: an
/// embedding app's own accept loop inserts it (see `examples/hyper_embed.rs`). With the `axum`
/// feature, axum's `ConnectInfo<SocketAddr>` is read as well. (The standalone server hands the
/// address to the service directly; its requests carry no extension.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// The client of one request, decided once (see the module docs): the connection's address, and
/// the client's address under the trusted-proxy rules, or why it is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    /// The connection's address, when the server or the app provided it.
    remote: Option<IpAddr>,
    /// The client's address: the connection's, or the one a trusted proxy vouches for.
    ip: Result<IpAddr, ClientIpError>,
}

impl Client {
    /// The client of a request from `remote` with `headers` (the standalone server's hyper path).
    pub(crate) fn of_connection(remote: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Client {
        Client { remote: Some(normalize_ip(remote.ip())), ip: client_ip(remote.ip(), headers, trusted) }
    }

    /// The client of a request from `remote` whose headers are not read (the one-shot path):
    /// the connection's address, or `None` when the connection is a trusted proxy (whose
    /// headers name the client, so its requests must go where headers are read).
    pub(crate) fn without_headers(remote: SocketAddr, trusted: &[IpNet]) -> Option<Client> {
        let ip = normalize_ip(remote.ip());
        if trusted.iter().any(|net| net.contains(ip)) {
            return None;
        }
        Some(Client { remote: Some(ip), ip: Ok(ip) })
    }

    /// The client of a request that came through an embedding app: the [`Client`] a
    /// [`RateLimitLayer`](crate::RateLimitLayer) already decided, else from the connection's
    /// address in the extensions ([`RemoteAddr`], or axum's `ConnectInfo<SocketAddr>`).
    pub(crate) fn of_request(extensions: &http::Extensions, headers: &HeaderMap, trusted: &[IpNet]) -> Client {
        if let Some(decided) = extensions.get::<Client>() {
            return *decided;
        }
        match remote_addr(extensions) {
            Some(remote) => Client::of_connection(remote, headers, trusted),
            None => Client { remote: None, ip: Err(ClientIpError::NoRemoteAddr) },
        }
    }

    /// The client's address, or why it is unknown (an announce is refused with that reason).
    pub(crate) fn ip(&self) -> Result<IpAddr, ClientIpError> {
        self.ip
    }

    /// The address the rate limit counts the request against: the client's, else (a trusted
    /// proxy that named no client) the connection's; `None` when no address is known at all.
    pub(crate) fn rate_limited_as(&self) -> Option<IpAddr> {
        self.ip.ok().or(self.remote)
    }
}

/// The connection's address in a request's extensions: our [`RemoteAddr`], else (with the
/// `axum` feature) axum's `ConnectInfo<SocketAddr>`. Every frontend built on `http` requests
/// (this crate's, the WebSocket tracker's upgrade) reads it here.
pub fn remote_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    if let Some(RemoteAddr(addr)) = extensions.get::<RemoteAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(*addr);
    }
    None
}

/// An IP network in CIDR form (`10.0.0.0/8`, `::1/128`); a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// A string that is not an address or network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {0:?}: expected an IP address or ADDRESS/PREFIX")]
pub struct IpNetParseError(String);

impl IpNet {
    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, normalize_ip(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[full] & mask == b[full] & mask
    }
}

impl FromStr for IpNet {
    type Err = IpNetParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IpNetParseError(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = normalize_ip(addr.trim().parse::<IpAddr>().map_err(|_| err())?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(err)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why the client's address could not be determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientIpError {
    /// The request carries no [`RemoteAddr`] (nor, with the `axum` feature, axum's
    /// `ConnectInfo<SocketAddr>`): the embedding app did not provide the address.
    #[error("client address unknown: the server did not provide the connection's address")]
    NoRemoteAddr,
    /// A trusted proxy sent no usable `X-Forwarded-For` or `X-Real-IP`.
    #[error("client address unknown: the proxy sent no valid X-Forwarded-For or X-Real-IP")]
    NoForwardedAddr,
}

/// Determines the client's address. Headers are believed only when the connection comes from a
/// trusted proxy: then the client is the rightmost `X-Forwarded-For` entry that is not itself a
/// trusted proxy (entries further left can be forged by the client), else `X-Real-IP`.
pub fn client_ip(remote: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Result<IpAddr, ClientIpError> {
    let remote = normalize_ip(remote);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(remote) {
        return Ok(remote);
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return Err(ClientIpError::NoForwardedAddr) };
        for entry in text.split(',') {
            hops.push(parse_hop(entry).ok_or(ClientIpError::NoForwardedAddr)?);
        }
    }
    if let Some(&leftmost) = hops.first() {
        return Ok(hops.iter().rev().copied().find(|ip| !is_trusted(*ip)).unwrap_or(leftmost));
    }
    headers.get("x-real-ip").and_then(|v| v.to_str().ok()).and_then(parse_hop).ok_or(ClientIpError::NoForwardedAddr)
}

/// One hop: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip())).ok().map(normalize_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn networks_parse_and_match() {
        let net: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let odd: IpNet = "192.168.0.128/25".parse().unwrap();
        assert!(odd.contains("192.168.0.200".parse().unwrap()));
        assert!(!odd.contains("192.168.0.100".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nonsense".parse::<IpNet>().is_err());
        assert_eq!("::1".parse::<IpNet>().unwrap().to_string(), "::1/128");
    }

    #[test]
    fn headers_from_untrusted_connections_are_ignored() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-real-ip", "2.2.2.2")]);
        let ip = client_ip("9.9.9.9".parse().unwrap(), &h, &nets(&["127.0.0.1"])).unwrap();
        assert_eq!(ip.to_string(), "9.9.9.9");
    }

    #[test]
    fn trusted_proxy_yields_rightmost_untrusted_hop() {
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.1.1.1"), ("x-forwarded-for", "10.0.0.2")]);
        let ip = client_ip("127.0.0.1".parse().unwrap(), &h, &nets(&["127.0.0.1", "10.0.0.0/8"])).unwrap();
        assert_eq!(ip.to_string(), "1.1.1.1");
    }

    #[test]
    fn trusted_proxy_falls_back_to_x_real_ip_then_fails() {
        let trusted = nets(&["127.0.0.1"]);
        let h = headers(&[("x-real-ip", "[2001:db8::1]:80")]);
        assert_eq!(client_ip("127.0.0.1".parse().unwrap(), &h, &trusted).unwrap().to_string(), "2001:db8::1");
        let none = HeaderMap::new();
        assert_eq!(client_ip("127.0.0.1".parse().unwrap(), &none, &trusted), Err(ClientIpError::NoForwardedAddr));
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_ip("127.0.0.1".parse().unwrap(), &garbage, &trusted), Err(ClientIpError::NoForwardedAddr));
    }
}
