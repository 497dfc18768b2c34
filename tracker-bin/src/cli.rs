//! Command-line flags. Every configuration key has a flag and an `OCTOTRACKER_*` variable;
//! flags win over the environment, which wins over the config file.
//!
//! The flags' doc comments are their `--help` text (clap), where `[http] listen` names a key of
//! the config file, not a Rust item: rustdoc is told not to read those brackets as links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

/// octotracker: a BitTorrent tracker (HTTP, BEP 3/7/23/24/48).
///
/// With no command it serves. `octotracker --print-config` shows every setting.
#[derive(Debug, Parser)]
#[command(name = "octotracker", version, about)]
pub(crate) struct Cli {
    /// A subcommand; none means `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of the server.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve (the default).
    Serve,
    /// Send one announce to any HTTP or UDP tracker and print the reply as JSON.
    Announce(AnnounceArgs),
    /// Scrape info hashes at any HTTP or UDP tracker and print the reply as JSON.
    Scrape(ScrapeArgs),
    /// Drive an HTTP tracker with a simulated swarm and report req/s, errors, latency, CPU.
    Load(crate::load_command::LoadArgs),
    /// Make or inspect .torrent files.
    #[command(subcommand)]
    Torrent(TorrentCommand),
    /// Issue, revoke or list the passkeys a backend keeps (Redis, PostgreSQL), for a private tracker
    /// serving with `--passkeys backend`. Takes the backend from --backend / --config.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `octotracker keys …`
#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Issue a passkey (a random one of 32 hex characters when none is given) and print it.
    Add {
        /// The passkey: 1 to 64 letters, digits, - or _.
        key: Option<String>,
    },
    /// Revoke a passkey: requests with it are refused within the reload interval.
    Revoke {
        /// The passkey.
        key: String,
    },
    /// Print every valid passkey, one per line, sorted.
    List,
}

/// `octotracker torrent …`
#[derive(Debug, Subcommand)]
pub(crate) enum TorrentCommand {
    /// Make a v1 .torrent of a file or directory and print its info hash.
    Create(TorrentCreateArgs),
    /// Print what a .torrent holds: name, size, files and info hashes.
    Info(TorrentInfoArgs),
}

/// `octotracker torrent create`
#[derive(Debug, Args)]
pub(crate) struct TorrentCreateArgs {
    /// The file or directory to share (a directory's files are sorted, hidden ones included).
    pub input: PathBuf,
    /// A tracker's announce URL, repeatable: the first is `announce`; several also make an
    /// `announce-list` with one tier each, in order.
    #[arg(long, required = true)]
    pub announce: Vec<String>,
    /// Where to write the .torrent (overwritten if it exists).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Bytes per piece: a power of two from 16384 to 16777216 (default: aim for 1000–2000 pieces).
    #[arg(long)]
    pub piece_length: Option<u64>,
    /// Mark the torrent private (BEP 27): peers only from the tracker.
    #[arg(long)]
    pub private: bool,
    /// The name in the torrent (default: the file or directory name).
    #[arg(long)]
    pub name: Option<String>,
    /// A free-text comment.
    #[arg(long)]
    pub comment: Option<String>,
    /// No progress line on stderr (it is shown only when stderr is a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// `octotracker torrent info`
#[derive(Debug, Args)]
pub(crate) struct TorrentInfoArgs {
    /// The .torrent file.
    pub file: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `octotracker announce`
#[derive(Debug, Args)]
pub(crate) struct AnnounceArgs {
    /// The announce URL, e.g. http://127.0.0.1:6969/announce or udp://127.0.0.1:6969 (a path on a
    /// udp:// URL, such as /PASSKEY/announce, is sent as BEP 41 URL data).
    pub url: String,
    /// The info hash, 40 hex characters.
    #[arg(long)]
    pub info_hash: String,
    /// The peer id: 40 hex characters or 20 plain characters (default: random, -OT0001- prefix).
    #[arg(long)]
    pub peer_id: Option<String>,
    /// The port this peer listens on.
    #[arg(long, default_value_t = 6881)]
    pub port: u16,
    /// Bytes left to download; 0 announces a seeder.
    #[arg(long, default_value_t = 1)]
    pub left: u64,
    /// Bytes uploaded.
    #[arg(long, default_value_t = 0)]
    pub uploaded: u64,
    /// Bytes downloaded.
    #[arg(long, default_value_t = 0)]
    pub downloaded: u64,
    /// started, stopped, completed, paused or none.
    #[arg(long, default_value = "none")]
    pub event: String,
    /// Peers wanted (the tracker's default when absent).
    #[arg(long)]
    pub numwant: Option<u32>,
    /// Ask for the non-compact peer list (compact=0).
    #[arg(long)]
    pub no_compact: bool,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
}

/// `octotracker scrape`
#[derive(Debug, Args)]
pub(crate) struct ScrapeArgs {
    /// The scrape URL, or an announce URL to derive it from (…/announce → …/scrape); a udp:// URL
    /// as it is.
    pub url: String,
    /// Info hashes, 40 hex characters each.
    #[arg(required = true)]
    pub info_hashes: Vec<String>,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
}

/// Flags of the server; each overrides the config file key named in its help.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Read settings from this TOML file.
    #[arg(long, env = "OCTOTRACKER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Print the full default configuration, commented, and exit.
    #[arg(long)]
    pub print_config: bool,

