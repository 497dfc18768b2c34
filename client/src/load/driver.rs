//! [`run`]: builds the population, splits it over the workers, runs the workers on generator
//! threads (one single-threaded tokio runtime each, like wrk's event loops), reports progress,
//! stops at the deadline, merges the counts.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use octotracker_core::udp_wire::MAX_SCRAPE_HASHES as UDP_MAX_SCRAPE_HASHES;

use super::config::{LoadConfig, Mode};
use super::connection::Connection;
use super::cpu::CpuTime;
use super::error::LoadError;
use super::lifecycle::Lifecycle;
use super::open_loop::{self, Schedule};
use super::population::{Population, SimPeer};
use super::report::{Progress, Report};
use super::stats::{Live, Stats};
use super::target::{Scheme, Target};
use super::udp::UdpConnection;
use super::worker::{Plan, Transport, Worker};
use super::zipf::Zipf;

/// One worker's peers.
type Peers = Vec<(SimPeer, Lifecycle)>;

/// What a generator thread hands back: its merged stats and when its last worker ended.
type ThreadResult = Result<(Stats, Instant), String>;

/// Runs the load described by `config` against `target`, blocking the calling thread until the
/// run ends (the deadline, the request budget) and calling `on_progress` about once a second.
///
/// Threads: `config.threads` generator threads plus the caller's. Bounded in time: the run ends
/// at most one request timeout after `config.duration`.
pub fn run(config: &LoadConfig, target: &Target, mut on_progress: impl FnMut(&Progress)) -> Result<Report, LoadError> {
    config.validate()?;
    if config.scrape_ratio > 0.0 && target.scrape_prefix.is_none() {
        return Err(LoadError::Config(format!(
            "--scrape-ratio needs a scrape url, and {:?} has no `announce` path segment to derive it from",
            target.url
        )));
    }
    if target.scheme == Scheme::Udp {
        if config.new_connection_per_request {
            return Err(LoadError::Config(
                "--new-connection-per-request is for http:// targets; for udp:// see --udp-connect-every".into(),
            ));
        }
        if config.scrape_ratio > 0.0 && config.scrape_max_hashes as usize > UDP_MAX_SCRAPE_HASHES {
            return Err(LoadError::Config(format!(
                "--scrape-hashes must be at most {UDP_MAX_SCRAPE_HASHES} for a udp:// target (one datagram)"
            )));
        }
    } else if config.udp_connect_every.is_some() {
        return Err(LoadError::Config("--udp-connect-every is for udp:// targets".into()));
    }
    let population = Population::build(config.torrents, config.peers, config.zipf_exponent, config.seed)
        .ok_or_else(|| LoadError::Config("invalid population".into()))?;
    let zipf = Zipf::new(u64::from(config.torrents), config.zipf_exponent)
        .ok_or_else(|| LoadError::Config("invalid --zipf".into()))?;
    let plan = Arc::new(Plan {
        info_hashes: population.info_hashes,
        zipf,
        scheme: target.scheme,
        announce_prefix: target.announce_prefix.clone(),
        scrape_prefix: (config.scrape_ratio > 0.0).then(|| target.scrape_prefix.clone()).flatten(),
        lifecycle: config.lifecycle,
        announce: config.announce,
        scrape_ratio: config.scrape_ratio,
        scrape_max_hashes: config.scrape_max_hashes,
        timeout: config.timeout,
        seed: config.seed,
    });
    let live = Arc::new(Live::new(config.max_requests));
    let connections = config.connections;
    let threads = config.threads.min(connections);

    // Peer slot i belongs to worker i mod C; worker w runs on thread w mod threads.
    let mut peers: Vec<Peers> = (0..connections).map(|_| Vec::new()).collect();
    for p in population.peers {
        peers[(p.index % connections) as usize].push((p, Lifecycle::new()));
    }
    let mut per_thread: Vec<Vec<(u32, Peers)>> = (0..threads).map(|_| Vec::new()).collect();
    for (w, worker_peers) in (0..connections).zip(peers) {
        per_thread[(w % threads) as usize].push((w, worker_peers));
    }

    let cpu_before = CpuTime::of_this_process();
    let gate = Arc::new(StartGate::default());
    let (tx, rx) = mpsc::channel::<ThreadResult>();
    let mut handles = Vec::new();
    for (t, workers) in per_thread.into_iter().enumerate() {
        let thread = GeneratorThread {
            workers,
            plan: Arc::clone(&plan),
            live: Arc::clone(&live),
            target: target.clone(),
            config: config.clone(),
            gate: Arc::clone(&gate),
        };
        let tx = tx.clone();
        let spawned = std::thread::Builder::new().name(format!("octotracker-load-{t}")).spawn(move || {
            let _ = tx.send(thread.run());
        });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                // Release the threads already started into a stopped run.
                live.stop.store(true, std::sync::atomic::Ordering::Relaxed);
                gate.open(Instant::now());
                for h in handles {
                    let _ = h.join();
                }
                return Err(LoadError::Runtime(format!("cannot start a generator thread: {e}")));
            }
        }
    }
    drop(tx);

    let start = Instant::now();
    gate.open(start);
    let results = supervise(&rx, &live, start, config.duration, threads as usize, &mut on_progress);
    for h in handles {
        let _ = h.join();
    }
    let cpu = match (cpu_before, CpuTime::of_this_process()) {
        (Some(before), Some(after)) => Some(after.since(&before)),
        _ => None,
    };

    let mut stats = Stats::default();
    let mut end = start;
    for r in &results {
        match r {
            Ok((s, e)) => {
                stats.merge(s);
                end = end.max(*e);
            }
            Err(e) => return Err(LoadError::Runtime(e.clone())),
        }
    }
    if results.len() < threads as usize {
        return Err(LoadError::Runtime("a generator thread panicked".into()));
    }
    Ok(Report {
        mode: config.mode,
        scheme: target.scheme,
        connections,
        new_connection_per_request: config.new_connection_per_request,
        threads,
        duration: end.duration_since(start),
        stats,
        cpu,
    })
}

