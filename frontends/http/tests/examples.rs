//! The embedding examples as real processes: each is started on `127.0.0.1:0`, its address read
//! from its `listening on http://ADDR` line, and driven with our own client through the paths an
//! embedding app serves the tracker at (`/tracker/announce`, `/tracker/scrape`).
//!
//! The examples are built by `cargo test` before the tests run (`axum_embed` needs the `axum`
//! feature, as this test does); they are found next to this test's binary, in
//! `target/<profile>/examples/`. (`cargo test --test examples` alone does not rebuild them: run
//! the package's whole test suite, or `cargo build --examples --all-features` first.) Every wait is bounded by [`DEADLINE`]; children are killed
//! when dropped.

#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;

use octotracker_client::{ClientError, HttpTrackerClient, Reply, parse_announce_reply};
use octotracker_core::{AnnounceRequest, Event};
use support::{DEADLINE, addrs, hash, leecher, seeder, v4};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running example; dropping it kills the process.
struct Example {
    child: Child,
    addr: SocketAddr,
    client: HttpTrackerClient,
}

impl Example {
    /// Starts the compiled example `name` on `127.0.0.1:0` and waits (bounded) for its
    /// `listening on http://ADDR` line.
    async fn start(name: &str) -> Example {
        let path = example_binary(name);
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        let read = tokio::time::timeout(DEADLINE, BufReader::new(stdout).read_line(&mut line)).await;
        read.unwrap_or_else(|_| panic!("{name} printed nothing within {DEADLINE:?}")).expect("stdout read");
        let addr = line
            .trim_end()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{name} printed {line:?}, not `listening on http://ADDR`"));
        Example { child, addr, client: HttpTrackerClient::new().with_timeout(DEADLINE) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn announce(&self, req: &AnnounceRequest) -> octotracker_client::AnnounceReply {
        match self.client.announce(&self.url("/tracker/announce"), req).await.expect("announce answered") {
            Reply::Ok(reply) => reply,
            Reply::Failure { reason, .. } => panic!("announce refused: {reason}"),
        }
    }

    /// `GET path?query`: the body of a 200, or the client's error.
    async fn get(&self, path: &str, query: &str) -> Result<Vec<u8>, ClientError> {
        self.client.get(&self.url(path), query).await.map(|body| body.to_vec())
    }

    /// The failure reason of an announce with this query.
    async fn announce_failure(&self, query: &str) -> String {
        let body = self.get("/tracker/announce", query).await.expect("a 200 reply");
        match parse_announce_reply(&body).expect("a bencoded reply") {
            Reply::Failure { reason, .. } => reason,
            Reply::Ok(reply) => panic!("announce with {query:?} accepted: {reply:?}"),
        }
    }

    /// Sends SIGINT (what ctrl-c sends) and waits (bounded) for a clean exit.
    async fn interrupt(mut self) {
        let pid = self.child.id().expect("the example is running").to_string();
        let status = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
        assert!(status.success(), "kill -INT {pid} failed");
        let exit = tokio::time::timeout(DEADLINE, self.child.wait()).await;
        let exit = exit.unwrap_or_else(|_| panic!("still running {DEADLINE:?} after ctrl-c")).expect("wait");
        assert!(exit.success(), "exit status after ctrl-c: {exit}");
    }
}

/// `target/<profile>/examples/<name>`, which `cargo build --examples` leaves (`cargo test` builds
/// examples only as test harnesses named `<name>-<hash>`). This test runs as
/// `target/<profile>/deps/examples-<hash>`.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "example {name} is not built at {}: run scripts/test.sh, or `cargo build -p octotracker-http --examples` \
         before the tests (`cargo test --all-targets` compiles examples only as test harnesses)",
        path.display()
    );
    path
}

