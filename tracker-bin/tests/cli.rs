//! The `octotracker` binary, black box: the real executable serving on `127.0.0.1:0` / `[::1]:0`,
//! found through the `listening on http://ADDR` lines it logs, and driven by its own `announce`
//! and `scrape` commands. Every wait is bounded; every server is killed when its test ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::octotracker;

/// The longest any process may take to start, answer or stop.
const DEADLINE: Duration = Duration::from_secs(20);

/// What "promptly" means for a shutdown (the default drain timeout is 10 s).
const PROMPTLY: Duration = Duration::from_secs(5);

const HASH_A: &str = "abababababababababababababababababababab";
const HASH_B: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

/// Sends the lines a pipe yields to a channel, until the pipe closes.
fn forward_lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for a child to exit; kills it and fails the test past `within`.
fn wait_bounded(child: &mut Child, within: Duration) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("child can be polled") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("octotracker did not exit within {within:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A finished run of the binary.
#[derive(Debug)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// The stdout as JSON.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// Runs the binary to its end (bounded), collecting its output.
fn run(cmd: &mut Command) -> Outcome {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("octotracker starts");
    let collect = |pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(pipe).read_to_string(&mut text);
            text
        })
    };
    let stdout = collect(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = collect(Box::new(child.stderr.take().expect("piped stderr")));
    let status = wait_bounded(&mut child, DEADLINE);
    Outcome { code: status.code(), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Runs `octotracker ARGS…` to its end.
fn octotracker_run(args: &[&str]) -> Outcome {
    run(octotracker().args(args))
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    stderr: mpsc::Receiver<String>,
    /// The stderr lines read so far.
    log: Vec<String>,
    /// The addresses of the `listening on http://…` lines, in order.
    http: Vec<SocketAddr>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `cmd` and waits (bounded) until it has logged `listeners` listening lines.
    fn start(cmd: &mut Command, listeners: usize) -> Server {
        let mut server = Server::spawn(cmd);
        server.await_listening(listeners);
        server
    }

    /// Starts `cmd` without waiting for anything.
    fn spawn(cmd: &mut Command) -> Server {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("octotracker starts");
        let stderr = forward_lines(child.stderr.take().expect("piped stderr"));
        Server { child, stderr, log: Vec::new(), http: Vec::new() }
    }

    /// Reads stderr (bounded) until `listeners` listening lines have appeared.
    fn await_listening(&mut self, listeners: usize) {
        let deadline = Instant::now() + DEADLINE;
        while self.http.len() < listeners {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.split("listening on http://").nth(1) {
                        let addr = addr.split_whitespace().next().unwrap_or_default();
                        self.http.push(addr.parse().unwrap_or_else(|_| panic!("bad address in {line:?}")));
                    }
                    self.log.push(line);
                }
                Err(e) => panic!("no {listeners} listening lines ({e:?}); stderr so far: {:#?}", self.log),
            }
        }
    }

    /// `octotracker --http 127.0.0.1:0 ARGS…` with one listener.
    fn serve(args: &[&str]) -> Server {
        Server::start(octotracker().args(["--http", "127.0.0.1:0"]).args(args), 1)
    }

    /// The announce URL of listener `i`.
    fn announce_url(&self, i: usize) -> String {
        format!("http://{}/announce", self.http[i])
    }

    /// Sends SIGNAL (`TERM`, `INT`) and waits (bounded) for the exit; returns the status and how
    /// long the exit took.
    fn signal(&mut self, signal: &str) -> (ExitStatus, Duration) {
        let sent = Instant::now();
        let kill = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        assert!(kill.expect("kill runs").success(), "kill -{signal} failed");
        let status = wait_bounded(&mut self.child, DEADLINE);
        (status, sent.elapsed())
    }

    /// The rest of stderr after the process ended (bounded).
    fn remaining_log(&mut self) -> Vec<String> {
        let deadline = Instant::now() + DEADLINE;
        while let Ok(line) = self.stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            self.log.push(line);
        }
        self.log.clone()
    }
}

