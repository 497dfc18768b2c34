//! [`LoadConfig`]: everything a load run needs besides its target, with defaults and bounds.

use std::time::Duration;

use super::error::LoadError;
use super::lifecycle::LifecycleConfig;
use super::population::MAX_POPULATION;
use super::query::AnnounceOptions;

/// The longest run allowed.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The longest per-request timeout allowed (it also bounds how long a run outlasts its deadline).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// The most connections allowed.
pub const MAX_CONNECTIONS: u32 = 10_000;
/// The most hashes one scrape may name.
pub const MAX_SCRAPE_HASHES: u32 = 1000;

/// Closed loop (as fast as the connections go) or open loop (a fixed request rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Each connection sends its next request as soon as the previous reply is in.
    ClosedLoop,
    /// Requests are due at fixed intended times, `rate` per second over all connections.
    OpenLoop {
        /// Requests per second.
        rate: f64,
    },
}

impl Mode {
    /// `closed-loop` or `open-loop`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::ClosedLoop => "closed-loop",
            Mode::OpenLoop { .. } => "open-loop",
        }
    }
}

/// The settings of a load run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Torrents in the population.
    pub torrents: u32,
    /// Peers in the population (at least one per connection).
    pub peers: u32,
    /// The Zipf exponent of torrent popularity (0 is uniform).
    pub zipf_exponent: f64,
    /// Seeds the population and every worker's choices.
    pub seed: u64,
    /// How peer sessions unfold.
    pub lifecycle: LifecycleConfig,
    /// Share of requests that are scrapes, `0.0..=1.0`.
    pub scrape_ratio: f64,
    /// A scrape names `1..=scrape_max_hashes` torrents, drawn by popularity.
    pub scrape_max_hashes: u32,
    /// `numwant` and `ip` of announces.
    pub announce: AnnounceOptions,
    /// Concurrent connections (one worker each).
    pub connections: u32,
    /// Open a new connection for every request (`Connection: close`) instead of keeping one alive.
    pub new_connection_per_request: bool,
    /// Closed or open loop.
    pub mode: Mode,
    /// Open loop: intended requests a connection may fall behind its schedule; beyond that the
    /// overdue ones are dropped and counted as `backlog` errors.
    pub max_backlog: u32,
    /// How long the run lasts.
    pub duration: Duration,
    /// Stop after this many requests.
    pub max_requests: Option<u64>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Generator threads, each with its own single-threaded runtime (at most `connections`).
    pub threads: u32,
    /// `udp://` only: send a connect request before every N-th request (announces and scrapes)
    /// of a worker, the connect/announce mix of aquatic's load test; `None`: connect only when
    /// the connection id is about to expire (every 60 s) or is refused.
    pub udp_connect_every: Option<u32>,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            torrents: 1000,
            peers: 10_000,
            zipf_exponent: 1.0,
            seed: 1,
            lifecycle: LifecycleConfig::default(),
            scrape_ratio: 0.0,
            scrape_max_hashes: 1,
            announce: AnnounceOptions::default(),
            connections: 16,
            new_connection_per_request: false,
            mode: Mode::ClosedLoop,
            max_backlog: 16,
            duration: Duration::from_secs(10),
            max_requests: None,
            timeout: Duration::from_secs(5),
            threads: default_threads(),
            udp_connect_every: None,
        }
    }
}

/// Half the machine's cores, at least one: the tracker under test runs on the same host.
pub fn default_threads() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores.div_ceil(2)).unwrap_or(1).max(1)
}

impl LoadConfig {
    /// Checks every bound; the message names the flag of `octotracker load`.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |msg: String| Err(LoadError::Config(msg));
        let fraction = |x: f64| (0.0..=1.0).contains(&x);
        if !(1..=MAX_POPULATION).contains(&self.torrents) {
            return bad(format!("--torrents must be 1..={MAX_POPULATION}"));
        }
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return bad(format!("--connections must be 1..={MAX_CONNECTIONS}"));
        }
        if self.peers < self.connections || self.peers > MAX_POPULATION {
            return bad(format!(
                "--peers must be at least --connections ({}) and at most {MAX_POPULATION}",
                self.connections
            ));
        }
        if !self.zipf_exponent.is_finite() || self.zipf_exponent < 0.0 {
            return bad("--zipf must be a finite exponent ≥ 0".into());
        }
        if !fraction(self.lifecycle.seeders) || !fraction(self.lifecycle.complete_probability) {
            return bad("--seeders and --complete-probability must be within 0..=1".into());
        }
        if !fraction(self.lifecycle.vanish_probability) {
            return bad("--vanish must be within 0..=1".into());
        }
        if self.lifecycle.session_announces == 0 || self.lifecycle.session_announces > 1_000_000 {
            return bad("--session-announces must be 1..=1000000".into());
        }
        if !fraction(self.scrape_ratio) {
            return bad("--scrape-ratio must be within 0..=1".into());
        }
        if !(1..=MAX_SCRAPE_HASHES).contains(&self.scrape_max_hashes) {
            return bad(format!("--scrape-hashes must be 1..={MAX_SCRAPE_HASHES}"));
        }
        if let Mode::OpenLoop { rate } = self.mode
            && !(rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0)
        {
            return bad("--rate must be a positive number of requests per second, at most 10000000".into());
        }
        if self.max_backlog == 0 {
            return bad("--max-backlog must be at least 1".into());
        }
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            return bad(format!("--duration must be more than 0 and at most {} seconds", MAX_DURATION.as_secs()));
        }
        if self.max_requests == Some(0) {
            return bad("--max-requests must be at least 1".into());
        }
        if self.timeout.is_zero() || self.timeout > MAX_TIMEOUT {
            return bad(format!("--timeout must be more than 0 and at most {} seconds", MAX_TIMEOUT.as_secs()));
        }
        if self.threads == 0 {
            return bad("--threads must be at least 1".into());
        }
        if self.udp_connect_every == Some(0) {
            return bad("--udp-connect-every must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        LoadConfig::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_settings_name_their_flag() {
        type Change = fn(&mut LoadConfig);
        let cases: [(&str, Change); 8] = [
            ("--duration", |c| c.duration = Duration::from_secs(3601)),
            ("--duration", |c| c.duration = Duration::ZERO),
            ("--peers", |c| c.peers = 3),
            ("--rate", |c| c.mode = Mode::OpenLoop { rate: 0.0 }),
            ("--scrape-ratio", |c| c.scrape_ratio = 1.5),
            ("--seeders", |c| c.lifecycle.seeders = -0.1),
            ("--vanish", |c| c.lifecycle.vanish_probability = f64::NAN),
            ("--max-requests", |c| c.max_requests = Some(0)),
        ];
        for (flag, change) in cases {
            let mut config = LoadConfig::default();
            change(&mut config);
            let err = config.validate().unwrap_err();
            assert!(err.to_string().contains(flag), "{flag}: {err}");
        }
    }
}
