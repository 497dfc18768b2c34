//! The swarm simulator and load generator behind `octotracker load`.
//!
//! ```text
//!  Population::build(T, P, zipf, seed)   T info hashes, P peer slots: torrent by Zipf popularity,
//!        │                               distinct port within each swarm, fake 10.x.y.z address
//!        ▼
//!  driver::run                           peer slot i → worker i mod C; worker w → thread w mod N
//!        │                               (one single-threaded tokio runtime per generator thread)
//!        ▼
//!  Worker (one per connection)           next request: a scrape (scrape ratio, 1..=N hashes by
//!        │                               popularity) or the next peer's Lifecycle step, written
//!        │                               into a reused RequestTarget buffer
//!        ▼
//!  Transport                             http://: Connection, hyper client::conn::http1 over a
//!        │                               TcpStream (nodelay), keep-alive and reopened when
//!        │                               closed, or one per request;
//!        │                               udp://: UdpConnection, one connected UDP socket and a
//!        │                               BEP 15 connection id (renewed every 60 s, when refused,
//!        │                               or every N requests), replies matched by transaction id
//!        ▼
//!  check::{check_announce, check_scrape, ok / failure reason (HTTP `failure reason`, UDP error
//!   check_udp_announce, check_udp_scrape} packet) / malformed → Stats + Histogram
//!        │
//!        ▼
//!  Report                                req/s, errors by kind, p50/p90/p99/p99.9, generator CPU
//! ```
//!
//! - **Population**: [`Population`], [`info_hashes`] (what `--list-info-hashes` prints),
//!   [`peer_id`]. Every simulated peer reaches the tracker from 127.0.0.1, so the *port* is what
//!   keeps peers of one swarm apart (trackers identify a peer by address + port). Each peer also
//!   has a fake `10.0.0.0/8` address, sent as `ip` only on request: trackers ignore `ip` unless
//!   configured to accept it (octotracker: `accept_ip_param`).
//! - **Lifecycle** ([`Lifecycle`]): `started`, regular announces, `completed` once for the
//!   leechers that finish, `stopped`; then the slot rejoins as a new peer (new peer id) with
//!   `started`, so the population size stays stable. With a vanish share (`--vanish`) some
//!   sessions end with no `stopped`: the slot's next announce starts a new peer at once, and the
//!   silent one (a new address each session when `ip` is sent) is left for the tracker to
//!   expire, so a soak's population keeps turning over.
//! - **Closed loop** ([`Mode::ClosedLoop`]): each connection sends as fast as replies come back:
//!   maximum throughput.
//! - **Open loop** ([`Mode::OpenLoop`]): requests at fixed intended times, latency measured from
//!   them (no coordinated omission), a bounded backlog per connection (overflow counted as
//!   `backlog` errors): latency at a given load. See `open_loop.rs`.
//! - **Measurements**: [`Histogram`] (log-linear, merged across workers), [`ErrorKind`],
//!   [`CpuTime`] of the generator itself, all gathered in a [`Report`].
//! - **UDP** (`udp://HOST:PORT[/path]`): the same population, lifecycle, loops and report; each
//!   request is a BEP 15 packet (announces carry the URL's path and query as BEP 41 URL data,
//!   `numwant` as `--numwant` says, -1 otherwise); one request in flight per worker; a reply
//!   lost past the timeout counts as a `timeout` error. See `udp.rs`.
//! - **Safety**: [`Target::resolve`] refuses any host that is not loopback unless told otherwise;
//!   runs are bounded in time ([`MAX_DURATION`]) and optionally in requests.
//!
//! ```no_run
//! use octotracker_client::load::{LoadConfig, Target, run};
//! let target = Target::resolve("http://127.0.0.1:6969/announce", false)?;
//! let report = run(&LoadConfig::default(), &target, |p| eprintln!("{p}"))?;
//! println!("{report}");
//! # Ok::<(), octotracker_client::load::LoadError>(())
//! ```

mod check;
mod config;
mod connection;
mod cpu;
mod driver;
mod error;
mod histogram;
mod lifecycle;
mod open_loop;
mod population;
mod query;
mod report;
mod stats;
mod target;
mod udp;
mod worker;
mod zipf;

pub use config::{LoadConfig, MAX_CONNECTIONS, MAX_DURATION, MAX_SCRAPE_HASHES, MAX_TIMEOUT, Mode, default_threads};
pub use cpu::CpuTime;
pub use driver::run;
pub use error::LoadError;
pub use histogram::Histogram;
pub use lifecycle::{Lifecycle, LifecycleConfig, Step, TORRENT_SIZE};
pub use population::{FIRST_PORT, MAX_POPULATION, Population, SimPeer, info_hash, info_hashes, peer_id};
pub use query::{AnnounceOptions, RequestTarget};
pub use report::{Progress, Report};
pub use stats::{ErrorCounts, ErrorKind, EventCounts, Stats};
pub use target::{Scheme, Target, is_loopback};
pub use udp::RENEW_AFTER as UDP_RENEW_AFTER;
pub use zipf::Zipf;
