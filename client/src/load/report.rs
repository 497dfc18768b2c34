//! [`Report`]: the outcome of a load run, and [`Progress`], the per-second snapshot.

use std::fmt;
use std::time::Duration;

use super::config::Mode;
use super::cpu::CpuTime;
use super::stats::Stats;
use super::target::Scheme;

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Closed or open loop.
    pub mode: Mode,
    /// HTTP or UDP.
    pub scheme: Scheme,
    /// Connections (workers).
    pub connections: u32,
    /// Whether each request had a connection of its own.
    pub new_connection_per_request: bool,
    /// Generator threads.
    pub threads: u32,
    /// From the start to the last reply.
    pub duration: Duration,
    /// Everything the workers counted, merged.
    pub stats: Stats,
    /// CPU time the generator process used during the run; `None` off Linux.
    pub cpu: Option<CpuTime>,
}

impl Report {
    /// Requests finished (any outcome but backlog) per second.
    pub fn requests_per_second(&self) -> f64 {
        per_second(self.stats.requests, self.duration)
    }

    /// Successful requests per second.
    pub fn ok_per_second(&self) -> f64 {
        per_second(self.stats.ok, self.duration)
    }

    /// The latency at quantile `q`, milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        self.stats.latency.value_at_quantile(q) as f64 / 1e6
    }

    /// The generator's CPU time per finished request, microseconds.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.stats.requests > 0).then(|| cpu.total().as_secs_f64() * 1e6 / self.stats.requests as f64)
    }
}

fn per_second(n: u64, d: Duration) -> f64 {
    if d.is_zero() { 0.0 } else { n as f64 / d.as_secs_f64() }
}

impl fmt::Display for Report {
    /// A human summary, several lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        let conn = match self.scheme {
            Scheme::Udp => "udp",
            Scheme::Http if self.new_connection_per_request => "a new connection per request",
            Scheme::Http => "keep-alive",
        };
        let rate = match self.mode {
            Mode::ClosedLoop => String::new(),
            Mode::OpenLoop { rate } => format!(" at {rate} req/s"),
        };
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        writeln!(
            f,
            "{}{rate}, {} connection{} ({conn}), {} thread{}, {:.2} s",
            self.mode.as_str(),
            self.connections,
            plural(self.connections),
            self.threads,
            plural(self.threads),
            self.duration.as_secs_f64()
        )?;
        writeln!(
            f,
            "requests:  {} ({:.0} req/s), {} ok ({:.0}/s)",
            s.requests,
            self.requests_per_second(),
            s.ok,
            self.ok_per_second()
        )?;
        let a = &s.announces;
        writeln!(
            f,
            "announces: {} (started {}, regular {}, completed {}, stopped {}); scrapes: {}",
            a.total(),
            a.started,
            a.regular,
            a.completed,
            a.stopped,
            s.scrapes
        )?;
        write!(f, "errors:    {}", s.errors.total())?;
        for (kind, n) in s.errors.iter().filter(|(_, n)| *n > 0) {
            write!(f, ", {} {n}", kind.as_str())?;
        }
        writeln!(f)?;
        for (reason, n) in &s.failure_reasons {
            writeln!(f, "  failure reason ×{n}: {reason}")?;
        }
        writeln!(
            f,
            "latency:   p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
            self.latency_ms(0.5),
            self.latency_ms(0.9),
            self.latency_ms(0.99),
            self.latency_ms(0.999),
            s.latency.max() as f64 / 1e6
        )?;
        write!(f, "generator: ")?;
        match (self.cpu, self.cpu_us_per_request()) {
            (Some(cpu), per) => write!(
                f,
                "{:.2} s CPU (user {:.2}, system {:.2}), {:.1} µs per request",
                cpu.total().as_secs_f64(),
                cpu.user.as_secs_f64(),
                cpu.system.as_secs_f64(),
                per.unwrap_or(0.0)
            )?,
            (None, _) => write!(f, "CPU time unavailable")?,
        }
        match self.scheme {
            Scheme::Http => write!(f, ", {} connections opened", s.connections_opened),
            Scheme::Udp => write!(f, ", {} sockets opened, {} connect requests", s.connections_opened, s.udp_connects),
        }
    }
}

/// A snapshot while the run goes on, about once a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Since the start.
    pub elapsed: Duration,
    /// Requests finished so far.
    pub requests: u64,
    /// Errors so far.
    pub errors: u64,
    /// Requests per second over the last interval.
    pub recent_rate: f64,
}

impl fmt::Display for Progress {
    /// One line: `[  3s]  61234 req/s  total 183702  errors 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>4.0}s] {:>9.0} req/s  total {}  errors {}",
            self.elapsed.as_secs_f64(),
            self.recent_rate,
            self.requests,
            self.errors
        )
    }
}
