//! Turning a [`Config`] into the typed settings of each component, with every check an operator
//! needs to hear about before anything starts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::path::PathBuf;

use octotracker_core::{AccessMode, ClientFilter, HashList, TrackerConfig};
use octotracker_http::{HttpConfig, IpNet};
use octotracker_interval::{AlgorithmSpec, IntervalSpec, Static};

use crate::config::Config;

/// Everything the server needs, validated.
#[derive(Debug)]
pub struct Settings {
    /// HTTP listen addresses.
    pub listen: Vec<SocketAddr>,
    /// UDP listen addresses.
    pub udp: Vec<SocketAddr>,
    /// UDP receive workers per socket.
    pub udp_config: octotracker_udp::UdpConfig,
    /// WebSocket listen addresses.
    pub ws: Vec<SocketAddr>,
    /// The WebSocket frontend's limits.
    pub ws_config: octotracker_ws::WsConfig,
    /// The HTTPS listeners and their certificate; `None`: no `--https`.
    pub tls: Option<TlsSettings>,
    /// How the HTTP frontend serves (timeouts, trusted proxies, rate limit, paths).
    pub http: HttpConfig,
    /// The engine's policy.
    pub tracker: TrackerConfig,
    /// The interval algorithm, checked; built fresh when the server starts.
    pub intervals: IntervalSpec,
    /// The storage backend.
    pub backend: Backend,
    /// The Redis stream the engine's events are appended to (a Redis backend only).
    pub event_stream: Option<EventStream>,
    /// How often stale peers are expired.
    pub expiry_interval: Duration,
    /// Where `/metrics` and `/stats` are served; `None`: no metrics at all.
    pub metrics: Option<SocketAddr>,
    /// The admin API; `None`: off.
    pub admin: Option<AdminSettings>,
    /// Access control.
    pub access: AccessSettings,
    /// The log filter.
    pub log_level: String,
}

/// `[storage] redis_event_stream`: where the engine's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStream {
    /// The stream's key.
    pub key: String,
    /// About how many entries it keeps.
    pub maxlen: u64,
}

/// The admin API's listener and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// Where the admin API is served.
    pub listen: SocketAddr,
    /// The file holding its bearer token (read by the binary at startup).
    pub token_file: PathBuf,
}

/// The HTTPS listeners and the files of their certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Where the HTTP tracker is served over TLS.
    pub https: Vec<SocketAddr>,
    /// The PEM certificate chain (read by the binary at start and on change).
    pub cert: PathBuf,
    /// The PEM private key.
    pub key: PathBuf,
    /// How often the two files are checked for a renewed pair.
    pub reload_interval: Duration,
}

/// Where a private tracker's passkeys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasskeySource {
    /// A file, one key per line.
    File(PathBuf),
    /// The storage backend's (`octotracker keys`).
    Backend,
}

/// What `[access]` asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// Which torrents are served: open, allow or deny.
    pub mode: AccessMode,
    /// The allow list file (`allow` mode), one hex info hash a line.
    pub allow_list: Option<PathBuf>,
    /// The deny list file (`deny` mode), one hex info hash a line.
    pub deny_list: Option<PathBuf>,
    /// The lists kept by the storage backend instead of a file (`allow_list = "backend"`,
    /// `deny_list = "backend"`): Redis or PostgreSQL, shared by every process on it.
    pub backend_lists: Vec<octotracker_core::HashList>,
    /// The torrents directory, in `allow` mode only (the only mode it changes anything in).
    pub torrents: Option<PathBuf>,
    /// Where a private tracker's passkeys come from.
    pub passkeys: Option<PasskeySource>,
    /// A torrents directory given for a mode it changes nothing in (logged at startup).
    pub ignored_torrents: Option<PathBuf>,
    /// Which BitTorrent clients (peer id prefixes) are allowed or denied.
    pub clients: ClientFilter,
    /// How often the list files and the torrents directory are read again.
    pub reload_interval: Duration,
}

