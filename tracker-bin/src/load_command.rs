//! `octotracker load`: drive an HTTP or UDP tracker with a simulated swarm population and report
//! requests/s, errors by kind, latency percentiles and the generator's own CPU time (see
//! `octotracker_client::load`). `--list-info-hashes` prints the population's info hashes instead.

use std::time::Duration;

use clap::Args;
use octotracker_client::load::{
    self, AnnounceOptions, LifecycleConfig, LoadConfig, LoadError, MAX_DURATION, MAX_POPULATION, Mode, Report, Scheme,
    Target,
};
use serde_json::{Map, Value, json};

use crate::Failure;

/// `octotracker load`
///
/// http:// or udp:// (BEP 15) trackers, or ws:// (WebTorrent: each connection one leecher that
/// announces with --numwant offers, 5 by default, and answers every offer relayed to it). Only loopback targets (127.0.0.0/8, ::1, localhost) unless --allow-remote. Every simulated
/// peer reaches the tracker from 127.0.0.1 and is told apart by its port (distinct within each
/// swarm); trackers ignore the `ip` parameter (--send-ip) unless configured to accept it.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// The announce URL, e.g. http://127.0.0.1:6969/announce (the scrape URL is derived from it)
    /// or udp://127.0.0.1:6969/announce (path and query sent as BEP 41 URL data).
    #[arg(required_unless_present = "list_info_hashes")]
    pub url: Option<String>,
    /// Torrents in the population (Zipf popularity).
    #[arg(long, default_value_t = 1000)]
    pub torrents: u32,
    /// Peers in the population (at least --connections).
    #[arg(long, default_value_t = 10_000)]
    pub peers: u32,
    /// Concurrent HTTP connections (udp://: sockets), one worker each, one request in flight each.
    #[arg(long, default_value_t = 16)]
    pub connections: u32,
    /// Seconds to run (at most 3600; fractions allowed).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Open loop: this many requests per second over all connections (default: closed loop, as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Share of requests that are scrapes, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    pub scrape_ratio: f64,
    /// A scrape names 1..=N torrents, drawn by popularity.
    #[arg(long, default_value_t = 1)]
    pub scrape_hashes: u32,
    /// ws:// only: every connection announces once (no offers) and then stays idle until
    /// --duration ends (for measuring a tracker's memory per idle WebSocket peer).
    #[arg(long)]
    pub idle: bool,
    /// Print one JSON object on stdout instead of the text summary.
    #[arg(long)]
    pub json: bool,
    /// Seed of the population and of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// numwant of each announce (default: the tracker's).
    #[arg(long)]
    pub numwant: Option<u32>,
    /// Open a connection for every request (Connection: close), as with trackers that close after each reply.
    #[arg(long)]
    pub new_connection_per_request: bool,
    /// udp:// only: a connect request before every N-th request of a worker (aquatic's
    /// connect/announce mix); default: connect only when the connection id is 60 s old or refused.
    #[arg(long)]
    pub udp_connect_every: Option<u32>,
    /// Allow a target that is not on this machine (only load trackers you operate).
    #[arg(long)]
    pub allow_remote: bool,
    /// Stop after this many requests.
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Zipf exponent of torrent popularity (0: uniform).
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// Share of sessions that start as seeders, 0..=1.
    #[arg(long, default_value_t = 0.3)]
    pub seeders: f64,
    /// Probability that a leecher sends `completed` during its session, 0..=1.
    #[arg(long, default_value_t = 0.5)]
    pub complete_probability: f64,
    /// Mean regular announces between `started` and `stopped`.
    #[arg(long, default_value_t = 10)]
    pub session_announces: u32,
    /// Share of sessions that end with no `stopped`, 0..=1: the peer falls silent and the slot
    /// rejoins at once as a new peer; with --send-ip each session has its own address, so the
    /// silent peer stays in the swarm until the tracker expires it (soak runs).
    #[arg(long, default_value_t = 0.0)]
    pub vanish: f64,
    /// Send each peer's fake 10.x.y.z address as `ip` (ignored unless the tracker accepts it).
    #[arg(long)]
    pub send_ip: bool,
    /// Seconds one request may take (at most 60).
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// Open loop: intended requests a connection may fall behind before the overdue ones count as backlog errors.
    #[arg(long, default_value_t = 16)]
    pub max_backlog: u32,
    /// Generator threads (default: half the cores, at least 1).
    #[arg(long)]
    pub threads: Option<u32>,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Print the population's info hashes (hex, one per line, most popular first) and exit:
    /// depends only on --torrents and --seed.
    #[arg(long)]
    pub list_info_hashes: bool,
}

/// Runs `octotracker load`.
pub(crate) fn run(args: LoadArgs) -> Result<(), Failure> {
    if args.list_info_hashes {
        return list_info_hashes(&args);
    }
    let url = args.url.as_deref().ok_or_else(|| Failure::Usage("load needs an announce url".into()))?;
    if url.starts_with("ws://") {
        return crate::ws_load::run(&args, url);
    }
    let config = config_of(&args)?;
    let target = Target::resolve(url, args.allow_remote).map_err(failure)?;
    if !args.quiet {
        eprintln!(
            "load: {} against {} ({}), {} connections{}, {} peers over {} torrents, {} s",
            config.mode.as_str(),
            url,
            target.addr,
            config.connections,
            if config.new_connection_per_request { " (one per request)" } else { "" },
            config.peers,
            config.torrents,
            config.duration.as_secs_f64()
        );
    }
    let quiet = args.quiet;
    let report = load::run(&config, &target, |p| {
        if !quiet {
            eprintln!("{p}");
        }
    })
    .map_err(failure)?;
    if args.json {
        println!("{}", report_json(&report, &config, url));
    } else {
        println!("{report}");
    }
    if report.stats.ok == 0 {
        return Err(Failure::Runtime(format!("no request succeeded ({} errors)", report.stats.errors.total())));
    }
    Ok(())
}

