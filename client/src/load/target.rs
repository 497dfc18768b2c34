//! [`Target`]: the tracker a load run drives — its address, resolved once, and the announce and
//! scrape paths — and the loopback-only policy.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use http::Uri;

use super::error::LoadError;
use crate::scrape_url;

/// Where the load goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The announce URL as given.
    pub url: String,
    /// The address every connection goes to.
    pub addr: SocketAddr,
    /// The `Host` header: the URL's authority.
    pub host: String,
    /// The announce path and `?`, or its own query and `&`: parameters are appended.
    pub announce_prefix: String,
    /// The same for the BEP 48 scrape URL, when the announce URL has one.
    pub scrape_prefix: Option<String>,
}

impl Target {
    /// Parses an `http://…/announce` URL and resolves its host. Unless `allow_remote`, every
    /// address the host resolves to must be loopback (`127.0.0.0/8`, `::1`): a load test is an
    /// attack on anyone else's tracker.
    ///
    /// ```
    /// use octotracker_client::load::Target;
    /// let t = Target::resolve("http://127.0.0.1:6969/announce", false).unwrap();
    /// assert_eq!(t.addr.to_string(), "127.0.0.1:6969");
    /// assert_eq!(t.scrape_prefix.as_deref(), Some("/scrape?"));
    /// assert!(Target::resolve("http://192.0.2.1/announce", false).is_err());
    /// ```
    pub fn resolve(url: &str, allow_remote: bool) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::Url { url: url.to_owned(), why: why.to_owned() };
        let uri: Uri = url.parse().map_err(|_| bad("not a valid url"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("udp") => return Err(bad("udp:// trackers are not supported by the load generator yet; use http://")),
            Some("https") => return Err(bad("https is not supported by the load generator; use http://")),
            _ => return Err(bad("expected an http:// announce url")),
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
            addr,
            host: authority.as_str().to_owned(),
            announce_prefix: prefix_of(path_and_query),
            scrape_prefix,
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
    fn only_http_announce_urls_are_loaded() {
        for (url, why) in [
            ("udp://127.0.0.1:6969/announce", "udp:// trackers are not supported"),
            ("https://127.0.0.1/announce", "https is not supported"),
            ("ftp://127.0.0.1/announce", "expected an http://"),
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
