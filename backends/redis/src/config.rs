//! [`RedisConfig`] and [`RedisTarget`]: where Redis is and how the backend uses it.

use std::fmt;
use std::time::Duration;

/// Which Redis to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server (or a proxy in front of several): a `redis://HOST:PORT/DB` URL.
    Standalone(String),
    /// A Redis Cluster: `redis://HOST:PORT` URLs of some of its nodes (the others are discovered).
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// Parses `redis://HOST:PORT/DB` (also `rediss://` and `unix://`) or
    /// `redis-cluster://HOST:PORT,HOST:PORT,…`; `None` for anything else.
    ///
    /// ```
    /// use octotracker_redis::RedisTarget;
    ///
    /// assert_eq!(
    ///     RedisTarget::parse("redis-cluster://10.0.0.1:7000,10.0.0.2:7000"),
    ///     Some(RedisTarget::Cluster(vec!["redis://10.0.0.1:7000".into(), "redis://10.0.0.2:7000".into()]))
    /// );
    /// assert_eq!(RedisTarget::parse("memory"), None);
    /// ```
    pub fn parse(s: &str) -> Option<RedisTarget> {
        let s = s.trim();
        if let Some(nodes) = s.strip_prefix("redis-cluster://") {
            let nodes: Vec<String> = nodes
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| if n.contains("://") { n.to_owned() } else { format!("redis://{n}") })
                .collect();
            return (!nodes.is_empty()).then_some(RedisTarget::Cluster(nodes));
        }
        ["redis://", "rediss://", "unix://"]
            .iter()
            .any(|scheme| s.starts_with(scheme))
            .then(|| RedisTarget::Standalone(s.to_owned()))
    }
}

impl fmt::Display for RedisTarget {
    /// The URL as an operator writes it (`redis://…` or `redis-cluster://HOST:PORT,…`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisTarget::Standalone(url) => f.write_str(url),
            RedisTarget::Cluster(nodes) => {
                let nodes: Vec<&str> = nodes.iter().map(|n| n.strip_prefix("redis://").unwrap_or(n)).collect();
                write!(f, "redis-cluster://{}", nodes.join(","))
            }
        }
    }
}

/// Which engine runs the swarm operations inside Redis (see `docs/clustering.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisEngine {
    /// The module when every node has it loaded, else the Lua scripts.
    #[default]
    Auto,
    /// The `octotracker` Redis module (`OCTO.*` commands, one native key per swarm): a node
    /// without it is a start-up error.
    Module,
    /// The Lua scripts (any Redis, managed services included).
    Lua,
}

impl RedisEngine {
    /// The engine's name as configured (`auto`, `module`, `lua`).
    pub fn as_str(self) -> &'static str {
        match self {
            RedisEngine::Auto => "auto",
            RedisEngine::Module => "module",
            RedisEngine::Lua => "lua",
        }
    }
}

impl fmt::Display for RedisEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RedisEngine {
    type Err = String;

    /// `auto`, `module` or `lua`.
    ///
    /// ```
    /// use octotracker_redis::RedisEngine;
    ///
    /// assert_eq!("module".parse(), Ok(RedisEngine::Module));
    /// assert!("fast".parse::<RedisEngine>().unwrap_err().contains("auto, module or lua"));
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "auto" => Ok(RedisEngine::Auto),
            "module" => Ok(RedisEngine::Module),
            "lua" => Ok(RedisEngine::Lua),
            other => Err(format!("unknown redis engine {other:?}: expected auto, module or lua")),
        }
    }
}

/// How the backend uses Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Prefix of every key, so several deployments can share one Redis: letters, digits and
    /// `_ . : / -`.
    pub prefix: String,
    /// A peer not seen for this long is expired; swarm keys live this long after the last
    /// announce (their TTL). Use the interval algorithm's peer timeout.
    pub peer_timeout: Duration,
    /// Bound on opening a TCP connection to a Redis node.
    pub connect_timeout: Duration,
    /// Bound on one operation (an announce, a scrape, one expiry batch): past it the caller gets
    /// [`StorageError::Unavailable`](octotracker_core::StorageError::Unavailable).
    pub response_timeout: Duration,
    /// Which engine to use; `Auto` picks the module when every node has it.
    pub engine: RedisEngine,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            prefix: RedisConfig::DEFAULT_PREFIX.to_owned(),
            peer_timeout: Duration::from_secs(50 * 60),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
            engine: RedisEngine::Auto,
        }
    }
}

impl RedisConfig {
    /// The key prefix unless configured.
    pub const DEFAULT_PREFIX: &'static str = "octotracker";

    /// Checks a key prefix: non-empty, made of letters, digits and `_ . : / -` (no `{`, which would
    /// move the hash tag, and no glob character, which would break `SCAN MATCH`).
    ///
    /// # Errors
    ///
    /// A message naming the prefix.
    pub fn check_prefix(prefix: &str) -> Result<(), String> {
        crate::keys::check_prefix(prefix)
    }
}
