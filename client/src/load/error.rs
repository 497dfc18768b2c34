//! [`LoadError`]: why a load run could not start.

/// Why a load run could not start. Everything but [`LoadError::Runtime`] is the operator's
/// input ([`LoadError::is_usage`]).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A setting is out of range.
    #[error("invalid load settings: {0}")]
    Config(String),
    /// The URL cannot be loaded (wrong scheme, no host, not an announce URL).
    #[error("invalid tracker url {url:?}: {why}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// The host does not resolve.
    #[error("cannot resolve {host:?}: {why}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's error.
        why: String,
    },
    /// The target is not on this machine and remote targets were not allowed.
    #[error(
        "refusing to load {host:?} ({addr}): not a loopback address; a load test may only target a tracker you \
         operate, pass --allow-remote to confirm"
    )]
    Remote {
        /// The host as written.
        host: String,
        /// The first non-loopback address it resolved to.
        addr: std::net::IpAddr,
    },
    /// Threads or the async runtime could not be started.
    #[error("cannot run the load generator: {0}")]
    Runtime(String),
}

impl LoadError {
    /// Whether the operator's input is at fault (a command-line tool exits 2).
    pub fn is_usage(&self) -> bool {
        !matches!(self, LoadError::Runtime(_))
    }
}
