//! Settings of the HTTP frontend.

use std::time::Duration;

use crate::IpNet;

/// How the HTTP frontend serves. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` are believed. Empty by default:
    /// the connection's address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// A connection must send a whole request head within this time (slow clients are cut off).
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no traffic for this long is closed (within up to twice this).
    pub idle_timeout: Duration,
    /// On shutdown, how long requests in flight may take before connections are dropped.
    pub drain_timeout: Duration,
    /// Connections served at once by the standalone server; beyond it, new connections wait in
    /// the kernel's accept queue until one closes (a flood cannot take the tracker's memory or
    /// descriptors, and the connections already held keep being answered).
    pub max_connections: usize,
    /// Per-address request limit of the standalone server (see [`RateLimit`](crate::RateLimit));
    /// `None` (the default): no limit. Refused requests are counted as the failure
    /// `rate_limited` when the tracker has an observer.
    pub rate_limit: Option<crate::RateLimit>,
    /// `TCP_DEFER_ACCEPT` on the standalone server's listener (Linux; on by default): a
    /// connection is accepted once its first bytes are in, so a connection per announce is
    /// answered in one go, and connections that send nothing stay in the kernel (for up to
    /// `header_read_timeout`) instead of taking a slot. Turn it off when something must be
    /// accepted before it sends (nothing HTTP does).
    pub defer_accept: bool,
    /// The path announces are answered at, as the service sees it: `/announce` by default. Behind
    /// a router that strips a prefix (axum's `nest_service("/tracker", …)`) keep the default;
    /// for [`TrackerLayer`](crate::TrackerLayer), which sees whole paths, give the full path
    /// (`/tracker/announce`).
    pub announce_path: String,
    /// The path scrapes are answered at: `/scrape` by default (see `announce_path`).
    pub scrape_path: String,
}

impl HttpConfig {
    /// The same settings with the tracker at `{prefix}/announce` and `{prefix}/scrape`
    /// (`prefix` without a trailing slash, e.g. `/tracker`).
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        self.announce_path = format!("{prefix}/announce");
        self.scrape_path = format!("{prefix}/scrape");
        self
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            rate_limit: None,
            defer_accept: true,
            announce_path: "/announce".to_owned(),
            scrape_path: "/scrape".to_owned(),
        }
    }
}
