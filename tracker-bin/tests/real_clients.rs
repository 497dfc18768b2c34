//! End to end with two real, different BitTorrent clients on 127.0.0.1.
//!
//! A python3-libtorrent seeder holds a random file; an aria2c leecher starts
//! with an empty directory. DHT, peer exchange, local service discovery, UPnP
//! and NAT-PMP are off in both, and the `.torrent` names only our tracker, so
//! the only way the leecher can learn where the seeder is, is an announce to
//! the `octotracker` binary answered with a (BEP 23 compact) peer list. The
//! test passes when the leecher's copy is byte-identical to the original and
//! the tracker then exits cleanly on SIGTERM.
//!
//! A second run does the same with a multi-file, private torrent made by `octotracker torrent
//! create` instead of libtorrent: libtorrent must compute the same v1 info hash, seed it, and
//! aria2 must download every file intact.
//!
//! A fourth run announces over https only (`--https`, a throwaway CA): aria2 trusts it through
//! `--ca-certificate`, libtorrent through OpenSSL's `SSL_CERT_FILE`, both verifying the
//! certificate.
//!
//! Needs Debian's `aria2` and `python3-libtorrent`: `scripts/test.sh`
//! installs them. Every child process is killed on the way out, pass or fail,
//! and the whole test is bounded by [`DEADLINE`].

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod tls_support;

/// Upper bound for the whole test, tracker start to clean tracker exit.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long the tracker may take to report its listening address.
const TRACKER_STARTUP: Duration = Duration::from_secs(10);
/// Not a multiple of the piece size, so the last piece is a short one.
const PAYLOAD_LEN: usize = 5 * 1024 * 1024 + 12_345;
const PAYLOAD_NAME: &str = "payload.bin";
/// Debian's interpreter, the one python3-libtorrent is installed for.
const PYTHON: &str = "/usr/bin/python3";
const LIBTORRENT_PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/libtorrent_peer.py");
const INSTALL_HINT: &str = "run scripts/test.sh, which installs the Debian packages aria2 and python3-libtorrent";

#[test]
fn aria2_downloads_from_a_libtorrent_seeder_found_only_through_the_tracker() {
    require_real_clients();
    let deadline = Instant::now() + DEADLINE;
    let dir = TempDir::create();

    let (mut tracker, tracker_addr, _) = start_tracker(&dir, &[], deadline);
    let announce_url = format!("http://{tracker_addr}/announce");

    let seed_dir = dir.subdir("seed");
    let original = random_bytes(PAYLOAD_LEN);
    fs::write(seed_dir.join(PAYLOAD_NAME), &original).expect("write the payload");
    let torrent = dir.path().join("payload.torrent");
    make_torrent(&seed_dir.join(PAYLOAD_NAME), &announce_url, &torrent, &dir);

    let (_seeder, schedule) = start_libtorrent_seeder(&torrent, &seed_dir, &dir, deadline);
    // The tracker runs swarm-scaled intervals: a swarm of one peer (the seeder alone) is under
    // the first step, 7 minutes, min interval a quarter of it. libtorrent took them from the reply.
    let (next, min) = schedule;
    assert!((415..=420).contains(&next), "libtorrent's next announce in {next} s, not ~420\n{}", dir.logs());
    assert!((100..=105).contains(&min), "libtorrent's earliest announce in {min} s, not ~105\n{}", dir.logs());

    let download_dir = dir.subdir("download");
    let status = run_aria2_leecher(&torrent, &download_dir, &dir, deadline);
    assert!(status.success(), "aria2c failed with {status}\n{}", dir.logs());

    assert_downloaded(&download_dir, &original, &dir);

    let exit = tracker.terminate(deadline);
    assert!(exit.success(), "octotracker exited with {exit} on SIGTERM\n{}", dir.logs());
}

/// Files of the `octotracker torrent create` run, below a directory named [`ALBUM`]: sizes not
/// multiples of the piece size, so pieces straddle files.
const ALBUM_FILES: [(&str, usize); 3] = [("a.bin", 1_500_000), ("disc 2/b.bin", 700_001), ("disc 2/c.txt", 17)];
const ALBUM: &str = "album";