fn list_info_hashes(args: &LoadArgs) -> Result<(), Failure> {
    use std::io::Write;
    if !(1..=MAX_POPULATION).contains(&args.torrents) {
        return Err(Failure::Usage(format!("--torrents must be 1..={MAX_POPULATION}")));
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for hash in load::info_hashes(args.torrents, args.seed) {
        writeln!(out, "{hash}").map_err(|e| Failure::Runtime(format!("cannot write: {e}")))?;
    }
    out.flush().map_err(|e| Failure::Runtime(format!("cannot write: {e}")))
}

fn config_of(args: &LoadArgs) -> Result<LoadConfig, Failure> {
    let seconds = |flag: &str, s: f64, max: Duration| {
        if s.is_finite() && s > 0.0 && s <= max.as_secs_f64() {
            Ok(Duration::from_secs_f64(s))
        } else {
            Err(Failure::Usage(format!("{flag} must be more than 0 and at most {} seconds", max.as_secs())))
        }
    };
    let config = LoadConfig {
        torrents: args.torrents,
        peers: args.peers,
        zipf_exponent: args.zipf,
        seed: args.seed,
        lifecycle: LifecycleConfig {
            seeders: args.seeders,
            complete_probability: args.complete_probability,
            session_announces: args.session_announces,
            vanish_probability: args.vanish,
        },
        scrape_ratio: args.scrape_ratio,
        scrape_max_hashes: args.scrape_hashes,
        announce: AnnounceOptions { numwant: args.numwant, send_ip: args.send_ip },
        connections: args.connections,
        new_connection_per_request: args.new_connection_per_request,
        mode: args.rate.map_or(Mode::ClosedLoop, |rate| Mode::OpenLoop { rate }),
        max_backlog: args.max_backlog,
        duration: seconds("--duration", args.duration, MAX_DURATION)?,
        max_requests: args.max_requests,
        timeout: seconds("--timeout", args.timeout, load::MAX_TIMEOUT)?,
        threads: args.threads.unwrap_or_else(load::default_threads),
        udp_connect_every: args.udp_connect_every,
    };
    config.validate().map_err(failure)?;
    Ok(config)
}

fn failure(e: LoadError) -> Failure {
    if e.is_usage() { Failure::Usage(e.to_string()) } else { Failure::Runtime(e.to_string()) }
}

/// The `--json` object: `requests_per_second`, `errors`, `latency_ms`, `generator_cpu_seconds`
/// at the top, with the run's settings and details beside them.
fn report_json(r: &Report, config: &LoadConfig, url: &str) -> Value {
    let s = &r.stats;
    let mut errors: Map<String, Value> = s.errors.iter().map(|(k, n)| (k.as_str().to_owned(), json!(n))).collect();
    errors.insert("total".into(), json!(s.errors.total()));
    let reasons: Map<String, Value> = s.failure_reasons.iter().map(|(r, n)| (r.clone(), json!(n))).collect();
    let ms = |ns: u64| ns as f64 / 1e6;
    let rate = match r.mode {
        Mode::ClosedLoop => Value::Null,
        Mode::OpenLoop { rate } => json!(rate),
    };
    json!({
        "requests_per_second": r.requests_per_second(),
        "errors": errors,
        "latency_ms": {
            "p50": r.latency_ms(0.5),
            "p90": r.latency_ms(0.9),
            "p99": r.latency_ms(0.99),
            "p999": r.latency_ms(0.999),
            "min": ms(s.latency.min()),
            "max": ms(s.latency.max()),
            "mean": s.latency.mean() / 1e6,
        },
        "generator_cpu_seconds": r.cpu.map(|c| c.total().as_secs_f64()),
        "generator_cpu_user_seconds": r.cpu.map(|c| c.user.as_secs_f64()),
        "generator_cpu_system_seconds": r.cpu.map(|c| c.system.as_secs_f64()),
        "generator_cpu_us_per_request": r.cpu_us_per_request(),
        "url": url,
        "scheme": match r.scheme { Scheme::Http => "http", Scheme::Udp => "udp" },
        "mode": r.mode.as_str(),
        "rate": rate,
        "connections": r.connections,
        "new_connection_per_request": r.new_connection_per_request,
        "threads": r.threads,
        "duration_seconds": r.duration.as_secs_f64(),
        "requests": s.requests,
        "ok": s.ok,
        "ok_per_second": r.ok_per_second(),
        "announces": s.announces.total(),
        "events": {
            "started": s.announces.started,
            "regular": s.announces.regular,
            "completed": s.announces.completed,
            "stopped": s.announces.stopped,
        },
        "scrapes": s.scrapes,
        "failure_reasons": reasons,
        "connections_opened": s.connections_opened,
        "udp_connects": s.udp_connects,
        "population": {
            "torrents": config.torrents,
            "peers": config.peers,
            "zipf_exponent": config.zipf_exponent,
            "seed": config.seed,
            "seeders": config.lifecycle.seeders,
            "vanish": config.lifecycle.vanish_probability,
        },
    })
}