/// Waits for the generator threads, printing progress every second and raising the stop flag at
/// the deadline.
fn supervise(
    rx: &mpsc::Receiver<ThreadResult>,
    live: &Live,
    start: Instant,
    duration: Duration,
    threads: usize,
    on_progress: &mut impl FnMut(&Progress),
) -> Vec<ThreadResult> {
    use std::sync::atomic::Ordering::Relaxed;
    let deadline = start + duration;
    let mut results = Vec::with_capacity(threads);
    let mut next_tick = start + Duration::from_secs(1);
    let mut last = (start, 0u64);
    while results.len() < threads {
        let now = Instant::now();
        let stopped = live.stopped();
        if !stopped && now >= deadline {
            live.stop.store(true, Relaxed);
        }
        let wake = if live.stopped() { next_tick } else { next_tick.min(deadline) };
        match rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(r) => results.push(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if now >= next_tick {
            let requests = live.requests.load(Relaxed);
            let interval = now.duration_since(last.0).as_secs_f64();
            let recent_rate = if interval > 0.0 { (requests - last.1) as f64 / interval } else { 0.0 };
            on_progress(&Progress {
                elapsed: now.duration_since(start),
                requests,
                errors: live.errors.load(Relaxed),
                recent_rate,
            });
            last = (now, requests);
            while next_tick <= now {
                next_tick += Duration::from_secs(1);
            }
        }
    }
    results
}

/// What one generator thread runs: its workers on a single-threaded runtime.
struct GeneratorThread {
    workers: Vec<(u32, Peers)>,
    plan: Arc<Plan>,
    live: Arc<Live>,
    target: Target,
    config: LoadConfig,
    gate: Arc<StartGate>,
}

/// Holds the generator threads until the start time is set, so that all begin together.
#[derive(Debug, Default)]
struct StartGate {
    start: Mutex<Option<Instant>>,
    opened: Condvar,
}

impl StartGate {
    fn open(&self, start: Instant) {
        *self.start.lock().unwrap_or_else(|e| e.into_inner()) = Some(start);
        self.opened.notify_all();
    }

    fn wait(&self) -> Instant {
        let mut start = self.start.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *start {
                return s;
            }
            start = self.opened.wait(start).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl GeneratorThread {
    fn run(self) -> ThreadResult {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let start = tokio::time::Instant::from_std(self.gate.wait());
        let runtime = runtime.map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
        let end = start + self.config.duration;
        let config = &self.config;
        let (plan, live, target) = (&self.plan, &self.live, &self.target);
        runtime.block_on(async move {
            let mut tasks = Vec::with_capacity(self.workers.len());
            for (index, peers) in self.workers {
                let conn = match target.scheme {
                    Scheme::Http => Transport::Http(
                        Connection::new(target.addr, &target.host, config.new_connection_per_request)
                            .ok_or_else(|| format!("{:?} is not a valid Host header", target.host))?,
                    ),
                    Scheme::Udp => {
                        // Each worker has its own socket: any first transaction id will do.
                        let first_tid = index.wrapping_mul(0x9e37_79b9) ^ (config.seed as u32);
                        Transport::Udp(UdpConnection::new(target.addr, config.udp_connect_every, first_tid))
                    }
                };
                let worker = Worker::new(index, Arc::clone(plan), Arc::clone(live), peers, conn);
                tasks.push(match config.mode {
                    Mode::ClosedLoop => tokio::spawn(worker.run_closed()),
                    Mode::OpenLoop { rate } => {
                        let schedule = Schedule::new(start, end, rate, config.connections, index, config.max_backlog);
                        tokio::spawn(open_loop::run(worker, schedule))
                    }
                });
            }
            let mut stats = Stats::default();
            let mut last = start;
            for task in tasks {
                let (s, e) = task.await.map_err(|e| format!("a load worker failed: {e}"))?;
                stats.merge(&s);
                last = last.max(e);
            }
            Ok((stats, last.into_std()))
        })
    }
}