#[test]
fn aria2_downloads_a_private_multi_file_torrent_made_by_octotracker_torrent_create() {
    require_real_clients();
    let deadline = Instant::now() + DEADLINE;
    let dir = TempDir::create();

    // A private tracker: passkeys, and only torrents registered from its directory.
    let passkeys = dir.path().join("passkeys.txt");
    fs::write(&passkeys, format!("{PASSKEY}\n")).expect("write the passkeys");
    let registry = dir.subdir("torrents");
    let private = ["--passkeys", passkeys.to_str().unwrap(), "--access", "allow", "--torrents"];
    let mut args: Vec<&str> = private.to_vec();
    args.extend([registry.to_str().unwrap(), "--access-reload-interval", "1"]);
    let (mut tracker, tracker_addr, _) = start_tracker(&dir, &args, deadline);
    let announce_url = format!("http://{tracker_addr}/{PASSKEY}/announce");

    let seed_dir = dir.subdir("seed");
    let mut originals = Vec::new();
    for (rel, len) in ALBUM_FILES {
        let path = seed_dir.join(ALBUM).join(rel);
        fs::create_dir_all(path.parent().expect("a parent")).expect("create the album's directories");
        let bytes = random_bytes(len);
        fs::write(&path, &bytes).expect("write a file of the album");
        originals.push((rel, bytes));
    }
    let torrent = dir.path().join("album.torrent");
    let output = Command::new(env!("CARGO_BIN_EXE_octotracker"))
        .args(["torrent", "create"])
        .arg(seed_dir.join(ALBUM))
        .args(["--announce", &announce_url, "--private", "-o"])
        .arg(&torrent)
        .stdin(Stdio::null())
        .output()
        .expect("run octotracker torrent create");
    assert!(output.status.success(), "torrent create failed: {}", String::from_utf8_lossy(&output.stderr));
    let ours = String::from_utf8_lossy(&output.stdout).trim().to_owned();

    let output =
        Command::new(PYTHON).arg(LIBTORRENT_PEER).arg("info-hash").arg(&torrent).output().expect("run info-hash");
    assert!(output.status.success(), "libtorrent cannot load the torrent: {}", String::from_utf8_lossy(&output.stderr));
    let theirs = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(ours, theirs, "octotracker and libtorrent disagree on the v1 info hash");

    // Register the torrent, and wait (bounded) until the tracker serves it.
    fs::copy(&torrent, registry.join("album.torrent")).expect("register the torrent");
    wait_until_registered(&announce_url, &ours, deadline, &dir);

    // The same torrent behind a wrong passkey: a real client is told why.
    let wrong = dir.path().join("album-wrong-key.torrent");
    let wrong_url = format!("http://{tracker_addr}/wrongkey0000000000/announce");
    let output = Command::new(env!("CARGO_BIN_EXE_octotracker"))
        .args(["torrent", "create"])
        .arg(seed_dir.join(ALBUM))
        .args(["--announce", &wrong_url, "--private", "-o"])
        .arg(&wrong)
        .output()
        .expect("run octotracker torrent create");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), ours, "the announce URL is not part of the info hash");
    let output = Command::new(PYTHON)
        .arg(LIBTORRENT_PEER)
        .arg("tracker-error")
        .arg(&wrong)
        .arg(dir.subdir("wrong-key"))
        .stderr(dir.log_file("libtorrent-wrong-key.log"))
        .output()
        .expect("run tracker-error");
    let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(said, "tracker-error: unknown passkey", "{}", dir.logs());

    let (_seeder, _schedule) = start_libtorrent_seeder(&torrent, &seed_dir, &dir, deadline);
    let download_dir = dir.subdir("download");
    let status = run_aria2_leecher(&torrent, &download_dir, &dir, deadline);
    assert!(status.success(), "aria2c failed with {status}\n{}", dir.logs());
    for (rel, original) in &originals {
        let downloaded = fs::read(download_dir.join(ALBUM).join(rel))
            .unwrap_or_else(|e| panic!("aria2c left no {ALBUM}/{rel}: {e}\n{}", dir.logs()));
        assert!(downloaded == *original, "{ALBUM}/{rel} differs from the original\n{}", dir.logs());
    }

    let exit = tracker.terminate(deadline);
    assert!(exit.success(), "octotracker exited with {exit} on SIGTERM\n{}", dir.logs());
}