/// `octotracker announce URL --info-hash HASH --port PORT EXTRA…`.
fn announce(url: &str, hash: &str, port: u16, extra: &[&str]) -> Outcome {
    let port = port.to_string();
    let args = ["announce", url, "--info-hash", hash, "--port", &port, "--timeout", "10"];
    run(octotracker().args(args).args(extra))
}

/// An announce that must succeed: its JSON.
fn announce_ok(url: &str, hash: &str, port: u16, extra: &[&str]) -> Value {
    let outcome = announce(url, hash, port, extra);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    outcome.json()
}

/// The `peers` of an announce's JSON, sorted.
fn peers(reply: &Value) -> Vec<String> {
    let mut out: Vec<String> = reply["peers"]
        .as_array()
        .unwrap_or_else(|| panic!("no peers list in {reply}"))
        .iter()
        .map(|p| p.as_str().expect("peers are strings").to_owned())
        .collect();
    out.sort();
    out
}

/// A file in the test's temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, contents: &str) -> TempFile {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("temp file written");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `--print-config`: the commented defaults, as a file the binary reads back.
mod print_config {
    use super::*;

    #[test]
    fn prints_toml_with_every_section_and_the_default_values() {
        let outcome = octotracker_run(&["--print-config"]);
        assert_eq!(outcome.code, Some(0), "{outcome:?}");
        let config: toml::Table = toml::from_str(&outcome.stdout).expect("the printed config is TOML");
        let sections: Vec<_> = config.keys().map(String::as_str).collect();
        assert_eq!(
            sections,
            ["access", "admin", "http", "interval", "log", "metrics", "storage", "tls", "tracker", "udp", "ws"]
        );
        assert_eq!(config["tls"]["https"].as_array().map(Vec::len), Some(0), "no HTTPS listener by default");
        assert_eq!(config["ws"]["listen"].as_array().map(Vec::len), Some(0), "no WebSocket tracker by default");
        assert_eq!(config["metrics"]["listen"].as_str(), Some(""), "metrics are off by default");
        assert_eq!(config["admin"]["listen"].as_str(), Some(""), "the admin API is off by default");
        assert_eq!(config["interval"]["interval"].as_integer(), Some(2700));
        assert_eq!(config["interval"]["min_interval"].as_integer(), Some(600));
        assert_eq!(config["tracker"]["numwant_default"].as_integer(), Some(50));
        assert_eq!(config["storage"]["backend"].as_str(), Some("memory"));
    }

    #[test]
    fn fed_back_with_config_starts_a_server() {
        let printed = octotracker_run(&["--print-config"]).stdout;
        let file = TempFile::new("printed.toml", &printed);
        let server = Server::serve(&["--config", file.path()]);
        let reply = announce_ok(&server.announce_url(0), HASH_A, 7001, &[]);
        assert_eq!((reply["interval"].as_i64(), reply["min_interval"].as_i64()), (Some(2700), Some(600)));
    }
}

/// Serving, seen through the `announce` and `scrape` commands.
mod serving {
    use super::*;

    #[test]
    fn listens_on_every_http_address_and_each_answers() {
        let server = Server::start(octotracker().args(["--http", "127.0.0.1:0", "--http", "[::1]:0"]), 2);
        assert!(server.http[0].is_ipv4() && server.http[1].is_ipv6(), "{:?}", server.http);
        for i in 0..2 {
            let reply = announce_ok(&server.announce_url(i), HASH_A, 7001 + i as u16, &[]);
            assert_eq!(reply["interval"], 2700, "listener {i}: {reply}");
            assert_eq!(reply["min_interval"], 600, "listener {i}");
            assert_eq!((reply["complete"].as_i64(), reply["incomplete"].as_i64()), (Some(0), Some(i as i64 + 1)));
            assert_eq!(peers(&reply), Vec::<String>::new(), "listener {i}: no peer of its own family yet");
        }
    }

    #[test]
    fn listen_addresses_can_come_from_the_environment_comma_separated() {
        let server = Server::start(octotracker().env("OCTOTRACKER_HTTP", "127.0.0.1:0,[::1]:0"), 2);
        assert!(server.http[0].is_ipv4() && server.http[1].is_ipv6(), "{:?}", server.http);
    }

