//! Settings of the HTTP frontend.

use std::time::Duration;

use crate::IpNet;

/// How the HTTP frontend serves. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}