/// The passkey of the private tracker run.
const PASSKEY: &str = "a1b2c3d4e5f6a7b8c9d0";

/// Announces `stopped` (which stores nothing) with octotracker's client until the tracker stops
/// answering "unregistered torrent".
fn wait_until_registered(announce_url: &str, info_hash: &str, deadline: Instant, dir: &TempDir) {
    loop {
        let output = Command::new(env!("CARGO_BIN_EXE_octotracker"))
            .args(["announce", announce_url, "--info-hash", info_hash, "--event", "stopped", "--timeout", "5"])
            .stdin(Stdio::null())
            .output()
            .expect("run octotracker announce");
        if output.status.success() {
            return;
        }
        let err = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(err.contains("unregistered torrent"), "unexpected announce failure: {err}\n{}", dir.logs());
        assert!(Instant::now() < deadline, "the torrent was never registered\n{}", dir.logs());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The same swarm over a `udp://` announce URL (BEP 15): libtorrent seeds, aria2 downloads.
#[test]
fn aria2_downloads_from_a_libtorrent_seeder_over_a_udp_announce_url() {
    require_real_clients();
    let deadline = Instant::now() + DEADLINE;
    let dir = TempDir::create();
    let (mut tracker, _, udp) = start_tracker(&dir, &["--udp", "127.0.0.1:0"], deadline);
    let announce_url = format!("udp://{}/announce", udp.expect("a udp listener"));

    let seed_dir = dir.subdir("seed");
    let original = random_bytes(PAYLOAD_LEN);
    fs::write(seed_dir.join(PAYLOAD_NAME), &original).expect("write the payload");
    // Private (BEP 27): aria2 needs its DHT socket for UDP trackers, and a private torrent keeps
    // DHT (and peer exchange) away from this swarm, so only the tracker introduces peers.
    let torrent = dir.path().join("payload.torrent");
    let output = Command::new(env!("CARGO_BIN_EXE_octotracker"))
        .args(["torrent", "create"])
        .arg(seed_dir.join(PAYLOAD_NAME))
        .args(["--announce", &announce_url, "--private", "-o"])
        .arg(&torrent)
        .output()
        .expect("run octotracker torrent create");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (_seeder, (next, _)) = start_libtorrent_seeder(&torrent, &seed_dir, &dir, deadline);
    assert!((415..=420).contains(&next), "the UDP reply's interval reached libtorrent: {next} s\n{}", dir.logs());

    let download_dir = dir.subdir("download");
    let dht_port = format!("--dht-listen-port={}", free_port());
    // A DHT routing table of its own, empty: no node to contact, on loopback or elsewhere.
    let dht_file = format!("--dht-file-path={}", dir.path().join("dht.dat").display());
    let dht = ["--enable-dht=true", "--enable-dht6=false", &dht_port, &dht_file];
    let status = run_aria2(&torrent, &download_dir, &dir, deadline, &dht);
    assert!(status.success(), "aria2c failed with {status}\n{}", dir.logs());
    assert_downloaded(&download_dir, &original, &dir);
    let exit = tracker.terminate(deadline);
    assert!(exit.success(), "octotracker exited with {exit} on SIGTERM\n{}", dir.logs());
}

#[test]
fn aria2_downloads_from_a_libtorrent_seeder_over_an_https_announce_url() {
    require_real_clients();
    let deadline = Instant::now() + DEADLINE;
    let dir = TempDir::create();
    let ca = tls_support::TestCa::new();
    let leaf = ca.leaf("octotracker real clients");
    let (ca_file, cert, key) = (dir.path().join("ca.pem"), dir.path().join("cert.pem"), dir.path().join("key.pem"));
    fs::write(&ca_file, &ca.pem).expect("write the CA");
    fs::write(&cert, &leaf.cert_pem).expect("write the certificate");
    fs::write(&key, &leaf.key_pem).expect("write the key");
    let tls = ["--https", "127.0.0.1:0", "--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let (mut tracker, _, https) = start_tracker(&dir, &tls, deadline);
    // The only tracker of the torrent is the https one: every peer the leecher meets, it learnt
    // of through a verified TLS announce.
    let announce_url = format!("https://{}/announce", https.expect("an https listener"));

    let seed_dir = dir.subdir("seed");
    let original = random_bytes(PAYLOAD_LEN);
    fs::write(seed_dir.join(PAYLOAD_NAME), &original).expect("write the payload");
    let torrent = dir.path().join("payload.torrent");
    make_torrent(&seed_dir.join(PAYLOAD_NAME), &announce_url, &torrent, &dir);
    let env = [("SSL_CERT_FILE", ca_file.as_path())];
    let (_seeder, (next, _)) = start_libtorrent_seeder_with(&torrent, &seed_dir, &dir, deadline, &env);
    assert!((415..=420).contains(&next), "the https reply's interval reached libtorrent: {next} s\n{}", dir.logs());

    let download_dir = dir.subdir("download");
    let trust = format!("--ca-certificate={}", ca_file.display());
    let args = ["--enable-dht=false", "--enable-dht6=false", "--check-certificate=true", &trust];
    let status = run_aria2(&torrent, &download_dir, &dir, deadline, &args);
    assert!(status.success(), "aria2c failed with {status}\n{}", dir.logs());
    assert_downloaded(&download_dir, &original, &dir);
    let exit = tracker.terminate(deadline);
    assert!(exit.success(), "octotracker exited with {exit} on SIGTERM\n{}", dir.logs());
}

/// aria2 left `PAYLOAD_NAME` in `download_dir`, byte for byte the `original`.
fn assert_downloaded(download_dir: &Path, original: &[u8], dir: &TempDir) {
    let downloaded = fs::read(download_dir.join(PAYLOAD_NAME))
        .unwrap_or_else(|e| panic!("aria2c left no {PAYLOAD_NAME}: {e}\n{}", dir.logs()));
    assert!(
        downloaded == original,
        "the downloaded file differs from the original ({} vs {} bytes)\n{}",
        downloaded.len(),
        original.len(),
        dir.logs()
    );
}

// ---------------------------------------------------------------- clients

/// Fails (never skips) when a real client is missing.
fn require_real_clients() {
    let libtorrent =
        Command::new(PYTHON).args(["-c", "import libtorrent"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(libtorrent.is_ok_and(|s| s.success()), "python3-libtorrent is not installed for {PYTHON}: {INSTALL_HINT}");
    let aria2 = Command::new("aria2c").arg("--version").stdout(Stdio::null()).status();
    assert!(aria2.is_ok_and(|s| s.success()), "aria2c is not installed: {INSTALL_HINT}");
}

fn make_torrent(payload: &Path, announce_url: &str, torrent: &Path, dir: &TempDir) {
    let output = Command::new(PYTHON)
        .arg(LIBTORRENT_PEER)
        .arg("make-torrent")
        .arg(payload)
        .arg(announce_url)
        .arg(torrent)
        .output()
        .expect("run libtorrent_peer.py make-torrent");
    assert!(
        output.status.success(),
        "making the torrent failed: {}\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        dir.logs()
    );
}

/// Starts the seeder and waits until it is seeding and has announced to the
/// tracker, so the leecher's first announce already gets it as a peer. Returns it with the
/// seconds until its next announce and until the earliest one the tracker allows.
fn start_libtorrent_seeder(
    torrent: &Path,
    seed_dir: &Path,
    dir: &TempDir,
    deadline: Instant,
) -> (ChildGuard, (i64, i64)) {
    start_libtorrent_seeder_with(torrent, seed_dir, dir, deadline, &[])
}

/// [`start_libtorrent_seeder`] with variables added to its environment.
fn start_libtorrent_seeder_with(
    torrent: &Path,
    seed_dir: &Path,
    dir: &TempDir,
    deadline: Instant,
    env: &[(&str, &Path)],
) -> (ChildGuard, (i64, i64)) {
    // python3-libtorrent once died at start-up in CI before logging anything (a crash of the
    // client, not a refusal by the tracker): a seeder that exits before it is ready is started
    // once more, and its exit status is reported either way.
    let mut exits = Vec::new();
    for attempt in 1..=2 {
        let mut child = Command::new(PYTHON)
            .arg(LIBTORRENT_PEER)
            .arg("seed")
            .arg(torrent)
            .arg(seed_dir)
            .envs(env.iter().copied())
            // The seeder exits when its stdin closes: if this test process dies
            // without running destructors, the seeder still goes away.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(dir.log_file(&format!("libtorrent-seeder-{attempt}.log")))
            .spawn()
            .expect("spawn the libtorrent seeder");
        let lines = lines_of(child.stdout.take().expect("seeder stdout"), None);
        let mut seeder = ChildGuard::new("libtorrent seeder", child);
        if let Some(schedule) = wait_for_line(&lines, deadline, ready_schedule) {
            return (seeder, schedule);
        }
        let exit = seeder.child.try_wait().ok().flatten();
        exits.push(format!("attempt {attempt}: {exit:?}"));
        if exit.is_none() {
            break; // still running at the deadline: no point in another attempt
        }
    }
    panic!("the libtorrent seeder never reported it was seeding and announced ({exits:?})\n{}", dir.logs())
}

/// Parses `ready next_announce_in=N min_announce_in=M`.
fn ready_schedule(line: &str) -> Option<(i64, i64)> {
    let mut words = line.trim().strip_prefix("ready ")?.split_whitespace();
    let next = words.next()?.strip_prefix("next_announce_in=")?.parse().ok()?;
    let min = words.next()?.strip_prefix("min_announce_in=")?.parse().ok()?;
    Some((next, min))
}

/// Runs aria2c until it has downloaded the torrent (it exits by itself after
/// `--seed-time=0`) and returns its exit status.
fn run_aria2_leecher(torrent: &Path, download_dir: &Path, dir: &TempDir, deadline: Instant) -> ExitStatus {
    run_aria2(torrent, download_dir, dir, deadline, &["--enable-dht=false", "--enable-dht6=false"])
}

/// aria2c with `dht` flags: off, or (for UDP trackers, which aria2 reaches through its DHT
/// socket) on, with a private torrent (no DHT for it), so the tracker still introduces every peer.
fn run_aria2(torrent: &Path, download_dir: &Path, dir: &TempDir, deadline: Instant, dht: &[&str]) -> ExitStatus {
    let child = Command::new("aria2c")
        .arg("--no-conf")
        .arg(format!("--dir={}", download_dir.display()))
        // Only the tracker may introduce peers.
        .args(dht)
        .args(["--enable-peer-exchange=false", "--bt-enable-lpd=false"])
        .arg(format!("--listen-port={}", free_port()))
        // Exit as soon as the download is complete and verified.
        .arg("--seed-time=0")
        // Die with this test process even if it is killed outright.
        .arg(format!("--stop-with-process={}", std::process::id()))
        .args(["--file-allocation=none", "--summary-interval=0", "--enable-color=false"])
        .arg(format!("--log={}", dir.path().join("aria2c-debug.log").display()))
        .arg("--log-level=info")
        .arg(torrent)
        .stdin(Stdio::null())
        .stdout(dir.log_file("aria2c.log"))
        .stderr(dir.log_file("aria2c.stderr.log"))
        .spawn()
        .expect("spawn aria2c");
    let mut leecher = ChildGuard::new("aria2c leecher", child);
    leecher
        .wait_until(deadline)
        .unwrap_or_else(|| panic!("aria2c did not finish the download within {DEADLINE:?}\n{}", dir.logs()))
}

// ---------------------------------------------------------------- tracker

/// Starts `octotracker --http 127.0.0.1:0 --interval swarm,steps=2:7m/1h ARGS…` and returns it
/// with the address it reported on stderr (`... listening on http://127.0.0.1:PORT`).
fn start_tracker(dir: &TempDir, args: &[&str], deadline: Instant) -> (ChildGuard, SocketAddr, Option<SocketAddr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_octotracker"))
        .args(["--http", "127.0.0.1:0", "--interval", "swarm,steps=2:7m/1h"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(dir.log_file("octotracker.stdout.log"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn octotracker");
    // Keep draining stderr into a log file, or a chatty tracker would block.
    let log = dir.log_file("octotracker.log");
    let lines = lines_of(child.stderr.take().expect("octotracker stderr"), Some(log));
    let tracker = ChildGuard::new("octotracker", child);
    let startup_deadline = deadline.min(Instant::now() + TRACKER_STARTUP);
    let addr = wait_for_line(&lines, startup_deadline, listening_address).unwrap_or_else(|| {
        panic!("octotracker did not report `listening on http://...` within {TRACKER_STARTUP:?}\n{}", dir.logs())
    });
    // With --udp (or --https), that listener's line follows the HTTP one.
    let scheme = ["udp", "https"].into_iter().find(|s| args.contains(&format!("--{s}").as_str()));
    let udp = scheme.map(|scheme| {
        let marker = format!("listening on {scheme}://");
        wait_for_line(&lines, startup_deadline, |line| {
            let rest = &line[line.find(&marker)? + marker.len()..];
            rest.split_whitespace().next()?.parse::<SocketAddr>().ok()
        })
        .unwrap_or_else(|| panic!("octotracker did not report `{marker}...`\n{}", dir.logs()))
    });
    // Keep draining the rest of stderr (it goes to the log file as it is read).
    std::thread::spawn(move || while lines.recv().is_ok() {});
    (tracker, addr, udp)
}

/// Parses the address out of a log line containing `listening on http://ADDR`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '/').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

// ---------------------------------------------------------------- helpers

/// A child process that is killed (SIGKILL) and reaped when dropped.
struct ChildGuard {
    name: &'static str,
    child: Child,
    /// Held open for children that watch their stdin; closed on drop.
    _stdin: Option<ChildStdin>,
}

impl ChildGuard {
    fn new(name: &'static str, mut child: Child) -> Self {
        let stdin = child.stdin.take();
        Self { name, child, _stdin: stdin }
    }

    /// Polls for the child's exit until `deadline`; `None` if it still runs.
    fn wait_until(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                Ok(None) => return None,
                Err(e) => panic!("waiting for {}: {e}", self.name),
            }
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    fn terminate(&mut self, deadline: Instant) -> ExitStatus {
        let sent =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().is_ok_and(|s| s.success());
        assert!(sent, "could not send SIGTERM to {}", self.name);
        self.wait_until(deadline)
            .unwrap_or_else(|| panic!("{} did not exit after SIGTERM within {DEADLINE:?}", self.name))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Reads `source` line by line on a thread and sends the lines over a
/// channel, also appending them to `log` when given.
fn lines_of(source: impl Read + Send + 'static, mut log: Option<File>) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            if let Some(log) = log.as_mut() {
                let _ = writeln!(log, "{line}");
            }
            // The receiver may be gone once it saw what it waited for.
            let _ = sender.send(line);
        }
    });
    receiver
}

/// Waits until a line maps to `Some`; `None` at the deadline or when the
/// stream ends (the process exited).
fn wait_for_line<T>(
    lines: &Receiver<String>,
    deadline: Instant,
    mut matches: impl FnMut(&str) -> Option<T>,
) -> Option<T> {
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let line = lines.recv_timeout(left).ok()?;
        if let Some(found) = matches(&line) {
            return Some(found);
        }
    }
}

/// A port that was free on 127.0.0.1 a moment ago (the OS picked it).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Incompressible test data (xorshift64*, seeded from the clock).
fn random_bytes(len: usize) -> Vec<u8> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut state = ((nanos as u64) ^ u64::from(std::process::id())) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        bytes.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// A fresh directory under the system temp dir, removed on drop. Every child
/// process logs into it; [`TempDir::logs`] collects them for failure messages.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name =
            format!("octotracker-real-clients-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&path); // left over by a killed run with a recycled pid
        fs::create_dir(&path).expect("create the test's temp dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn subdir(&self, name: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir(&path).expect("create a subdirectory of the temp dir");
        path
    }

    fn log_file(&self, name: &str) -> File {
        File::create(self.0.join(name)).expect("create a log file")
    }

    /// The tail of every log file, for a failure message.
    fn logs(&self) -> String {
        const TAIL: usize = 4000;
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.0)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|e| e == "log"));
        paths.sort();
        let mut out = String::new();
        for path in paths {
            let text = fs::read_to_string(&path).unwrap_or_default();
            let start = text.len().saturating_sub(TAIL);
            let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
            out.push_str(&format!("----- {} (last {TAIL} bytes)\n{}\n", path.display(), &text[start..]));
        }
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