    #[test]
    fn announces_from_two_ports_see_each_other() {
        let server = Server::serve(&[]);
        let url = server.announce_url(0);
        let first = announce_ok(&url, HASH_A, 7001, &[]);
        assert!(peers(&first).is_empty());
        let second = announce_ok(&url, HASH_A, 7002, &[]);
        assert_eq!(peers(&second), ["127.0.0.1:7001"]);
        assert_eq!(second["incomplete"], 2);
        let again = announce_ok(&url, HASH_A, 7001, &[]);
        assert_eq!(peers(&again), ["127.0.0.1:7002"]);
    }

    #[test]
    fn ipv6_peers_are_listed_in_brackets() {
        let server = Server::start(octotracker().args(["--http", "[::1]:0"]), 1);
        let url = server.announce_url(0);
        announce_ok(&url, HASH_A, 7001, &[]);
        let reply = announce_ok(&url, HASH_A, 7002, &[]);
        assert_eq!(peers(&reply), ["[::1]:7001"]);
        assert_eq!(reply["external_ip"], "::1");
    }

    #[test]
    fn scrape_prints_files_keyed_by_hex_hash() {
        let server = Server::serve(&[]);
        let url = server.announce_url(0);
        announce_ok(&url, HASH_A, 7001, &["--left", "0"]);
        announce_ok(&url, HASH_A, 7002, &["--left", "100"]);
        let outcome = octotracker_run(&["scrape", &url, HASH_A, HASH_B, "--timeout", "10"]);
        assert_eq!(outcome.code, Some(0), "{outcome:?}");
        let files = &outcome.json()["files"];
        assert_eq!(files[HASH_A], serde_json::json!({"complete": 1, "incomplete": 1, "downloaded": 0}));
        assert_eq!(files[HASH_B], serde_json::json!({"complete": 0, "incomplete": 0, "downloaded": 0}));
        assert_eq!(files.as_object().map(|f| f.len()), Some(2));
    }

    #[test]
    fn a_tracker_failure_prints_failure_reason_and_exits_1() {
        let server = Server::serve(&["--allow-scrape", "false", "--allow-non-compact", "false"]);
        let url = server.announce_url(0);
        let scrape = octotracker_run(&["scrape", &url, HASH_A, "--timeout", "10"]);
        assert_eq!(scrape.code, Some(1), "{scrape:?}");
        assert_eq!(scrape.json()["failure_reason"], "scrape is disabled on this tracker");
        let announce = announce(&url, HASH_A, 7001, &["--no-compact"]);
        assert_eq!(announce.code, Some(1), "{announce:?}");
        assert_eq!(
            announce.json()["failure_reason"],
            "non-compact replies are disabled on this tracker: use compact=1"
        );
    }

    #[test]
    fn an_unreachable_tracker_exits_1() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let outcome = announce(&format!("http://127.0.0.1:{port}/announce"), HASH_A, 7001, &[]);
        assert_eq!(outcome.code, Some(1), "{outcome:?}");
        assert!(outcome.stderr.contains("http request failed"), "{outcome:?}");
    }

    #[test]
    fn client_command_usage_errors_exit_2() {
        let cases: [(&[&str], &str); 3] = [
            (&["announce", "http://127.0.0.1:1/announce", "--info-hash", "xyz"], "invalid --info-hash"),
            (&["scrape", "http://127.0.0.1:1/announce", "nothex"], "invalid info hash \"nothex\""),
            (&["scrape", "http://127.0.0.1:1/somewhere", HASH_A], "cannot derive a scrape url"),
        ];
        for (args, message) in cases {
            let outcome = octotracker_run(args);
            assert_eq!(outcome.code, Some(2), "{args:?}: {outcome:?}");
            assert!(outcome.stderr.contains(message), "{args:?}: {outcome:?}");
        }
    }
}

/// Stopping: SIGTERM and SIGINT end the server with exit code 0, without waiting for the drain
/// timeout when nothing is in flight.
mod intervals {
    use super::*;