/// The same specification for every example.
macro_rules! an_embedding_example {
    ($name:ident) => {
        mod $name {
            use super::*;

            async fn start() -> Example {
                Example::start(stringify!($name)).await
            }

            #[tokio::test]
            async fn announces_and_scrapes_through_the_nested_paths() {
                let app = start().await;
                let reply = app.announce(&seeder(hash(1), 7001)).await;
                assert_eq!((reply.complete, reply.incomplete), (Some(1), Some(0)));
                assert_eq!(reply.external_ip, Some(v4(0).ip()));
                let scrape = app.client.scrape(&app.url("/tracker/scrape"), &[hash(1), hash(2)]).await;
                let Reply::Ok(scrape) = scrape.expect("scrape answered") else { panic!("scrape refused") };
                assert_eq!(scrape.get(&hash(1)).map(|f| (f.complete, f.incomplete)), Some((1, 0)));
                assert_eq!(scrape.get(&hash(2)).map(|f| (f.complete, f.incomplete)), Some((0, 0)));
            }

            /// The peers' addresses came through the connection (ConnectInfo or RemoteAddr).
            #[tokio::test]
            async fn lets_two_peers_see_each_other() {
                let app = start().await;
                let first = app.announce(&leecher(hash(1), 7001)).await;
                assert!(first.peers.is_empty());
                let second = app.announce(&leecher(hash(1), 7002)).await;
                assert_eq!(addrs(&second.peers), [v4(7001)]);
                let again = app.announce(&leecher(hash(1), 7001)).await;
                assert_eq!(addrs(&again.peers), [v4(7002)]);
                let stopped = app.announce(&AnnounceRequest { event: Event::Stopped, ..leecher(hash(1), 7002) }).await;
                assert_eq!(stopped.incomplete, Some(1));
            }

            #[tokio::test]
            async fn still_answers_the_apps_own_routes() {
                let app = start().await;
                assert_eq!(app.get("/hello", "").await.expect("hello answered"), b"hello from the app\n");
            }

            #[tokio::test]
            async fn answers_404_to_unknown_paths() {
                let app = start().await;
                for path in ["/tracker/x", "/tracker/announce/x", "/tracker", "/announce", "/scrape", "/nowhere"] {
                    match app.get(path, "").await {
                        Err(ClientError::Status { status: 404, .. }) => {}
                        other => panic!("{path}: expected 404, got {other:?}"),
                    }
                }
            }

            #[tokio::test]
            async fn gives_failure_reasons_to_bad_requests() {
                let app = start().await;
                // (query, failure reason)
                let table = [
                    ("", "missing info_hash"),
                    ("port=6881", "missing info_hash"),
                    (
                        "info_hash=short&peer_id=-OT0001-000000000001&port=1&left=0",
                        "invalid info_hash: expected 20 bytes, got 5",
                    ),
                ];
                for (query, reason) in table {
                    assert_eq!(app.announce_failure(query).await, reason, "{query:?}");
                }
                let body = app.get("/tracker/scrape", "").await.expect("a 200 reply");
                let reason = match octotracker_client::parse_scrape_reply(&body).expect("bencode") {
                    Reply::Failure { reason, .. } => reason,
                    Reply::Ok(reply) => panic!("full scrape answered: {reply:?}"),
                };
                assert_eq!(reason, "missing info_hash: full scrape is disabled on this tracker");
            }

            #[tokio::test]
            async fn stops_cleanly_on_ctrl_c_with_idle_keep_alive_connections() {
                let app = start().await;
                app.announce(&leecher(hash(1), 7001)).await;
                app.interrupt().await;
            }
        }
    };
}

an_embedding_example!(axum_embed);
an_embedding_example!(hyper_embed);

