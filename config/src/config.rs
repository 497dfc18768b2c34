//! The configuration tree: defaults, the TOML file, and the commented default file that
//! `--print-config` prints.

use serde::{Deserialize, Serialize};

/// The commented default configuration (`octotracker --print-config`).
pub const TEMPLATE: &str = include_str!("config_template.toml");

/// Everything the binary can be told. Every section has defaults; unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP frontend.
    pub http: HttpSection,
    /// Tracker policy.
    pub tracker: TrackerSection,
    /// Announce intervals and peer timeout.
    pub interval: IntervalSection,
    /// The storage backend.
    pub storage: StorageSection,
    /// Access control.
    pub access: AccessSection,
    /// The UDP frontend.
    pub udp: UdpSection,
    /// The WebSocket (WebTorrent) frontend.
    pub ws: WsSection,
    /// HTTPS listeners and their certificate.
    pub tls: TlsSection,
    /// The metrics endpoint.
    pub metrics: MetricsSection,
    /// The admin API.
    pub admin: AdminSection,
    /// Logging.
    pub log: LogSection,
}

/// `[access]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessSection {
    /// `open`, `allow` or `deny`.
    pub mode: String,
    /// Directory of `.torrent` files registered (allow mode); empty: `./torrents` if it exists.
    pub torrents: String,
    /// File of allowed info hashes (hex, one per line), or `backend` (Redis, PostgreSQL); empty:
    /// none.
    pub allow_list: String,
    /// File of denied info hashes, or `backend`; empty: none.
    pub deny_list: String,
    /// Peer id prefixes answered (empty: all).
    pub client_allow: Vec<String>,
    /// Peer id prefixes refused.
    pub client_deny: Vec<String>,
    /// File of passkeys (private tracker); empty: not private.
    pub passkeys: String,
    /// Seconds between checks of the files for changes.
    pub reload_interval: u64,
}

impl Default for AccessSection {
    fn default() -> Self {
        AccessSection {
            mode: "open".into(),
            torrents: String::new(),
            allow_list: String::new(),
            deny_list: String::new(),
            client_allow: Vec::new(),
            client_deny: Vec::new(),
            passkeys: String::new(),
            reload_interval: 2,
        }
    }
}

/// `[udp]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct UdpSection {
    /// Listen addresses.
    pub listen: Vec<String>,
    /// Receive workers per socket; 0: one per core.
    pub workers: usize,
    /// Announces and scrapes per second one address may send (0: no limit).
    pub rate_limit: u32,
    /// Requests one address may send at once above the rate (0: the rate).
    pub rate_limit_burst: u32,
    /// Datagrams moved per system call, 1 to 32; 0: the default (32).
    pub batch: usize,
    /// One socket per worker with SO_REUSEPORT instead of one shared socket.
    pub reuse_port: bool,
    /// SO_RCVBUF of the sockets in bytes; 0: the system's default.
    pub recv_buffer: usize,
}

/// `[admin]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSection {
    /// Address of the admin API; empty: off.
    pub listen: String,
    /// File holding the admin API's bearer token (required with `listen`).
    pub token_file: String,
}

/// `[ws]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsSection {
    /// Listen addresses; empty: no WebSocket tracker.
    pub listen: Vec<String>,
    /// Open WebSocket connections at most, per listener.
    pub max_connections: usize,
    /// Longest announce interval handed to WebSocket peers, seconds.
    pub max_interval: u32,
    /// Messages per second one connection may send after its burst.
    pub rate_limit: u32,
    /// Messages one connection may send at once.
    pub rate_limit_burst: u32,
}

impl Default for WsSection {
    fn default() -> Self {
        WsSection {
            listen: Vec::new(),
            max_connections: 100_000,
            max_interval: 120,
            rate_limit: 10,
            rate_limit_burst: 40,
        }
    }
}

/// `[tls]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSection {
    /// HTTPS listen addresses (the HTTP tracker over TLS); empty: none.
    pub https: Vec<String>,
    /// PEM file of the certificate chain, leaf first (required with `https`).
    pub cert: String,
    /// PEM file of the certificate's private key (required with `https`).
    pub key: String,
    /// Seconds between checks of the two files for a renewed pair.
    pub reload_interval: u64,
}

impl Default for TlsSection {
    fn default() -> Self {
        TlsSection { https: Vec::new(), cert: String::new(), key: String::new(), reload_interval: 10 }
    }
}

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// Address of the metrics endpoint (`/metrics`, `/stats`); empty: off.
    pub listen: String,
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSection {
    /// Listen addresses; empty means 0.0.0.0:6969.
    pub listen: Vec<String>,
    /// Trusted reverse proxies (addresses or CIDR).
    pub trusted_proxies: Vec<String>,
    /// Seconds.
    pub header_read_timeout: u64,
    /// Seconds.
    pub idle_timeout: u64,
    /// Seconds.
    pub drain_timeout: u64,
    /// Connections served at once per listener.
    pub max_connections: usize,
    /// `TCP_DEFER_ACCEPT` on the listeners (Linux).
    pub defer_accept: bool,
    /// Requests per second one address may send (0: no limit).
    pub rate_limit: u32,
    /// Requests one address may send at once above the rate (0: the rate).
    pub rate_limit_burst: u32,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            listen: Vec::new(),
            trusted_proxies: Vec::new(),
            header_read_timeout: 10,
            idle_timeout: 60,
            drain_timeout: 10,
            max_connections: 10_000,
            defer_accept: true,
            rate_limit: 0,
            rate_limit_burst: 0,
        }
    }
}

