//! `octotracker load`, black box: the real binary serving on `127.0.0.1:0` (HTTP, and UDP with
//! `--udp 127.0.0.1:0`), driven by its own load generator closed-loop and open-loop; the
//! `--json` report is checked, and a non-loopback target must be refused. Everything talks to 127.0.0.1 only; every wait is bounded and the
//! server is killed when the test ends.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::octotracker;

/// The longest any process may take to start, run (2 s loads) and stop.
const DEADLINE: Duration = Duration::from_secs(30);

/// A server on 127.0.0.1:0; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `octotracker --http 127.0.0.1:0` and waits (bounded) for its `listening on` line.
    fn start() -> Server {
        Self::start_with(&["--http", "127.0.0.1:0"], "listening on http://")
    }

    /// Starts `octotracker --udp 127.0.0.1:0` (UDP only); `addr` is the UDP listener's.
    fn start_udp() -> Server {
        Self::start_with(&["--udp", "127.0.0.1:0"], "listening on udp://")
    }

    /// Starts `octotracker ARGS…` and waits (bounded) for the line with `marker` and an address.
    fn start_with(args: &[&str], marker: &str) -> Server {
        let child = octotracker().args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        // The guard first: a panic below still kills and reaps the server.
        let mut server = Server { child, addr: SocketAddr::from(([0, 0, 0, 0], 0)) };
        let (tx, rx) = mpsc::channel();
        let stderr = server.child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + DEADLINE;
        let mut log = Vec::new();
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|e| panic!("no `listening on` line ({e:?}): {log:#?}"));
            if let Some(rest) = line.split(marker).nth(1) {
                server.addr = rest.split_whitespace().next().unwrap().parse().unwrap();
                // Keep draining stderr so the server never blocks on a full pipe.
                thread::spawn(move || while rx.recv().is_ok() {});
                return server;
            }
            log.push(line);
        }
    }

    fn announce_url(&self) -> String {
        format!("http://{}/announce", self.addr)
    }

    fn udp_url(&self) -> String {
        format!("udp://{}/announce", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A finished run of the binary.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `octotracker ARGS…` to its end (bounded), collecting its output.
fn run(args: &[&str]) -> Outcome {
    let mut child = octotracker().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let collect = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("octotracker {args:?} did not exit within {DEADLINE:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Outcome { code: status.code(), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Runs a load that must succeed and returns its JSON report.
fn load_json(args: &[&str]) -> Value {
    let outcome = run(args);
    assert_eq!(outcome.code, Some(0), "{outcome:#?}");
    serde_json::from_str(&outcome.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {outcome:#?}"))
}

/// The checks every report must pass: requests, no errors, ordered percentiles, CPU measured.
fn assert_clean_report(report: &Value) {
    assert_clean_counts(report);
    let cpu = report["generator_cpu_seconds"].as_f64();
    assert!(cpu.is_some_and(|c| c > 0.0), "{report:#}");
}

/// [`assert_clean_report`] but the CPU time (a short run may use less than a clock tick).
fn assert_clean_counts(report: &Value) {
    let num = |path: &[&str]| {
        let v = path.iter().fold(report, |v, k| &v[k]);
        v.as_f64().unwrap_or_else(|| panic!("{path:?} is not a number in {report:#}"))
    };
    assert!(num(&["requests"]) > 0.0, "{report:#}");
    assert!(num(&["requests_per_second"]) > 0.0, "{report:#}");
    assert_eq!(num(&["errors", "total"]), 0.0, "{report:#}");
    for kind in ["connect", "timeout", "http_status", "failure_reason", "malformed_reply", "backlog", "io"] {
        assert_eq!(num(&["errors", kind]), 0.0, "{kind}: {report:#}");
    }
    let p: Vec<f64> = ["p50", "p90", "p99", "p999"].iter().map(|q| num(&["latency_ms", q])).collect();
    assert!(p[0] > 0.0 && p.windows(2).all(|w| w[0] <= w[1]), "percentiles out of order: {p:?}");
    assert!(num(&["generator_cpu_seconds"]) >= 0.0, "{report:#}");
    assert_eq!(num(&["announces"]) + num(&["scrapes"]), num(&["requests"]), "{report:#}");
}

#[test]
fn closed_loop_keep_alive_load_reports_clean_json() {
    let server = Server::start();
    let url = server.announce_url();
    let report = load_json(&[
        "load",
        &url,
        "--torrents",
        "50",
        "--peers",
        "400",
        "--connections",
        "4",
        "--duration",
        "2",
        "--json",
        "--scrape-ratio",
        "0.2",
        "--scrape-hashes",
        "3",
        "--session-announces",
        "2",
    ]);
    assert_clean_report(&report);
    assert_eq!(report["mode"], "closed-loop");
    assert_eq!(report["connections"], 4);
    assert_eq!(report["connections_opened"], 4, "keep-alive: one connection per worker: {report:#}");
    assert!(report["scrapes"].as_u64().unwrap() > 0);
    let events = &report["events"];
    for event in ["started", "regular", "completed", "stopped"] {
        assert!(events[event].as_u64().unwrap() > 0, "no {event} announce: {report:#}");
    }
}

#[test]
fn closed_loop_with_a_connection_per_request_opens_one_per_request() {
    let server = Server::start();
    let url = server.announce_url();
    let report = load_json(&[
        "load",
        &url,
        "--peers",
        "100",
        "--connections",
        "2",
        "--duration",
        "2",
        "--json",
        "--quiet",
        "--new-connection-per-request",
        "--max-requests",
        "300",
    ]);
    assert_clean_report(&report);
    assert_eq!(report["requests"], 300, "--max-requests bounds the run: {report:#}");
    assert_eq!(report["connections_opened"], report["requests"], "{report:#}");
}

#[test]
fn open_loop_load_holds_the_rate_without_errors() {
    let server = Server::start();
    let url = server.announce_url();
    let report = load_json(&["load", &url, "--rate", "200", "--connections", "4", "--duration", "2", "--json"]);
    assert_clean_report(&report);
    assert_eq!(report["mode"], "open-loop");
    assert_eq!(report["rate"], 200.0);
    // 200 req/s for 2 s: 400 intended sends (timer slack may shave one or two).
    let requests = report["requests"].as_u64().unwrap();
    assert!((390..=400).contains(&requests), "{requests} requests: {report:#}");
}

#[test]
fn non_loopback_targets_are_refused_with_exit_2() {
    for url in ["http://192.0.2.1:6969/announce", "http://[2001:db8::1]:6969/announce"] {
        let outcome = run(&["load", url, "--duration", "1", "--json"]);
        assert_eq!(outcome.code, Some(2), "{outcome:#?}");
        assert!(outcome.stderr.contains("--allow-remote"), "{outcome:#?}");
        assert!(outcome.stdout.is_empty(), "{outcome:#?}");
    }
    for url in ["udp://192.0.2.1:6969/announce", "udp://[2001:db8::1]:6969"] {
        let outcome = run(&["load", url, "--duration", "1", "--json"]);
        assert_eq!(outcome.code, Some(2), "{outcome:#?}");
        assert!(outcome.stderr.contains("--allow-remote"), "{outcome:#?}");
        assert!(outcome.stdout.is_empty(), "{outcome:#?}");
    }
    let https = run(&["load", "https://127.0.0.1:6969/announce"]);
    assert_eq!(https.code, Some(2), "{https:#?}");
    assert!(https.stderr.contains("https"), "{https:#?}");
}

#[test]
fn closed_loop_udp_load_reports_clean_json() {
    let server = Server::start_udp();
    let url = server.udp_url();
    let report = load_json(&[
        "load",
        &url,
        "--torrents",
        "50",
        "--peers",
        "400",
        "--connections",
        "4",
        "--duration",
        "2",
        "--json",
        "--numwant",
        "30",
        "--scrape-ratio",
        "0.2",
        "--scrape-hashes",
        "3",
        "--session-announces",
        "2",
    ]);
    assert_clean_report(&report);
    assert_eq!(report["mode"], "closed-loop");
    assert_eq!(report["scheme"], "udp");
    assert_eq!(report["connections_opened"], 4, "one socket per worker: {report:#}");
    assert_eq!(report["udp_connects"], 4, "one connect per worker in 2 s: {report:#}");
    assert!(report["scrapes"].as_u64().unwrap() > 0);
    let events = &report["events"];
    for event in ["started", "regular", "completed", "stopped"] {
        assert!(events[event].as_u64().unwrap() > 0, "no {event} announce: {report:#}");
    }
}

#[test]
fn udp_connect_every_n_requests_and_max_requests() {
    let server = Server::start_udp();
    let url = server.udp_url();
    let report = load_json(&[
        "load",
        &url,
        "--peers",
        "100",
        "--connections",
        "2",
        "--duration",
        "5",
        "--json",
        "--quiet",
        "--udp-connect-every",
        "10",
        "--max-requests",
        "300",
    ]);
    // 300 datagrams may take less CPU than one clock tick: CPU is checked by the other runs.
    assert_clean_counts(&report);
    assert_eq!(report["requests"], 300, "--max-requests bounds the run: {report:#}");
    // 300 requests over 2 workers, a connect before every 10th of each: 30 connects (±1 per
    // worker for how the budget splits).
    let connects = report["udp_connects"].as_u64().unwrap();
    assert!((30..=32).contains(&connects), "{connects} connects: {report:#}");
}

#[test]
fn open_loop_udp_load_holds_the_rate_without_errors() {
    let server = Server::start_udp();
    let url = server.udp_url();
    let report = load_json(&["load", &url, "--rate", "200", "--connections", "4", "--duration", "2", "--json"]);
    assert_clean_report(&report);
    assert_eq!(report["mode"], "open-loop");
    assert_eq!(report["scheme"], "udp");
    let requests = report["requests"].as_u64().unwrap();
    assert!((390..=400).contains(&requests), "{requests} requests: {report:#}");
}

#[test]
fn udp_only_options_are_refused_on_http_and_the_reverse() {
    let udp = run(&["load", "udp://127.0.0.1:9/announce", "--new-connection-per-request"]);
    assert_eq!(udp.code, Some(2), "{udp:#?}");
    assert!(udp.stderr.contains("--udp-connect-every"), "{udp:#?}");
    let http = run(&["load", "http://127.0.0.1:9/announce", "--udp-connect-every", "5"]);
    assert_eq!(http.code, Some(2), "{http:#?}");
    assert!(http.stderr.contains("udp://"), "{http:#?}");
}

#[test]
fn list_info_hashes_prints_the_population_deterministically() {
    let a = run(&["load", "--list-info-hashes", "--torrents", "25", "--seed", "9"]);
    let b = run(&["load", "--list-info-hashes", "--torrents", "25", "--seed", "9"]);
    let c = run(&["load", "--list-info-hashes", "--torrents", "25", "--seed", "10"]);
    assert_eq!(a.code, Some(0), "{a:#?}");
    let lines: Vec<&str> = a.stdout.lines().collect();
    assert_eq!(lines.len(), 25);
    assert!(lines.iter().all(|l| l.len() == 40 && l.bytes().all(|c| c.is_ascii_hexdigit())), "{lines:?}");
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

/// Peers in the only swarm of a one-torrent population (seed 1), by scraping it.
fn swarm_peers(server: &Server) -> u64 {
    let hash = run(&["load", "--list-info-hashes", "--torrents", "1"]).stdout.trim().to_owned();
    let scrape = run(&["scrape", &server.announce_url(), &hash, "--timeout", "10"]);
    assert_eq!(scrape.code, Some(0), "{scrape:#?}");
    let reply: Value = serde_json::from_str(&scrape.stdout).unwrap();
    let file = &reply["files"][&hash];
    file["complete"].as_u64().unwrap() + file["incomplete"].as_u64().unwrap()
}

#[test]
fn vanishing_peers_stay_in_the_swarm_as_new_peers_until_they_expire() {
    // 10 slots, sessions of `started` + one regular announce. With --vanish 1 no session says
    // `stopped` and, with --send-ip, each has an address of its own: a tracker that accepts
    // `ip` keeps every one of them (until its peer timeout, an hour by default).
    let args = |url: &str, vanish: &str| -> Vec<String> {
        ["load", url, "--torrents", "1", "--peers", "10", "--connections", "2", "--max-requests", "300"]
            .into_iter()
            .chain(["--session-announces", "1", "--send-ip", "--vanish", vanish, "--json"])
            .map(String::from)
            .collect()
    };
    let load = |url: &str, vanish: &str| load_json(&args(url, vanish).iter().map(String::as_str).collect::<Vec<_>>());
    let server = Server::start_with(&["--http", "127.0.0.1:0", "--accept-ip-param", "true"], "listening on http://");
    let report = load(&server.announce_url(), "1");
    assert_clean_counts(&report);
    assert_eq!(report["events"]["stopped"], 0, "{report:#}");
    let sessions = report["events"]["started"].as_u64().unwrap();
    assert!(sessions >= 140, "{report:#}");
    assert_eq!(swarm_peers(&server), sessions, "every silent session is still a peer: {report:#}");

    // The control: sessions that end with `stopped` leave at most one peer per slot.
    let server = Server::start_with(&["--http", "127.0.0.1:0", "--accept-ip-param", "true"], "listening on http://");
    let report = load(&server.announce_url(), "0");
    assert_clean_counts(&report);
    assert!(report["events"]["stopped"].as_u64().unwrap() > 50, "{report:#}");
    assert!(swarm_peers(&server) <= 10, "{report:#}");
}