    /// HTTP listen address, repeatable ([http] listen).
    #[arg(long = "http", env = "OCTOTRACKER_HTTP", value_delimiter = ',')]
    pub http: Vec<String>,
    /// UDP listen address, repeatable ([udp] listen).
    #[arg(long = "udp", env = "OCTOTRACKER_UDP", value_delimiter = ',')]
    pub udp: Vec<String>,
    /// WebSocket (WebTorrent) listen address, repeatable ([ws] listen).
    #[arg(long = "ws", env = "OCTOTRACKER_WS", value_delimiter = ',')]
    pub ws: Vec<String>,
    /// [ws] max_connections: WebSocket connections open at once.
    #[arg(long = "ws-max-connections", env = "OCTOTRACKER_WS_MAX_CONNECTIONS")]
    pub ws_max_connections: Option<usize>,
    /// [ws] max_interval: longest announce interval for WebSocket peers, seconds.
    #[arg(long = "ws-max-interval", env = "OCTOTRACKER_WS_MAX_INTERVAL")]
    pub ws_max_interval: Option<u32>,
    /// [ws] rate_limit: messages per second one WebSocket connection may send.
    #[arg(long = "ws-rate-limit", env = "OCTOTRACKER_WS_RATE_LIMIT")]
    pub ws_rate_limit: Option<u32>,
    /// [ws] rate_limit_burst: messages one WebSocket connection may send at once.
    #[arg(long = "ws-rate-limit-burst", env = "OCTOTRACKER_WS_RATE_LIMIT_BURST")]
    pub ws_rate_limit_burst: Option<u32>,
    /// [udp] workers: receive workers per UDP socket (0: one per core).
    #[arg(long = "udp-workers", env = "OCTOTRACKER_UDP_WORKERS")]
    pub udp_workers: Option<usize>,
    /// [udp] batch: datagrams per recvmmsg/sendmmsg, 1 to 32 (0: 32).
    #[arg(long = "udp-batch", env = "OCTOTRACKER_UDP_BATCH")]
    pub udp_batch: Option<usize>,
    /// [udp] reuse_port: one SO_REUSEPORT socket per worker (true/false).
    #[arg(long = "udp-reuse-port", env = "OCTOTRACKER_UDP_REUSE_PORT")]
    pub udp_reuse_port: Option<bool>,
    /// [udp] recv_buffer: SO_RCVBUF in bytes (0: the system's default).
    #[arg(long = "udp-recv-buffer", env = "OCTOTRACKER_UDP_RECV_BUFFER")]
    pub udp_recv_buffer: Option<usize>,
    /// Trusted reverse proxy (address or CIDR), repeatable ([http] trusted_proxies).
    #[arg(long = "trusted-proxy", env = "OCTOTRACKER_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// [http] header_read_timeout, seconds.
    #[arg(long, env = "OCTOTRACKER_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<u64>,
    /// [http] idle_timeout, seconds.
    #[arg(long, env = "OCTOTRACKER_IDLE_TIMEOUT")]
    pub idle_timeout: Option<u64>,
    /// [http] drain_timeout, seconds.
    #[arg(long, env = "OCTOTRACKER_DRAIN_TIMEOUT")]
    pub drain_timeout: Option<u64>,
    /// [http] and [udp] rate_limit: requests per second one address may send, over HTTP and
    /// over UDP (0: no limit).
    #[arg(long, env = "OCTOTRACKER_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// [http] and [udp] rate_limit_burst: requests at once above the rate (0: the rate).
    #[arg(long, env = "OCTOTRACKER_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// [http] max_connections: connections served at once per listener.
    #[arg(long, env = "OCTOTRACKER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// [http] defer_accept (true/false): TCP_DEFER_ACCEPT on the HTTP listeners.
    #[arg(long, env = "OCTOTRACKER_DEFER_ACCEPT")]
    pub defer_accept: Option<bool>,