/// The axum example serves one registry: the app's own metric and the tracker's, moving with
/// the traffic.
mod axum_embed_metrics {
    use super::*;

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
            .map(|v| v.trim().parse().unwrap_or_else(|_| panic!("bad value for {series}: {v:?}")))
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    }

    #[tokio::test]
    async fn one_registry_shows_app_and_tracker_metrics() {
        let app = Example::start("axum_embed").await;
        app.get("/hello", "").await.expect("hello answered");
        app.announce(&seeder(hash(1), 7001)).await;
        app.announce(&leecher(hash(1), 7002)).await;
        let text = String::from_utf8(app.get("/metrics", "").await.expect("metrics answered")).expect("utf-8");
        assert_eq!(sample(&text, "app_hello_requests_total"), 1.0);
        assert_eq!(sample(&text, "octotracker_announces_total{event=\"none\",outcome=\"ok\"}"), 2.0);
        assert_eq!(sample(&text, "octotracker_torrents"), 1.0);
        assert_eq!(sample(&text, "octotracker_seeders"), 1.0);
        assert_eq!(sample(&text, "octotracker_leechers"), 1.0);
        let timed = "octotracker_request_duration_seconds_count{frontend=\"http\",request=\"announce\"}";
        assert_eq!(sample(&text, timed), 2.0);
    }

    /// The status page mounts under a prefix of the app's choosing, with its JSON beside it.
    #[tokio::test]
    async fn the_status_page_mounts_under_a_prefix() {
        let app = Example::start("axum_embed").await;
        app.announce(&seeder(hash(1), 7001)).await;
        let page = String::from_utf8(app.get("/status/", "").await.expect("page answered")).expect("utf-8");
        assert_eq!(page, octotracker_metrics::STATUS_PAGE);
        assert!(page.contains("fetch(\"status.json\""), "the page asks for its JSON relative to itself");
        let json = app.get("/status/status.json", "").await.expect("status.json answered");
        let status: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
        assert_eq!((status["backend"].as_str(), status["torrents"].as_u64()), (Some("memory"), Some(1)));
        assert_eq!(status["top_torrents"][0]["info_hash"].as_str().map(str::len), Some(40));
    }
}

/// Ctrl-c the instant an example says it listens: a supervisor (or a user's script) may send
/// SIGINT as soon as it reads `listening on …`, so the handler must exist before that line is
/// printed. A shell reads the example's stdout directly and signals it the moment the line
/// arrives (no round trip through this test), many times per example, with every core kept
/// busy by spinning threads so that the example is descheduled at awkward moments.
mod ctrl_c_as_soon_as_listening {
    use std::io::{BufRead, BufReader as StdBufReader};
    use std::process::{Command as StdCommand, ExitStatus};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use super::*;

    const ATTEMPTS: usize = 20;

    /// Threads spinning on every core until dropped.
    struct CpuLoad {
        stop: Arc<AtomicBool>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    impl CpuLoad {
        fn start() -> CpuLoad {
            let stop = Arc::new(AtomicBool::new(false));
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let threads = (0..cores * 2)
                .map(|_| {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let mut x = 0u64;
                        while !stop.load(Ordering::Relaxed) {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    })
                })
                .collect();
            CpuLoad { stop, threads }
        }
    }

    impl Drop for CpuLoad {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            for thread in self.threads.drain(..) {
                let _ = thread.join();
            }
        }
    }

    /// Waits for `child`, at most [`DEADLINE`] (polling its status: a bound, not a readiness wait).
    fn wait_bounded(child: &mut std::process::Child, what: &str) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if started.elapsed() > DEADLINE {
                let _ = child.kill();
                panic!("{what} still running {DEADLINE:?} after ctrl-c");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn interrupted_at_once(name: &str) {
        let _load = CpuLoad::start();
        for attempt in 0..ATTEMPTS {
            let mut example = StdCommand::new(example_binary(name))
                .arg("127.0.0.1:0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
            let stdout = example.stdout.take().expect("stdout is piped");
            // The shell's stdin is the example's stdout: it signals as soon as the line is in,
            // then passes the line on for the check below.
            let script = r#"read -r line && kill -s INT "$0" && printf '%s\n' "$line""#;
            let mut kill = StdCommand::new("sh")
                .args(["-c", script, &example.id().to_string()])
                .stdin(Stdio::from(stdout))
                .stdout(Stdio::piped())
                .spawn()
                .expect("sh starts");
            let status = wait_bounded(&mut example, name);
            let mut line = String::new();
            StdBufReader::new(kill.stdout.take().expect("piped")).read_line(&mut line).expect("the shell's output");
            assert!(wait_bounded(&mut kill, "the kill").success(), "attempt {attempt}: the kill failed");
            assert!(line.starts_with("listening on http://"), "attempt {attempt}: {name} printed {line:?}");
            assert!(status.success(), "attempt {attempt}: {name} exited with {status} after ctrl-c");
        }
    }

    #[test]
    fn axum_embed_exits_0() {
        interrupted_at_once("axum_embed");
    }

    #[test]
    fn hyper_embed_exits_0() {
        interrupted_at_once("hyper_embed");
    }
}