impl AccessSettings {
    fn from_section(a: &crate::config::AccessSection) -> Result<AccessSettings, String> {
        let mode = a.mode.parse::<AccessMode>()?;
        let path = |p: &str| (!p.trim().is_empty()).then(|| PathBuf::from(p.trim()));
        let prefixes = |list: &[String], key: &str| {
            list.iter()
                .map(|p| {
                    let p = p.trim();
                    if p.is_empty() || p.len() > 20 {
                        Err(format!("invalid {key} prefix {p:?}: expected 1 to 20 characters of a peer id, e.g. -qB"))
                    } else {
                        Ok(p.as_bytes().to_vec())
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let reload_interval = bounded_secs("access reload_interval", a.reload_interval, 1)?;
        // `./torrents` when none is configured and it exists; a configured one is created.
        let torrents = match path(&a.torrents) {
            Some(dir) => Some(dir),
            None => Some(PathBuf::from("torrents")).filter(|d| d.is_dir()),
        };
        let (torrents, ignored_torrents) = match (mode, torrents) {
            (AccessMode::Allow, dir) => (dir, None),
            (_, Some(dir)) if !a.torrents.trim().is_empty() => (None, Some(dir)),
            _ => (None, None),
        };
        Ok(AccessSettings {
            mode,
            passkeys: match a.passkeys.trim() {
                "" => None,
                "backend" => Some(PasskeySource::Backend),
                file => Some(PasskeySource::File(PathBuf::from(file))),
            },
            torrents,
            ignored_torrents,
            allow_list: path(&a.allow_list).filter(|p| p.as_os_str() != "backend"),
            deny_list: path(&a.deny_list).filter(|p| p.as_os_str() != "backend"),
            backend_lists: [(HashList::Allow, &a.allow_list), (HashList::Deny, &a.deny_list)]
                .into_iter()
                .filter(|(_, value)| value.trim() == "backend")
                .map(|(list, _)| list)
                .collect(),
            clients: ClientFilter {
                allow: prefixes(&a.client_allow, "client_allow")?,
                deny: prefixes(&a.client_deny, "client_deny")?,
            },
            reload_interval,
        })
    }

    /// Whether anything is restricted at all (otherwise the engine gets no access hook).
    pub fn restricts(&self) -> bool {
        self.mode != AccessMode::Open || self.clients != ClientFilter::default() || self.passkeys.is_some()
    }
}

/// The storage backend chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// In-process memory.
    Memory {
        /// Shards (0: automatic).
        shards: usize,
        /// Whether peer ids are kept: only when non-compact replies (the only ones that carry
        /// them) are allowed.
        peer_ids: bool,
    },
    /// PostgreSQL.
    Postgres {
        /// The server's URL.
        url: String,
        /// Connections in the pool.
        pool_size: u32,
        /// The longest a statement may run.
        statement_timeout: Duration,
    },
    /// Redis or Redis Cluster.
    Redis {
        /// The server or cluster.
        target: octotracker_redis::RedisTarget,
        /// The prefix of every key.
        prefix: String,
        /// How long a peer lives without announcing.
        peer_timeout: Duration,
        /// The engine: the module, the Lua script, or whichever the servers offer.
        engine: octotracker_redis::RedisEngine,
    },
}

/// The default listen address when none is configured.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:6969";

/// The longest timeout or period any setting accepts: a year. Longer ones mean "never" to an
/// operator, but a deadline that far out overflows the clock of the code that arms it (a header
/// read timeout of 2^63 seconds panicked every connection before this bound existed).
pub const MAX_SECONDS: u64 = 365 * 24 * 3600;

/// `value` seconds as a duration, at least `min` and at most [`MAX_SECONDS`].
fn bounded_secs(name: &str, value: u64, min: u64) -> Result<Duration, String> {
    if value < min {
        let unit = if min == 1 { "second" } else { "seconds" };
        return Err(format!("{name} must be at least {min} {unit}"));
    }
    if value > MAX_SECONDS {
        return Err(format!("{name} must be at most {MAX_SECONDS} seconds (a year), got {value}"));
    }
    Ok(Duration::from_secs(value))
}

impl Settings {
    /// Validates `config`; the error is a message for the operator.
    pub fn from_config(config: &Config) -> Result<Settings, String> {
        // No listener at all: HTTP and UDP on 0.0.0.0:6969.
        let none = config.http.listen.is_empty()
            && config.udp.listen.is_empty()
            && config.ws.listen.is_empty()
            && config.tls.https.is_empty();
        let defaulted = |given: &[String]| if none { vec![DEFAULT_LISTEN.to_owned()] } else { given.to_vec() };
        let parse = |list: Vec<String>| {
            list.iter()
                .map(|a| {
                    a.trim().parse::<SocketAddr>().map_err(|_| {
                        format!("invalid listen address {a:?}: expected IP:PORT, e.g. 0.0.0.0:6969 or [::]:6969")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let listen = parse(defaulted(&config.http.listen))?;
        let udp = parse(defaulted(&config.udp.listen))?;
        let ws = parse(config.ws.listen.clone())?;
        let tls = tls_settings(&config.tls, parse(config.tls.https.clone())?)?;
        if config.ws.max_connections == 0 {
            return Err("[ws] max_connections must be at least 1".into());
        }
        if config.ws.max_interval == 0 {
            return Err("[ws] max_interval must be at least 1 second".into());
        }
        if config.ws.rate_limit == 0 || config.ws.rate_limit_burst == 0 {
            return Err("[ws] rate_limit and rate_limit_burst must be at least 1".into());
        }
        let ws_config = octotracker_ws::WsConfig {
            max_connections: config.ws.max_connections,
            max_interval: config.ws.max_interval,
            rate: config.ws.rate_limit,
            burst: config.ws.rate_limit_burst,
            ..octotracker_ws::WsConfig::default()
        };
        let mut udp_config = octotracker_udp::UdpConfig {
            rate_limit: rate_limit(config.udp.rate_limit, config.udp.rate_limit_burst),
            ..octotracker_udp::UdpConfig::default()
        };
        if config.udp.workers > 0 {
            udp_config.workers = config.udp.workers;
        }
        if config.udp.batch > 0 {
            udp_config.batch = config.udp.batch.min(32);
        }
        udp_config.reuse_port = config.udp.reuse_port;
        udp_config.recv_buffer = (config.udp.recv_buffer > 0).then_some(config.udp.recv_buffer);
        let trusted_proxies = config
            .http
            .trusted_proxies
            .iter()
            .map(|p| p.parse::<IpNet>().map_err(|e| format!("invalid trusted proxy: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let secs = |name: &str, v: u64| bounded_secs(name, v, 1);
        let http = HttpConfig {
            trusted_proxies,
            header_read_timeout: secs("header_read_timeout", config.http.header_read_timeout)?,
            idle_timeout: secs("idle_timeout", config.http.idle_timeout)?,
            drain_timeout: bounded_secs("drain_timeout", config.http.drain_timeout, 0)?,
            rate_limit: rate_limit(config.http.rate_limit, config.http.rate_limit_burst),
            defer_accept: config.http.defer_accept,
            max_connections: if config.http.max_connections == 0 {
                return Err("max_connections must be at least 1".into());
            } else {
                config.http.max_connections
            },
            ..HttpConfig::default()
        };

        let t = &config.tracker;
        if t.scrape_max_hashes == 0 {
            return Err("scrape_max_hashes must be at least 1".into());
        }
        let tracker = TrackerConfig {
            // A cap below the default lowers the default with it.
            numwant_default: t.numwant_default.min(t.numwant_max),
            numwant_max: t.numwant_max,
            allow_non_compact: t.allow_non_compact,
            allow_scrape: t.allow_scrape,
            scrape_max_hashes: t.scrape_max_hashes,
            allow_full_scrape: t.allow_full_scrape,
            full_scrape_max: t.full_scrape_max,
            tracker_id: (!t.tracker_id.is_empty()).then(|| Arc::from(t.tracker_id.as_str())),
            accept_ip_param: t.accept_ip_param,
            send_external_ip: t.send_external_ip,
        };

        let i = &config.interval;
        let intervals = interval_spec(i)?;
        let peer_timeout = intervals.build().peer_timeout();
        if peer_timeout > Duration::from_secs(MAX_SECONDS) {
            return Err(format!(
                "interval algorithm {:?} keeps silent peers for {} seconds: its longest interval must leave the peer \
                 timeout at most {MAX_SECONDS} seconds (a year)",
                i.algorithm.trim(),
                peer_timeout.as_secs()
            ));
        }

        let backend = match config.storage.backend.trim() {
            "memory" => Backend::Memory { shards: config.storage.memory_shards, peer_ids: t.allow_non_compact },
            url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                if config.storage.postgres_pool_size == 0 {
                    return Err("postgres_pool_size must be at least 1".into());
                }
                let statement_timeout = config.storage.postgres_statement_timeout;
                if statement_timeout > MAX_SECONDS * 1000 {
                    return Err(format!(
                        "postgres_statement_timeout must be at most {} milliseconds (a year), got {statement_timeout}",
                        MAX_SECONDS * 1000
                    ));
                }
                Backend::Postgres {
                    url: url.to_owned(),
                    pool_size: config.storage.postgres_pool_size,
                    statement_timeout: Duration::from_millis(statement_timeout),
                }
            }
            url if url.starts_with("redis") => {
                let target = octotracker_redis::RedisTarget::parse(url).ok_or_else(|| {
                    format!(
                        "invalid redis backend {url:?}: expected redis://HOST:PORT/DB or redis-cluster://HOST:PORT,…"
                    )
                })?;
                let prefix = config.storage.redis_prefix.trim().to_owned();
                octotracker_redis::RedisConfig::check_prefix(&prefix)?;
                let engine = config.storage.redis_engine.parse()?;
                Backend::Redis { target, prefix, peer_timeout, engine }
            }
            other => {
                return Err(format!(
                    "unknown backend {other:?}: expected \"memory\", a postgres:// URL, redis://HOST:PORT/DB or \
                     redis-cluster://HOST:PORT,…"
                ));
            }
        };
        let metrics = match config.metrics.listen.trim() {
            "" => None,
            addr => {
                let addr = addr
                    .parse::<SocketAddr>()
                    .map_err(|_| format!("invalid metrics address {addr:?}: expected IP:PORT, e.g. 127.0.0.1:9000"))?;
                if listen.contains(&addr) && addr.port() != 0 {
                    return Err(format!(
                        "metrics address {addr} is also a tracker listen address: serve metrics on another port"
                    ));
                }
                Some(addr)
            }
        };
        let admin = admin_settings(&config.admin, &listen, metrics)?;
        let access = AccessSettings::from_section(&config.access)?;
        Ok(Settings {
            admin,
            udp,
            udp_config,
            ws,
            ws_config,
            tls,
            log_level: config.log.level.clone(),
            metrics,
            listen,
            http,
            tracker,
            intervals,
            event_stream: event_stream(&config.storage, &backend)?,
            access: backend_lists_checked(access, &backend)?,
            backend,
            expiry_interval: secs("expiry_interval", config.storage.expiry_interval)?,
        })
    }
}

/// `allow_list = "backend"` and `deny_list = "backend"` need a backend that keeps lists.
fn backend_lists_checked(access: AccessSettings, backend: &Backend) -> Result<AccessSettings, String> {
    match access.backend_lists.first() {
        Some(list) if matches!(backend, Backend::Memory { .. }) => Err(format!(
            "{}_list = \"backend\" needs a Redis or PostgreSQL backend (the memory backend keeps no lists): use a file",
            list.as_str()
        )),
        _ => Ok(access),
    }
}

/// `redis_event_stream` and its `maxlen`: only with a Redis backend.
fn event_stream(storage: &crate::config::StorageSection, backend: &Backend) -> Result<Option<EventStream>, String> {
    let key = storage.redis_event_stream.trim();
    if key.is_empty() {
        return Ok(None);
    }
    if !matches!(backend, Backend::Redis { .. }) {
        return Err("redis_event_stream needs a Redis backend (--backend redis://…)".into());
    }
    if storage.redis_event_stream_maxlen == 0 {
        return Err("redis_event_stream_maxlen must be at least 1".into());
    }
    Ok(Some(EventStream { key: key.to_owned(), maxlen: storage.redis_event_stream_maxlen }))
}

/// A `rate_limit` / `rate_limit_burst` pair: `None` for a rate of 0; a burst of 0 is the rate.
fn rate_limit(per_second: u32, burst: u32) -> Option<octotracker_core::RateLimit> {
    (per_second > 0).then(|| octotracker_core::RateLimit {
        per_second: f64::from(per_second),
        burst: f64::from(if burst == 0 { per_second } else { burst }),
    })
}

/// The `[interval]` section as an algorithm: plain `static` takes the three legacy keys; any
/// other spec carries its own parameters, and then those keys must be left alone.
fn interval_spec(i: &crate::config::IntervalSection) -> Result<IntervalSpec, String> {
    let spec = i.algorithm.trim();
    if spec == "static" {
        let peer_timeout = bounded_secs("peer_timeout", i.peer_timeout, 1)?;
        let fixed =
            Static::new(i.interval, i.min_interval, peer_timeout).map_err(|e| format!("invalid [interval]: {e}"))?;
        return Ok(IntervalSpec { algorithm: AlgorithmSpec::Static(fixed), jitter: 0 });
    }
    let defaults = crate::config::IntervalSection::default();
    if (i.interval, i.min_interval, i.peer_timeout) != (defaults.interval, defaults.min_interval, defaults.peer_timeout)
    {
        return Err(format!(
            "[interval] interval, min_interval and peer_timeout (--interval N, --min-interval, --peer-timeout) apply \
             to algorithm \"static\" only; with {spec:?} give the parameters in the algorithm itself \
             (see docs/intervals.md)"
        ));
    }
    spec.parse::<IntervalSpec>().map_err(|e| format!("invalid interval algorithm {spec:?}: {e}"))
}

/// `[tls]`: off without `https` addresses; with them, a certificate and a key are required.
fn tls_settings(section: &crate::config::TlsSection, https: Vec<SocketAddr>) -> Result<Option<TlsSettings>, String> {
    if https.is_empty() {
        return Ok(None);
    }
    let file = |value: &str, flag: &str, key: &str| match value.trim() {
        "" => Err(format!("--https needs --{flag} FILE (or [tls] {key}): a PEM file, e.g. from certbot or openssl")),
        path => Ok(PathBuf::from(path)),
    };
    Ok(Some(TlsSettings {
        cert: file(&section.cert, "tls-cert", "cert")?,
        key: file(&section.key, "tls-key", "key")?,
        reload_interval: bounded_secs("[tls] reload_interval", section.reload_interval, 1)?,
        https,
    }))
}

/// `[admin]`: off when `listen` is empty; a listen address needs a token file.
fn admin_settings(
    section: &crate::config::AdminSection,
    listen: &[SocketAddr],
    metrics: Option<SocketAddr>,
) -> Result<Option<AdminSettings>, String> {
    let addr = match section.listen.trim() {
        "" => return Ok(None),
        addr => addr
            .parse::<SocketAddr>()
            .map_err(|_| format!("invalid admin address {addr:?}: expected IP:PORT, e.g. 127.0.0.1:9001"))?,
    };
    if addr.port() != 0 && (listen.contains(&addr) || metrics == Some(addr)) {
        return Err(format!(
            "admin address {addr} is also a tracker or metrics address: serve the admin API on a port of its own"
        ));
    }
    match section.token_file.trim() {
        "" => Err("--admin needs --admin-token-file FILE (or [admin] token_file): the API is never served \
                   without a token"
            .into()),
        file => Ok(Some(AdminSettings { listen: addr, token_file: PathBuf::from(file) })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_6969_with_monotorrent_intervals() {
        let s = Settings::from_config(&Config::default()).unwrap();
        assert_eq!(s.listen, vec!["0.0.0.0:6969".parse::<SocketAddr>().unwrap()]);
        assert_eq!(s.udp, vec!["0.0.0.0:6969".parse::<SocketAddr>().unwrap()], "UDP alongside HTTP by default");
        let mut c = Config::default();
        c.http.listen = vec!["127.0.0.1:7000".into()];
        assert!(Settings::from_config(&c).unwrap().udp.is_empty(), "HTTP only when only HTTP is asked for");
        assert_eq!(s.intervals, IntervalSpec { algorithm: AlgorithmSpec::Static(Static::default()), jitter: 0 });
        assert_eq!(s.backend, Backend::Memory { shards: 0, peer_ids: true });
    }

    #[test]
    fn https_needs_a_certificate_and_a_key_and_alone_opens_no_plain_listener() {
        let mut c = Config::default();
        c.tls.https = vec!["127.0.0.1:8443".into()];
        let err = Settings::from_config(&c).unwrap_err();
        assert!(err.contains("--tls-cert"), "{err}");
        c.tls.cert = "cert.pem".into();
        let err = Settings::from_config(&c).unwrap_err();
        assert!(err.contains("--tls-key"), "{err}");
        c.tls.key = "key.pem".into();
        let s = Settings::from_config(&c).unwrap();
        let tls = s.tls.expect("https asked for");
        assert_eq!(tls.https, vec!["127.0.0.1:8443".parse::<SocketAddr>().unwrap()]);
        assert_eq!((tls.cert, tls.key), (PathBuf::from("cert.pem"), PathBuf::from("key.pem")));
        assert_eq!(tls.reload_interval, Duration::from_secs(10));
        assert!(s.listen.is_empty() && s.udp.is_empty(), "--https alone is not a default 0.0.0.0:6969");
        c.tls.reload_interval = 0;
        assert!(Settings::from_config(&c).unwrap_err().contains("reload_interval"));
        c.tls.https = vec!["8443".into()];
        assert!(Settings::from_config(&c).unwrap_err().contains("invalid listen address"));
    }

    #[test]
    fn a_numwant_cap_below_the_default_lowers_the_default() {
        let mut c = Config::default();
        c.tracker.numwant_max = 10;
        let s = Settings::from_config(&c).unwrap();
        assert_eq!((s.tracker.numwant_default, s.tracker.numwant_max), (10, 10));
    }

    #[test]
    fn a_postgres_url_chooses_postgres_with_its_pool_settings() {
        let mut c = Config::default();
        c.storage.backend = "postgres://octo@127.0.0.1:5432/octo".into();
        c.storage.postgres_pool_size = 4;
        c.storage.postgres_statement_timeout = 250;
        let s = Settings::from_config(&c).unwrap();
        let url = "postgres://octo@127.0.0.1:5432/octo".to_owned();
        assert_eq!(s.backend, Backend::Postgres { url, pool_size: 4, statement_timeout: Duration::from_millis(250) });
    }

    #[test]
    fn redis_urls_choose_redis_or_redis_cluster_with_the_prefix() {
        use octotracker_redis::RedisTarget;
        let mut c = Config::default();
        c.storage.backend = "redis://127.0.0.1:6379/2".into();
        c.storage.redis_prefix = "tracker-a".into();
        let s = Settings::from_config(&c).unwrap();
        let target = RedisTarget::Standalone("redis://127.0.0.1:6379/2".into());
        let peer_timeout = Duration::from_secs(c.interval.peer_timeout);
        assert_eq!(peer_timeout, Static::DEFAULT_PEER_TIMEOUT);
        let engine = octotracker_redis::RedisEngine::Auto;
        assert_eq!(s.backend, Backend::Redis { target, prefix: "tracker-a".into(), peer_timeout, engine });
        c.storage.backend = "redis-cluster://10.0.0.1:7000,10.0.0.2:7000".into();
        let s = Settings::from_config(&c).unwrap();
        let nodes = vec!["redis://10.0.0.1:7000".to_owned(), "redis://10.0.0.2:7000".to_owned()];
        assert!(matches!(s.backend, Backend::Redis { target: RedisTarget::Cluster(n), .. } if n == nodes));
        c.storage.redis_engine = "module".into();
        let s = Settings::from_config(&c).unwrap();
        assert!(matches!(s.backend, Backend::Redis { engine: octotracker_redis::RedisEngine::Module, .. }));
        c.storage.redis_engine = "fastest".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("\"fastest\": expected auto, module or lua"));
        c.storage.redis_engine = "auto".into();
        c.storage.redis_event_stream = "tracker-a:events".into();
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.event_stream, Some(EventStream { key: "tracker-a:events".into(), maxlen: 1_000_000 }));
        c.storage.redis_event_stream_maxlen = 0;
        assert!(Settings::from_config(&c).unwrap_err().contains("redis_event_stream_maxlen must be at least 1"));
        c.storage.redis_event_stream_maxlen = 1_000_000;
        let backend = std::mem::replace(&mut c.storage.backend, "memory".into());
        assert!(Settings::from_config(&c).unwrap_err().contains("redis_event_stream needs a Redis backend"));
        c.storage.backend = backend;
        c.storage.redis_event_stream = String::new();
        assert_eq!(Settings::from_config(&c).unwrap().event_stream, None);
        c.storage.redis_prefix = "a{b}".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("a{b}"));
        c.storage.backend = "redis-cluster://".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("redis-cluster://"));
    }

    #[test]
    fn lists_in_the_backend_need_a_backend_that_keeps_them() {
        let mut c = Config::default();
        c.access.mode = "deny".into();
        c.access.deny_list = "backend".into();
        c.access.allow_list = "allowed.txt".into();
        let err = Settings::from_config(&c).unwrap_err();
        assert!(err.contains("deny_list = \"backend\" needs a Redis or PostgreSQL backend"), "{err}");
        c.storage.backend = "postgres://localhost/tracker".into();
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.access.backend_lists, [HashList::Deny]);
        assert_eq!((s.access.deny_list, s.access.allow_list), (None, Some(PathBuf::from("allowed.txt"))));
    }

    #[test]
    fn interval_algorithms_come_from_the_spec_and_set_the_peer_timeout() {
        let mut c = Config::default();
        c.interval.algorithm = "swarm,steps=100:30m/1000:1h/2h,jitter=10".into();
        c.storage.backend = "redis://127.0.0.1:6379/0".into();
        let s = Settings::from_config(&c).unwrap();
        assert!(matches!(s.intervals.algorithm, AlgorithmSpec::Swarm(_)));
        assert_eq!(s.intervals.jitter, 10);
        let Backend::Redis { peer_timeout, .. } = s.backend else { panic!("redis") };
        // The longest interval (2 h) plus 10 % jitter, plus the grace: never before a peer is due.
        assert!(peer_timeout > Duration::from_secs(7200 * 11 / 10), "{peer_timeout:?}");
        assert_eq!(peer_timeout, s.intervals.build().peer_timeout());

        c.interval.algorithm = "load,target=500".into();
        assert!(matches!(Settings::from_config(&c).unwrap().intervals.algorithm, AlgorithmSpec::Load(_)));

        c.interval.algorithm = "load".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("target"));
        c.interval.algorithm = "sometimes".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("\"sometimes\""));
        c.interval.algorithm = "swarm".into();
        c.interval.min_interval = 60;
        assert!(Settings::from_config(&c).unwrap_err().contains("apply to algorithm \"static\" only"));
    }

    #[test]
    fn timeouts_beyond_a_year_are_refused_by_name() {
        type Setter = fn(&mut Config, u64);
        let huge = 1u64 << 63;
        let cases: [(&str, Setter); 7] = [
            ("header_read_timeout", |c, v| c.http.header_read_timeout = v),
            ("idle_timeout", |c, v| c.http.idle_timeout = v),
            ("drain_timeout", |c, v| c.http.drain_timeout = v),
            ("expiry_interval", |c, v| c.storage.expiry_interval = v),
            ("reload_interval", |c, v| c.access.reload_interval = v),
            ("peer_timeout", |c, v| c.interval.peer_timeout = v),
            ("postgres_statement_timeout", |c, v| {
                c.storage.backend = "postgres://u@h/db".into();
                c.storage.postgres_statement_timeout = v;
            }),
        ];
        for (name, set) in cases {
            let mut c = Config::default();
            set(&mut c, huge);
            let err = Settings::from_config(&c).unwrap_err();
            assert!(err.contains(name) && err.contains("at most"), "{name}: {err}");
            // A year is still accepted (the statement timeout is in milliseconds).
            let mut c = Config::default();
            set(&mut c, if name == "postgres_statement_timeout" { MAX_SECONDS * 1000 } else { MAX_SECONDS });
            Settings::from_config(&c).unwrap_or_else(|e| panic!("{name} of a year: {e}"));
        }
        let mut c = Config::default();
        c.interval.algorithm = "swarm,steps=10:1000000h/1h".into();
        let err = Settings::from_config(&c).unwrap_err();
        assert!(err.contains("peer timeout") && err.contains("at most"), "{err}");
    }

    #[test]
    fn rate_limits_apply_per_frontend_with_the_burst_defaulting_to_the_rate() {
        let s = Settings::from_config(&Config::default()).unwrap();
        assert_eq!((s.http.rate_limit, s.udp_config.rate_limit), (None, None), "off by default");
        let mut c = Config::default();
        c.http.rate_limit = 5;
        c.udp.rate_limit = 20;
        c.udp.rate_limit_burst = 40;
        let s = Settings::from_config(&c).unwrap();
        assert_eq!(s.http.rate_limit, Some(octotracker_core::RateLimit { per_second: 5.0, burst: 5.0 }));
        assert_eq!(s.udp_config.rate_limit, Some(octotracker_core::RateLimit { per_second: 20.0, burst: 40.0 }));
    }

    #[test]
    fn operator_mistakes_are_named() {
        let mut c = Config::default();
        c.http.listen = vec!["localhost".into()];
        assert!(Settings::from_config(&c).unwrap_err().contains("\"localhost\""));
        let mut c = Config::default();
        c.http.trusted_proxies = vec!["10.0.0.0/99".into()];
        assert!(Settings::from_config(&c).unwrap_err().contains("10.0.0.0/99"));
        let mut c = Config::default();
        c.interval.peer_timeout = 100;
        assert!(Settings::from_config(&c).unwrap_err().contains("peer timeout"));
        let mut c = Config::default();
        c.storage.backend = "cassandra".into();
        assert!(Settings::from_config(&c).unwrap_err().contains("cassandra"));
        let mut c = Config::default();
        c.storage.backend = "postgres://u@h/db".into();
        c.storage.postgres_pool_size = 0;
        assert!(Settings::from_config(&c).unwrap_err().contains("postgres_pool_size"));
    }
}
