//! A redis-server of one test's own on a loopback port, which the test may kill, pause and
//! start again on the same port: `redis-server` must be on PATH (`scripts/test.sh` installs it).
//! Killed when dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What survives a restart.
#[derive(Debug, Clone)]
pub(crate) enum Persistence {
    /// Nothing: `--save '' --appendonly no` (a restart starts empty).
    None,
    /// Append-only file in this directory, fsynced before every reply (`--appendonly yes
    /// --appendfsync always`): every acknowledged write survives even a SIGKILL.
    AppendFsyncAlways(PathBuf),
}

/// A running redis-server child process.
pub(crate) struct RedisServer(Child);

impl RedisServer {
    /// Starts redis-server on 127.0.0.1:`port`, with the octotracker module loaded when `module`
    /// (`OCTOTRACKER_TEST_REDIS_MODULE`, built by `scripts/test.sh`), and waits (bounded) until
    /// it accepts connections.
    pub(crate) fn start(port: u16, persistence: &Persistence, module: bool) -> RedisServer {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""]);
        if module {
            let path = std::env::var("OCTOTRACKER_TEST_REDIS_MODULE").unwrap_or_else(|_| {
                panic!("OCTOTRACKER_TEST_REDIS_MODULE is not set: run scripts/test.sh, which builds the module")
            });
            cmd.args(["--loadmodule", &path]);
        }
        match persistence {
            Persistence::None => cmd.args(["--appendonly", "no"]),
            Persistence::AppendFsyncAlways(dir) => {
                cmd.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"]).arg(dir)
            }
        };
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap_or_else(|e| {
                panic!("redis-server does not start ({e}): run scripts/test.sh, which installs it")
            });
        let server = RedisServer(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server on port {port} did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Its process id (to pause it with SIGSTOP).
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to it.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill").args([&format!("-{signal}"), &self.pid().to_string()]).status();
        assert!(status.expect("kill runs").success(), "kill -{signal} redis-server failed");
    }
}

impl Drop for RedisServer {
    /// SIGKILL: what it acknowledged is only kept if its persistence kept it.
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh directory under the temp dir for one server's files; removed when dropped.
pub(crate) struct DataDir(pub PathBuf);

impl DataDir {
    pub(crate) fn new(what: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!("octotracker-redis-{what}-{:016x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).expect("create the redis data dir");
        DataDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
