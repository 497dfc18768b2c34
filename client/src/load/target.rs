//! [`Target`]: the tracker a load run drives — its address, resolved once, and the announce and
//! scrape paths — and the loopback-only policy.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use http::Uri;
use octotracker_core::udp_wire::MAX_URL_DATA;

use super::error::LoadError;
use crate::scrape_url;

/// The protocol a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`: announces and scrapes as GET requests on keep-alive HTTP/1.1 connections.
    Http,
    /// `udp://`: BEP 15 packets, one socket and connection id per worker.
    Udp,
}

/// Where the load goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The announce URL as given.
    pub url: String,
    /// HTTP or UDP.
    pub scheme: Scheme,
    /// The address every connection goes to.
    pub addr: SocketAddr,
    /// The `Host` header: the URL's authority.
    pub host: String,
    /// HTTP: the announce path and `?`, or its own query and `&`: parameters are appended.
    /// UDP: the URL's path and query as given (`/announce`, `/<passkey>/announce`), sent as
    /// BEP 41 URL data with every announce; empty when the URL has none.
    pub announce_prefix: String,
    /// HTTP: the same for the BEP 48 scrape URL, when the announce URL has one. UDP: always
    /// `Some("")` (a UDP tracker scrapes on the same socket; scrape packets carry no URL data).
    pub scrape_prefix: Option<String>,
}