    /// Swarm-scaled intervals reach the client: a swarm of one peer is under the first step
    /// (10 minutes), a swarm of three is past it (1 hour); min interval is a quarter of each.
    #[test]
    fn swarm_scaled_intervals_grow_with_the_swarm_in_replies() {
        let server = Server::serve(&["--interval", "swarm,steps=3:10m/1h"]);
        let url = server.announce_url(0);
        let first = announce_ok(&url, HASH_A, 7001, &[]);
        assert_eq!((first["interval"].as_i64(), first["min_interval"].as_i64()), (Some(600), Some(150)), "{first}");
        announce_ok(&url, HASH_A, 7002, &[]);
        let third = announce_ok(&url, HASH_A, 7003, &[]);
        assert_eq!((third["interval"].as_i64(), third["min_interval"].as_i64()), (Some(3600), Some(900)), "{third}");
        // Another swarm of one is still on the short interval.
        assert_eq!(announce_ok(&url, HASH_B, 7001, &[])["interval"], 600);
    }

    /// Jitter spreads intervals within ±PCT of the algorithm's.
    #[test]
    fn jittered_static_intervals_stay_within_the_spread() {
        let server = Server::serve(&["--interval", "static,interval=1000,min=100,jitter=20"]);
        let url = server.announce_url(0);
        let seen: Vec<i64> = (0..8)
            .map(|k| announce_ok(&url, HASH_A, 7001 + k, &[])["interval"].as_i64().expect("an interval"))
            .collect();
        assert!(seen.iter().all(|i| (800..=1200).contains(i)), "{seen:?}");
        assert!(seen.iter().any(|i| *i != seen[0]), "eight replies, all {}: no spread", seen[0]);
    }

    /// A plain number keeps its old meaning: the static interval.
    #[test]
    fn a_number_is_the_static_interval() {
        let server = Server::serve(&["--interval", "1800"]);
        let reply = announce_ok(&server.announce_url(0), HASH_A, 7001, &[]);
        assert_eq!((reply["interval"].as_i64(), reply["min_interval"].as_i64()), (Some(1800), Some(600)));
    }
}

mod shutdown {
    use super::*;

    #[test]
    fn sigterm_and_sigint_exit_0_promptly() {
        for signal in ["TERM", "INT"] {
            let mut server = Server::serve(&[]);
            let (status, took) = server.signal(signal);
            assert_eq!(status.code(), Some(0), "SIG{signal}: {:#?}", server.remaining_log());
            assert!(took < PROMPTLY, "SIG{signal} took {took:?}");
            let log = server.remaining_log();
            assert!(log.iter().any(|l| l.contains("shutting down")), "SIG{signal}: {log:#?}");
        }
    }

    /// A shell blocked on its stdin that signals `pid` with its built-in `kill` the moment a
    /// line arrives: no fork or exec between the cue and the signal.
    struct ArmedKill(Child);

    impl ArmedKill {
        fn new(pid: u32, signal: &str) -> ArmedKill {
            let script = r#"read _ && kill -s "$1" "$0""#;
            let child = Command::new("sh")
                .args(["-c", script, &pid.to_string(), signal])
                .stdin(Stdio::piped())
                .spawn()
                .expect("sh starts");
            ArmedKill(child)
        }

        fn fire(mut self) {
            self.0.stdin.take().expect("piped stdin").write_all(b"\n").expect("cue written");
            assert!(wait_bounded(&mut self.0, DEADLINE).success(), "kill failed");
        }
    }

