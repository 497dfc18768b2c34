//! Throwaway redis-servers a test starts itself (restarts, replicas, servers with and without
//! the module): each in its own temp directory, on a Unix socket (or a TCP port the kernel
//! picked, for replication), stopped by pid when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use octotracker_redis::RedisTarget;

/// The module built by `scripts/test.sh` (`OCTOTRACKER_TEST_REDIS_MODULE`); fails when unset.
pub(crate) fn module_path() -> PathBuf {
    let path = std::env::var("OCTOTRACKER_TEST_REDIS_MODULE").unwrap_or_else(|_| {
        panic!("OCTOTRACKER_TEST_REDIS_MODULE is not set: run scripts/test.sh, which builds the octotracker module")
    });
    assert!(Path::new(&path).is_file(), "OCTOTRACKER_TEST_REDIS_MODULE={path:?} is not a file");
    PathBuf::from(path)
}

/// A temp directory removed when dropped.
#[derive(Debug)]
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("octotest-{what}-{}-{:08x}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a server listens.
#[derive(Debug, Clone)]
pub(crate) enum Listen {
    /// `redis.sock` in its directory.
    Socket,
    /// A loopback TCP port.
    Tcp(u16),
}

/// A running redis-server.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    pub(crate) dir: PathBuf,
    pub(crate) listen: Listen,
}

/// A loopback port free right now (the kernel's pick).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Server {
    /// Starts redis-server in `dir` with the module loaded or not, plus `extra` arguments, and
    /// waits until it answers `PING`.
    pub(crate) fn start(dir: &Path, listen: Listen, module: bool, extra: &[&str]) -> Server {
        let mut cmd = Command::new("redis-server");
        cmd.current_dir(dir).arg("--dir").arg(dir).arg("--save").arg("").arg("--logfile").arg(dir.join("redis.log"));
        match &listen {
            Listen::Socket => {
                cmd.args(["--port", "0", "--unixsocket"]).arg(dir.join("redis.sock"));
            }
            Listen::Tcp(port) => {
                cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
            }
        }
        if module {
            cmd.arg("--loadmodule").arg(module_path());
        }
        cmd.args(extra).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let child = cmd.spawn().expect("redis-server (Debian's redis-server package) runs");
        let mut server = Server { child, dir: dir.to_owned(), listen };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.cli(&["PING"]).stdout.starts_with(b"PONG") {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
                panic!("redis-server exited ({status}) before answering:\n{log}");
            }
            assert!(Instant::now() < deadline, "redis-server did not answer PING within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis-cli` against this server, arguments as given (binary-safe through `-x`-free args).
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("redis-cli");
        match &self.listen {
            Listen::Socket => cmd.arg("-s").arg(self.dir.join("redis.sock")),
            Listen::Tcp(port) => cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]),
        };
        cmd.args(args).output().expect("redis-cli runs")
    }

    /// The server's URL.
    pub(crate) fn target(&self) -> RedisTarget {
        RedisTarget::Standalone(match &self.listen {
            Listen::Socket => format!("unix://{}", self.dir.join("redis.sock").display()),
            Listen::Tcp(port) => format!("redis://127.0.0.1:{port}/0"),
        })
    }

    /// Stops the server (by its pid) and waits for it to exit.
    pub(crate) fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}