/// `[tracker]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerSection {
    /// See the template.
    pub numwant_default: u32,
    /// See the template.
    pub numwant_max: u32,
    /// See the template.
    pub allow_non_compact: bool,
    /// See the template.
    pub allow_scrape: bool,
    /// See the template.
    pub scrape_max_hashes: usize,
    /// See the template.
    pub allow_full_scrape: bool,
    /// See the template.
    pub full_scrape_max: usize,
    /// See the template.
    pub tracker_id: String,
    /// See the template.
    pub accept_ip_param: bool,
    /// See the template.
    pub send_external_ip: bool,
}

impl Default for TrackerSection {
    fn default() -> Self {
        let core = octotracker_core::TrackerConfig::default();
        TrackerSection {
            numwant_default: core.numwant_default,
            numwant_max: core.numwant_max,
            allow_non_compact: core.allow_non_compact,
            allow_scrape: core.allow_scrape,
            scrape_max_hashes: core.scrape_max_hashes,
            allow_full_scrape: core.allow_full_scrape,
            full_scrape_max: core.full_scrape_max,
            tracker_id: String::new(),
            accept_ip_param: core.accept_ip_param,
            send_external_ip: core.send_external_ip,
        }
    }
}

/// `[interval]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntervalSection {
    /// The algorithm spec (`static`, `swarm,…`, `load,…`); see the template.
    pub algorithm: String,
    /// Seconds.
    pub interval: u32,
    /// Seconds.
    pub min_interval: u32,
    /// Seconds.
    pub peer_timeout: u64,
}

impl Default for IntervalSection {
    fn default() -> Self {
        use octotracker_interval::Static;
        IntervalSection {
            algorithm: "static".into(),
            interval: Static::DEFAULT_INTERVAL,
            min_interval: Static::DEFAULT_MIN_INTERVAL,
            peer_timeout: Static::DEFAULT_PEER_TIMEOUT.as_secs(),
        }
    }
}

/// `[storage]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    /// `memory`, a `postgres://` URL, `redis://HOST:PORT/DB` or `redis-cluster://HOST:PORT,…`.
    pub backend: String,
    /// Seconds between expiry sweeps.
    pub expiry_interval: u64,
    /// Memory backend shards; 0 = automatic.
    pub memory_shards: usize,
    /// PostgreSQL backend: connections in the pool.
    pub postgres_pool_size: u32,
    /// PostgreSQL backend: statement timeout in milliseconds (0: none).
    pub postgres_statement_timeout: u64,
    /// Redis backend: prefix of every key, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// Redis backend: `auto`, `module` or `lua` (see docs/clustering.md).
    pub redis_engine: String,
    /// Redis backend: the stream every event is appended to (`XADD`); empty: none.
    pub redis_event_stream: String,
    /// Redis backend: entries the event stream keeps, about (`MAXLEN ~`).
    pub redis_event_stream_maxlen: u64,
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            backend: "memory".into(),
            expiry_interval: 60,
            memory_shards: 0,
            postgres_pool_size: 4,
            postgres_statement_timeout: 5000,
            redis_prefix: "octotracker".into(),
            redis_engine: "auto".into(),
            redis_event_stream: String::new(),
            redis_event_stream_maxlen: 1_000_000,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// A tracing filter directive.
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        LogSection { level: "info".into() }
    }
}

impl Config {
    /// Parses a TOML configuration; the error names the offending key and line.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// This configuration as TOML, every key written out; [`Config::from_toml`] reads it back
    /// to an equal `Config` (the `config` fuzz target checks this for every configuration it
    /// parses). An error would come from the TOML serializer refusing a value.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_template_is_exactly_the_defaults() {
        assert_eq!(Config::from_toml(TEMPLATE).unwrap(), Config::default());
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        assert_eq!(Config::from_toml(&Config::default().to_toml().unwrap()).unwrap(), Config::default());
        let mut c = Config::default();
        c.tracker.tracker_id = "quote \" newline \n tab \t \u{1F419}".into();
        c.access.client_deny = vec!["-XX".into(), "'".into()];
        c.storage.postgres_statement_timeout = u64::try_from(i64::MAX).unwrap();
        assert_eq!(Config::from_toml(&c.to_toml().unwrap()).unwrap(), c);
        c.storage.postgres_statement_timeout = u64::MAX;
        assert_eq!(Config::from_toml(&c.to_toml().unwrap()), Ok(c), "numbers up to u64::MAX round trip");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::from_toml("[tracker]\nnumwant_maximum = 3\n").unwrap_err();
        assert!(err.contains("numwant_maximum"), "{err}");
        let err = Config::from_toml("[trackers]\n").unwrap_err();
        assert!(err.contains("trackers"), "{err}");
    }

    #[test]
    fn sections_may_be_partial() {
        let c = Config::from_toml("[tracker]\nnumwant_max = 80\n").unwrap();
        assert_eq!(c.tracker.numwant_max, 80);
        assert_eq!(c.tracker.numwant_default, 50);
        assert_eq!(c.interval, IntervalSection::default());
    }
}