    /// The signal handlers are in place before the first `listening on` line: a supervisor that
    /// signals (SIGTERM, or SIGINT as ctrl-c does) the moment it reads that line still gets a
    /// clean exit, also while every core is busy (spinning threads deschedule the server at
    /// awkward moments).
    #[test]
    fn a_signal_sent_as_soon_as_listening_is_logged_is_not_missed() {
        let busy = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        let spinners: Vec<_> = (0..cores * 2)
            .map(|_| {
                let busy = busy.clone();
                thread::spawn(move || {
                    while busy.load(std::sync::atomic::Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        for signal in ["TERM", "INT"] {
            for attempt in 0..20 {
                let mut server = Server::spawn(octotracker().args(["--http", "127.0.0.1:0"]));
                let kill = ArmedKill::new(server.child.id(), signal);
                server.await_listening(1);
                kill.fire();
                let status = wait_bounded(&mut server.child, DEADLINE);
                let log = server.remaining_log();
                assert_eq!(status.code(), Some(0), "SIG{signal}, attempt {attempt}: {status:?}, {log:#?}");
            }
        }
        busy.store(false, std::sync::atomic::Ordering::Relaxed);
        for spinner in spinners {
            spinner.join().expect("a spinner");
        }
    }

    #[test]
    fn open_idle_connections_do_not_hold_up_sigterm() {
        let mut server = Server::serve(&[]);
        let addr = server.http[0];
        let mut used = TcpStream::connect_timeout(&addr, DEADLINE).expect("connects");
        used.set_read_timeout(Some(DEADLINE)).unwrap();
        let request = format!("GET /scrape?info_hash={} HTTP/1.1\r\nHost: t\r\n\r\n", "%AB".repeat(20));
        used.write_all(request.as_bytes()).unwrap();
        let mut first = [0u8; 12];
        used.read_exact(&mut first).expect("a reply");
        assert_eq!(&first, b"HTTP/1.1 200");
        let _fresh = TcpStream::connect_timeout(&addr, DEADLINE).expect("connects");
        let (status, took) = server.signal("TERM");
        assert_eq!(status.code(), Some(0));
        assert!(took < PROMPTLY, "SIGTERM took {took:?} with idle connections open");
    }
}

/// Operator mistakes: exit code 2, a message naming the mistake, and nothing served.
mod operator_errors {
    use super::*;

    fn assert_usage_error(outcome: &Outcome, message: &str) {
        assert_eq!(outcome.code, Some(2), "{outcome:?}");
        assert!(outcome.stderr.contains(message), "expected {message:?} in {outcome:?}");
        assert!(!outcome.stderr.contains("listening on"), "something listened: {outcome:?}");
    }

    #[test]
    fn an_unknown_flag_exits_2() {
        assert_usage_error(&octotracker_run(&["--no-such-flag"]), "--no-such-flag");
    }

    #[test]
    fn a_config_file_with_an_unknown_key_exits_2_naming_the_key() {
        let file = TempFile::new("unknown-key.toml", "[tracker]\nnumwant_maximum = 3\n");
        let outcome = octotracker_run(&["--config", file.path(), "--http", "127.0.0.1:0"]);
        assert_usage_error(&outcome, "numwant_maximum");
        assert!(outcome.stderr.contains(file.path()), "the message names the file: {outcome:?}");
    }

    #[test]
    fn a_missing_config_file_exits_2() {
        let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-no-such-config.toml");
        let outcome = octotracker_run(&["--config", missing.to_str().unwrap(), "--http", "127.0.0.1:0"]);
        assert_usage_error(&outcome, "cannot read config");
    }

    #[test]
    fn a_bad_listen_address_exits_2_before_anything_listens() {
        for bad in ["localhost:6969", "127.0.0.1:99999", "127.0.0.1"] {
            let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--http", bad]);
            assert_usage_error(&outcome, &format!("invalid listen address \"{bad}\""));
        }
    }

    #[test]
    fn a_busy_port_exits_2_with_a_clear_message() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = busy.local_addr().unwrap().to_string();
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--http", &addr]);
        assert_usage_error(&outcome, &format!("cannot listen on {addr}"));
        assert!(outcome.stderr.to_lowercase().contains("in use"), "{outcome:?}");
    }

    #[test]
    fn a_bad_interval_algorithm_exits_2_naming_the_parameter() {
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--interval", "swarm,steps=100:30x/1h"]);
        assert_usage_error(&outcome, "invalid value `100:30x/1h` for `steps`");
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--interval", "load"]);
        assert_usage_error(&outcome, "load needs `target`");
    }

    #[test]
    fn a_timeout_too_long_for_the_clock_exits_2_naming_it() {
        // 2^63 seconds: before the bound, the server started and then panicked on every connection
        // while arming the header-read timer.
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--header-read-timeout", "9223372036854775807"]);
        assert_usage_error(&outcome, "header_read_timeout must be at most 31536000 seconds (a year)");
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--expiry-interval", "31536001"]);
        assert_usage_error(&outcome, "expiry_interval must be at most");
    }

    #[test]
    fn inconsistent_intervals_exit_2() {
        let outcome = octotracker_run(&["--http", "127.0.0.1:0", "--interval", "4000"]);
        assert_usage_error(&outcome, "peer timeout (3000s) must exceed interval (4000s)");
    }

    #[test]
    fn a_bad_environment_value_exits_2_quoting_it() {
        let cases = [
            ("OCTOTRACKER_NUMWANT_MAX", "lots", "--numwant-max"),
            ("OCTOTRACKER_ALLOW_SCRAPE", "maybe", "--allow-scrape"),
        ];
        for (var, value, flag) in cases {
            let outcome = run(octotracker().args(["--http", "127.0.0.1:0"]).env(var, value));
            assert_usage_error(&outcome, &format!("'{value}'"));
            assert!(outcome.stderr.contains(flag), "{var}: {outcome:?}");
        }
    }
}

/// Where a setting comes from: flag > `OCTOTRACKER_*` environment > config file > default.
mod precedence {
    use super::*;

    /// One source of a setting.
    #[derive(Debug, Clone, Copy)]
    enum Source {
        File(&'static str),
        Env(&'static str, &'static str),
        Flag(&'static str, &'static str),
    }
    use Source::{Env, File, Flag};

    /// Starts a server with these sources; returns it and the config file it reads (if any).
    fn serve_from(name: &str, sources: &[Source]) -> (Server, Option<TempFile>) {
        let mut cmd = octotracker();
        cmd.args(["--http", "127.0.0.1:0"]);
        let mut file = None;
        for source in sources {
            match source {
                File(text) => {
                    let f = TempFile::new(&format!("{name}.toml"), text);
                    cmd.args(["--config", f.path()]);
                    file = Some(f);
                }
                Env(var, value) => {
                    cmd.env(var, value);
                }
                Flag(flag, value) => {
                    cmd.args([flag, value]);
                }
            }
        }
        (Server::start(&mut cmd, 1), file)
    }

    #[test]
    fn interval_flag_beats_environment_beats_file_beats_default() {
        let file = File("[interval]\ninterval = 1000\n");
        let env = Env("OCTOTRACKER_INTERVAL", "1200");
        let flag = Flag("--interval", "1500");
        let rows: [(&str, Vec<Source>, i64); 4] = [
            ("default", vec![], 2700),
            ("file", vec![file], 1000),
            ("file+env", vec![file, env], 1200),
            ("file+env+flag", vec![file, env, flag], 1500),
        ];
        for (name, sources, expected) in rows {
            let (server, _file) = serve_from(&format!("interval-{name}"), &sources);
            let reply = announce_ok(&server.announce_url(0), HASH_A, 7001, &[]);
            assert_eq!(reply["interval"], expected, "{name}");
        }
    }

    #[test]
    fn numwant_max_flag_beats_environment_beats_file() {
        // numwant_default must not exceed numwant_max, so the file lowers both.
        let file = File("[tracker]\nnumwant_default = 1\nnumwant_max = 1\n");
        let env = Env("OCTOTRACKER_NUMWANT_MAX", "2");
        let flag = Flag("--numwant-max", "3");
        let rows: [(&str, Vec<Source>, usize); 3] =
            [("file", vec![file], 1), ("file+env", vec![file, env], 2), ("file+env+flag", vec![file, env, flag], 3)];
        for (name, sources, expected) in rows {
            let (server, _file) = serve_from(&format!("numwant-{name}"), &sources);
            let url = server.announce_url(0);
            for port in 7001..=7004 {
                announce_ok(&url, HASH_A, port, &["--numwant", "0"]);
            }
            let reply = announce_ok(&url, HASH_A, 7005, &["--numwant", "10"]);
            assert_eq!(peers(&reply).len(), expected, "{name}: {reply}");
            assert_eq!(reply["incomplete"], 5, "{name}");
        }
    }

    #[test]
    fn the_config_file_can_be_named_by_the_environment() {
        let file = TempFile::new("env-config.toml", "[interval]\ninterval = 1111\n");
        let server =
            Server::start(octotracker().args(["--http", "127.0.0.1:0"]).env("OCTOTRACKER_CONFIG", file.path()), 1);
        assert_eq!(announce_ok(&server.announce_url(0), HASH_A, 7001, &[])["interval"], 1111);
    }
}