    /// [tracker] numwant_default.
    #[arg(long, env = "OCTOTRACKER_NUMWANT_DEFAULT")]
    pub numwant_default: Option<u32>,
    /// [tracker] numwant_max.
    #[arg(long, env = "OCTOTRACKER_NUMWANT_MAX")]
    pub numwant_max: Option<u32>,
    /// [tracker] allow_non_compact (true/false).
    #[arg(long, env = "OCTOTRACKER_ALLOW_NON_COMPACT")]
    pub allow_non_compact: Option<bool>,
    /// [tracker] allow_scrape (true/false).
    #[arg(long, env = "OCTOTRACKER_ALLOW_SCRAPE")]
    pub allow_scrape: Option<bool>,
    /// [tracker] scrape_max_hashes.
    #[arg(long, env = "OCTOTRACKER_SCRAPE_MAX_HASHES")]
    pub scrape_max_hashes: Option<usize>,
    /// [tracker] allow_full_scrape (true/false).
    #[arg(long, env = "OCTOTRACKER_ALLOW_FULL_SCRAPE")]
    pub allow_full_scrape: Option<bool>,
    /// [tracker] full_scrape_max.
    #[arg(long, env = "OCTOTRACKER_FULL_SCRAPE_MAX")]
    pub full_scrape_max: Option<usize>,
    /// [tracker] tracker_id.
    #[arg(long, env = "OCTOTRACKER_TRACKER_ID")]
    pub tracker_id: Option<String>,
    /// [tracker] accept_ip_param (true/false).
    #[arg(long, env = "OCTOTRACKER_ACCEPT_IP_PARAM")]
    pub accept_ip_param: Option<bool>,
    /// [tracker] send_external_ip (true/false).
    #[arg(long, env = "OCTOTRACKER_SEND_EXTERNAL_IP")]
    pub send_external_ip: Option<bool>,

    /// [interval] algorithm: static, swarm or load, with parameters and an optional jitter, e.g.
    /// "swarm,steps=100:30m/1000:1h/2h,jitter=10" (docs/intervals.md); a plain number N is the
    /// static interval ([interval] interval = N).
    #[arg(long, env = "OCTOTRACKER_INTERVAL")]
    pub interval: Option<String>,
    /// [interval] min_interval, seconds.
    #[arg(long, env = "OCTOTRACKER_MIN_INTERVAL")]
    pub min_interval: Option<u32>,
    /// [interval] peer_timeout, seconds.
    #[arg(long, env = "OCTOTRACKER_PEER_TIMEOUT")]
    pub peer_timeout: Option<u64>,