impl Target {
    /// Parses an `http://…/announce` or `udp://HOST:PORT[/path]` URL and resolves its host. Unless `allow_remote`, every
    /// address the host resolves to must be loopback (`127.0.0.0/8`, `::1`): a load test is an
    /// attack on anyone else's tracker.
    ///
    /// ```
    /// use octotracker_client::load::Target;
    /// let t = Target::resolve("http://127.0.0.1:6969/announce", false).unwrap();
    /// assert_eq!(t.addr.to_string(), "127.0.0.1:6969");
    /// assert_eq!(t.scrape_prefix.as_deref(), Some("/scrape?"));
    /// assert!(Target::resolve("http://192.0.2.1/announce", false).is_err());
    /// let u = Target::resolve("udp://127.0.0.1:6969/announce", false).unwrap();
    /// assert_eq!(u.announce_prefix, "/announce");
    /// assert!(Target::resolve("udp://192.0.2.1:6969", false).is_err());
    /// ```
    pub fn resolve(url: &str, allow_remote: bool) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::Url { url: url.to_owned(), why: why.to_owned() };
        let uri: Uri = url.parse().map_err(|_| bad("not a valid url"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("udp") => return Self::resolve_udp(url, &uri, allow_remote),
            Some("https") => return Err(bad("https is not supported by the load generator; use http:// or udp://")),
            _ => return Err(bad("expected an http:// or udp:// announce url")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(80);
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let scrape_prefix = scrape_url(url)
            .and_then(|s| s.parse::<Uri>().ok())
            .and_then(|u| u.path_and_query().map(|pq| prefix_of(pq.as_str())));
        let addr = resolve_host(host, port, allow_remote)?;
        Ok(Target {
            url: url.to_owned(),
            scheme: Scheme::Http,
            addr,
            host: authority.as_str().to_owned(),
            announce_prefix: prefix_of(path_and_query),
            scrape_prefix,
        })
    }
}

impl Target {
    /// `udp://HOST:PORT[/path?query]`: the port is required; the path and query become URL data.
    fn resolve_udp(url: &str, uri: &Uri, allow_remote: bool) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::Url { url: url.to_owned(), why: why.to_owned() };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let port = authority.port_u16().ok_or_else(|| bad("a udp:// url needs a port (udp://HOST:PORT/announce)"))?;
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        // What follows the authority as written (the parsed URI would turn "" into "/").
        let rest = url.get("udp://".len()..).unwrap_or("");
        let url_data = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
        if url_data.len() > MAX_URL_DATA {
            return Err(bad("the path and query are longer than a UDP announce carries (1024 bytes)"));
        }
        let addr = resolve_host(host, port, allow_remote)?;
        Ok(Target {
            url: url.to_owned(),
            scheme: Scheme::Udp,
            addr,
            host: authority.as_str().to_owned(),
            announce_prefix: url_data.to_owned(),
            scrape_prefix: Some(String::new()),
        })
    }
}

/// Whether an address is on this machine: `127.0.0.0/8`, `::1`, or an IPv4-mapped loopback.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// `/announce` → `/announce?`; `/announce?key=1` → `/announce?key=1&`.
fn prefix_of(path_and_query: &str) -> String {
    match path_and_query.split_once('?') {
        Some((_, "")) => path_and_query.to_owned(),
        Some(_) => format!("{path_and_query}&"),
        None => format!("{path_and_query}?"),
    }
}

/// Resolves `host` (an address, or a name such as `localhost`), preferring IPv4.
fn resolve_host(host: &str, port: u16, allow_remote: bool) -> Result<SocketAddr, LoadError> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| LoadError::Resolve { host: host.to_owned(), why: e.to_string() })?
            .collect(),
    };
    if !allow_remote && let Some(remote) = addrs.iter().find(|a| !is_loopback(a.ip())) {
        return Err(LoadError::Remote { host: host.to_owned(), addr: remote.ip() });
    }
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| LoadError::Resolve { host: host.to_owned(), why: "no address".to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        for (url, addr) in [
            ("http://127.0.0.1:6969/announce", "127.0.0.1:6969"),
            ("http://127.8.9.10/announce", "127.8.9.10:80"),
            ("http://[::1]:7000/announce", "[::1]:7000"),
            ("http://[::ffff:127.0.0.1]:7000/announce", "[::ffff:127.0.0.1]:7000"),
        ] {
            assert_eq!(Target::resolve(url, false).unwrap().addr.to_string(), addr, "{url}");
        }
        let local = Target::resolve("http://localhost:6969/announce", false).unwrap();
        assert!(is_loopback(local.addr.ip()));
        assert_eq!(local.host, "localhost:6969");
    }

    #[test]
    fn other_targets_are_refused_unless_allowed() {
        for url in ["http://192.0.2.1:6969/announce", "http://[2001:db8::1]/announce", "http://0.0.0.0/announce"] {
            let err = Target::resolve(url, false).unwrap_err();
            assert!(matches!(err, LoadError::Remote { .. }), "{url}: {err}");
            assert!(err.is_usage());
            assert!(err.to_string().contains("--allow-remote"), "{err}");
            assert!(Target::resolve(url, true).is_ok(), "{url} with --allow-remote");
        }
    }

    #[test]
    fn udp_targets() {
        for (url, addr, data) in [
            ("udp://127.0.0.1:6969/announce", "127.0.0.1:6969", "/announce"),
            ("udp://127.0.0.1:6969", "127.0.0.1:6969", ""),
            ("udp://[::1]:7000/abc/announce?x=1", "[::1]:7000", "/abc/announce?x=1"),
            ("udp://localhost:6969/announce", "127.0.0.1:6969", "/announce"),
        ] {
            let t = Target::resolve(url, false).unwrap();
            assert_eq!(t.scheme, Scheme::Udp, "{url}");
            assert_eq!(t.addr.to_string(), addr, "{url}");
            assert_eq!(t.announce_prefix, data, "{url}");
            assert_eq!(t.scrape_prefix.as_deref(), Some(""), "{url}");
        }
        for url in ["udp://192.0.2.1:6969/announce", "udp://[2001:db8::1]:6969"] {
            let err = Target::resolve(url, false).unwrap_err();
            assert!(matches!(err, LoadError::Remote { .. }), "{url}: {err}");
            assert!(Target::resolve(url, true).is_ok(), "{url} with --allow-remote");
        }
        let err = Target::resolve("udp://127.0.0.1/announce", false).unwrap_err();
        assert!(err.to_string().contains("needs a port"), "{err}");
    }

    #[test]
    fn only_http_and_udp_announce_urls_are_loaded() {
        for (url, why) in [
            ("https://127.0.0.1/announce", "https is not supported"),
            ("ftp://127.0.0.1/announce", "expected an http:// or udp://"),
            ("127.0.0.1:6969/announce", "not a valid url"),
            ("not a url", "not a valid url"),
        ] {
            let err = Target::resolve(url, false).unwrap_err();
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn paths_and_queries_become_prefixes() {
        let t = Target::resolve("http://127.0.0.1/x/announce.php?passkey=ab", false).unwrap();
        assert_eq!(t.announce_prefix, "/x/announce.php?passkey=ab&");
        assert_eq!(t.scrape_prefix.as_deref(), Some("/x/scrape.php?passkey=ab&"));
        let t = Target::resolve("http://127.0.0.1/tracker", false).unwrap();
        assert_eq!(t.announce_prefix, "/tracker?");
        assert_eq!(t.scrape_prefix, None);
    }
}
