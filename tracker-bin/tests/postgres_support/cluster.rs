//! A throwaway PostgreSQL cluster of one test's own, which the test may stop and start: `initdb`
//! into a temp dir and `pg_ctl` on a free loopback port, run as the `postgres` user when the
//! test runs as root (PostgreSQL refuses root). Stopped (immediately) and removed when dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A cluster in a temp dir, listening on 127.0.0.1:`port` while started.
pub(crate) struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    /// Its port.
    pub port: u16,
}

/// Directory of `initdb` and `pg_ctl` (Debian keeps them out of PATH).
fn bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .find(|d| d.join("pg_ctl").exists())
        .expect("PostgreSQL's pg_ctl under /usr/lib/postgresql/*/bin: run scripts/test.sh, which installs it")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// `program args…`, as the `postgres` user when we are root.
fn run_as_postgres(program: &Path, args: &[&str]) -> Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args).output().unwrap_or_else(|e| panic!("{} runs: {e}", program.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

impl Cluster {
    /// Initializes and starts a cluster with trust authentication.
    pub(crate) fn start_new() -> Cluster {
        let dir = std::env::temp_dir().join(format!("octotracker-pg-{:016x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("create the cluster dir");
        if is_root() {
            let chown = Command::new("chown").args(["postgres:", dir.to_str().expect("utf-8 temp dir")]).status();
            assert!(chown.expect("chown runs").success(), "chown postgres: {}", dir.display());
        }
        let cluster = Cluster { bin: bin_dir(), port: free_port(), dir };
        let data = cluster.data();
        let out = run_as_postgres(
            &cluster.bin.join("initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"],
        );
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits (bounded) until it accepts connections.
    pub(crate) fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("postgres.log").to_string_lossy().into_owned();
        let out = run_as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-l", &log, "-w", "-t", "30", "-o", &options, "start"],
        );
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(out.status.success(), "pg_ctl start failed: {}\n{log_text}", String::from_utf8_lossy(&out.stderr));
    }

    /// Stops the server (fast mode: connections are closed at once) and waits for it.
    pub(crate) fn stop(&self) {
        let out = run_as_postgres(&self.bin.join("pg_ctl"), &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = run_as_postgres(&self.bin.join("pg_ctl"), &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