    /// [storage] backend: memory, postgres://USER@HOST:PORT/DB, redis://HOST:PORT/DB or
    /// redis-cluster://HOST:PORT,HOST:PORT,….
    #[arg(long, env = "OCTOTRACKER_BACKEND", global = true)]
    pub backend: Option<String>,
    /// [storage] expiry_interval, seconds.
    #[arg(long, env = "OCTOTRACKER_EXPIRY_INTERVAL")]
    pub expiry_interval: Option<u64>,
    /// [storage] memory_shards (0: automatic).
    #[arg(long, env = "OCTOTRACKER_MEMORY_SHARDS")]
    pub memory_shards: Option<usize>,
    /// [storage] postgres_pool_size: connections to PostgreSQL.
    #[arg(long, env = "OCTOTRACKER_POSTGRES_POOL_SIZE")]
    pub postgres_pool_size: Option<u32>,
    /// [storage] postgres_statement_timeout, milliseconds (0: none).
    #[arg(long, env = "OCTOTRACKER_POSTGRES_STATEMENT_TIMEOUT")]
    pub postgres_statement_timeout: Option<u64>,
    /// [storage] redis_prefix: prefix of every Redis key.
    #[arg(long, env = "OCTOTRACKER_REDIS_PREFIX", global = true)]
    pub redis_prefix: Option<String>,
    /// [storage] redis_engine: auto, module or lua.
    #[arg(long, env = "OCTOTRACKER_REDIS_ENGINE", global = true)]
    pub redis_engine: Option<String>,
    /// [storage] redis_event_stream: the Redis stream events are appended to.
    #[arg(long, env = "OCTOTRACKER_REDIS_EVENT_STREAM", global = true)]
    pub redis_event_stream: Option<String>,
    /// [storage] redis_event_stream_maxlen: entries the event stream keeps, about.
    #[arg(long, env = "OCTOTRACKER_REDIS_EVENT_STREAM_MAXLEN", global = true)]
    pub redis_event_stream_maxlen: Option<u64>,

    /// [access] mode: open, allow or deny.
    #[arg(long = "access", env = "OCTOTRACKER_ACCESS")]
    pub access: Option<String>,
    /// [access] torrents: directory of .torrent files registered in allow mode (created if
    /// missing; default ./torrents when it exists).
    #[arg(long, env = "OCTOTRACKER_TORRENTS")]
    pub torrents: Option<String>,
    /// [access] allow_list: file of allowed info hashes (hex, one per line), or `backend`.
    #[arg(long, env = "OCTOTRACKER_ALLOW_LIST")]
    pub allow_list: Option<String>,
    /// [access] deny_list: file of denied info hashes (hex, one per line), or `backend`.
    #[arg(long, env = "OCTOTRACKER_DENY_LIST")]
    pub deny_list: Option<String>,
    /// [access] passkeys: file of passkeys, one per line, or "backend" for the keys the storage
    /// backend keeps (`octotracker keys`); makes the tracker private.
    #[arg(long, env = "OCTOTRACKER_PASSKEYS")]
    pub passkeys: Option<String>,
    /// [access] client_allow: peer id prefix answered, repeatable (e.g. -qB).
    #[arg(long = "client-allow", env = "OCTOTRACKER_CLIENT_ALLOW", value_delimiter = ',', allow_hyphen_values = true)]
    pub client_allow: Vec<String>,
    /// [access] client_deny: peer id prefix refused, repeatable.
    #[arg(long = "client-deny", env = "OCTOTRACKER_CLIENT_DENY", value_delimiter = ',', allow_hyphen_values = true)]
    pub client_deny: Vec<String>,
    /// [access] reload_interval, seconds.
    #[arg(long = "access-reload-interval", env = "OCTOTRACKER_ACCESS_RELOAD_INTERVAL")]
    pub access_reload_interval: Option<u64>,

    /// [admin] listen: serve the admin API (JSON; stats, top torrents, keys, lists) on this address.
    #[arg(long = "admin", env = "OCTOTRACKER_ADMIN")]
    pub admin: Option<String>,

    /// [admin] token_file: file holding the admin API's bearer token.
    #[arg(long = "admin-token-file", env = "OCTOTRACKER_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<String>,

    /// [tls] https: serve the HTTP tracker over TLS on this address too, repeatable (needs
    /// --tls-cert and --tls-key).
    #[arg(long = "https", env = "OCTOTRACKER_HTTPS", value_delimiter = ',')]
    pub https: Vec<String>,
    /// [tls] cert: PEM file of the certificate chain, leaf first.
    #[arg(long = "tls-cert", env = "OCTOTRACKER_TLS_CERT")]
    pub tls_cert: Option<String>,
    /// [tls] key: PEM file of the certificate's private key.
    #[arg(long = "tls-key", env = "OCTOTRACKER_TLS_KEY")]
    pub tls_key: Option<String>,
    /// [tls] reload_interval, seconds between checks of the certificate files for a renewal.
    #[arg(long = "tls-reload-interval", env = "OCTOTRACKER_TLS_RELOAD_INTERVAL")]
    pub tls_reload_interval: Option<u64>,

    /// [metrics] listen: serve /metrics (Prometheus), /stats (JSON) and the status page (/) on this address.
    #[arg(long = "metrics", env = "OCTOTRACKER_METRICS")]
    pub metrics: Option<String>,

    /// [log] level, a tracing filter such as "info" or "octotracker_http=debug".
    #[arg(long = "log", env = "OCTOTRACKER_LOG")]
    pub log: Option<String>,
}

macro_rules! apply {
    ($src:expr => $dst:expr; $($field:ident),* $(,)?) => {
        $( if let Some(v) = $src.$field.clone() { $dst.$field = v; } )*
    };
}

impl ServeArgs {
    /// Lays the flags and environment over a configuration read from the file (or defaults).
    pub(crate) fn apply(&self, config: &mut Config) {
        if !self.http.is_empty() {
            config.http.listen = self.http.clone();
        }
        if !self.udp.is_empty() {
            config.udp.listen = self.udp.clone();
        }
        if let Some(workers) = self.udp_workers {
            config.udp.workers = workers;
        }
        if let Some(batch) = self.udp_batch {
            config.udp.batch = batch;
        }
        if let Some(reuse_port) = self.udp_reuse_port {
            config.udp.reuse_port = reuse_port;
        }
        if let Some(bytes) = self.udp_recv_buffer {
            config.udp.recv_buffer = bytes;
        }
        if !self.ws.is_empty() {
            config.ws.listen = self.ws.clone();
        }
        if let Some(n) = self.ws_max_connections {
            config.ws.max_connections = n;
        }
        if let Some(secs) = self.ws_max_interval {
            config.ws.max_interval = secs;
        }
        if let Some(n) = self.ws_rate_limit {
            config.ws.rate_limit = n;
        }
        if let Some(n) = self.ws_rate_limit_burst {
            config.ws.rate_limit_burst = n;
        }
        if !self.trusted_proxies.is_empty() {
            config.http.trusted_proxies = self.trusted_proxies.clone();
        }
        apply!(self => config.http; header_read_timeout, idle_timeout, drain_timeout, max_connections, defer_accept);
        // One flag protects every frontend; the file may set [http] and [udp] apart.
        apply!(self => config.http; rate_limit, rate_limit_burst);
        apply!(self => config.udp; rate_limit, rate_limit_burst);
        apply!(self => config.tracker; numwant_default, numwant_max, allow_non_compact, allow_scrape,
            scrape_max_hashes, allow_full_scrape, full_scrape_max, tracker_id, accept_ip_param, send_external_ip);
        if let Some(spec) = &self.interval {
            match spec.trim().parse::<u32>() {
                Ok(seconds) => config.interval.interval = seconds,
                Err(_) => config.interval.algorithm = spec.clone(),
            }
        }
        apply!(self => config.interval; min_interval, peer_timeout);
        apply!(self => config.storage; backend, expiry_interval, memory_shards);
        apply!(self => config.storage; postgres_pool_size, postgres_statement_timeout);
        apply!(self => config.storage; redis_prefix, redis_engine);
        apply!(self => config.storage; redis_event_stream, redis_event_stream_maxlen);
        if let Some(mode) = &self.access {
            config.access.mode = mode.clone();
        }
        apply!(self => config.access; torrents, allow_list, deny_list, passkeys);
        if !self.client_allow.is_empty() {
            config.access.client_allow = self.client_allow.clone();
        }
        if !self.client_deny.is_empty() {
            config.access.client_deny = self.client_deny.clone();
        }
        if let Some(secs) = self.access_reload_interval {
            config.access.reload_interval = secs;
        }
        if let Some(addr) = &self.admin {
            config.admin.listen = addr.clone();
        }
        if let Some(file) = &self.admin_token_file {
            config.admin.token_file = file.clone();
        }
        if !self.https.is_empty() {
            config.tls.https = self.https.clone();
        }
        if let Some(file) = &self.tls_cert {
            config.tls.cert = file.clone();
        }
        if let Some(file) = &self.tls_key {
            config.tls.key = file.clone();
        }
        if let Some(secs) = self.tls_reload_interval {
            config.tls.reload_interval = secs;
        }
        if let Some(addr) = &self.metrics {
            config.metrics.listen = addr.clone();
        }
        if let Some(level) = &self.log {
            config.log.level = level.clone();
        }
    }
}
